"""Runs the maintenance model with the service-at-wear-3 rule and with random valid actions.

    gradle build                                      # once, in the repository root
    python examples/maintenance/run.py --episodes 10
"""

from __future__ import annotations

import argparse

import numpy as np

from alpyperl.cli.arguments import positive_int  # the same number checks as the alpyperl command
from maintenance import make_env, random_valid, run_episode, service_at_wear


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=positive_int, default=10, help="episodes per policy (default 10)")
    args = parser.parse_args()
    policies = {"service at wear 3": service_at_wear, "random valid": random_valid(np.random.default_rng(0))}
    with make_env() as env:
        for name, policy in policies.items():
            returns = [run_episode(env, policy, seed) for seed in range(args.episodes)]
            print(f"{name:18s} return per episode: mean {np.mean(returns):6.1f} (min {min(returns):.0f}, "
                  f"max {max(returns):.0f})")


if __name__ == "__main__":
    main()
