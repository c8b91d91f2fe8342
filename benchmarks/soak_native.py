"""Where soak.py's one-time native RSS rise with platform model threads goes (issue 13; not run in CI).

    python benchmarks/soak_native.py                                   # NMT on, heap fixed and resident
    python benchmarks/soak_native.py --jvm-option=-XX:TieredStopAtLevel=1      # without the C2 compiler
    python benchmarks/soak_native.py --jvm-option=-XX:TrimNativeHeapInterval=1000

After 1,000 create/close cycles on the caller's thread (the baseline), runs rounds of 1,000
create/close cycles with ``model_threads="platform"``. After each round it prints the RSS, the
JVM's own account of its native memory (Native Memory Tracking: the committed total and the
categories that changed by more than 256 KiB) and the resident memory of anonymous mappings
(from /proc/self/smaps: those of 2 MiB or less, e.g. thread stacks, by size; larger ones, the
Java heap and glibc's malloc arenas, together), each against the baseline. At the end it calls
glibc's ``malloc_trim(0)`` and prints the RSS again: memory that HotSpot freed but glibc kept
comes back then. Findings: benchmarks/README.md, section soak.py. Linux with glibc only.
"""

from __future__ import annotations

import argparse
import ctypes
import re
from pathlib import Path

import jpype

from alpyperl import AnyLogicEnv

MODEL = Path(__file__).resolve().parent.parent / "examples" / "cartpole" / "build" / "model"
BASE_OPTIONS = ["-XX:NativeMemoryTracking=summary", "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch"]
THRESHOLD_KIB = 256


def rss_mb() -> float:
    """The process's resident memory (VmRSS) in MiB."""
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def anonymous_kib() -> dict[str, int]:
    """Resident KiB of the anonymous (and [heap]) mappings, by size class."""
    resident: dict[str, int] = {}
    mapping = None
    for line in open("/proc/self/smaps"):
        fields = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+$", fields[0]):
            start, end = (int(bound, 16) for bound in fields[0].split("-"))
            size = (end - start) >> 10
            name = fields[5] if len(fields) > 5 else (f"anonymous {size} KiB" if size <= 2048 else "anonymous > 2 MiB")
            mapping = name if name.startswith(("anonymous", "[heap]")) else None
        elif fields[0] == "Rss:" and mapping is not None:
            resident[mapping] = resident.get(mapping, 0) + int(fields[1])
    return resident


def native_memory_kib() -> dict[str, int]:
    """NMT's committed KiB per category and in total ("Total"), through the DiagnosticCommand MBean."""
    management = jpype.JClass("java.lang.management.ManagementFactory")
    command = jpype.JClass("javax.management.ObjectName")("com.sun.management:type=DiagnosticCommand")
    text = str(management.getPlatformMBeanServer().invoke(
        command, "vmNativeMemory", jpype.JArray(jpype.JObject)([jpype.JArray(jpype.JString)(["summary"])]),
        jpype.JArray(jpype.JString)(["[Ljava.lang.String;"])))
    committed = {match.group(1).strip(): int(match.group(2))
                 for match in re.finditer(r"-\s+([\w ]+?) \(reserved=\d+KB, committed=(\d+)KB", text)}
    total = re.search(r"Total: reserved=\d+KB, committed=(\d+)KB", text)
    if total:
        committed["Total"] = int(total.group(1))
    return committed


def changes(now: dict[str, int], base: dict[str, int]) -> str:
    return ", ".join(f"{key} {(value - base.get(key, 0)) / 1024:+.1f}" for key, value in sorted(now.items())
                     if key != "Total" and abs(value - base.get(key, 0)) > THRESHOLD_KIB) or "-"


def cycles(count: int, **settings) -> None:
    for index in range(count):
        env = AnyLogicEnv(MODEL, **settings)
        env.reset(seed=index)
        env.step(0)
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="rounds of 1,000 platform create/close cycles")
    parser.add_argument("--jvm-option", action="append", default=[], help="a further JVM option (repeatable)")
    args = parser.parse_args()
    AnyLogicEnv(MODEL, jvm_options=BASE_OPTIONS + args.jvm_option).close()  # starts the JVM
    cycles(1000)
    base_rss, base_nmt, base_anon = rss_mb(), native_memory_kib(), anonymous_kib()
    print(f"baseline after 1,000 caller-thread cycles: RSS {base_rss:.1f} MiB; changes below in MiB against it")
    for round_number in range(1, args.rounds + 1):
        cycles(1000, model_threads="platform")
        nmt = native_memory_kib()
        print(f"{round_number},000 platform cycles: RSS {rss_mb() - base_rss:+.1f}; NMT committed "
              f"{(nmt['Total'] - base_nmt['Total']) / 1024:+.1f} ({changes(nmt, base_nmt)}); "
              f"resident mappings: {changes(anonymous_kib(), base_anon)}")
    before = rss_mb()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"malloc_trim(0): RSS {before - base_rss:+.1f} -> {rss_mb() - base_rss:+.1f}")


if __name__ == "__main__":
    main()
