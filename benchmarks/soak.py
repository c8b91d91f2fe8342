"""Soak benchmark: does a long run leak threads or memory? (issue 13; not run in CI)

    python benchmarks/soak.py              # 10,000 resets, 2,000 create/close cycles, 1,000,000 steps
    python benchmarks/soak.py --quick      # small counts, a few seconds (CI smoke)
    python benchmarks/soak.py --scale 10   # every count x 10
    python benchmarks/soak.py --heap g1    # the JVM's default heap sizing instead of a fixed heap

One process runs the phases one after another on the CartPole example model, with
``AnyLogicEnv``'s default settings (the model on the caller's thread on Java 24+) and, unless
``--heap g1``, a fixed and resident 64 MB Java heap (G1 otherwise grows and shrinks the heap as
it sees fit, and RSS with it, by up to 180 MB here):

- ``warm_up`` (measured and shown, not judged): 6,000 create/close cycles, alternately on the
  caller's thread and on a platform thread. After about 3,000 environments the JIT's C2
  compiler compiles the code that creates one (one compilation uses up to 32 MB); glibc's malloc
  keeps that memory once C2 frees it, so RSS rises by 20 to 30 MB once, whatever the model
  threads, and then stays put. The warm-up covers that step (benchmarks/README.md);
- ``resets``: one environment reset over and over, each reset abandoning the episode before;
- ``create_close``: an environment created, reset, stepped once and closed, again and again;
- ``create_close_platform``: the same with ``model_threads="platform"`` (an OS thread per model);
- ``steps``: one environment stepped with a balancing policy, reset when an episode ends.

During each phase the process's resident memory (VmRSS), its OS threads, the JVM's live threads,
alpyperl's live model threads, the JVM's heap and non-heap memory, the time the JIT has spent
compiling and (with glibc) the memory malloc hands out and the memory it keeps free are sampled
at regular intervals. The first 10 % of a phase is its own warm-up; "start" is the sample where
it ends, "peak" the highest sample after it. Goals: flat threads (in the last 10 % of the phase,
the fewest threads seen are no more than at the start: the JVM's own helper threads come and
go) and RSS growth under 5 % from start to end. The script prints each phase's RSS curve and
verdicts and always exits 0. Writes benchmarks/results/soak.json. Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import time
from pathlib import Path

import jpype

from alpyperl import AnyLogicEnv

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "soak.json"
COUNTS = {"warm_up": 6_000, "resets": 10_000, "create_close": 2_000, "create_close_platform": 2_000,
          "steps": 1_000_000}
QUICK_COUNTS = {"warm_up": 50, "resets": 500, "create_close": 50, "create_close_platform": 50, "steps": 20_000}
WARM_UP_PHASE = "warm_up"  # measured and shown, not judged
# The heap fixed and resident from the start, so that RSS does not follow G1's sizing of the heap
# (up and down by up to 180 MB here): what is left is the memory a leak would take.
FIXED_HEAP = ["-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch"]
SAMPLES = 100  # per phase
WARM_UP = 0.1  # the first 10 % of each phase
RSS_GOAL_PERCENT = 5.0
METRICS = ("rss_mb", "os_threads", "jvm_threads", "model_threads",
           "java_heap_used_mb", "java_heap_committed_mb", "java_non_heap_mb", "jit_compile_s")
MALLOC_METRICS = ("malloc_in_use_mb", "malloc_free_mb")  # with glibc 2.33+ only


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2``: what malloc holds, over all its arenas (in use: uordblks, and
    hblkhd for large blocks it maps on their own; free: fordblks)."""
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def glibc_mallinfo2():
    """glibc's ``mallinfo2`` function, or None where there is none (not glibc, or before 2.33)."""
    try:
        function = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    function.restype = MallInfo2
    return function


MALLINFO2 = glibc_mallinfo2()


def proc_status() -> dict[str, str]:
    """This process's /proc/self/status as a dictionary."""
    with open("/proc/self/status") as status:
        return dict(line.split(":", 1) for line in status if ":" in line)


def sample() -> dict[str, float]:
    """Resident memory, thread counts, the JVM's memory and JIT time, and malloc's memory, now.

    The Java heap's committed size tells whether RSS grows because the heap grows to its working
    size (G1 commits more as it sees fit); non-heap is metaspace and the JIT's code cache. The
    JIT's compile time rises while it compiles. malloc's memory in use (the JVM's native memory,
    Python's large objects) would grow with a native leak; its free memory is what the process
    freed and glibc keeps in its arenas instead of returning it to the system."""
    status = proc_status()
    management = jpype.JClass("java.lang.management.ManagementFactory")
    memory = management.getMemoryMXBean()
    heap = memory.getHeapMemoryUsage()
    malloc = {}
    if MALLINFO2 is not None:
        info = MALLINFO2()
        malloc = {"malloc_in_use_mb": (info.uordblks + info.hblkhd) / 2**20, "malloc_free_mb": info.fordblks / 2**20}
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "os_threads": int(status["Threads"]),
        "jvm_threads": int(management.getThreadMXBean().getThreadCount()),
        "model_threads": int(jpype.JClass("com.alpyperl.launcher.ModelSession").liveModelThreads()),
        "java_heap_used_mb": heap.getUsed() / 2**20,
        "java_heap_committed_mb": heap.getCommitted() / 2**20,
        "java_non_heap_mb": memory.getNonHeapMemoryUsage().getCommitted() / 2**20,
        "jit_compile_s": management.getCompilationMXBean().getTotalCompilationTime() / 1000,
        **malloc,
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


def warm_up_cycle(index: int) -> None:
    """One create/close cycle, on the caller's thread and on a platform thread in turn."""
    (create_close() if index % 2 else create_close(model_threads="platform"))(index)


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
    metrics = METRICS + (MALLOC_METRICS if MALLINFO2 is not None else ())
    summary = {metric: {"first": samples[0][metric], "start": start[metric], "end": end[metric],
                        "peak": max(point[metric] for point in after_warm_up)} for metric in metrics}
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
        if name == WARM_UP_PHASE:
            rss = phase["summary"]["rss_mb"]
            print(f"{name:<22} {phase['count']:>9,} in {phase['seconds']:6.1f} s   not judged: RSS "
                  f"{rss['first']:.1f} -> {rss['end']:.1f} MB (peak {rss['peak']:.1f})")
            continue
        print(f"{name:<22} {phase['count']:>9,} in {phase['seconds']:6.1f} s   "
              f"threads flat: {'met' if goals['threads_flat'] else 'NOT met'}   "
              f"RSS growth {phase['summary']['rss_mb']['growth_percent']:+.1f}% < {RSS_GOAL_PERCENT:.0f}%: "
              f"{'met' if goals['rss_growth_under_5_percent'] else 'NOT met'}")


def print_rss_curves(phases: dict) -> None:
    """Each phase's RSS at every tenth of it, in MB."""
    print("RSS at 0 %, 10 %, ..., 100 % of each phase, MB")
    for name, phase in phases.items():
        samples = phase["samples"]
        tenths = [min(samples, key=lambda point: abs(point["done"] - phase["count"] * tenth / 10))
                  for tenth in range(11)]
        print(f"{name:<22} " + " ".join(f"{point['rss_mb']:6.1f}" for point in tenths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, about a second (smoke run)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count by this")
    parser.add_argument("--heap", choices=("fixed", "g1"), default="fixed",
                        help=f"fixed: {' '.join(FIXED_HEAP)} (default); g1: the JVM's default, G1 sizes the heap")
    parser.add_argument("--jvm-option", action="append", default=[], help="a further option for the JVM, e.g. -Xss1m")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    counts = {name: max(10, int(count * args.scale))
              for name, count in (QUICK_COUNTS if args.quick else COUNTS).items()}

    jvm_options = (FIXED_HEAP if args.heap == "fixed" else []) + args.jvm_option
    rss_before_jvm = int(proc_status()["VmRSS"].split()[0]) / 1024
    stepper = Stepper(jvm_options)  # started first: starts the JVM; its model is reused by the resets phase
    operations = {
        WARM_UP_PHASE: warm_up_cycle,
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
          f"JVM options {jvm_options}; warm-up: the first {WARM_UP:.0%} of each phase\n")
    print_table(phases)
    print()
    print_rss_curves(phases)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"benchmark": "soak", "quick": args.quick, "scale": args.scale,
                                       "counts": counts, "heap": args.heap, "jvm_options": jvm_options,
                                       "model_threads": model_threads, "not_judged": [WARM_UP_PHASE],
                                       "rss_before_jvm_mb": rss_before_jvm, "warm_up_fraction": WARM_UP,
                                       "rss_goal_percent": RSS_GOAL_PERCENT, "phases": phases}, indent=2))
    print(f"JSON: {args.output}")


if __name__ == "__main__":
    main()
