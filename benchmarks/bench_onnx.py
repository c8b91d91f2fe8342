#!/usr/bin/env python3
"""Latency per action of the Java ONNX evaluator against onnxruntime-python, on the same files, in one run.

For each policy network (exported with ``tests/onnx/make_test_models.py``, the way alpyperl exports
RLlib policies: an MLP encoder and a policy head, input ``obs`` with a dynamic batch dimension),
at batch size 1:

* ``java``            – ``OnnxModel.run(float[])`` timed inside the JVM (``OnnxBenchmark.nanosPerCall``),
                        after a warm-up that lets the JIT compile it: what a model evaluating its own
                        policy pays per decision;
* ``ort``             – ``InferenceSession.run`` from Python, one intra-op thread (like the Java evaluator);
* ``ort_default``     – the same with onnxruntime's default session options (its own thread pool);
* ``java_via_jpype``  – ``OnnxModel.run`` called from Python through JPype, numpy array in, Java array
                        out (what alpyperl's export verification pays per call).

Each is measured in rounds, interleaved so that a noisy moment hits every measurement, and reported
as the median round; both elapsed time and the calling thread's CPU time are recorded (CPU time
does not count time spent waiting for a core, so it stays meaningful on a busy machine).
Prints a table and writes JSON (``benchmarks/results/onnx.json`` unless ``--output`` says otherwise).

    python benchmarks/bench_onnx.py            # about half a minute
    python benchmarks/bench_onnx.py --quick    # a few seconds

Needs a built checkout (``gradle build`` puts the jars in ``alpyperl/jars``), torch, onnx and onnxruntime.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a source checkout works without installing alpyperl

DEFAULT_OUTPUT = HERE / "results" / "onnx.json"
MODELS = {  # row label -> case in tests/onnx/make_test_models.py
    "256x256 tanh (RLlib default)": "discrete_tanh256",
    "64x64 tanh": "discrete_tanh64",
    "256x256 tanh, Box head": "box_tanh256",
}
GOAL_RATIO = 1.5  # Java at most 1.5x onnxruntime-python's latency per call
HTTP_POLICY_SERVER_US = 2000.0  # ALPypeRL 1.x: one HTTP round trip to a Python policy server, 2-5 ms
GOAL_SPEEDUP_VS_HTTP = 100.0

PLANS = {
    "quick": {"rounds": 1, "java_warmup": 20000, "java_calls": 20000, "ort_warmup": 500, "ort_calls": 2000,
              "jpype_calls": 1000},
    "full": {"rounds": 7, "java_warmup": 100000, "java_calls": 50000, "ort_warmup": 2000, "ort_calls": 10000,
             "jpype_calls": 5000},
}


def load_test_models():
    """The model-building module of the tests (tests/onnx/make_test_models.py)."""
    path = ROOT / "tests" / "onnx" / "make_test_models.py"
    spec = importlib.util.spec_from_file_location("make_test_models", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def time_python_calls(call, calls: int) -> tuple[float, float]:
    """Elapsed and thread-CPU nanoseconds per call of ``call()``."""
    wall = time.perf_counter_ns()
    cpu = time.thread_time_ns()
    for _ in range(calls):
        call()
    return (time.perf_counter_ns() - wall) / calls, (time.thread_time_ns() - cpu) / calls


def summary(rounds_wall: list[float], rounds_cpu: list[float]) -> dict:
    return {
        "us_per_call": statistics.median(rounds_wall) / 1000,
        "cpu_us_per_call": statistics.median(rounds_cpu) / 1000,
        "rounds_us": [r / 1000 for r in rounds_wall],
        "rounds_cpu_us": [r / 1000 for r in rounds_cpu],
    }


def machine() -> dict:
    import jpype
    import onnxruntime
    import torch

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    System = jpype.JClass("java.lang.System")
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "java": str(System.getProperty("java.vm.name")) + " " + str(System.getProperty("java.version")),
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round per measurement")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    plan = PLANS["quick" if args.quick else "full"]
    load_before = os.getloadavg()

    import jpype
    import onnxruntime as ort

    from alpyperl import jvm

    jvm.start_jvm()
    OnnxModel = jpype.JClass("com.alpyperl.policy.OnnxModel")
    OnnxBenchmark = jpype.JClass("com.alpyperl.policy.OnnxBenchmark")
    Paths = jpype.JClass("java.nio.file.Paths")
    JFloatArray = jpype.JArray(jpype.JFloat)
    models = load_test_models()

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_onnx_") as tmp:
        setups = {}
        for label, case_name in MODELS.items():
            case = models.CASES[case_name]
            path = models.make(case_name, Path(tmp))
            java_model = OnnxModel.load(Paths.get(str(path)))
            one_thread = ort.SessionOptions()
            one_thread.intra_op_num_threads = 1
            one_thread.inter_op_num_threads = 1
            sessions = {"ort": ort.InferenceSession(str(path), one_thread, providers=["CPUExecutionProvider"]),
                        "ort_default": ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])}
            rng = np.random.default_rng(1)
            obs = rng.normal(size=(1, *case.obs_shape)).astype(np.float32)
            # Both evaluators compute the same thing (checked on a few observations).
            check = rng.normal(size=(200, *case.obs_shape)).astype(np.float32)
            expected = sessions["ort"].run(None, {"obs": check})[0]
            got = np.stack([np.asarray(java_model.run(JFloatArray(row.ravel()))) for row in check])
            java_input = JFloatArray(obs.ravel())
            OnnxBenchmark.nanosPerCall(java_model, java_input, plan["java_warmup"], 1, 1, False)
            for session in sessions.values():
                for _ in range(plan["ort_warmup"]):
                    session.run(None, {"obs": obs})
            setups[label] = (case_name, path, java_model, sessions, obs, java_input)
            results[label] = {
                "case": case_name,
                "hidden_layers": list(case.hiddens),
                "operators": models.op_types(path),
                "parameters": int(sum(p.numel() for p in models.build(case).parameters())),
                "max_abs_diff_vs_ort": float(np.abs(got.reshape(expected.shape) - expected).max()),
                "rounds": {name: ([], []) for name in ("java", "ort", "ort_default", "java_via_jpype")},
            }

        for _ in range(plan["rounds"]):
            for label, (case_name, path, java_model, sessions, obs, java_input) in setups.items():
                rounds = results[label]["rounds"]
                wall = OnnxBenchmark.nanosPerCall(java_model, java_input, 0, 1, plan["java_calls"], False)[0]
                cpu = OnnxBenchmark.nanosPerCall(java_model, java_input, 0, 1, plan["java_calls"], True)[0]
                rounds["java"][0].append(float(wall))
                rounds["java"][1].append(float(cpu))
                for name, session in sessions.items():
                    feed = {"obs": obs}
                    w, c = time_python_calls(lambda: session.run(None, feed), plan["ort_calls"])
                    rounds[name][0].append(w)
                    rounds[name][1].append(c)
                flat = obs.ravel()
                w, c = time_python_calls(lambda: np.asarray(java_model.run(JFloatArray(flat))), plan["jpype_calls"])
                rounds["java_via_jpype"][0].append(w)
                rounds["java_via_jpype"][1].append(c)

    for label, row in results.items():
        for name, (wall, cpu) in row.pop("rounds").items():
            row[name] = summary(wall, cpu)
        row["java_vs_ort"] = row["java"]["us_per_call"] / row["ort"]["us_per_call"]
        row["java_vs_ort_cpu"] = row["java"]["cpu_us_per_call"] / row["ort"]["cpu_us_per_call"]
        row["java_vs_ort_default"] = row["java"]["us_per_call"] / row["ort_default"]["us_per_call"]
        row["speedup_vs_http_policy_server"] = HTTP_POLICY_SERVER_US / row["java"]["us_per_call"]

    load_after = os.getloadavg()
    output = {
        "mode": "quick" if args.quick else "full",
        "plan": plan,
        "machine": machine(),
        "load_average_before": list(load_before),
        "load_average_after": list(load_after),
        "goals": {"java_vs_ort_at_most": GOAL_RATIO, "speedup_vs_http_policy_server_at_least": GOAL_SPEEDUP_VS_HTTP,
                  "http_policy_server_us": HTTP_POLICY_SERVER_US},
        "models": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print_table(output)
    print(f"\nwrote {args.output}")


def print_table(output: dict) -> None:
    m = output["machine"]
    print(f"ONNX policy latency per call, batch 1 ({output['mode']}; {m['cpu']}, {m['cpus']} CPUs; "
          f"load average {output['load_average_before'][0]:.1f} before, {output['load_average_after'][0]:.1f} after)")
    print(f"{m['java']}, onnxruntime {m['onnxruntime']}, Python {m['python']}\n")
    header = f"{'model':30s} {'evaluator':40s} {'µs/call':>9s} {'CPU µs/call':>12s}"
    print(header)
    print("-" * len(header))
    names = {
        "java": "Java OnnxModel.run (timed in the JVM)",
        "ort": "onnxruntime-python, 1 thread",
        "ort_default": "onnxruntime-python, default options",
        "java_via_jpype": "Java OnnxModel.run called via JPype",
    }
    for label, row in output["models"].items():
        for key, name in names.items():
            print(f"{label:30s} {name:40s} {row[key]['us_per_call']:9.2f} {row[key]['cpu_us_per_call']:12.2f}")
        print()
    for label, row in output["models"].items():
        ok = "meets" if row["java_vs_ort"] <= GOAL_RATIO else "MISSES"
        print(f"{label}: Java / onnxruntime = {row['java_vs_ort']:.2f} elapsed, {row['java_vs_ort_cpu']:.2f} CPU time "
              f"({ok} the goal of <= {GOAL_RATIO}); {row['speedup_vs_http_policy_server']:.0f}x faster than a "
              f"{HTTP_POLICY_SERVER_US / 1000:.0f} ms HTTP policy call; max |Java - onnxruntime| "
              f"{row['max_abs_diff_vs_ort']:.1e}; operators {', '.join(row['operators'])}")


if __name__ == "__main__":
    main()
