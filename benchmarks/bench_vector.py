"""Env steps/s of AnyLogicVectorEnv against Gymnasium's synchronous vector CartPole-v1.

    python benchmarks/bench_vector.py            # N = 1, 4, 16, 64; about two minutes
    python benchmarks/bench_vector.py --quick    # a few seconds

All step N CartPoles with the same balancing policy, in interleaved rounds (medians reported),
so that the machine's noise hits all alike: AnyLogicVectorEnv as it chooses by default
(model_threads="auto": virtual threads on Java 24+), AnyLogicVectorEnv with a platform thread
per instance, and gym.make_vec("CartPole-v1", N, vectorization_mode="sync"). Prints a table and
writes benchmarks/results/vector.json.
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


def env_steps_per_second(envs, seconds: float) -> tuple[float, float]:
    """Steps ``envs`` with a balancing policy for about ``seconds``. Returns env steps per second
    of the environment itself (time inside ``step()``, autoresets included) and of the whole loop
    (the policy's numpy work included)."""
    clock = time.perf_counter
    observations, _ = envs.reset(seed=0)
    steps, in_step, start = 0, 0.0, clock()
    while clock() - start < seconds:
        for _ in range(50):
            actions = (observations[:, 2] + 0.5 * observations[:, 3] > 0).astype(np.int64)
            before = clock()
            observations, *_ = envs.step(actions)
            in_step += clock() - before
        steps += 50 * envs.num_envs
    return steps / in_step, steps / (clock() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke run")
    args = parser.parse_args()
    sizes = [1, 4, 16, 64]
    rounds, seconds = (1, 0.3) if args.quick else (5, 1.5)

    results = {}
    load_before = os.getloadavg()[0]
    for n in sizes:
        envs = {"anylogic_vector_env": AnyLogicVectorEnv(model=MODEL, num_envs=n),
                "platform_threads": AnyLogicVectorEnv(model=MODEL, num_envs=n, model_threads="platform"),
                "gym_sync_vector_env": gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="sync")}
        threads = f"{envs['anylogic_vector_env'].model_threads} x{envs['anylogic_vector_env'].parallelism}"
        for env in envs.values():
            env_steps_per_second(env, 0.2)  # warm up the JIT
        rates = {name: [] for name in envs}
        loop_rates = {name: [] for name in envs}
        for _ in range(rounds):
            for name, env in envs.items():
                env_rate, loop_rate = env_steps_per_second(env, seconds)
                rates[name].append(env_rate)
                loop_rates[name].append(loop_rate)
        for env in envs.values():
            env.close()
        results[n] = {name: statistics.median(values) for name, values in rates.items()}
        results[n]["threads"] = threads
        results[n]["rounds"] = rates
        results[n]["with_policy"] = {name: statistics.median(values) for name, values in loop_rates.items()}
        results[n]["ratio"] = results[n]["anylogic_vector_env"] / results[n]["gym_sync_vector_env"]
        results[n]["ratio_platform"] = results[n]["platform_threads"] / results[n]["gym_sync_vector_env"]
        results[n]["ratio_with_policy"] = (results[n]["with_policy"]["anylogic_vector_env"]
                                           / results[n]["with_policy"]["gym_sync_vector_env"])

    print(f"\nVector env benchmark ({'quick' if args.quick else 'full'}, {rounds} round(s), medians), "
          f"{os.cpu_count()} CPUs, load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n")
    print(f"{'N':>4} {'AnyLogicVectorEnv':>18} {'threads':>11} {'ratio':>7} {'platform threads':>17} {'ratio':>7} "
          f"{'gym sync CartPole-v1':>21} {'ratio with policy':>18}")
    for n, row in results.items():
        print(f"{n:>4} {row['anylogic_vector_env']:>18,.0f} {row['threads']:>11} {row['ratio']:>6.2f}x "
              f"{row['platform_threads']:>17,.0f} {row['ratio_platform']:>6.2f}x {row['gym_sync_vector_env']:>21,.0f} "
              f"{row['ratio_with_policy']:>17.2f}x")
    print("(env steps per second of the environments' step() calls; ratios against gym's sync vector env; "
          "goal at N = 16: 10x.\n 'ratio with policy' counts the whole loop, the policy's numpy work included)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "vector", "quick": args.quick, "rounds": rounds,
                                   "results": {str(n): row for n, row in results.items()}}, indent=2))
    print(f"JSON: {RESULTS}")


if __name__ == "__main__":
    main()
