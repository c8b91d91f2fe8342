"""Soak benchmark: does a long run leak threads or memory? (issue 13; not run in CI)

    python benchmarks/soak.py            # 10,000 resets, 2,000 create/close cycles, 1,000,000 steps
    python benchmarks/soak.py --quick    # small counts, about a second (CI smoke)
    python benchmarks/soak.py --scale 10 --jvm-option=-Xmx256m   # counts x 10, options for the JVM

One process runs the phases one after another on the CartPole example model, with
``AnyLogicEnv``'s default settings (the model on the caller's thread on Java 24+):

- ``resets``: one environment reset over and over, each reset abandoning the episode before;
- ``create_close``: an environment created, reset, stepped once and closed, again and again;
- ``create_close_platform``: the same with ``model_threads="platform"`` (an OS thread per model);
- ``steps``: one environment stepped with a balancing policy, reset when an episode ends.

During each phase the process's resident memory (VmRSS), its OS threads, the JVM's live threads,
alpyperl's live model threads and the JVM's heap and non-heap memory are sampled at regular
intervals. The first 10 % of a phase is its warm-up; "start" is the sample at its end, "peak"
the highest sample after it. Goals: flat threads (in the last 10 % of the phase, the fewest
threads seen are no more than at the start: the JVM's own helper threads come and go) and RSS
growth under 5 % from start to end. The script always exits 0 and prints whether each goal is
met. Writes benchmarks/results/soak.json. Results and what they mean: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import jpype

from alpyperl import AnyLogicEnv

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "soak.json"
COUNTS = {"resets": 10_000, "create_close": 2_000, "create_close_platform": 2_000, "steps": 1_000_000}
QUICK_COUNTS = {"resets": 500, "create_close": 50, "create_close_platform": 50, "steps": 20_000}
SAMPLES = 100  # per phase
WARM_UP = 0.1  # the first 10 % of each phase
RSS_GOAL_PERCENT = 5.0
METRICS = ("rss_mb", "os_threads", "jvm_threads", "model_threads",
           "java_heap_used_mb", "java_heap_committed_mb", "java_non_heap_mb")


def proc_status() -> dict[str, str]:
    """This process's /proc/self/status as a dictionary."""
    with open("/proc/self/status") as status:
        return dict(line.split(":", 1) for line in status if ":" in line)


def sample() -> dict[str, float]:
    """Resident memory, thread counts and the JVM's memory, now.

    The Java heap's committed size tells whether RSS grows because the heap grows to its working
    size (G1 commits more as it sees fit); non-heap is metaspace and the JIT's code cache."""
    status = proc_status()
    management = jpype.JClass("java.lang.management.ManagementFactory")
    memory = management.getMemoryMXBean()
    heap = memory.getHeapMemoryUsage()
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "os_threads": int(status["Threads"]),
        "jvm_threads": int(management.getThreadMXBean().getThreadCount()),
        "model_threads": int(jpype.JClass("com.alpyperl.launcher.ModelSession").liveModelThreads()),
        "java_heap_used_mb": heap.getUsed() / 2**20,
        "java_heap_committed_mb": heap.getCommitted() / 2**20,
        "java_non_heap_mb": memory.getNonHeapMemoryUsage().getCommitted() / 2**20,
    }


def policy(observation) -> int:
    """Push right when the pole falls right: balances CartPole, so episodes run long."""
    return 1 if observation[2] + 0.5 * observation[3] > 0 else 0


class Stepper:
    """One environment stepped with the balancing policy, reset when an episode ends."""

    def __init__(self, jvm_options: list[str]):
        self.env = AnyLogicEnv(MODEL, jvm_options=jvm_options)
        self.observation, _ = self.env.reset(seed=0)

    def reset(self, index: int) -> None:
        """Resets the environment, abandoning its episode."""
        self.observation, _ = self.env.reset(seed=index)

    def __call__(self, _index: int) -> None:
        """One step; a new episode when one ends."""
        self.observation, _, terminated, truncated, _ = self.env.step(policy(self.observation))
        if terminated or truncated:
            self.observation, _ = self.env.reset()


def create_close(**settings):
    """One cycle: create an environment, reset it, step it once, close it."""
    def cycle(index: int) -> None:
        env = AnyLogicEnv(MODEL, **settings)
        env.reset(seed=index)
        env.step(0)
        env.close()
    return cycle


def run_phase(count: int, operation) -> dict:
    """Calls ``operation(i)`` ``count`` times, sampling SAMPLES times; the samples and the summary."""
    every = max(1, count // SAMPLES)
    warm_up = int(count * WARM_UP)
    samples = []
    began = time.perf_counter()
    for index in range(count):
        if index % every == 0:
            samples.append({"done": index, **sample()})
        operation(index)
    samples.append({"done": count, **sample()})
    seconds = time.perf_counter() - began
    after_warm_up = [point for point in samples if point["done"] >= warm_up]
    start, end = after_warm_up[0], after_warm_up[-1]
    summary = {metric: {"first": samples[0][metric], "start": start[metric], "end": end[metric],
                        "peak": max(point[metric] for point in after_warm_up)} for metric in METRICS}
    for values in summary.values():
        values["growth_percent"] = 100 * (values["end"] - values["start"]) / values["start"] if values["start"] else 0.0
    # The JVM starts and ends helper threads of its own (JIT compilers, GC), so a single sample may
    # see one more: a leaked thread never ends, and raises even the fewest seen near the end.
    final_stretch = [point for point in samples if point["done"] >= count - warm_up]
    threads_flat = all(min(point[metric] for point in final_stretch) <= summary[metric]["start"]
                       for metric in ("os_threads", "jvm_threads", "model_threads"))
    rss_ok = summary["rss_mb"]["growth_percent"] < RSS_GOAL_PERCENT
    return {"count": count, "seconds": seconds, "warm_up": warm_up, "summary": summary,
            "goals": {"threads_flat": threads_flat, "rss_growth_under_5_percent": rss_ok}, "samples": samples}


def print_table(phases: dict) -> None:
    """One row per phase and metric: first sample, start (after warm-up), end, peak, growth."""
    print(f"{'phase':<22} {'metric':<22} {'first':>9} {'start':>9} {'end':>9} {'peak':>9} {'growth':>8}")
    for name, phase in phases.items():
        for metric, values in phase["summary"].items():
            print(f"{name:<22} {metric:<22} {values['first']:>9.1f} {values['start']:>9.1f} {values['end']:>9.1f} "
                  f"{values['peak']:>9.1f} {values['growth_percent']:>7.1f}%")
    print()
    for name, phase in phases.items():
        goals = phase["goals"]
        print(f"{name:<22} {phase['count']:>9,} in {phase['seconds']:6.1f} s   "
              f"threads flat: {'met' if goals['threads_flat'] else 'NOT met'}   "
              f"RSS growth {phase['summary']['rss_mb']['growth_percent']:+.1f}% < {RSS_GOAL_PERCENT:.0f}%: "
              f"{'met' if goals['rss_growth_under_5_percent'] else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, about a second (smoke run)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count by this")
    parser.add_argument("--jvm-option", action="append", default=[], help="an option for the JVM, e.g. -Xmx256m")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    counts = {name: max(10, int(count * args.scale))
              for name, count in (QUICK_COUNTS if args.quick else COUNTS).items()}

    rss_before_jvm = int(proc_status()["VmRSS"].split()[0]) / 1024
    stepper = Stepper(args.jvm_option)  # started first: starts the JVM; its model is reused by the resets phase
    operations = {
        "resets": stepper.reset,
        "create_close": create_close(),
        "create_close_platform": create_close(model_threads="platform"),
        "steps": stepper,
    }
    phases = {name: run_phase(counts[name], operation) for name, operation in operations.items()}
    stepper.env.close()
    model_threads = stepper.env.model_threads

    print(f"\nSoak benchmark ({'quick' if args.quick else 'full'}, scale {args.scale}), {os.cpu_count()} CPUs, "
          f"AnyLogicEnv on model_threads={model_threads!r}; RSS before the JVM started {rss_before_jvm:.1f} MB; "
          f"JVM options {args.jvm_option}; warm-up: the first {WARM_UP:.0%} of each phase\n")
    print_table(phases)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"benchmark": "soak", "quick": args.quick, "scale": args.scale,
                                       "counts": counts, "jvm_options": args.jvm_option, "model_threads": model_threads,
                                       "rss_before_jvm_mb": rss_before_jvm, "warm_up_fraction": WARM_UP,
                                       "rss_goal_percent": RSS_GOAL_PERCENT, "phases": phases}, indent=2))
    print(f"JSON: {args.output}")


if __name__ == "__main__":
    main()
