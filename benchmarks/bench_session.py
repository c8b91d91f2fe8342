"""The session core's goals, side by side in one run: how fast alpyperl's environments step
CartPole against Gymnasium's CartPole-v1, on a quiet machine and with every CPU busy.

    python benchmarks/bench_session.py            # about three minutes
    python benchmarks/bench_session.py --quick    # a few seconds (CI smoke)
    python benchmarks/bench_session.py --clock cpu   # the stepping thread's CPU time (a loaded machine)

Three comparisons, each stepping the same CartPole dynamics with the same balancing policy
(push right when theta + 0.5 theta_dot > 0), resets included, whole loop timed (the policy's
Python or numpy work included):

- one environment: ``AnyLogicEnv`` against ``gym.make("CartPole-v1")`` (goal: 3x), each stepped
  in the loop a one-environment program has (``obs, ... = env.step(policy(obs))``);
- four environments stepped one after another, as SB3's ``DummyVecEnv`` and Gymnasium's
  ``SyncVectorEnv`` do: four ``AnyLogicEnv`` against four gym envs (goal: 2x);
- 16 instances in one vector environment: ``AnyLogicVectorEnv(num_envs=16)`` against
  ``gym.make_vec("CartPole-v1", 16, vectorization_mode="sync")`` (goal: 20x).

alpyperl's environments step through the step extension (``alpyperl._direct_step``) and, for the
record, through JPype (what they do where the extension is not compiled). They run as they choose
by default (``model_threads="auto"``: the model on the caller's thread on Java 24+), and, for the
record, with ``model_threads="platform"`` (a model thread of its own per instance, what every
environment used before the caller's thread).
"busy" rounds run while one process per CPU spins (other work on the machine, e.g. RLlib's
EnvRunners). Rounds are interleaved, so that a noisy moment hits every contender; medians are
reported. ``--clock cpu`` times with the stepping thread's CPU time instead of the wall clock, for
a machine that other work keeps busy: the model runs on that thread (``model_threads="caller"``),
so this is each loop's own cost; the "platform" column then leaves out the model threads' time
and means nothing. Writes benchmarks/results/session.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, bridge

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "session.json"
GOALS = {"one_env": 3.0, "four_envs_in_turn": 2.0, "vector_16": 20.0}
#: What the loops are timed with (``--clock``): the wall clock, or the calling thread's CPU time.
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
clock = CLOCKS["wall"]


def one_env_steps(envs: list, seconds: float) -> float:
    """Steps the one environment of ``envs`` for about ``seconds``; returns env steps per second."""
    [env] = envs
    observation = env.reset(seed=0)[0]
    steps, start = 0, clock()
    while clock() - start < seconds:
        for _ in range(100):
            action = 1 if observation[2] + 0.5 * observation[3] > 0 else 0
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                observation, _ = env.reset()
        steps += 100
    return steps / (clock() - start)


def steps_in_turn(envs: list, seconds: float) -> float:
    """Steps each environment of ``envs`` in turn for about ``seconds``; returns env steps per second."""
    observations = [env.reset(seed=index)[0] for index, env in enumerate(envs)]
    steps, start = 0, clock()
    while clock() - start < seconds:
        for _ in range(100):
            for index, env in enumerate(envs):
                observation = observations[index]
                action = 1 if observation[2] + 0.5 * observation[3] > 0 else 0
                observation, _, terminated, truncated, _ = env.step(action)
                if terminated or truncated:
                    observation, _ = env.reset()
                observations[index] = observation
        steps += 100 * len(envs)
    return steps / (clock() - start)


def vector_steps(envs, seconds: float) -> float:
    """Steps a vector environment (which resets its sub-environments itself); env steps per second."""
    observations, _ = envs.reset(seed=0)
    steps, start = 0, clock()
    while clock() - start < seconds:
        for _ in range(50):
            actions = (observations[:, 2] + 0.5 * observations[:, 3] > 0).astype(np.int64)
            observations, *_ = envs.step(actions)
        steps += 50 * envs.num_envs
    return steps / (clock() - start)


def through_jpype(make):
    """``make()``, with the environments it creates stepping through JPype instead of the step extension."""
    bridge.DIRECT_STEP = False
    try:
        return make()
    finally:
        bridge.DIRECT_STEP = True


def contenders() -> dict[str, dict[str, tuple]]:
    """Per comparison: name -> (the environment(s), how to step them)."""
    return {
        "one_env": {
            "AnyLogicEnv": ([AnyLogicEnv(MODEL)], one_env_steps),
            "AnyLogicEnv JPype": (through_jpype(lambda: [AnyLogicEnv(MODEL)]), one_env_steps),
            "AnyLogicEnv platform": ([AnyLogicEnv(MODEL, model_threads="platform")], one_env_steps),
            "gym CartPole-v1": ([gym.make("CartPole-v1")], one_env_steps),
        },
        "four_envs_in_turn": {
            "AnyLogicEnv": ([AnyLogicEnv(MODEL) for _ in range(4)], steps_in_turn),
            "AnyLogicEnv JPype": (through_jpype(lambda: [AnyLogicEnv(MODEL) for _ in range(4)]), steps_in_turn),
            "AnyLogicEnv platform": ([AnyLogicEnv(MODEL, model_threads="platform") for _ in range(4)],
                                     steps_in_turn),
            "gym CartPole-v1": ([gym.make("CartPole-v1") for _ in range(4)], steps_in_turn),
        },
        "vector_16": {
            "AnyLogicEnv": (AnyLogicVectorEnv(MODEL, num_envs=16), vector_steps),
            "AnyLogicEnv JPype": (through_jpype(lambda: AnyLogicVectorEnv(MODEL, num_envs=16)), vector_steps),
            "AnyLogicEnv platform": (AnyLogicVectorEnv(MODEL, num_envs=16, model_threads="platform"),
                                     vector_steps),
            "gym CartPole-v1": (gym.make_vec("CartPole-v1", num_envs=16, vectorization_mode="sync"), vector_steps),
        },
    }


class BusyMachine:
    """One process per CPU that spins, while the ``with`` block runs."""

    def __enter__(self):
        spin = "import time\nwhile True: time.perf_counter()"
        self.spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(os.cpu_count() or 1)]
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for spinner in self.spinners:
            spinner.kill()
            spinner.wait()


def measure(all_envs: dict, rounds: int, seconds: float) -> dict:
    """Interleaved rounds of every contender; the median steps/s of each."""
    rates = {comparison: {name: [] for name in group} for comparison, group in all_envs.items()}
    for _ in range(rounds):
        for comparison, group in all_envs.items():
            for name, (envs, step) in group.items():
                rates[comparison][name].append(step(envs, seconds))
    return {comparison: {name: statistics.median(values) for name, values in group.items()}
            for comparison, group in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="time with the wall clock (default) or the stepping thread's CPU time")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    rounds, seconds = (1, 0.2) if args.quick else (5, 1.5)

    all_envs = contenders()
    kind = all_envs["one_env"]["AnyLogicEnv"][0][0].model_threads
    vector_kind = all_envs["vector_16"]["AnyLogicEnv"][0].model_threads
    measure(all_envs, 1, 0.2)  # warm up the JIT
    load_before = os.getloadavg()[0]
    results = {"quiet": measure(all_envs, rounds, seconds)}
    with BusyMachine():
        results["busy"] = measure(all_envs, rounds, seconds)
    for group in all_envs.values():
        for envs, _ in group.values():
            for env in envs if isinstance(envs, list) else [envs]:
                env.close()

    print(f"\nSession core benchmark ({'quick' if args.quick else 'full'}, {rounds} round(s) of {seconds} s, "
          f"medians, {args.clock} clock), {os.cpu_count()} CPUs, load average {load_before:.2f} before the quiet "
          f"rounds; "
          f"AnyLogicEnv runs its model on model_threads={kind!r}, the vector env on {vector_kind!r}\n")
    print(f"{'comparison':<20} {'machine':<7} {'AnyLogicEnv':>12} {'JPype':>10} {'platform':>10} {'gym':>10} "
          f"{'ratio':>7} {'JPype ratio':>12} {'platform ratio':>15} {'goal':>6}")
    verdicts = {}
    for machine, comparisons in results.items():
        for comparison, rates in comparisons.items():
            gym_rate = rates["gym CartPole-v1"]
            ratio = rates["AnyLogicEnv"] / gym_rate
            jpype_ratio = rates["AnyLogicEnv JPype"] / gym_rate
            platform_ratio = rates["AnyLogicEnv platform"] / gym_rate
            verdicts[f"{comparison} {machine}"] = {"ratio": ratio, "jpype_ratio": jpype_ratio,
                                                   "platform_ratio": platform_ratio,
                                                   "goal": GOALS[comparison], "met": ratio >= GOALS[comparison]}
            print(f"{comparison:<20} {machine:<7} {rates['AnyLogicEnv']:>12,.0f} {rates['AnyLogicEnv JPype']:>10,.0f} "
                  f"{rates['AnyLogicEnv platform']:>10,.0f} {gym_rate:>10,.0f} {ratio:>6.2f}x {jpype_ratio:>11.2f}x "
                  f"{platform_ratio:>14.2f}x {GOALS[comparison]:>5.0f}x "
                  f"{'met' if ratio >= GOALS[comparison] else 'NOT met'}")
    print("(env steps per second, whole loop with the policy; ratios against gym in the same rounds; JPype: the\n"
          " step called through JPype instead of the step extension, as where it is not compiled)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"benchmark": "session", "quick": args.quick, "clock": args.clock,
                                       "rounds": rounds,
                                       "seconds": seconds, "model_threads": kind, "vector_model_threads": vector_kind,
                                       "load_before": load_before, "steps_per_second": results,
                                       "ratios": verdicts}, indent=2))
    print(f"JSON: {args.output}")


if __name__ == "__main__":
    main()
