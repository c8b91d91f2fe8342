"""The ``alpyperl`` command line, run as ``python -m alpyperl`` in a fresh process each time."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from conftest import copy_of_test_model
from test_evaluation import CARTPOLE_SPACE, LEAN, python_returns, write_policy

from alpyperl.cli.run import Progress

REPO = Path(__file__).resolve().parents[1]


def alpyperl(*args, cwd=REPO) -> subprocess.CompletedProcess:
    """``python -m alpyperl ARGS`` with this checkout's alpyperl."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "alpyperl", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env)


def test_help_lists_the_commands_with_examples():
    result = alpyperl("--help")
    assert result.returncode == 0
    for command in ("info", "run", "train", "export", "replay"):
        assert f"    {command} " in result.stdout
    assert "examples:\n  alpyperl info examples/cartpole/build/model" in result.stdout
    assert "docs/debugging.md" in result.stdout
    nothing = alpyperl()
    assert nothing.returncode == 2 and "commands:" in nothing.stdout


@pytest.mark.parametrize("command, expected", [
    ("export", "--checkpoint DIR"),
    ("upgrade-1x", "--policy FILE.onnx"),
    ("info", "its parameters with their defaults"),
    ("run", "--policy random|FILE.onnx"),
    ("train", "--target-return X"),
    ("replay", "--debug-port P"),
])
def test_each_command_has_help(command, expected):
    result = alpyperl(command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: alpyperl {command}" in result.stdout and expected in result.stdout
    assert "example" in result.stdout


def test_info_shows_spaces_parameters_with_defaults_classpath_and_kind(cartpole_model):
    result = alpyperl("info", cartpole_model)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"model         {cartpole_model}" in lines
    assert "kind          plain Java model (alpyperl-model.properties)" in lines
    assert "model class   com.alpyperl.examples.cartpole.CartPole" in lines
    assert "classpath     model.jar, lib/anylogic-lib.jar" in lines
    assert any(line.startswith("observations  Box(") and line.endswith("(defined by the model; 4 value(s) flat)")
               for line in lines)
    assert "actions       Discrete(2)  (defined by the model; 1 value(s) flat)" in lines
    assert "  poleLength    double   0.5" in lines and "  maxSteps      int      500" in lines


def test_info_says_once_when_no_default_can_be_read(cartpole_model, monkeypatch, capsys):
    """A model whose defaults cannot be read (its class makes no instance on its own) gets one phrase,
    not "default unknown" on every line."""
    from alpyperl import bridge, cli

    monkeypatch.setattr(bridge, "parameter_defaults", lambda *_: {})
    assert cli.main(["info", str(cartpole_model)]) == 0
    printed = capsys.readouterr().out
    assert ("parameters    (set with env_params={...} or --param NAME=VALUE; their defaults are known only once "
            "the model runs)\n  poleLength\n  maxSteps\n") in printed, printed
    assert "unknown" not in printed


def test_info_of_a_model_that_leaves_its_spaces_to_python():
    result = alpyperl("info", REPO / "examples/inventory/build/model")
    assert result.returncode == 0, result.stderr
    assert "observations  not defined by the model: give observation_space=... to AnyLogicEnv" in result.stdout
    assert "  stockoutReviews  boolean  true" in result.stdout
    assert "  productMix       String   '0.5,0.3,0.2'" in result.stdout


def test_run_of_a_model_that_leaves_its_spaces_to_python_says_what_the_command_line_can_do():
    """The command line cannot pass spaces: the error says to use --policy or Python, not observation_space=... alone."""
    result = alpyperl("run", REPO / "examples/inventory/build/model", "--episodes", "1")
    assert result.returncode == 1
    assert "the observation space is defined neither in the model" in result.stderr
    assert "run such a model with --policy FILE.onnx" in result.stderr
    assert "AnyLogicEnv(model=..., observation_space=..., action_space=...)" in result.stderr


def test_info_of_a_missing_folder_is_one_clear_line(tmp_path):
    result = alpyperl("info", tmp_path / "nowhere")
    assert result.returncode == 1
    assert result.stderr.strip() == f"alpyperl info: error: model folder {tmp_path / 'nowhere'} does not exist"


def test_run_with_a_random_policy_prints_each_episode_and_a_summary(cartpole_model, tmp_path):
    record = tmp_path / "episodes.jsonl"
    result = alpyperl("run", cartpole_model, "--episodes", 4, "--seed", 10, "--param", "poleLength=0.7",
                      "--record", record)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (f"model {cartpole_model}: random policy, 4 episodes, seeds 10 to 13, "
                        f"recording to {record}")
    episodes = [line.split() for line in lines[1:5]]
    assert [words[:4] for words in episodes] == [["episode", str(k), "seed", str(10 + k)] for k in range(4)]
    returns = [float(words[7]) for words in episodes]
    assert lines[5].startswith(f"4 episodes: mean return {sum(returns) / 4:.6g}, std ")
    assert f"min {min(returns):.6g}, max {max(returns):.6g} | steps {int(sum(returns)):,}" in lines[5]
    recorded = [json.loads(line) for line in record.read_text().splitlines()[1:]]
    assert [(r["seed"], r["return"], r["env_params"]) for r in recorded] == \
        [(10 + k, returns[k], {"poleLength": 0.7}) for k in range(4)]
    assert "[" not in result.stderr  # no progress bar when stderr is not a terminal
    again = alpyperl("run", cartpole_model, "--episodes", 4, "--seed", 10, "--param", "poleLength=0.7")
    assert again.stdout.splitlines()[1:5] == lines[1:5]  # the same seed runs the same episodes


def test_the_summaries_count_one_episode_in_the_singular_as_the_launcher_does():
    """``alpyperl run``'s summary words a count as the Java launcher's does ("1 episode", "2 episodes")."""
    from alpyperl.cli.run import _summary

    assert _summary([2.5], [1], [], 0.5).startswith("1 episode: mean return 2.5, std 0, ")
    assert _summary([2.5], [1], [1], 0.5).startswith("1 episode, 1 failed: mean return 2.5")
    assert _summary([1.0, 2.0], [1, 1], [], 0.5).startswith("2 episodes: mean return 1.5")


def test_run_reports_failing_episodes_and_replay_finds_them(test_model, tmp_path):
    record = tmp_path / "faulty.jsonl"
    result = alpyperl("run", test_model, "--episodes", 2, "--param", "fault=takeAction", "--param", "faultAtStep=4",
                      "--record", record)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith("episode    0  seed 0  failed at step 4: ModelError: The model FaultyModel failed: "
                               "takeAction() of the model threw java.lang.IllegalArgumentException")
    assert lines[-1] == f"2 episodes failed: 0, 1. Replay one with: alpyperl replay {record} --episode 0"

    listing = alpyperl("replay", record)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[0] == f"{record}: 2 episodes"
    assert "episode    1  seed 1  steps     3  return          3  failed: ModelError:" in listing.stdout

    replayed = alpyperl("replay", record, "--episode", 1)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines()[1].startswith(
        "episode 1 reproduced: 3 steps identical, then the same error: ModelError: The model FaultyModel failed")


def test_replay_reports_a_divergence_with_exit_status_1(cartpole_model, tmp_path):
    record = tmp_path / "episodes.jsonl"
    assert alpyperl("run", cartpole_model, "--episodes", 1, "--record", record).returncode == 0
    header, episode = (json.loads(line) for line in record.read_text().splitlines())
    episode["rewards"][2] = 0.5
    record.write_text(json.dumps(header) + "\n" + json.dumps(episode) + "\n")
    result = alpyperl("replay", record, "--episode", 0)
    assert result.returncode == 1
    assert ("episode 0 diverges at step 3 (step 0 to 2 identical): reward differs at step 3:\n"
            "  recorded: 0.5\n  replayed: 1.0") in result.stdout
    missing = alpyperl("replay", record, "--episode", 9)
    assert missing.returncode == 1 and "has no episode 9; it has episodes 0 to 0" in missing.stderr


# One rule for every command: 2 for a wrong command line, 1 for a failure (see alpyperl/cli/arguments.py).
@pytest.mark.parametrize("args, status, message", [
    ([], 2, "usage: alpyperl"),
    (["fly"], 2, "invalid choice: 'fly'"),
    (["info"], 2, "the following arguments are required: MODEL"),
    (["info", "MODEL", "--verbose"], 2, "unrecognized arguments: --verbose"),
    (["info", "no/such/model"], 1, "model folder"),
    (["run", "MODEL", "--param", "poleLength"], 2, "argument --param: expected NAME=VALUE, got 'poleLength'"),
    (["run", "MODEL", "--param", "poleLength=NaN"], 2, "a model parameter must be a finite number"),
    (["run", "MODEL", "--episodes", "0"], 2, "expected a number of at least 1, got 0"),
    (["run", "MODEL", "--episodes"], 2, "argument --episodes: expected one argument"),
    (["run", "MODEL", "--step-timeout", "0"], 2, "argument --step-timeout: expected a positive number"),
    (["run", "MODEL", "--debug-port", "99999"], 2, "expected a TCP port number from 1 to 65535"),
    (["run", "MODEL", "--suspend", "--episodes", "1"], 2, "--suspend needs --debug-port"),
    (["run", "MODEL", "--render-size", "60x40"], 2, "--render-size needs --render"),
    (["run", "MODEL", "--policy", "best"], 2, "--policy must be 'random' or an .onnx file, got 'best'"),
    (["run", "MODEL", "--policy", "p.onnx", "--record", "r.jsonl"], 2, "--record works with the random policy only"),
    (["run", "MODEL", "--policy", "missing.onnx"], 1, "missing.onnx does not exist"),
    (["run", "no/such/model", "--episodes", "1"], 1, "no/such/model"),
    (["run", "no/such/model", "--policy", "POLICY"], 1, "no/such/model"),
    (["run", "MODEL", "--param", "noSuchThing=1", "--episodes", "1"], 1,
     "the model has no parameter 'noSuchThing'; its parameters are poleLength, maxSteps, initialState"),
    (["run", "MODEL", "--policy", "POLICY", "--param", "noSuchThing=1"], 1, "noSuchThing"),
    (["train"], 2, "the following arguments are required: MODEL"),
    (["train", "MODEL", "--runners", "-1"], 2, "argument --runners: expected a number of at least 0, got -1"),
    (["train", "no/such/model"], 1, "model folder"),
    (["export", "--out", "policy.onnx"], 2, "the following arguments are required: --checkpoint"),
    (["export", "--checkpoint", "cp", "--out", "p.onnx", "--observation-space-json", "{"], 2,
     "--observation-space-json is not a space's JSON form"),
    (["export", "--checkpoint", "no/such/checkpoint", "--out", "p.onnx"], 1, "does not exist"),
    (["replay", "nothing.jsonl", "--episode", "zero"], 2, "argument --episode: invalid int value: 'zero'"),
    (["replay", "nothing.jsonl", "--episode", "0", "--suspend"], 2, "--suspend needs --debug-port"),
    (["replay", "nothing.jsonl", "--episode", "0"], 1, "nothing.jsonl does not exist"),
    (["upgrade-1x", "no/such/export", "--undo", "--policy", "p.onnx"], 2, "--undo puts the 1.x library back"),
    (["upgrade-1x", "no/such/export"], 1, "no/such/export does not exist"),
])
def test_exit_status_is_2_for_a_wrong_command_line_and_1_for_a_failure(cartpole_model, tmp_path, monkeypatch,
                                                                       capfd, args, status, message):
    from alpyperl.cli import main

    monkeypatch.chdir(tmp_path)  # relative paths name nothing that exists
    policy = write_policy(tmp_path / "lean.onnx", weights=LEAN, observation_space=CARTPOLE_SPACE,
                          action_space=gym.spaces.Discrete(2))
    args = [{"MODEL": str(cartpole_model), "POLICY": str(policy)}.get(arg, arg) for arg in args]
    try:
        result = main(args)
    except SystemExit as exit:  # argparse's errors (and --help) end with SystemExit
        result = exit.code
    captured = capfd.readouterr()  # file descriptors: the launcher's Java prints there
    assert result == status, captured
    assert message in captured.err or (not args and message in captured.out), captured
    assert "Traceback" not in captured.err


def test_the_exit_status_rule_is_in_every_help():
    result = alpyperl("--help")
    assert result.returncode == 0
    assert "exit status:\n  0  success\n  1  failure: a missing model folder or file" in result.stdout
    for command in ("info", "run", "train", "export", "replay", "upgrade-1x"):
        assert "\n  2  wrong command line: " in alpyperl(command, "--help").stdout


def test_run_with_an_onnx_policy_runs_it_in_java(cartpole_model, tmp_path):
    policy = write_policy(tmp_path / "lean.onnx", weights=LEAN, observation_space=CARTPOLE_SPACE,
                          action_space=gym.spaces.Discrete(2))
    result = alpyperl("run", cartpole_model, "--policy", policy, "--episodes", 2, "--seed", 100)
    assert result.returncode == 0, result.stderr
    assert "2 episodes: mean return" in result.stdout
    # the same episodes as the launcher's own command line gives (episode k seeded with 100 + k)
    assert re.findall(r"return +(\S+)", result.stdout)[:2] == [f"{r:.3f}" for r in python_returns(cartpole_model, [100, 101])]
    # numbered from 0, as a random policy's episodes and `alpyperl replay --episode K` are
    assert re.findall(r"^episode +(\d+) +seed (\d+) ", result.stdout, re.MULTILINE) == [("0", "100"), ("1", "101")]

    not_onnx = tmp_path / "policy.onnx"
    not_onnx.write_bytes(b"this is not an ONNX file")
    refused = alpyperl("run", cartpole_model, "--policy", not_onnx, "--episodes", 2)
    assert refused.returncode == 1 and str(not_onnx) in refused.stderr and "Traceback" not in refused.stderr


def test_export_help_looks_like_the_other_commands_help():
    result = alpyperl("export", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: alpyperl export [-h] --checkpoint DIR --out FILE.onnx")
    assert "examples:\n  alpyperl export --checkpoint cartpole-ppo --out cartpole.onnx" in result.stdout
    listing = alpyperl("--help").stdout
    assert "    export    export a trained policy (RLlib checkpoint) to ONNX" in listing
    # python -m alpyperl.export is the same command
    module = subprocess.run([sys.executable, "-m", "alpyperl.export", "--help"], capture_output=True, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert module.returncode == 0 and module.stdout == result.stdout


def test_progress_bar_draws_on_a_terminal_and_keeps_lines_apart(monkeypatch):
    bar = io.StringIO()
    printed = io.StringIO()
    monkeypatch.setattr(sys, "stdout", printed)
    progress = Progress(4, "episodes", stream=bar, enabled=True)
    progress.update(1)
    progress.print("episode 0 ...")
    progress.update(4)
    progress.close()
    assert printed.getvalue() == "episode 0 ...\n"
    drawn = bar.getvalue()
    assert "\r[#######-----------------------] 1/4 episodes" in drawn
    assert "\r[##############################] 4/4 episodes" in drawn
    assert drawn.endswith("\r\033[K")  # the bar is cleared at the end
    quiet = io.StringIO()
    Progress(4, "episodes", stream=quiet, enabled=False).update(4)
    assert quiet.getvalue() == ""


def test_the_console_script_is_declared():
    assert 'alpyperl = "alpyperl.cli:main"' in (REPO / "pyproject.toml").read_text()


def test_info_of_a_folder_that_is_no_model_says_what_it_found(tmp_path):
    result = alpyperl("info", tmp_path)
    assert result.returncode == 1
    assert "kind          unknown (no alpyperl-model.properties and no AnyLogic launch script)" in result.stdout
    assert result.stderr.startswith("alpyperl info: error: ") and "is not a model folder" in result.stderr


def test_train_fails_and_says_why_when_the_model_ends_its_runner_process(anylogic_export, tmp_path):
    """The stand-in model calls System.exit in an event: the EnvRunner process dies with the model's
    stack on its output (forwarded by Ray), no iteration samples a step, and train exits non-zero."""
    result = subprocess.run(
        [sys.executable, "-m", "alpyperl", "train", str(anylogic_export), "--param", "fault=exit", "--param",
         "faultTime=0.1", "--runners", "1", "--envs-per-runner", "1", "--batch-size", "200", "--iterations", "3",
         "--out", "checkpoint"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)})  # RLlib's logs go to $HOME/ray_results
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "alpyperl: the model's Java code ended this process: System.exit(...) was called on thread" in output
    assert "at com.acme.cartpole.Main.executeActionOf(Main.java:" in output
    assert "alpyperl train: error: iteration 1 sampled no steps" in result.stderr
    assert not (tmp_path / "checkpoint").exists()


@pytest.mark.parametrize("model_class, problem", [
    ("SwarmModel", ["has several deciding agents", "alpyperl train trains a single agent",
                    "rllib.register_multi_agent_env()", "docs/multi-agent.md"]),
    ("PythonSpacesModel", ["leaves its observation_space and action_space to Python",
                           "env_config={'model': ..., 'observation_space': ..., 'action_space': ...}"]),
    (None, ["is not a model folder: it has no alpyperl-model.properties"]),
])
def test_train_refuses_a_model_it_cannot_train_before_ray_starts(test_model, tmp_path, model_class, problem):
    """A multi-agent model, one that leaves its spaces to Python, and a folder without a model: one
    error, before Ray starts (no EnvRunner reports it, no RLlib traceback)."""
    folder = copy_of_test_model(test_model, tmp_path, model_class) if model_class else tmp_path / "empty"
    folder.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "alpyperl", "train", str(folder), "--runners", "1", "--envs-per-runner", "1",
         "--batch-size", "200", "--iterations", "1", "--out", "checkpoint"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)})
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stderr.startswith("alpyperl train: error: ")
    for part in problem:
        assert part in result.stderr
    assert "Training PPO" not in result.stdout and "EnvRunner" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ray_results").exists() and not (tmp_path / "checkpoint").exists()


def ctrl_c_after(command: list[str], line_start: str, cwd: Path, env: dict) -> tuple[int, str, str]:
    """Runs ``alpyperl COMMAND`` in a process group of its own, presses Ctrl-C (SIGINT to the whole
    group, as a terminal sends it) once it has printed a line starting with ``line_start``;
    returns its exit status, standard output and standard error."""
    process = subprocess.Popen([sys.executable, "-m", "alpyperl", *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=cwd, start_new_session=True, env=env)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith(line_start):
                break
        assert lines and lines[-1].startswith(line_start), "".join(lines) + process.stderr.read()[-3000:]
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, "".join(lines) + stdout, stderr


def test_train_stopped_by_ctrl_c_saves_the_policy_trained_so_far(cartpole_model, tmp_path):
    """Ctrl-C after the first iteration: the checkpoint of what is trained so far is saved and
    exports, and the status is 130."""
    status, stdout, stderr = ctrl_c_after(
        ["train", str(cartpole_model), "--runners", "1", "--envs-per-runner", "1", "--batch-size", "200",
         "--iterations", "1000", "--out", "checkpoint"], "iter   1 |", tmp_path,
        {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)})  # RLlib's logs go to $HOME/ray_results
    assert status == 130, stdout[-2000:] + stderr[-3000:]
    assert "alpyperl train: interrupted during iteration" in stderr
    assert f"Checkpoint saved in {tmp_path / 'checkpoint'}" in stdout
    exported = subprocess.run([sys.executable, "-m", "alpyperl", "export", "--checkpoint", "checkpoint", "--out",
                               "policy.onnx", "--samples", "100"], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert (tmp_path / "policy.onnx").stat().st_size > 0


def test_run_stopped_by_ctrl_c_prints_the_summary_of_the_episodes_before(cartpole_model, tmp_path):
    status, stdout, stderr = ctrl_c_after(["run", str(cartpole_model), "--episodes", "10000000"], "episode    3",
                                          tmp_path, {**os.environ, "PYTHONPATH": str(REPO)})
    assert status == 130, stdout[-2000:] + stderr[-3000:]
    summary = re.search(r"^interrupted in episode (\d+); the episodes before it: (\d+) episodes?(?:\(s\))?: mean return ",
                        stdout, re.MULTILINE)
    assert summary, stdout[-2000:]
    assert int(summary.group(1)) == int(summary.group(2)) >= 4
    assert "alpyperl run: interrupted" in stderr, stderr[-2000:]


@pytest.mark.parametrize("script, arguments", [
    ("cartpole/run.py", ["--episodes", "0"]),
    ("inventory/run.py", ["--episodes", "0"]),
    ("jobshop/run.py", ["--machines", "0"]),
    ("maintenance/run.py", ["--episodes", "-1"]),
])
def test_the_example_run_scripts_refuse_a_count_below_one(script, arguments):
    """Status 2 and argparse's one line, not a traceback about an empty sequence after the episodes."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, str(REPO / "examples" / script), *arguments], capture_output=True,
                            text=True, timeout=120, cwd=REPO, env=env)
    assert result.returncode == 2, result.stderr
    assert f"error: argument {arguments[0]}: expected a number of at least 1" in result.stderr
    assert "Traceback" not in result.stderr
