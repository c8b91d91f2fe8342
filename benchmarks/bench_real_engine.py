"""Random-action throughput on AnyLogic's real engine, against the plain-Java CartPole and ALPypeRL 1.x.

    ALPYPERL1_EXPORTS=path/to/ALPypeRL/resources/exported_models python benchmarks/bench_real_engine.py
    ... python benchmarks/bench_real_engine.py --alpyperl1-source path/to/ALPypeRL   # where 1.x's Python package is
    ... python benchmarks/bench_real_engine.py --quick                                # a smoke run

Opt-in: it needs the genuine AnyLogic 8.7.12 exports of ALPypeRL 1.x (``git clone
https://github.com/MarcEscandell/ALPypeRL``; never commit them), named by ALPYPERL1_EXPORTS.

In one run, with the same random actions:

- the plain-Java CartPole (``examples/cartpole/build/model``) and the genuine ``cartpole_v0``
  export, each through ``AnyLogicEnv`` in this process: after a warm-up of 2000 episodes per
  model (the JIT needs about 1500 to settle; the first episode, with its class loading, is never
  counted), interleaved rounds of whole episodes; steps/s counts resets, and the medians of the
  reset() and step() calls are shown;
- ALPypeRL 1.x itself (Py4J, the export's own launch script in a JVM of its own) on a copy of
  the same export, from a process whose PYTHONPATH holds only 1.x's source (its package is also
  called alpyperl): steps/s over a fixed number of steps after a warm-up (the median of as many
  rounds as above), with its reset and step medians. Without 1.x's source it says why and
  compares with the documented 185-250 steps/s.

Prints a table and writes benchmarks/results/real_engine.json. On a busy machine compare the
ratios measured in the same run rather than absolute speeds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PLAIN_JAVA = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "real_engine.json"
EXPORTS_VARIABLE = "ALPYPERL1_EXPORTS"
#: What docs and the shared notes measured for 1.x on this export (cold, warm).
DOCUMENTED_1X = (185, 250)
#: The parameters 1.x's own CartPole training scripts pass (without them 1.x's CartPole computes NaN).
CARTPOLE_PARAMETERS = {"cartMass": 1.0, "poleMass": 0.1, "poleLength": 0.5}


def run_episodes(env, episodes: int, actions: np.ndarray, seed: int) -> dict:
    """Runs ``episodes`` whole episodes with the given actions (0/1, cycled); the times of every
    reset() and step() call and of the whole loop."""
    clock = time.perf_counter_ns
    resets, steps, lengths = [], [], []
    at = 0
    started = clock()
    for episode in range(episodes):
        before = clock()
        env.reset(seed=seed + episode)
        resets.append(clock() - before)
        length, done = 0, False
        while not done:
            action = int(actions[at % len(actions)])
            at += 1
            before = clock()
            _, _, terminated, truncated, _ = env.step(action)
            steps.append(clock() - before)
            length += 1
            done = terminated or truncated
        lengths.append(length)
    return {"seconds": (clock() - started) / 1e9, "resets_ns": resets, "steps_ns": steps, "lengths": lengths}


def summarize(rounds: list[dict]) -> dict:
    """steps/s (median over rounds, resets included), median reset and step times in µs."""
    rates = [len(r["steps_ns"]) / r["seconds"] for r in rounds]
    resets = [t for r in rounds for t in r["resets_ns"]]
    steps = [t for r in rounds for t in r["steps_ns"]]
    lengths = [n for r in rounds for n in r["lengths"]]
    return {"steps_per_second": statistics.median(rates), "rounds_steps_per_second": rates,
            "median_reset_us": statistics.median(resets) / 1e3, "median_step_us": statistics.median(steps) / 1e3,
            "episodes": len(lengths), "steps": len(steps), "mean_episode_length": statistics.fmean(lengths)}


def measure_in_process(models: dict[str, str], warmup: int, rounds: int, episodes: int) -> dict:
    """AnyLogicEnv on each model: warm-up, then interleaved rounds."""
    from alpyperl import AnyLogicEnv

    actions = np.random.default_rng(0).integers(0, 2, size=100_003)
    envs = {name: AnyLogicEnv(model=folder) for name, folder in models.items()}
    try:
        for name, env in envs.items():
            started = time.perf_counter()
            run_episodes(env, warmup, actions, seed=10_000_000)
            print(f"  {name}: warm-up of {warmup} episodes in {time.perf_counter() - started:.1f} s", flush=True)
        measured = {name: [] for name in envs}
        for round_index in range(rounds):
            for name, env in envs.items():
                measured[name].append(run_episodes(env, episodes, actions, seed=round_index * episodes))
    finally:
        for env in envs.values():
            env.close()
    return {name: summarize(values) for name, values in measured.items()}


# ALPypeRL 1.x, in a process whose only alpyperl is 1.x's: its own env class and launcher.
ALPYPERL1_CHILD = r"""
import json, statistics, sys, time
import numpy as np
import alpyperl
from alpyperl import AnyLogicEnv

folder, warmup, count, rounds, parameters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
    json.loads(sys.argv[5])
clock = time.perf_counter_ns
started = clock()
env = AnyLogicEnv({"run_exported_model": True, "exported_model_loc": folder, "checkpoint_dir": "alpyperl1-spaces",
                   "env_params": parameters})
created = (clock() - started) / 1e9
actions = np.random.default_rng(0).integers(0, 2, size=100_003)
at, resets, steps = 0, [], []

def step_until(limit, record):  # random steps (and the resets they need); returns the episodes that ended
    global at
    done_steps, episodes = 0, 0
    before = clock(); env.reset(); after = clock()
    if record: resets.append(after - before)
    while done_steps < limit:
        before = clock()
        _, _, terminated, truncated, _ = env.step(int(actions[at % len(actions)]))
        after = clock()
        at += 1; done_steps += 1
        if record: steps.append(after - before)
        if terminated or truncated:
            episodes += 1
            before = clock(); env.reset(); after = clock()
            if record: resets.append(after - before)
    return episodes

step_until(warmup, False)
rates, episodes = [], 0
for _ in range(rounds):
    started = clock()
    episodes += step_until(count // rounds, True)
    rates.append((count // rounds) / ((clock() - started) / 1e9))
env.close()
print("RESULT " + json.dumps({
    "package": alpyperl.__file__, "create_seconds": created, "steps": len(steps), "episodes": episodes,
    "steps_per_second": statistics.median(rates), "rounds_steps_per_second": rates,
    "median_reset_us": statistics.median(resets) / 1e3, "median_step_us": statistics.median(steps) / 1e3,
    "mean_episode_length": len(steps) / max(episodes, 1)}))
"""


def find_alpyperl1_source(exports: Path, given: Path | None) -> Path | None:
    """The folder that holds 1.x's Python package: --alpyperl1-source, else the clone the exports came from."""
    for folder in ([given] if given else [exports.parent.parent]):
        if (folder / "alpyperl" / "gym" / "envs" / "anylogic_env.py").is_file():
            return folder.resolve()
    return None


def measure_alpyperl1(export: Path, source: Path, warmup: int, count: int, rounds: int) -> dict:
    """Runs 1.x on a copy of ``export`` (1.x writes its launch script and logs into the export's folder)."""
    with tempfile.TemporaryDirectory(prefix="alpyperl1-bench-") as scratch:
        copy = Path(scratch) / export.name
        shutil.copytree(export, copy)
        log = Path(scratch) / "output.txt"
        environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        environment["PYTHONPATH"] = str(source)
        try:
            with log.open("w") as output:
                done = subprocess.run([sys.executable, "-c", ALPYPERL1_CHILD, str(copy), str(warmup), str(count),
                                       str(rounds), json.dumps(CARTPOLE_PARAMETERS)], cwd=scratch, env=environment,
                                      stdout=output, stderr=subprocess.STDOUT, timeout=1800)
        finally:
            _kill_processes_in(Path(scratch))
        text = log.read_text(errors="replace")
        results = [line for line in text.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not results:
            raise RuntimeError(f"ALPypeRL 1.x failed (exit status {done.returncode}):\n{text[-3000:]}")
        result = json.loads(results[-1][len("RESULT "):])
        if not result["package"].startswith(str(source)):
            raise RuntimeError(f"the child imported {result['package']}, not 1.x's package in {source}")
        return result


def _kill_processes_in(folder: Path) -> None:
    """Kills, by process id, what 1.x's launcher left running in ``folder`` (1.x kills its own model JVM)."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: short warm-up, one small round")
    parser.add_argument("--alpyperl1-source", type=Path, metavar="DIR",
                        help="a folder holding ALPypeRL 1.x's Python package alpyperl/ (a clone of its repository); "
                             "default: the clone the exports come from")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"the JSON file (default {RESULTS})")
    args = parser.parse_args()
    if not os.environ.get(EXPORTS_VARIABLE):
        print(f"{EXPORTS_VARIABLE} is not set. This benchmark needs the genuine AnyLogic 8.7.12 exports of ALPypeRL "
              f"1.x: git clone https://github.com/MarcEscandell/ALPypeRL, then {EXPORTS_VARIABLE}=<the clone>/resources/"
              f"exported_models python {sys.argv[0]}. Never commit the exports.", file=sys.stderr)
        return 2
    exports = Path(os.environ[EXPORTS_VARIABLE]).expanduser().resolve()
    export = exports / "cartpole_v0"
    for folder, what in ((export, f"the export cartpole_v0 in {exports}"), (PLAIN_JAVA, "the plain-Java CartPole "
                                                                             "(run `gradle build`)")):
        if not folder.is_dir():
            print(f"missing {what}: {folder}", file=sys.stderr)
            return 2
    warmup, rounds, episodes = (100, 1, 100) if args.quick else (2000, 5, 1000)
    warmup_1x, steps_1x = (100, 300) if args.quick else (2000, 5000)

    load_before = os.getloadavg()[0]
    print(f"AnyLogicEnv: warm-up {warmup} episodes per model, then {rounds} interleaved round(s) of {episodes} "
          f"episodes", flush=True)
    results = measure_in_process({"plain_java": str(PLAIN_JAVA), "real_engine": str(export)}, warmup, rounds, episodes)
    source = find_alpyperl1_source(exports, args.alpyperl1_source)
    if source is None:
        results["alpyperl1"] = {"skipped": "ALPypeRL 1.x's Python source was not found: give --alpyperl1-source DIR "
                                           "(a clone of MarcEscandell/ALPypeRL)"}
    else:
        print(f"ALPypeRL 1.x from {source}: warm-up {warmup_1x} steps, then {rounds} round(s) of {steps_1x // rounds} "
              "steps", flush=True)
        try:
            results["alpyperl1"] = measure_alpyperl1(export, source, warmup_1x, steps_1x, rounds)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            results["alpyperl1"] = {"skipped": f"ALPypeRL 1.x did not run: {error}"}
    load_after = os.getloadavg()[0]

    baseline = results["alpyperl1"].get("steps_per_second")
    ratios = {"real_engine_vs_alpyperl1": results["real_engine"]["steps_per_second"] / baseline if baseline else None,
              "real_engine_vs_documented_1x": [results["real_engine"]["steps_per_second"] / rate
                                               for rate in DOCUMENTED_1X],
              "plain_java_vs_real_engine": results["plain_java"]["steps_per_second"]
              / results["real_engine"]["steps_per_second"]}

    print(f"\nReal-engine benchmark ({'quick' if args.quick else 'full'}; random actions; medians), {os.cpu_count()} "
          f"CPUs, load average {load_before:.2f} before, {load_after:.2f} after\n")
    print(f"{'model':<44} {'steps/s':>10} {'reset µs':>10} {'step µs':>9} {'mean length':>12}")
    rows = [("plain-Java CartPole, AnyLogicEnv", results["plain_java"]),
            ("cartpole_v0 (AnyLogic 8.7.12), AnyLogicEnv", results["real_engine"]),
            ("cartpole_v0 (AnyLogic 8.7.12), ALPypeRL 1.x", results["alpyperl1"])]
    for label, row in rows:
        if "skipped" in row:
            print(f"{label:<44} {'-':>10}   ({row['skipped'].splitlines()[0]})")
        else:
            print(f"{label:<44} {row['steps_per_second']:>10,.0f} {row['median_reset_us']:>10,.1f} "
                  f"{row['median_step_us']:>9,.1f} {row['mean_episode_length']:>12.1f}")
    if ratios["real_engine_vs_alpyperl1"] is not None:
        print(f"\ncartpole_v0: AnyLogicEnv / ALPypeRL 1.x = {ratios['real_engine_vs_alpyperl1']:.1f}x (same run)")
    print(f"cartpole_v0: AnyLogicEnv / documented 1.x ({DOCUMENTED_1X[0]}-{DOCUMENTED_1X[1]} steps/s) = "
          f"{ratios['real_engine_vs_documented_1x'][1]:.0f}x-{ratios['real_engine_vs_documented_1x'][0]:.0f}x")
    print(f"plain-Java CartPole / cartpole_v0 (both AnyLogicEnv) = {ratios['plain_java_vs_real_engine']:.1f}x")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "real_engine", "quick": args.quick, "warmup_episodes": warmup, "rounds": rounds,
        "episodes_per_round": episodes, "alpyperl1_warmup_steps": warmup_1x, "alpyperl1_steps": steps_1x,
        "cpus": os.cpu_count(), "load_average": [load_before, load_after], "results": results, "ratios": ratios,
    }, indent=2) + "\n")
    print(f"JSON: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
