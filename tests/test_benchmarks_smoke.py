"""Smoke tests of the benchmarks: ``bench_bridge.py``, ``bench_session.py``, ``bench_multi_agent.py``,
``bench_sb3.py``, ``bench_attach.py`` and ``soak.py`` with ``--quick`` run end to end and write their JSON.

Only the shape of the results is checked, never a speed: wall-clock numbers depend on the machine.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

BENCHMARKS = ("java_pure", "java_session", "anylogic_env", "gym_cartpole", "py4j")
POSITIVE_THROUGHPUT = ("steps_per_second", "us_per_step", "steps", "episodes", "mean_episode_length")
POSITIVE_CREATION = ("import_seconds", "first_env_seconds", "second_env_seconds", "process_seconds",
                     "reset_after_episode_us", "reset_running_episode_us",
                     "gym_reset_after_episode_us", "gym_reset_running_episode_us")
POSITIVE_RATIOS = ("anylogic_env_vs_gym", "anylogic_env_vs_py4j")
DIFFERENCES = ("anylogic_env_overhead_us", "handoff_us", "jpype_and_python_us")


def run_quick(repo_root, script: str, output) -> tuple[str, dict]:
    """Runs ``benchmarks/<script> --quick --output <output>``; its printed table and its JSON."""
    done = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / script), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"{script} --quick failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout, json.loads(output.read_text())


def test_quick_benchmark_writes_complete_results(repo_root, cartpole_model, tmp_path):
    stdout, result = run_quick(repo_root, "bench_bridge.py", tmp_path / "bridge.json")
    assert "AnyLogicEnv / gym CartPole-v1" in stdout  # the table was printed
    assert result["mode"] == "quick"
    for name in BENCHMARKS:
        row = result["throughput"][name]
        for key in POSITIVE_THROUGHPUT:
            assert row[key] > 0, f"throughput[{name}][{key}] = {row[key]}"
        assert row["rounds_steps_per_second"] and all(rate > 0 for rate in row["rounds_steps_per_second"])
        # Every benchmark steps the same CartPole dynamics (500-step limit), so episodes are whole and bounded.
        assert 1 <= row["mean_episode_length"] <= 500
    for key in POSITIVE_CREATION:
        assert result["creation"][key] > 0, f"creation[{key}] = {result['creation'][key]}"
    for key in POSITIVE_RATIOS:
        assert result["summary"][key] > 0, f"summary[{key}] = {result['summary'][key]}"
    for key in DIFFERENCES:  # differences of two measurements: any sign under noise, but a real number
        assert math.isfinite(result["summary"][key]), f"summary[{key}] = {result['summary'][key]}"
    assert isinstance(result["goals"]["vs_gym_met"], bool)
    assert isinstance(result["goals"]["overhead_met"], bool)


def test_quick_session_benchmark_writes_every_comparison(repo_root, cartpole_model, tmp_path):
    """``bench_session.py --quick`` runs end to end: every comparison, quiet and busy, has a rate per contender."""
    _, result = run_quick(repo_root, "bench_session.py", tmp_path / "session.json")
    for machine in ("quiet", "busy"):
        for comparison in ("one_env", "four_envs_in_turn", "vector_16"):
            rates = result["steps_per_second"][machine][comparison]
            assert set(rates) == {"AnyLogicEnv", "AnyLogicEnv JPype", "AnyLogicEnv platform", "gym CartPole-v1"}
            assert all(rate > 0 for rate in rates.values()), rates
            assert isinstance(result["ratios"][f"{comparison} {machine}"]["met"], bool)
    assert result["model_threads"] in ("caller", "platform")


def test_quick_soak_writes_every_phase(repo_root, cartpole_model, tmp_path):
    """``soak.py --quick`` runs end to end: every phase, the warm-up too, has its samples, summary,
    goal verdicts and RSS curve; the warm-up is the one phase not judged."""
    stdout, result = run_quick(repo_root, "soak.py", tmp_path / "soak.json")
    assert list(result["phases"]) == ["warm_up", "resets", "create_close", "create_close_platform", "steps"]
    assert result["not_judged"] == ["warm_up"] and "warm_up" in stdout and "not judged" in stdout
    assert result["heap"] == "fixed" and "-Xmx64m" in result["jvm_options"]
    for name, phase in result["phases"].items():
        assert phase["count"] == result["counts"][name] > 0
        assert phase["samples"] and phase["samples"][-1]["done"] == phase["count"]
        for metric in ("rss_mb", "os_threads", "jvm_threads", "model_threads", "java_heap_used_mb",
                       "java_heap_committed_mb", "java_non_heap_mb", "jit_compile_s",
                       "malloc_in_use_mb", "malloc_free_mb"):  # glibc: the test machines run Linux
            values = phase["summary"][metric]
            assert set(values) == {"first", "start", "end", "peak", "growth_percent"}
            assert values["peak"] >= values["start"] >= 0 and math.isfinite(values["growth_percent"])
        assert phase["summary"]["java_heap_committed_mb"]["peak"] == 64  # the fixed heap
        assert {type(met) for met in phase["goals"].values()} == {bool}
        curve = next(line for line in stdout.splitlines() if line.startswith(f"{name} ") and line.count(".") == 11)
        assert len(curve.split()) == 12  # the name and RSS at 0 %, 10 %, ..., 100 %


def test_quick_sb3_benchmark_compares_every_vec_env(repo_root, cartpole_model, tmp_path):
    """``bench_sb3.py --quick`` runs end to end: per PPO setting, learn() and rollout rates of both
    sides, the ratios are theirs, the env's share of learn() is a fraction; VecEnv.step() alone for all three."""
    stdout, result = run_quick(repo_root, "bench_sb3.py", tmp_path / "sb3.json")
    assert "goal: adapter's learn() >= 1.5x gym_dummy's" in stdout
    assert result["quick"] and result["num_envs"] == 8 and result["rounds"] == 1
    assert set(result["learn"]) == {"default", "cleanrl"}
    assert result["learn"]["cleanrl"]["ppo"] == {"n_steps": 64, "n_epochs": 4, "batch_size": 256}
    for setting, measured in result["learn"].items():
        rates = measured["rates"]
        assert measured["steps_per_round"] % (8 * measured["ppo"]["n_steps"]) == 0
        for kind in ("learn", "rollout"):
            for clock in ("wall", "cpu"):
                key = f"{kind}_{clock}"
                for name in ("adapter", "gym_dummy"):
                    assert len(rates[name][key]) == 1 and rates[name][key][0] > 0
                # one round: the ratio is that round's
                assert measured["ratios"][key] == rates["adapter"][key][0] / rates["gym_dummy"][key][0]
                assert measured["goal_met"][key] == (measured["ratios"][key] >= 1.5)
        for name in ("adapter", "gym_dummy"):
            assert 0 < rates[name]["env_share"][0] < 1
            # the rollouts are part of learn(): fewer env steps per second of learn() than of rollouts
            assert rates[name]["learn_wall"][0] < rates[name]["rollout_wall"][0]
        assert measured["bound"] == 1 / (1 - rates["gym_dummy"]["env_share"][0])
        shares = (rates["adapter"]["env_share"][0], rates["gym_dummy"]["env_share"][0])
        assert measured["from_shares"] == (1 - shares[0]) / (1 - shares[1])
    env_only = result["env_only"]
    for name in ("adapter", "gym_dummy", "anylogic_dummy"):
        assert env_only["rates"][name]["env_cpu"][0] > 0 and env_only["rates"][name]["env_wall"][0] > 0
    assert env_only["ratios"]["adapter"]["env_cpu"] == (env_only["rates"]["adapter"]["env_cpu"][0]
                                                        / env_only["rates"]["gym_dummy"]["env_cpu"][0])


def test_sb3_benchmark_refuses_an_unknown_ppo_setting(repo_root, tmp_path):
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_sb3.py"), "--ppo", "cleanrl,fast",
                           "--output", str(tmp_path / "sb3.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "--ppo 'cleanrl,fast': choose one or more of default, cleanrl, zoo" in done.stderr
    assert not (tmp_path / "sb3.json").exists()


def test_quick_multi_agent_benchmark_writes_every_contender(repo_root, test_model, cartpole_model, tmp_path):
    """``bench_multi_agent.py --quick`` runs end to end: a time per step for every contender, and the ratios."""
    stdout, result = run_quick(repo_root, "bench_multi_agent.py", tmp_path / "multi_agent.json")
    assert "64 agents in one crossing / 1 agent" in stdout
    assert set(result["us_per_step"]) == {"1 agent", "64 agents, one crossing", "64 agents, a crossing each",
                                          "crossing of 64 agents", "AnyLogicEnv CartPole"}
    assert all(value > 0 for value in result["us_per_step"].values())
    for key in ("ratio_64_agents_vs_1_agent", "ratio_64_agents_vs_anylogic_env", "gain_of_one_crossing"):
        assert result[key] > 0, f"{key} = {result[key]}"
    assert isinstance(result["goal_met"], bool)


def test_quick_attach_benchmark_measures_every_transport(repo_root, cartpole_model, anylogic_export, tmp_path):
    """``bench_attach.py --quick`` runs end to end: attached, in-process and Py4J each have rates and µs per decision."""
    stdout, result = run_quick(repo_root, "bench_attach.py", tmp_path / "attach.json")
    assert "attached / 1.x transport" in stdout
    for name in ("attached", "in_process", "py4j"):
        row = result["throughput"][name]
        for key in ("steps_per_second", "us_per_step", "us_per_decision", "steps", "episodes", "reset_us"):
            assert row[key] > 0, f"throughput[{name}][{key}] = {row[key]}"
        assert 1 <= row["mean_episode_length"] <= 500  # CartPole dynamics on every transport: bounded episodes
    summary = result["summary"]
    assert summary["attached_vs_py4j"] > 0 and summary["attached_vs_1x"] > 0
    assert summary["py4j_1x_us_per_step"] == pytest.approx(7 * result["throughput"]["py4j"]["us_per_decision"])
    assert math.isfinite(summary["attach_overhead_us"]) and isinstance(result["goals"]["vs_1x_met"], bool)
