#!/usr/bin/env python3
"""RLlib (PPO, new API stack) on the Java CartPole model against Gymnasium's CartPole-v1.

Measures, with the PPO configuration of ``examples/cartpole/train.py`` (same runners, same
environments per runner, same seeds) on both environments:

* ``throughput``   – env steps per second of ``algo.train()`` (sampling and learning), and of
  the sampling part alone, over a few iterations after a warm-up iteration; the Java model both
  in RLlib's default vectorization (``sync``: one AnyLogicEnv per sub-environment) and as one
  AnyLogicVectorEnv per runner (``vector_entry_point``);
* ``time_to_475``  – wall time (and env steps) of ``algo.train()`` calls until the mean episode
  return reaches 475, per seed;
* ``memory``       – resident memory (RSS) of one EnvRunner process: with Gymnasium's CartPole
  (no JVM), and with 1, 16 and 64 Java model instances (JVM baseline, cost per extra instance).

Java and Gymnasium runs alternate, so that a change in the machine's load hits both alike.
Prints a table and writes JSON (``benchmarks/results/rllib.json`` unless ``--output``).

    python benchmarks/bench_rllib.py            # about 5 minutes on 2 idle cores
    python benchmarks/bench_rllib.py --quick    # about 2 minutes: tiny versions of each part

Needs a built checkout (``gradle build``: ``examples/cartpole/build/model``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a source checkout works without installing alpyperl

import ray  # noqa: E402

from alpyperl import rllib  # noqa: E402

MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
DEFAULT_OUTPUT = HERE / "results" / "rllib.json"
GYM_ENV = "CartPole-v1"
TARGET_RETURN = 475.0
GOAL_THROUGHPUT = 0.95  # Java CartPole at least 0.95 x the steps/s of CartPole-v1
GOAL_TIME_TO_TARGET = 1.1  # and at most 1.1 x its wall time to a return of 475

PLANS = {
    "quick": {"rounds": 1, "iterations": 2, "batch": 1000, "seeds": [0], "max_iterations": 2,
              "memory_envs": [1, 4]},
    "full": {"rounds": 3, "iterations": 5, "batch": 4000, "seeds": [0, 1, 2], "max_iterations": 60,
             "memory_envs": [1, 16, 64]},
}


def load_train_module():
    """examples/cartpole/train.py, for its ppo_config (the benchmark trains exactly like it)."""
    spec = importlib.util.spec_from_file_location("cartpole_train", ROOT / "examples" / "cartpole" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KINDS = {"java": "Java CartPole (sync)", "java_vector": "Java CartPole (AnyLogicVectorEnv)", "gym": GYM_ENV}


def build(train, kind: str, *, runners: int, envs: int, seed: int, batch: int):
    """The PPO algorithm of examples/cartpole/train.py on the Java model ("java", "java_vector") or CartPole-v1."""
    if kind == "gym":
        env, env_config = GYM_ENV, {}
    else:
        env, env_config = rllib.register_env(), {"model": str(MODEL)}
    config = train.ppo_config(env, env_config, num_env_runners=runners, envs_per_runner=envs, seed=seed,
                              train_batch_size=batch)
    if kind == "java_vector":
        config.env_runners(gym_env_vectorize_mode="vector_entry_point")
    return config.build_algo()


# ---- measurements ---------------------------------------------------------------------------


def measure_throughput(train, kind: str, plan: dict, runners: int, envs: int, seed: int) -> dict:
    """Env steps/s of algo.train() and of its sampling, over plan["iterations"] after a warm-up."""
    algo = build(train, kind, runners=runners, envs=envs, seed=seed, batch=plan["batch"])
    try:
        algo.train()  # warm-up: first weights sync, JIT, lazy imports
        steps = seconds = sampling_seconds = 0.0
        for _ in range(plan["iterations"]):
            start = time.perf_counter()
            result = algo.train()
            seconds += time.perf_counter() - start
            sampled = result["env_runners"]["num_env_steps_sampled"]
            steps += sampled
            sampling_seconds += result["timers"]["env_runner_sampling_timer"]
    finally:
        algo.stop()
    return {"steps": int(steps), "seconds": seconds, "train_steps_per_second": steps / seconds,
            "sampling_steps_per_second": steps / sampling_seconds}


def measure_time_to_target(train, kind: str, plan: dict, runners: int, envs: int, seed: int) -> dict:
    """Wall time and env steps of algo.train() calls until the mean return reaches 475."""
    algo = build(train, kind, runners=runners, envs=envs, seed=seed, batch=plan["batch"])
    try:
        seconds, iterations, reached, result = 0.0, 0, False, {}
        while iterations < plan["max_iterations"] and not reached:
            start = time.perf_counter()
            result = algo.train()
            seconds += time.perf_counter() - start
            iterations += 1
            reached = bool(rllib.episode_return(result) >= TARGET_RETURN)
    finally:
        algo.stop()
    return {"seed": seed, "reached": reached, "seconds": seconds, "iterations": iterations,
            "env_steps": rllib.env_steps(result), "final_return": rllib.episode_return(result)}


def runner_memory(runner) -> dict:
    """Runs in the EnvRunner process: its RSS and whether it hosts a JVM."""
    import jpype

    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "jvm": jpype.isJVMStarted(), "pid": os.getpid()}


def measure_memory(train, kind: str, envs: int, seed: int) -> dict:
    """RSS of a single EnvRunner with ``envs`` environments, after one training iteration."""
    algo = build(train, kind, runners=1, envs=envs, seed=seed, batch=1000)
    try:
        algo.train()
        (memory,) = algo.env_runner_group.foreach_env_runner(runner_memory, local_env_runner=False)
    finally:
        algo.stop()
    return {"kind": kind, "envs": envs, **memory}


# ---- the run --------------------------------------------------------------------------------


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def plain(value):
    """JSON for the NumPy scalars in RLlib's results."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{value!r} is not JSON serializable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny versions of each measurement (CI smoke)")
    parser.add_argument("--num-env-runners", type=int, default=2, help="EnvRunner processes (default 2)")
    parser.add_argument("--envs-per-runner", type=int, default=4, help="environments per runner (default 4)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"JSON file (default {DEFAULT_OUTPUT})")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    plan = PLANS[mode]
    runners, envs = args.num_env_runners, args.envs_per_runner
    if not (MODEL / "alpyperl-model.properties").is_file():
        print(f"The CartPole model is not built ({MODEL}); run `gradle build` first.", file=sys.stderr)
        return 1

    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    ray.init(address="local", num_cpus=max(os.cpu_count() or 1, runners), include_dashboard=False,
             log_to_driver=False)
    train = load_train_module()
    load_before = os.getloadavg()
    started = time.perf_counter()
    results: dict = {"mode": mode, "runners": runners, "envs_per_runner": envs, "plan": plan,
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "ray": ray.__version__, "load_average_before": load_before}}
    try:
        print(f"RLlib PPO, {runners} runners x {envs} environments, Java CartPole vs {GYM_ENV} ({mode} run)",
              flush=True)
        throughput = {kind: [] for kind in KINDS}
        for round_index in range(plan["rounds"]):
            for kind in KINDS:
                row = measure_throughput(train, kind, plan, runners, envs, seed=round_index)
                throughput[kind].append(row)
                print(f"  throughput round {round_index + 1} {kind:>11}: {row['train_steps_per_second']:7,.0f} steps/s "
                      f"(sampling {row['sampling_steps_per_second']:7,.0f})", flush=True)

        to_target = {"java": [], "gym": []}
        for seed in plan["seeds"]:
            for kind in ("java", "gym"):
                row = measure_time_to_target(train, kind, plan, runners, envs, seed)
                to_target[kind].append(row)
                print(f"  time to {TARGET_RETURN:.0f}, seed {seed} {kind:>4}: {row['seconds']:6.1f} s, "
                      f"{row['iterations']} iterations, {row['env_steps']:,} steps, "
                      f"{'reached' if row['reached'] else 'NOT reached'}", flush=True)

        memory = [measure_memory(train, "gym", 1, seed=0)]
        for count in plan["memory_envs"]:
            memory.append(measure_memory(train, "java", count, seed=0))
        for row in memory:
            print(f"  memory {row['kind']:>4} x {row['envs']:>2}: {row['rss_mb']:7.1f} MB (JVM: {row['jvm']})", flush=True)
    finally:
        ray.shutdown()

    median = statistics.median
    train_rates = {kind: median(r["train_steps_per_second"] for r in rows) for kind, rows in throughput.items()}
    sampling_rates = {kind: median(r["sampling_steps_per_second"] for r in rows) for kind, rows in throughput.items()}
    def paired_ratio(kind: str, key: str) -> float:
        """Median over rounds of (Java / gym) measured back to back."""
        return median(j[key] / g[key] for j, g in zip(throughput[kind], throughput["gym"]))
    all_reached = all(row["reached"] for rows in to_target.values() for row in rows)
    total_seconds = {kind: sum(row["seconds"] for row in rows) for kind, rows in to_target.items()}
    total_steps = {kind: sum(row["env_steps"] for row in rows) for kind, rows in to_target.items()}
    gym_rss = memory[0]["rss_mb"]
    java_rows = memory[1:]
    one = java_rows[0]
    largest = java_rows[-1]
    per_instance = (largest["rss_mb"] - one["rss_mb"]) / (largest["envs"] - one["envs"])

    summary = {
        "train_steps_per_second": train_rates,
        "sampling_steps_per_second": sampling_rates,
        "throughput_ratio_java_vs_gym": paired_ratio("java", "train_steps_per_second"),
        "sampling_ratio_java_vs_gym": paired_ratio("java", "sampling_steps_per_second"),
        "throughput_ratio_java_vector_vs_gym": paired_ratio("java_vector", "train_steps_per_second"),
        "sampling_ratio_java_vector_vs_gym": paired_ratio("java_vector", "sampling_steps_per_second"),
        "time_to_target_all_reached": all_reached,
        "time_to_target_seconds": total_seconds,
        "time_to_target_env_steps": total_steps,
        "time_to_target_ratio_java_vs_gym": ratio(total_seconds["java"], total_seconds["gym"]) if all_reached else None,
        "time_per_env_step_ratio_java_vs_gym": ratio(total_seconds["java"] / max(total_steps["java"], 1),
                                                     total_seconds["gym"] / max(total_steps["gym"], 1)),
        "runner_rss_mb_gym": gym_rss,
        "runner_rss_mb_java_one_model": one["rss_mb"],
        "jvm_baseline_mb": one["rss_mb"] - gym_rss,
        "per_extra_model_mb": per_instance,
    }
    results.update(throughput=throughput, time_to_target=to_target, memory=memory, summary=summary)
    results["goals"] = {
        "throughput_met": summary["throughput_ratio_java_vs_gym"] >= GOAL_THROUGHPUT,
        "time_to_target_met": (summary["time_to_target_ratio_java_vs_gym"] is not None
                               and summary["time_to_target_ratio_java_vs_gym"] <= GOAL_TIME_TO_TARGET),
    }
    results["machine"]["load_average_after"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started

    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=plain))
    print(f"\nWrote {args.output}")
    return 0


def print_table(results: dict) -> None:
    s = results["summary"]
    time_ratio = s["time_to_target_ratio_java_vs_gym"]
    rows = [
        ("algo.train() env steps/s (sync vector env)", f"{s['train_steps_per_second']['java']:,.0f}",
         f"{s['train_steps_per_second']['gym']:,.0f}", f"{s['throughput_ratio_java_vs_gym']:.2f}x",
         f">= {GOAL_THROUGHPUT}x"),
        ("  of which sampling, steps/s", f"{s['sampling_steps_per_second']['java']:,.0f}",
         f"{s['sampling_steps_per_second']['gym']:,.0f}", f"{s['sampling_ratio_java_vs_gym']:.2f}x", ""),
        ("same, one AnyLogicVectorEnv per runner", f"{s['train_steps_per_second']['java_vector']:,.0f}",
         f"{s['train_steps_per_second']['gym']:,.0f}", f"{s['throughput_ratio_java_vector_vs_gym']:.2f}x", ""),
        ("  of which sampling, steps/s", f"{s['sampling_steps_per_second']['java_vector']:,.0f}",
         f"{s['sampling_steps_per_second']['gym']:,.0f}", f"{s['sampling_ratio_java_vector_vs_gym']:.2f}x", ""),
        (f"time to return {TARGET_RETURN:.0f}, s (sum of seeds)", f"{s['time_to_target_seconds']['java']:.1f}",
         f"{s['time_to_target_seconds']['gym']:.1f}",
         f"{time_ratio:.2f}x" if time_ratio is not None else "not reached", f"<= {GOAL_TIME_TO_TARGET}x"),
        ("  env steps to that return", f"{s['time_to_target_env_steps']['java']:,}",
         f"{s['time_to_target_env_steps']['gym']:,}", "", ""),
        ("  time per env step", "", "", f"{s['time_per_env_step_ratio_java_vs_gym']:.2f}x", ""),
        ("runner RSS, MB (1 environment)", f"{s['runner_rss_mb_java_one_model']:.0f}",
         f"{s['runner_rss_mb_gym']:.0f}", f"JVM +{s['jvm_baseline_mb']:.0f} MB", ""),
        ("  per extra model instance, MB", f"{s['per_extra_model_mb']:.2f}", "", "", ""),
    ]
    header = ("", "Java CartPole", GYM_ENV, "ratio", "goal")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print()
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))
    print(f"\nload average before {results['machine']['load_average_before'][0]:.1f}, "
          f"after {results['machine']['load_average_after'][0]:.1f} ({results['machine']['cpus']} CPUs)")


if __name__ == "__main__":
    sys.exit(main())
