"""Where the soak benchmark's one-time native RSS rise goes, and whether it stops (issue 13; not run in CI).

    python benchmarks/soak_native.py                              # 12 rounds of 500 platform cycles
    python benchmarks/soak_native.py --rounds 40 --cycles 1000    # 40,000 cycles: where the curve goes
    python benchmarks/soak_native.py --model-threads caller       # the same without platform threads
    python benchmarks/soak_native.py --jvm-option=-XX:TieredStopAtLevel=1   # without the C2 compiler

Starts the JVM with Native Memory Tracking, the JIT's per-compilation memory statistics (Java
21+) and a fixed, resident 64 MB heap; runs 1,000 create/close cycles on the caller's thread (the
baseline), then rounds of create/close cycles of the chosen kind of model thread. After each
round it prints, against the baseline: RSS; the JVM's own account of its native memory (NMT's
committed total and the categories that changed by more than 256 KiB, as ``jcmd <pid>
VM.native_memory summary.diff`` shows them); glibc malloc's memory in use and the memory it
keeps free in its arenas (``mallinfo2``); and, as they are, the JIT's compile time so far, the
live Java heap after a full GC, the loaded classes and Python's objects. At the end: the largest
compilations and the memory each used (``jcmd <pid> Compiler.memory``), and the RSS before and
after glibc's ``malloc_trim(0)``, which returns what malloc keeps free. Findings:
benchmarks/README.md, section soak.py. Linux with glibc 2.33+ only.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import re
from pathlib import Path

import jpype

from alpyperl import AnyLogicEnv

MODEL = Path(__file__).resolve().parent.parent / "examples" / "cartpole" / "build" / "model"
BASE_OPTIONS = ["-XX:NativeMemoryTracking=summary", "-XX:CompileCommand=quiet",
                "-XX:CompileCommand=MemStat,*.*,collect", "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch"]
BASELINE_CYCLES = 1000
THRESHOLD_KIB = 256
LARGEST_COMPILATIONS = 6


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2``: what malloc holds, over all its arenas."""
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallinfo2.restype = MallInfo2


def rss_mb() -> float:
    """The process's resident memory (VmRSS) in MiB."""
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def malloc_mb() -> tuple[float, float]:
    """glibc malloc's memory in use (small and separately mapped blocks) and free in its arenas, MiB."""
    info = LIBC.mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20, info.fordblks / 2**20


def diagnostic_command(operation: str, *arguments: str) -> str:
    """The text of a jcmd diagnostic command (e.g. ``vmNativeMemory`` for VM.native_memory), in process."""
    management = jpype.JClass("java.lang.management.ManagementFactory")
    name = jpype.JClass("javax.management.ObjectName")("com.sun.management:type=DiagnosticCommand")
    return str(management.getPlatformMBeanServer().invoke(
        name, operation, jpype.JArray(jpype.JObject)([jpype.JArray(jpype.JString)(list(arguments))]),
        jpype.JArray(jpype.JString)(["[Ljava.lang.String;"])))


def native_memory_kib() -> dict[str, int]:
    """NMT's committed KiB per category and in total ("Total")."""
    text = diagnostic_command("vmNativeMemory", "summary")
    committed = {match.group(1).strip(): int(match.group(2))
                 for match in re.finditer(r"-\s+([\w ]+?) \(reserved=\d+KB, committed=(\d+)KB", text)}
    committed["Total"] = int(re.search(r"Total: reserved=\d+KB, committed=(\d+)KB", text).group(1))
    return committed


def java_state() -> str:
    """The JIT's compile time so far, the live heap after a full GC, loaded classes, Python objects."""
    management = jpype.JClass("java.lang.management.ManagementFactory")
    jpype.JClass("java.lang.System").gc()
    live = management.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 2**20
    return (f"JIT {management.getCompilationMXBean().getTotalCompilationTime() / 1000:.1f} s, "
            f"live heap {live:.1f}, classes {management.getClassLoadingMXBean().getLoadedClassCount()}, "
            f"Python objects {len(gc.get_objects()):,}")


def changes(now: dict[str, int], base: dict[str, int]) -> str:
    """The NMT categories that moved by more than THRESHOLD_KIB against the baseline, in MiB."""
    return ", ".join(f"{key} {(value - base.get(key, 0)) / 1024:+.1f}" for key, value in sorted(now.items())
                     if key != "Total" and abs(value - base.get(key, 0)) > THRESHOLD_KIB) or "-"


def largest_compilations() -> list[str]:
    """The compilations that used the most memory: compiler, MiB, method (Compiler.memory's rows)."""
    try:
        text = diagnostic_command("compilerMemory")
    except jpype.JException as error:  # before Java 21
        return [f"(Compiler.memory: {error})"]
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in (["c1"], ["c2"])]
    rows.sort(key=lambda row: int(row[1]), reverse=True)
    return [f"{row[0]} {int(row[1]) / 2**20:5.1f} MiB  {row[-1]}" for row in rows[:LARGEST_COMPILATIONS]]


def cycles(count: int, **settings) -> None:
    """``count`` times: create an environment with ``settings``, reset it, step it once, close it."""
    for index in range(count):
        env = AnyLogicEnv(MODEL, **settings)
        env.reset(seed=index)
        env.step(0)
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=12, help="rounds of create/close cycles after the baseline")
    parser.add_argument("--cycles", type=int, default=500, help="create/close cycles per round")
    parser.add_argument("--model-threads", choices=("platform", "caller"), default="platform",
                        help="the model threads of the rounds (the baseline runs on the caller's)")
    parser.add_argument("--jvm-option", action="append", default=[], help="a further JVM option (repeatable)")
    args = parser.parse_args()
    AnyLogicEnv(MODEL, jvm_options=BASE_OPTIONS + args.jvm_option).close()  # starts the JVM
    cycles(BASELINE_CYCLES)
    base_rss, base_nmt, (base_used, base_free) = rss_mb(), native_memory_kib(), malloc_mb()
    print(f"baseline after {BASELINE_CYCLES:,} caller-thread cycles: RSS {base_rss:.1f} MiB, malloc in use "
          f"{base_used:.1f}, free {base_free:.1f}; {java_state()}. Below, in MiB against the baseline:")
    for round_number in range(1, args.rounds + 1):
        cycles(args.cycles, model_threads=args.model_threads)
        nmt = native_memory_kib()
        used, free = malloc_mb()
        print(f"{round_number * args.cycles:>6,} {args.model_threads} cycles: RSS {rss_mb() - base_rss:+5.1f}; "
              f"malloc in use {used - base_used:+5.1f}, free {free - base_free:+5.1f}; NMT committed "
              f"{(nmt['Total'] - base_nmt['Total']) / 1024:+5.1f} ({changes(nmt, base_nmt)}); {java_state()}",
              flush=True)
    print("the compilations that used the most memory:")
    for line in largest_compilations():
        print(f"  {line}")
    before = rss_mb()
    LIBC.malloc_trim(0)
    print(f"malloc_trim(0): RSS {before - base_rss:+.1f} -> {rss_mb() - base_rss:+.1f}, malloc free "
          f"{malloc_mb()[1] - base_free:+.1f}")


if __name__ == "__main__":
    main()
