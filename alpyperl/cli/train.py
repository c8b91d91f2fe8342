"""``alpyperl train MODEL``: PPO with Ray RLlib, one progress line per iteration, a checkpoint at the end."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..errors import AlpyperlError
from .arguments import (
    FORMATTER, PROG, add_param_option, non_negative_int, params, port, positive_float, positive_int, wrap,
)

__all__ = ["add_parser", "train_command"]


def add_parser(commands) -> None:
    """Adds ``alpyperl train`` to the commands."""
    train = commands.add_parser(
        "train", help="train a PPO policy with Ray RLlib", formatter_class=FORMATTER,
        description=wrap("Train a PPO policy (Ray RLlib, small fully connected networks) on MODEL. Every EnvRunner "
                    "is a process with its own JVM and --envs-per-runner model instances. Prints one line per "
                    "iteration and saves an RLlib checkpoint in --out (also when Ctrl-C stops it after the first "
                    "iteration: the policy trained so far). The model must define its spaces itself "
                    "(for spaces given in Python, write a training script: see docs/training.md). "
                    "Needs `pip install alpyperl[rllib]`."),
        epilog="example:\n"
               "  alpyperl train examples/cartpole/build/model --target-return 475 --out cartpole-ppo\n"
               "  alpyperl export --checkpoint cartpole-ppo --out cartpole.onnx")
    train.add_argument("model", metavar="MODEL", help="the model folder")
    train.add_argument("--iterations", type=positive_int, default=50, metavar="N",
                       help="stop after N training iterations (default 50)")
    train.add_argument("--target-return", type=float, default=None, metavar="X",
                       help="stop early when the mean episode return reaches X")
    train.add_argument("--runners", type=non_negative_int, default=2, metavar="R",
                       help="EnvRunner processes (default 2; 0 samples in this process)")
    train.add_argument("--envs-per-runner", type=positive_int, default=4, metavar="E",
                       help="model instances per runner (default 4)")
    train.add_argument("--batch-size", type=positive_int, default=4000, metavar="STEPS",
                       help="environment steps per training iteration (default 4000)")
    train.add_argument("--seed", type=int, default=0, metavar="S", help="the experiment seed (default 0)")
    train.add_argument("--out", default="alpyperl-checkpoint", metavar="DIR",
                       help="where to save the checkpoint (default ./alpyperl-checkpoint)")
    add_param_option(train)
    train.add_argument("--step-timeout", type=positive_float, default=None, metavar="SECONDS",
                       help="seconds the model may take to reach its next decision (default 10; one day "
                            "with --debug-port)")
    train.add_argument("--record-dir", metavar="DIR",
                       help="record every episode of every runner to a file in DIR (for `alpyperl replay`)")
    train.add_argument("--debug-port", type=port, metavar="P",
                       help="Java debugger: runner w listens on 127.0.0.1:P+w (see docs/debugging.md)")
    train.set_defaults(handler=train_command)


def train_command(args: argparse.Namespace) -> int:
    """``alpyperl train MODEL``: PPO with alpyperl.rllib, one progress line per iteration."""
    model = os.path.abspath(args.model)
    if not os.path.isdir(model):
        raise AlpyperlError(f"model folder {model} does not exist" if not os.path.exists(model)
                            else f"{model} is a file; give the model's folder")
    try:
        import ray
        from ray.rllib.algorithms.ppo import PPOConfig
    except ImportError:
        raise AlpyperlError("alpyperl train needs Ray RLlib: pip install 'alpyperl[rllib]'") from None
    from .. import rllib
    from ..settings import DEBUG_STEP_TIMEOUT, DEFAULT_STEP_TIMEOUT

    step_timeout = args.step_timeout or (DEBUG_STEP_TIMEOUT if args.debug_port is not None else DEFAULT_STEP_TIMEOUT)
    check_trainable(model, step_timeout)
    env_config: dict[str, Any] = {"model": model, "env_params": params(args), "step_timeout": step_timeout}
    if args.record_dir:
        env_config["record_dir"] = os.path.abspath(args.record_dir)
    if args.debug_port is not None:
        env_config["debug_port"] = args.debug_port
    ray.init(address="local", num_cpus=max(os.cpu_count() or 1, args.runners), include_dashboard=False,
             log_to_driver=True)
    config = (PPOConfig()
              .environment(rllib.register_env(), env_config=env_config)
              .env_runners(num_env_runners=args.runners, num_envs_per_env_runner=args.envs_per_runner,
                           num_cpus_per_env_runner=1)
              .rl_module(model_config={"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"})
              .training(train_batch_size_per_learner=args.batch_size, minibatch_size=min(256, args.batch_size))
              .debugging(seed=args.seed))
    config = rllib.fault_tolerant(config)
    print(f"Training PPO on {model}\n  {args.runners} runner(s) x {args.envs_per_runner} model instance(s), "
          f"{args.batch_size} steps per iteration, seed {args.seed}, at most {args.iterations} iterations"
          + (f", target mean return {args.target_return:g}" if args.target_return is not None else ""), flush=True)
    algo, failure, restarts, completed = None, None, 0, 0
    try:
        algo = rllib.build_algo(config)
        for _ in range(args.iterations):
            result = algo.train()
            completed += 1
            print(rllib.progress_line(result), flush=True)
            restarts = rllib.runner_restarts(result)
            if rllib.steps_this_iteration(result) == 0:
                failure = (f"iteration {result.get('training_iteration')} sampled no steps: the models failed or "
                           "their EnvRunner processes died, and the output above says why. Stopped without saving "
                           "a checkpoint.")
                break
            if args.target_return is not None and rllib.episode_return(result) >= args.target_return:
                print(f"Reached a mean return of {rllib.episode_return(result):.1f}.")
                break
        if failure is None:
            _save(algo, args.out)
    except KeyboardInterrupt:
        if completed:  # Ctrl-C: keep what is trained so far (a second Ctrl-C stops at once)
            print(f"\n{PROG} train: interrupted during iteration {completed + 1}; saving the policy trained so far "
                  "(press Ctrl-C again to stop without it)", file=sys.stderr, flush=True)
            _save(algo, args.out)
        raise
    finally:
        if algo is not None:  # (a failure is raised only after this: RLlib logs an exception being handled)
            algo.stop()
        ray.shutdown()
    if failure is not None:
        raise AlpyperlError(failure)
    if restarts:
        print(f"{PROG} train: error: EnvRunner processes died {restarts} time(s) during training and Ray replaced "
              "them; their output above says why", file=sys.stderr)
        return 1
    return 0


def check_trainable(model: str, timeout: float) -> None:
    """Opens the model once in this process, before Ray starts: a folder that holds no model, a
    model that cannot be loaded, or one that ``alpyperl train`` cannot train fails here at once, with
    one error, instead of in every EnvRunner after Ray's start-up."""
    from .. import bridge

    described = bridge.describe_model(model, timeout)
    if described.get("agents") is not None:
        raise AlpyperlError(
            f"the model in {model} has several deciding agents (it implements "
            "com.alpyperl.connector.MultiAgentModel), and alpyperl train trains a single agent. Train it from "
            "Python with rllib.register_multi_agent_env() and rllib.multi_agent_modules(config, env_config): see "
            "docs/multi-agent.md and examples/jobshop/train.py")
    missing = [name for name in ("observation_space", "action_space") if described.get(name) is None]
    if missing:
        raise AlpyperlError(
            f"the model in {model} leaves its {' and '.join(missing)} to Python, which alpyperl train cannot give: "
            "train it from Python with env_config={'model': ..., " + ", ".join(f"'{name}': ..." for name in missing)
            + "} (see docs/training.md)")


def _save(algo, out: str) -> None:
    """Saves ``algo``'s checkpoint in ``out`` and says how to export its policy."""
    out = os.path.abspath(out)
    algo.save(out)
    print(f"Checkpoint saved in {out}\n  export the policy with: alpyperl export --checkpoint {out} --out policy.onnx",
          flush=True)
