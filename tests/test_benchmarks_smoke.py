"""Smoke tests of the benchmarks: ``bench_bridge.py --quick`` and ``bench_session.py --quick`` run end
to end and write their JSON.

Only the shape of the results is checked, never a speed: wall-clock numbers depend on the machine.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

BENCHMARKS = ("java_pure", "java_session", "anylogic_env", "gym_cartpole", "py4j")
POSITIVE_THROUGHPUT = ("steps_per_second", "us_per_step", "steps", "episodes", "mean_episode_length")
POSITIVE_CREATION = ("import_seconds", "first_env_seconds", "second_env_seconds", "process_seconds",
                     "reset_after_episode_us", "reset_running_episode_us",
                     "gym_reset_after_episode_us", "gym_reset_running_episode_us")
POSITIVE_RATIOS = ("anylogic_env_vs_gym", "anylogic_env_vs_py4j")
DIFFERENCES = ("anylogic_env_overhead_us", "handoff_us", "jpype_and_python_us")


def test_quick_benchmark_writes_complete_results(repo_root, cartpole_model, tmp_path):
    output = tmp_path / "bridge.json"
    done = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "bench_bridge.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"bench_bridge.py --quick failed:\n{done.stdout}\n{done.stderr}"
    assert "AnyLogicEnv / gym CartPole-v1" in done.stdout  # the table was printed

    result = json.loads(output.read_text())
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
    output = tmp_path / "session.json"
    done = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "bench_session.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"bench_session.py --quick failed:\n{done.stdout}\n{done.stderr}"
    result = json.loads(output.read_text())
    for machine in ("quiet", "busy"):
        for comparison in ("one_env", "four_envs_in_turn", "vector_16"):
            rates = result["steps_per_second"][machine][comparison]
            assert set(rates) == {"AnyLogicEnv", "AnyLogicEnv platform", "gym CartPole-v1"}
            assert all(rate > 0 for rate in rates.values()), rates
            assert isinstance(result["ratios"][f"{comparison} {machine}"]["met"], bool)
    assert result["model_threads"] in ("caller", "platform")
