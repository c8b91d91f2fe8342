#!/usr/bin/env python3
"""Speed of attach mode (a model running in AnyLogic's own JVM) against its baselines, in one run.

Measures, with the fixed policy of ``bench_bridge.py``:

* ``attached``   – ``AnyLogicEnv(attach=True)``: the stand-in AnyLogic CartPole export running in a
  separate JVM under the stand-in IDE (``StandInIde``, Run pressed), one message each way per decision;
* ``in_process`` – the same export opened in this process (``AnyLogicEnv(model=export)``, JPype);
* ``py4j``       – the Py4J transport of ALPypeRL 1.x as ``bench_bridge.py`` measures it: a model in a
  separate JVM, four Py4J calls per step. ALPypeRL 1.x itself made 28 round trips per step
  (``../shared/alpyperl1``: 250 steps/s on the real export), so the summary also gives the 1.x
  transport's cost per step as 28 of the round trips measured here (``py4j_1x_us_per_step``), and
  the goal (attached ≥ 20× the 1.x transport) is judged against it; the ratio to the four-call
  baseline is shown too.

Resets count in the throughput and are also timed alone; ``us_per_decision`` is the time per step
without the resets. Every measurement runs once to warm up, then ``rounds`` times interleaved; the
table shows medians. Prints a table and writes JSON (``benchmarks/results/attach.json`` unless
``--output`` says otherwise).

    python benchmarks/bench_attach.py            # about half a minute
    python benchmarks/bench_attach.py --quick    # a few seconds (CI smoke)

Needs a built checkout (``gradle build``: the jars, ``examples/cartpole/build/model`` and the
stand-in export ``tests/anylogic-model/build/export/CartPole``), a JDK (``javac``) and py4j.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)  # a source checkout works without installing alpyperl

import bench_bridge  # noqa: E402  (its Py4J transport, policy and helpers)

EXPORT = ROOT / "tests" / "anylogic-model" / "build" / "export" / "CartPole"
EXPORT_JARS = ("model.jar", "lib/anylogic-lib.jar", "lib/com.anylogic.engine.jar")
DEFAULT_OUTPUT = HERE / "results" / "attach.json"
SEED = 2024
GOAL_VS_1X = 20.0  # attached at least 20 times as fast as the 1.x transport
PY4J_CALLS_PER_STEP = 4  # what bench_bridge's Py4J gateway makes per step
ALPYPERL1_CALLS_PER_STEP = 28  # what ALPypeRL 1.x made per step (measured on the real cartpole_v0 export)

BENCHMARKS = ("attached", "in_process", "py4j")
LABELS = {
    "attached": "attached (separate JVM, socket)",
    "in_process": "in-process (JPype)",
    "py4j": "Py4J, separate JVM (1.x way)",
}
PLANS = {
    "quick": {"rounds": 1, "warmup": 0.2, "seconds": 0.3},
    "full": {"rounds": 5, "warmup": 1.0, "seconds": 2.0},
}


class BenchmarkError(Exception):
    """The benchmark cannot run; the message says why."""


class StandInIde:
    """The stand-in AnyLogic IDE in its own JVM, running the stand-in export with its connector set to train."""

    def __init__(self, java: list[str], attach_file: str):
        classpath = os.pathsep.join(str(EXPORT / jar) for jar in EXPORT_JARS)
        self.process = subprocess.Popen(
            [*java, "-Dalpyperl.attach=true", "-cp", classpath, "com.anylogic.engine.StandInIde",
             "com.acme.cartpole.Simulation"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "ALPYPERL_ATTACH_FILE": attach_file})
        self.output: list[str] = []
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()

    def press_run(self, after: float) -> None:
        def press():
            time.sleep(after)
            self.process.stdin.write("run\n")
            self.process.stdin.flush()
        threading.Thread(target=press, daemon=True).start()

    def cpu_seconds(self) -> float:
        return bench_bridge.LineProcess.cpu_seconds(self)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(15)


def with_decisions(result: dict) -> dict:
    """A measurement with its µs per decision (the steps' time without the resets)."""
    reset_seconds = result.get("reset_us", 0.0) * max(result["episodes"] - 1, 0) / 1e6
    result["us_per_decision"] = (result["seconds"] - reset_seconds) / result["steps"] * 1e6
    return result


def summarize(rounds: list[dict]) -> dict:
    summary = bench_bridge.summarize(rounds)
    summary["us_per_decision"] = statistics.median(r["us_per_decision"] for r in rounds)
    return summary


def measure_all(plan: dict, java: list[str], classpath: str) -> dict:
    from alpyperl import AnyLogicEnv

    with contextlib.ExitStack() as cleanup:
        folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="alpyperl-bench-attach-"))
        attach_file = os.path.join(folder, "attach.json")
        os.environ["ALPYPERL_ATTACH_FILE"] = attach_file
        ide = StandInIde(java, attach_file)
        cleanup.callback(ide.close)
        ide.press_run(after=0.5)
        try:
            attached = AnyLogicEnv(attach=True, attach_timeout=60)
        except Exception as error:
            raise BenchmarkError(f"the stand-in IDE did not attach: {error}\n{''.join(ide.output)[-2000:]}") from None
        cleanup.callback(attached.close)
        local = AnyLogicEnv(model=str(EXPORT), model_output="off")
        cleanup.callback(local.close)
        py4j = bench_bridge.Py4JModel(java, classpath)
        cleanup.callback(py4j.close)
        runners = {
            "attached": lambda s, seed: bench_bridge.run_gym_style(attached, s, seed),
            "in_process": lambda s, seed: bench_bridge.run_gym_style(local, s, seed),
            "py4j": lambda s, seed: py4j.measure(s, seed),
        }
        for name in BENCHMARKS:
            runners[name](plan["warmup"], SEED)
        rounds: dict[str, list[dict]] = {name: [] for name in BENCHMARKS}
        for round_ in range(plan["rounds"]):
            for name in BENCHMARKS:  # interleaved, so that a noisy moment hits one round of each
                rounds[name].append(with_decisions(runners[name](plan["seconds"], SEED + 1000 * (round_ + 1))))
    return {name: summarize(rounds[name]) for name in BENCHMARKS}


def print_report(result: dict) -> None:
    throughput, summary = result["throughput"], result["summary"]
    print()
    print(f"Attach benchmark ({result['mode']}, {result['settings']['rounds']} round(s), medians) "
          f"on {result['machine']['cpus']} CPUs, load average "
          f"{bench_bridge.fmt_load(result['machine']['load_average_before'])} before")
    print()
    print(f"{'benchmark':34} {'steps/s':>10} {'µs/step':>9} {'µs/decision':>12} {'reset µs':>9}")
    for name in BENCHMARKS:
        row = throughput[name]
        print(f"{LABELS[name]:34} {row['steps_per_second']:10,.0f} {row['us_per_step']:9.1f} "
              f"{row['us_per_decision']:12.1f} {row.get('reset_us', float('nan')):9.1f}")
    print()
    met = "met" if result["goals"]["vs_1x_met"] else "NOT met"
    print(f"attached / Py4J with 4 calls       {summary['attached_vs_py4j']:8.1f}×")
    print(f"attached / 1.x transport           {summary['attached_vs_1x']:8.1f}×   ({ALPYPERL1_CALLS_PER_STEP} Py4J "
          f"round trips per step = {summary['py4j_1x_us_per_step']:.0f} µs; goal ≥ {GOAL_VS_1X:g}×: {met})")
    print(f"attached / in-process              {summary['attached_vs_in_process']:8.2f}×")
    print(f"the socket's cost per decision     {summary['attach_overhead_us']:8.1f} µs (attached − in-process)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds) for CI smoke tests")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"the JSON file (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    plan = PLANS[mode]
    try:
        bench_bridge.check_build()
        if not (EXPORT / "lib" / "com.anylogic.engine.jar").is_file():
            raise BenchmarkError(f"the stand-in export {EXPORT} is missing; build the checkout first: gradle build")
        java = bench_bridge.java_command()
        machine = bench_bridge.machine_info(java)
        with tempfile.TemporaryDirectory(prefix="alpyperl-bench-") as build_dir:
            classpath = bench_bridge.compile_java(build_dir, bench_bridge.find_py4j_jar())
            throughput = measure_all(plan, java, classpath)
    except (BenchmarkError, bench_bridge.BenchmarkError) as error:
        print(f"bench_attach: {error}", file=sys.stderr)
        return 1
    rate = {name: throughput[name]["steps_per_second"] for name in BENCHMARKS}
    round_trip_us = throughput["py4j"]["us_per_decision"] / PY4J_CALLS_PER_STEP
    summary = {
        "attached_vs_py4j": rate["attached"] / rate["py4j"],
        "py4j_round_trip_us": round_trip_us,
        "py4j_1x_us_per_step": round_trip_us * ALPYPERL1_CALLS_PER_STEP,
        "attached_vs_1x": round_trip_us * ALPYPERL1_CALLS_PER_STEP / throughput["attached"]["us_per_decision"],
        "attached_vs_in_process": rate["attached"] / rate["in_process"],
        "attach_overhead_us": throughput["attached"]["us_per_decision"] - throughput["in_process"]["us_per_decision"],
    }
    result = {
        "mode": mode,
        "settings": {**plan, "seed": SEED},
        "machine": machine,
        "throughput": throughput,
        "summary": summary,
        "goals": {"vs_1x": GOAL_VS_1X, "vs_1x_met": summary["attached_vs_1x"] >= GOAL_VS_1X},
    }
    print_report(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
