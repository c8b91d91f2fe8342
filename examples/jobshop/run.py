"""Runs the job shop with the longest-queue heuristic and with random valid actions.

    gradle build                                   # once, in the repository root
    python examples/jobshop/run.py --episodes 5
"""

from __future__ import annotations

import argparse

import numpy as np

from alpyperl.cli.arguments import positive_int  # the same number checks as the alpyperl command
from jobshop import longest_queue, make_env, run_episode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=positive_int, default=10, help="episodes per policy (default 10)")
    parser.add_argument("--machines", type=positive_int, default=4, help="machines, i.e. deciding agents (default 4)")
    args = parser.parse_args()
    random = np.random.default_rng(0)

    def random_valid(agent, observation):
        return int(random.choice(np.flatnonzero(observation["action_mask"])))

    policies = {"longest queue": lambda agent, observation: longest_queue(observation), "random": random_valid}
    with make_env(machines=args.machines) as env:
        for name, policy in policies.items():
            returns = [run_episode(env, policy, seed) for seed in range(args.episodes)]
            print(f"{name:14s} jobs finished per episode: mean {np.mean(returns):.1f} (min {min(returns):.0f}, "
                  f"max {max(returns):.0f})")


if __name__ == "__main__":
    main()
