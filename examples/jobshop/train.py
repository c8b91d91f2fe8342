"""Train multi-agent PPO (Ray RLlib) on the job shop, with action masking, and compare it with the
longest-queue heuristic.

    gradle build                                       # once: builds examples/jobshop/build/model
    python examples/jobshop/train.py                   # train (10 minutes at most), then evaluate
    python examples/jobshop/train.py --quick           # a short smoke run

All machines share one policy (they are of one agent type, "machine"); each machine's
observation carries its action mask, and RLlib's action-masking RLModule never samples a masked
action. Machines that are idle at the same tick decide in one step (one crossing to Java).
Training stops when the greedy policy's mean return on the evaluation seeds reaches the
heuristic's, or at --minutes. The policy is then exported with `alpyperl export` (--export).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# Ray, RLlib and torch are imported after the command line is read (in train), so that --help and
# a wrong option answer at once instead of after seconds of imports.

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobshop import MODEL_DIR, longest_queue, make_env, run_episode  # noqa: E402

EVALUATION_SEEDS = range(10_000, 10_010)


def greedy(module):
    """The policy's most likely valid action for one machine (the masking module masks the logits)."""
    import torch
    from ray.rllib.core.columns import Columns

    def choose(agent, observation):
        batch = {Columns.OBS: {key: torch.as_tensor(value[None]) for key, value in observation.items()}}
        with torch.no_grad():
            logits = module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS][0]
        return int(torch.argmax(logits))
    return choose


def evaluate(env, choose) -> float:
    return float(np.mean([run_episode(env, choose, seed) for seed in EVALUATION_SEEDS]))


def parse_arguments(argv=None) -> argparse.Namespace:
    """The command line; a wrong one exits with status 2 (and --help with 0) before Ray or torch is imported."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="exit status: 0 success, 1 failure (e.g. the model is not built), 2 wrong command line, "
               "130 interrupted (Ctrl-C)")
    parser.add_argument("--minutes", type=float, default=10.0, help="time limit of the training (default 10)")
    parser.add_argument("--quick", action="store_true", help="two small iterations, for a smoke test")
    parser.add_argument("--num-env-runners", type=int, default=1,
                        help="EnvRunner processes, each with its own JVM (default 1; 0 samples in this process)")
    parser.add_argument("--seed", type=int, default=0, help="the experiment seed (default 0)")
    parser.add_argument("--export", metavar="FILE", help="export the trained policy to this ONNX file")
    parser.add_argument("--checkpoint", metavar="DIR", help="save the final checkpoint here")
    args = parser.parse_args(argv)
    if args.num_env_runners < 0:
        parser.error(f"--num-env-runners must be 0 or more, got {args.num_env_runners}")
    if not args.minutes > 0:
        parser.error(f"--minutes must be more than 0, got {args.minutes:g}")
    return args


def main(argv=None) -> int:
    args = parse_arguments(argv)
    if not (MODEL_DIR / "alpyperl-model.properties").is_file():
        print(f"error: the model is not built ({MODEL_DIR} is missing); run `gradle build` in the repository root",
              file=sys.stderr)
        return 1
    try:
        train(args)
    except KeyboardInterrupt:
        print("\nInterrupted: the runners are stopped (no checkpoint saved).", file=sys.stderr, flush=True)
        return 130
    return 0


def train(args: argparse.Namespace) -> None:
    """Trains until the policy reaches the baseline or the time limit; saves and exports it if asked."""
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig

    from alpyperl import rllib

    env_config = {"model": str(MODEL_DIR), "model_output": "off"}
    config = (PPOConfig()
              .environment(rllib.register_multi_agent_env(), env_config=env_config)
              .env_runners(num_env_runners=args.num_env_runners, num_envs_per_env_runner=1)
              .training(train_batch_size_per_learner=400 if args.quick else 2000, minibatch_size=200,
                        num_epochs=2 if args.quick else 6, lr=1e-3, entropy_coeff=0.01)
              .debugging(seed=args.seed))
    config = rllib.multi_agent_modules(config, env_config, model_config={"fcnet_hiddens": [64, 64]})

    with make_env() as env:
        heuristic = evaluate(env, lambda agent, observation: longest_queue(observation))
        print(f"longest-queue heuristic: {heuristic:.1f} jobs per episode (seeds {EVALUATION_SEEDS[0]}..)")
        ray.init(num_cpus=max(2, args.num_env_runners + 1), include_dashboard=False, log_to_driver=False)
        algo = rllib.build_algo(config)
        started = time.monotonic()
        try:
            for iteration in range(1, 3 if args.quick else 10_000):
                result = algo.train()
                score = evaluate(env, greedy(algo.get_module("machine")))
                minutes = (time.monotonic() - started) / 60
                print(f"iter {iteration:3d} | {minutes:5.2f} min | training return "
                      f"{rllib.episode_return(result):7.1f} | greedy policy {score:6.1f} | heuristic {heuristic:.1f}",
                      flush=True)
                if not args.quick and (score >= heuristic or minutes >= args.minutes):
                    break
            verdict = "reaches" if score >= heuristic else "does not reach"
            print(f"the policy {verdict} the heuristic: {score:.1f} against {heuristic:.1f} jobs per episode "
                  f"after {minutes:.2f} minutes")
            if args.checkpoint or args.export:
                checkpoint = algo.save(args.checkpoint or None).checkpoint.path
                print(f"checkpoint: {checkpoint}")
        finally:
            algo.stop()
            ray.shutdown()
    if args.export:
        from alpyperl.export import export_checkpoint

        export_checkpoint(checkpoint, args.export, module_id="machine")
        print(f"exported the policy of the machines to {args.export}")


if __name__ == "__main__":
    sys.exit(main())
