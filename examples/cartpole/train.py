"""Train PPO (Ray RLlib) on the Java CartPole model until it balances the pole, then run the
trained policy in Java without Python.

    gradle build                                       # once: builds examples/cartpole/build/model
    python examples/cartpole/train.py                  # train to a mean return of 475 (of 500)
    python examples/cartpole/train.py --quick          # a short smoke run (3 iterations)
    python examples/cartpole/train.py --gym            # the same on Gymnasium's CartPole-v1
    python examples/cartpole/train.py --video-every 5  # a video of one episode every 5 iterations

Every RLlib EnvRunner is a process of its own; each starts one JVM and runs
``--envs-per-runner`` instances of the Java model in it. The driver (this process) runs the
PPO learner and starts no JVM. Progress is printed as one line per training iteration, the
trained policy is saved as an RLlib checkpoint, and TensorBoard files are written next to it.

Finally the policy is exported to an ONNX file (``alpyperl export`` does the same), and the
launcher runs 20 episodes of the model with it in a plain `java` process: this is how the
policy runs in AnyLogic, where the connector answers ``requestAction()`` from that file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from alpyperl.cli.arguments import positive_int  # the same number checks as the alpyperl command

# Ray, RLlib and torch are imported after the command line is read (in main), so that --help and
# a wrong option answer at once instead of after seconds of imports.

MODEL = Path(__file__).resolve().parent / "build" / "model"
TARGET_RETURN = 475.0  # Gymnasium's "solved" threshold for CartPole-v1 (episodes end at 500)


def ppo_config(env: str, env_config: dict, *, num_env_runners: int = 2, envs_per_runner: int = 4,
               seed: int = 0, train_batch_size: int = 4000):
    """The PPO setup used for CartPole: small networks, a few thousand steps per update.

    ``env`` is a registered environment name (``rllib.register_env()`` registers "anylogic")
    or a Gymnasium id such as "CartPole-v1"; ``env_config`` is handed to the environment.
    """
    from ray.rllib.algorithms.ppo import PPOConfig

    from alpyperl import rllib

    config = (
        PPOConfig()
        # Which environment, and its settings. For "anylogic" these are AnyLogicEnv's settings:
        # the model folder, model parameters (env_params), step_timeout, ...
        .environment(env, env_config=env_config)
        # Sampling: num_env_runners processes, each stepping envs_per_runner model instances.
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=envs_per_runner,
                     num_cpus_per_env_runner=1)
        # The policy and value networks: two hidden layers of 64 units each.
        .rl_module(model_config={"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"})
        # PPO's hyperparameters. vf_clip_param is raised because CartPole's returns (up to 500)
        # make value errors far larger than RLlib's default clip of 10.
        .training(
            lr=5e-4,
            gamma=0.99,
            lambda_=0.95,
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=256,
            num_epochs=10,
            vf_loss_coeff=0.5,
            vf_clip_param=1000.0,
            entropy_coeff=0.0,
        )
        # One experiment seed: RLlib derives the seeds of the runners and of the networks from
        # it, and alpyperl gives each model instance its own seed stream (see docs/training.md).
        .debugging(seed=seed)
    )
    # Keep training when a model throws or a runner process dies (see docs/training.md).
    return rllib.fault_tolerant(config)


def parse_arguments(argv=None) -> argparse.Namespace:
    """The command line; a wrong one exits with status 2 (and --help with 0) before anything is imported."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="exit status: 0 success, 1 failure (e.g. the model is not built), 2 wrong command line")
    parser.add_argument("--quick", action="store_true", help="a short smoke run: 3 small iterations")
    parser.add_argument("--num-env-runners", type=int, default=2, help="EnvRunner processes (default 2)")
    parser.add_argument("--envs-per-runner", type=positive_int, default=4, help="model instances per runner (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="the experiment seed (default 0)")
    parser.add_argument("--max-iterations", type=positive_int, default=None,
                        help="stop after this many iterations (default 60, or 3 with --quick)")
    parser.add_argument("--target-return", type=float, default=TARGET_RETURN,
                        help=f"stop when the mean episode return reaches this (default {TARGET_RETURN:.0f})")
    parser.add_argument("--checkpoint-dir", type=Path, default=None,
                        help="where to save the trained policy (default: a 'checkpoint' folder in the run's log folder)")
    parser.add_argument("--address", default="local",
                        help="Ray cluster to join: 'auto' or host:port (default: start Ray on this machine)")
    parser.add_argument("--gym", action="store_true", help="train on Gymnasium's CartPole-v1 instead (for comparison)")
    parser.add_argument("--skip-evaluation", action="store_true",
                        help="do not export the policy to ONNX and evaluate it in Java after training")
    parser.add_argument("--failure-rate", type=float, default=0.0,
                        help="make the model throw in this share of its episodes, to watch training carry on "
                             "(the model's failureRate parameter; default 0)")
    parser.add_argument("--video-every", type=int, default=None, metavar="N",
                        help="every N iterations, write a video of one episode with the current policy to "
                             "videos/ in the run's log folder (needs `pip install alpyperl[video]`)")
    args = parser.parse_args(argv)
    if args.num_env_runners < 0:
        parser.error(f"--num-env-runners must be 0 or more, got {args.num_env_runners}")
    if not 0 <= args.failure_rate <= 1:
        parser.error(f"--failure-rate is a share of episodes, from 0 to 1, got {args.failure_rate}")
    if args.video_every is not None and (args.video_every < 1 or args.gym):
        parser.error("--video-every needs a positive N and the Java model (not --gym)")
    return args


def main(argv=None) -> int:
    args = parse_arguments(argv)
    if not args.gym and not (MODEL / "alpyperl-model.properties").is_file():
        print(f"error: the CartPole model is not built ({MODEL} is missing); run `gradle build` in the "
              "repository root", file=sys.stderr)
        return 1

    import ray

    from alpyperl import rllib  # (importing it silences Ray's and RLlib's warnings a user cannot act on)

    if args.address == "local":
        # A new Ray instance on this machine, without its web dashboard. Each runner claims one
        # CPU, so Ray is told of at least as many CPUs as there are runners.
        ray.init(address="local", num_cpus=max(os.cpu_count() or 1, args.num_env_runners), include_dashboard=False)
    else:
        ray.init(address=args.address)  # an existing Ray cluster (see docs/training.md)
    if args.gym:
        env, env_config = "CartPole-v1", {}
    else:
        # Registers alpyperl's environment creator under the name "anylogic"; each runner calls it
        # envs-per-runner times with env_config, which holds AnyLogicEnv's settings.
        env, env_config = rllib.register_env(), {"model": str(MODEL)}
        if args.failure_rate:
            env_config["env_params"] = {"failureRate": args.failure_rate}
    config = ppo_config(env, env_config, num_env_runners=args.num_env_runners,
                        envs_per_runner=args.envs_per_runner, seed=args.seed,
                        train_batch_size=1000 if args.quick else 4000)
    if args.video_every:
        # The driver runs one episode on a model instance that draws itself (CartPole.drawFrame).
        config = rllib.record_videos(config, every=args.video_every)
    print(f"Training PPO on {'CartPole-v1' if args.gym else MODEL}\n  with {args.num_env_runners} runners x "
          f"{args.envs_per_runner} environments, seed {args.seed}, target mean return {args.target_return:g}")

    algo = None
    try:
        # Starts the runner processes; each opens its model instances (and so starts its JVM).
        # rllib.build_algo is config.build_algo() with readable errors when a model is missing.
        algo = rllib.build_algo(config)
        checkpoint_dir = train(algo, args)
    except KeyboardInterrupt:
        print("\nInterrupted: stopping the runners (no checkpoint saved).", flush=True)
        return 130
    finally:
        # Ends every runner process, and with it its JVM and model threads.
        if algo is not None:
            algo.stop()
        ray.shutdown()
    if args.skip_evaluation or args.gym:
        return 0
    return evaluate_in_java(checkpoint_dir, episodes=20)


def train(algo, args) -> Path:
    """Trains until the target return or the iteration limit, then saves a checkpoint (returned)."""
    from alpyperl import rllib

    logdir = Path(algo.logdir)  # RLlib's folder for this run, under ~/ray_results
    print(f"TensorBoard logs: {logdir}\n  view them with: tensorboard --logdir {logdir.parent}")
    tensorboard = rllib.TensorBoardWriter(logdir)
    max_iterations = args.max_iterations or (3 if args.quick else 60)
    start = time.perf_counter()
    try:
        for _ in range(max_iterations):
            result = algo.train()  # sample a batch from all runners, then update the policy
            tensorboard.write(result)
            print(rllib.progress_line(result), flush=True)
            if "alpyperl_video" in result:
                print(f"  video of one episode: {result['alpyperl_video']}", flush=True)
            if rllib.episode_return(result) >= args.target_return:
                print(f"Reached a mean return of {rllib.episode_return(result):.1f} after "
                      f"{rllib.env_steps(result):,} env steps in {time.perf_counter() - start:.0f} s.")
                break
        else:
            print(f"Stopped after {max_iterations} iterations without reaching {args.target_return:g}.")
    finally:
        tensorboard.close()
    checkpoint_dir = (args.checkpoint_dir or logdir / "checkpoint").resolve()
    algo.save(str(checkpoint_dir))
    print(f"Checkpoint saved in {checkpoint_dir}\n"
          f"  load it with: ray.rllib.algorithms.algorithm.Algorithm.from_checkpoint({str(checkpoint_dir)!r})")
    return checkpoint_dir


def evaluate_in_java(checkpoint_dir: Path, episodes: int) -> int:
    """Exports the policy to ONNX and runs the model with it in a new `java` process (evaluate.py)."""
    from alpyperl.export import export_checkpoint  # imports torch: only needed from here on

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import evaluate  # evaluate.py, next to this file

    policy_file = checkpoint_dir.parent / "cartpole.onnx"
    print(f"\nExport (the same as: alpyperl export --checkpoint {checkpoint_dir} --out {policy_file})", flush=True)
    export_checkpoint(checkpoint_dir, policy_file)  # checks the file against torch and the Java evaluator
    print()
    return evaluate.evaluate_in_java(policy_file, episodes=episodes)


if __name__ == "__main__":
    sys.exit(main())
