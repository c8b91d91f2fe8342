"""Evaluation without Python: the launcher's command line runs a model with an exported policy.

The policy here is written directly with onnx's helpers (a linear layer: push right when the pole
leans right; it keeps the pole up for a few dozen steps), so the expected returns are known: the
launcher runs the model as training does, so the same policy on the same seeds must give the same
returns as the model driven from Python by AnyLogicEnv.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from alpyperl import AnyLogicEnv
from alpyperl.spaces import describe

LAUNCHER_JAR = Path(__file__).resolve().parent.parent / "alpyperl" / "jars" / "launcher.jar"
CARTPOLE_SPACE = gym.make("CartPole-v1").observation_space


def write_policy(path: Path, *, weights: np.ndarray, observation_space: gym.Space, action_space: gym.Space) -> Path:
    """An exported-policy file whose network is one linear layer: logits = weights @ observation."""
    outputs, inputs = weights.shape
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["obs", "w"], ["action_dist_inputs"], transB=1)],
        "linear",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", inputs])],
        [helper.make_tensor_value_info("action_dist_inputs", TensorProto.FLOAT, ["batch", outputs])],
        [helper.make_tensor("w", TensorProto.FLOAT, weights.shape, weights.astype(np.float32).ravel())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    metadata = {
        "format_version": 1,
        "observation_space": describe(observation_space),
        "action_space": describe(action_space),
        "input": "obs", "input_size": inputs,
        "output": "action_dist_inputs", "output_size": outputs,
        "observation_layout": [{"from": 0, "size": inputs}],
        "action_layout": [{"kind": "categorical", "from": 0, "n": outputs, "start": 0}],
    }
    helper.set_model_props(model, {"alpyperl.policy": json.dumps(metadata)})
    onnx.save(model, path)
    return path


LEAN = np.array([[0, 0, 0, 0], [0, 0, 1, 0]])


@pytest.fixture
def lean_policy(tmp_path) -> Path:
    return write_policy(tmp_path / "lean.onnx", weights=LEAN, observation_space=CARTPOLE_SPACE,
                        action_space=gym.spaces.Discrete(2))


def launcher(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["java", "-jar", str(LAUNCHER_JAR), *args], capture_output=True, text=True, timeout=120)


def episode_returns(output: str) -> list[float]:
    return [float(value) for value in re.findall(r"^episode +\d+ +seed +\d+ +return +(\S+)", output, re.MULTILINE)]


def python_returns(model: Path, seeds) -> list[float]:
    env = AnyLogicEnv(model=model)
    returns = []
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action = int(LEAN[1] @ observation.astype(np.float32) > 0)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns


def test_run_evaluates_the_policy_exactly_like_training_does(cartpole_model, lean_policy):
    result = launcher("run", "--model", str(cartpole_model), "--policy", str(lean_policy),
                      "--episodes", "6", "--seed", "100")
    assert result.returncode == 0, result.stderr
    returns = episode_returns(result.stdout)
    assert returns == python_returns(cartpole_model, range(100, 106))
    assert len(set(returns)) > 1  # the seeds matter: not every episode is the same
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"6 episodes: mean return {np.mean(returns):.3f}"), summary


def test_run_sets_parameters_and_limits_steps(cartpole_model, lean_policy):
    result = launcher("run", "--model", str(cartpole_model), "--policy", str(lean_policy), "--episodes", "2",
                      "--param", "maxSteps=20")
    assert result.returncode == 0, result.stderr
    assert episode_returns(result.stdout) == [20.0, 20.0]
    assert result.stdout.count("truncated") == 2

    limited = launcher("run", "--model", str(cartpole_model), "--policy", str(lean_policy), "--episodes", "1",
                       "--max-steps", "7")
    assert episode_returns(limited.stdout) == [7.0]
    assert "stopped at --max-steps" in limited.stdout


def test_sampled_actions_are_reproducible(cartpole_model, lean_policy):
    runs = [launcher("run", "--model", str(cartpole_model), "--policy", str(lean_policy), "--episodes", "3",
                     "--sample") for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert episode_returns(runs[0].stdout) == episode_returns(runs[1].stdout)
    assert "sampled actions" in runs[0].stdout


def test_info_prints_spaces_and_parameters(cartpole_model):
    result = launcher("info", "--model", str(cartpole_model))
    assert result.returncode == 0, result.stderr
    assert "action space:      Discrete(2)" in result.stdout
    assert "parameters:        poleLength, maxSteps, initialState" in result.stdout


def test_a_policy_for_other_spaces_is_refused(cartpole_model, tmp_path):
    three_actions = write_policy(tmp_path / "three.onnx", weights=np.zeros((3, 4)), observation_space=CARTPOLE_SPACE,
                                 action_space=gym.spaces.Discrete(3))
    result = launcher("run", "--model", str(cartpole_model), "--policy", str(three_actions))
    assert result.returncode == 1
    assert "was trained for the action space Discrete(3), but the model declares Discrete(2)" in result.stderr


@pytest.mark.parametrize("args, status, message", [
    (["run", "--model", "{model}", "--policy", "missing.onnx"], 1, "missing.onnx does not exist"),
    (["run", "--model", "no/such/folder", "--policy", "{policy}"], 1, "model folder"),
    (["run", "--model", "{model}", "--policy", "{policy}", "--param", "poleLenght=1"], 1, "poleLenght"),
    (["run", "--model", "{model}"], 2, "run needs --policy FILE.onnx"),
    (["run", "--model", "{model}", "--policy", "{policy}", "--episodes", "0"], 2, "--episodes needs a positive"),
    (["run", "--model", "{model}", "--policy", "{policy}", "--episode", "3"], 2, "unknown option '--episode'"),
    (["run", "--model", "{model}", "--policy"], 2, "--policy needs a value"),
    (["fly", "--model", "{model}"], 2, "unknown command 'fly'"),
])
def test_user_errors_are_explained(cartpole_model, lean_policy, args, status, message):
    """One rule, as in the alpyperl command: 2 for a wrong command line, 1 for a failure."""
    args = [a.format(model=cartpole_model, policy=lean_policy) for a in args]
    result = launcher(*args)
    assert result.returncode == status, result.stderr
    assert message in result.stderr, result.stderr
    assert "Exception" not in result.stderr  # a message, not a stack trace


def test_a_file_that_is_not_a_policy_is_refused(cartpole_model, tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07" + bytes(range(200)))
    result = launcher("run", "--model", str(cartpole_model), "--policy", str(garbage))
    assert result.returncode == 1
    assert str(garbage) in result.stderr


def test_help_explains_the_commands():
    result = launcher("--help")
    assert result.returncode == 0
    assert "run    runs episodes" in result.stdout and "--policy FILE.onnx" in result.stdout


@pytest.mark.parametrize("command", ["run", "info"])
def test_each_command_has_a_help(command):
    result = launcher(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: java -jar launcher.jar {command} --model DIR")
    assert "exit status:\n  0  success\n  1  failure" in result.stdout and result.stderr == ""


def test_version_is_the_jars_implementation_version():
    with zipfile.ZipFile(LAUNCHER_JAR) as jar:
        manifest = jar.read("META-INF/MANIFEST.MF").decode("utf-8")
    stamped = re.search(r"^Implementation-Version: *(\S+)", manifest, re.MULTILINE)
    result = launcher("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"alpyperl launcher {stamped.group(1) if stamped else 'unknown'}\n"
