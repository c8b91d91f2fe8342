"""Env steps/s of AnyLogicVectorEnv against Gymnasium's synchronous vector CartPole-v1.

    python benchmarks/bench_vector.py            # N = 1, 4, 16, 64; about a minute
    python benchmarks/bench_vector.py --quick    # a few seconds

Both step N CartPoles with the same balancing policy, in interleaved rounds (medians reported),
so that the machine's noise hits both alike. Prints a table and writes
benchmarks/results/vector.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from alpyperl import AnyLogicVectorEnv

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "vector.json"


def env_steps_per_second(envs, seconds: float) -> float:
    """Steps ``envs`` with a balancing policy for about ``seconds``; returns env steps per second."""
    observations, _ = envs.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(50):
            actions = (observations[:, 2] + 0.5 * observations[:, 3] > 0).astype(np.int64)
            observations, *_ = envs.step(actions)
        steps += 50 * envs.num_envs
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke run")
    args = parser.parse_args()
    sizes = [1, 4, 16, 64]
    rounds, seconds = (1, 0.3) if args.quick else (5, 1.5)

    results = {}
    for n in sizes:
        java = AnyLogicVectorEnv(model=MODEL, num_envs=n)
        reference = gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="sync")
        env_steps_per_second(java, 0.2)  # warm up the JIT
        java_rates, gym_rates = [], []
        for _ in range(rounds):
            java_rates.append(env_steps_per_second(java, seconds))
            gym_rates.append(env_steps_per_second(reference, seconds))
        java.close()
        reference.close()
        results[n] = {"anylogic_vector_env": statistics.median(java_rates),
                      "gym_sync_vector_env": statistics.median(gym_rates)}
        results[n]["ratio"] = results[n]["anylogic_vector_env"] / results[n]["gym_sync_vector_env"]

    print(f"\nVector env benchmark ({'quick' if args.quick else 'full'}, {rounds} round(s), medians), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n")
    print(f"{'N':>4} {'AnyLogicVectorEnv':>18} {'gym sync CartPole-v1':>21} {'ratio':>7}")
    for n, row in results.items():
        print(f"{n:>4} {row['anylogic_vector_env']:>18,.0f} {row['gym_sync_vector_env']:>21,.0f} {row['ratio']:>6.2f}x")
    print("(env steps per second; goal at N = 16: 10x)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "vector", "quick": args.quick, "rounds": rounds,
                                   "results": {str(n): row for n, row in results.items()}}, indent=2))
    print(f"JSON: {RESULTS}")


if __name__ == "__main__":
    main()
