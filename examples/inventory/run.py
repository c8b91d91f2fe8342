"""Runs the inventory model with two policies and prints what each episode cost.

    gradle build                                   # once, in the repository root
    python examples/inventory/run.py --episodes 5
    python examples/inventory/run.py --param demandRate=45 --param leadTimeMean=5

The base-stock heuristic orders up to a target stock position at every decision; the random
policy orders random quantities. The return of an episode is minus its total cost, so higher
(closer to zero) is better. Both policies run seeds 0, 1, 2, ...; the model draws customers
from a random stream of their own, so episode k brings the same customers under either policy.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from alpyperl.cli.arguments import positive_int  # the same number checks as the alpyperl command
from inventory import BaseStockPolicy, RandomPolicy, make_env, run_episode


def parse_param(text: str) -> tuple[str, object]:
    """``name=value`` with a JSON value (numbers, true/false) or else a string."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=positive_int, default=10, help="episodes per policy (default 10)")
    parser.add_argument("--param", type=parse_param, action="append", default=[], metavar="NAME=VALUE",
                        help="a model parameter, e.g. demandRate=45 (repeatable)")
    args = parser.parse_args()
    env_params = dict(args.param)

    env = make_env(**env_params)
    print(f"model parameters: {env.model_parameters}")
    print(f"set from here:    {env_params or 'none (model defaults)'}\n")
    policies = {"base-stock": BaseStockPolicy(env_params), "random": RandomPolicy(seed=0)}
    try:
        for name, policy in policies.items():
            started = time.perf_counter()
            results = [run_episode(env, policy, seed) for seed in range(args.episodes)]
            seconds = time.perf_counter() - started
            returns = np.array([total for total, _ in results])
            decisions = sum(count for _, count in results)
            for seed, (total, count) in enumerate(results):
                print(f"{name:>10}  seed {seed:3d}: return {total:10.1f} over {count} decisions")
            print(f"{name:>10}  mean return {returns.mean():10.1f} (std {returns.std():.1f}); "
                  f"{decisions} decisions in {seconds:.2f} s\n")
    finally:
        env.close()


if __name__ == "__main__":
    main()
