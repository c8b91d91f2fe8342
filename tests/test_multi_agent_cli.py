"""``alpyperl run`` on a multi-agent model (tests/models' SwarmModel): random valid actions in Python
(masks respected, --record replayable), ONNX policies per agent type in the Java launcher, returns
per agent type, and the exit status rule (2: the command line, 1: a failure)."""

from __future__ import annotations

import json
import re

import gymnasium as gym
import numpy as np
import onnx
import pytest
from test_cli import alpyperl
from test_evaluation import write_policy
from test_multi_agent import swarm_model  # noqa: F401 (a fixture)
from test_multi_agent_spaces import WALKER_ACTION, WALKER_OBSERVATION, python_spaces_model  # noqa: F401 (a fixture)

from alpyperl import AnyLogicMultiAgentEnv
from alpyperl.cli.run_multi_agent import random_valid_action
from alpyperl.multi_agent import AgentType
from alpyperl.spaces import describe

#: The walkers' policy: step right (logit = tick) from tick 1 on; at tick 0, and where the mask forbids
#: stepping right, every valid logit is 0 and the first valid action (left) is the most likely.
RIGHT_FROM_TICK_1 = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])


def episode_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("episode")]


def test_random_actions_respect_the_masks_and_record_replayable_episodes(swarm_model, tmp_path):
    record = tmp_path / "swarm.jsonl"
    # walkers at position 2 may not step right: a random action ignoring masks would be refused within 40 ticks
    result = alpyperl("run", swarm_model, "--episodes", 3, "--seed", 5, "--param", "masks=true", "--param", "ticks=40",
                      "--param", "scouts=2", "--record", record)
    assert result.returncode == 0, result.stderr
    lines = episode_lines(result.stdout)
    assert len(lines) == 3 and all(re.search(r"seed [567] .* truncated  \(walker -?[\d.]+, scout 80\)$", line)
                                   for line in lines), result.stdout
    assert "mean return per agent type: walker " in result.stdout and ", scout 80" in result.stdout
    again = alpyperl("run", swarm_model, "--episodes", 3, "--seed", 5, "--param", "masks=true", "--param", "ticks=40",
                     "--param", "scouts=2")
    assert episode_lines(again.stdout) == lines  # the same seeds, the same random actions
    replayed = alpyperl("replay", record, "--episode", 2)
    assert replayed.returncode == 0 and "episode 2 reproduced: 40 steps identical" in replayed.stdout, replayed.stdout


def test_a_random_valid_action_is_one_the_mask_allows():
    rng = np.random.default_rng(0)
    walker = AgentType("walker", gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(3, start=-1), True)
    scout = AgentType("scout", gym.spaces.Box(-1, 1, (2,)), gym.spaces.MultiDiscrete([2, 3]), True)
    walkers = {random_valid_action(walker, {"action_mask": np.array([0, 1, 1], np.float32)}, rng) for _ in range(200)}
    assert walkers == {0, 1}
    scouts = {tuple(random_valid_action(scout, {"action_mask": np.array([1, 0, 0, 1, 1], np.float32)}, rng).tolist())
              for _ in range(200)}
    assert scouts == {(0, 1), (0, 2)}


def python_returns(swarm_model, seeds, settings=None, **params) -> list[float]:
    """The returns of RIGHT_FROM_TICK_1 on the walkers, stepped from Python (``settings``: of the environment)."""
    returns = []
    with AnyLogicMultiAgentEnv(model=swarm_model, env_params=params, model_output="off", **(settings or {})) as env:
        for seed in seeds:
            observations, _ = env.reset(seed=seed)
            total = 0.0
            while True:
                actions = {}
                for agent in env.waiting_agents:
                    tick, mask = observations[agent]["observations"][1], observations[agent]["action_mask"]
                    actions[agent] = 2 if tick >= 1 and mask[2] else 0
                observations, rewards, terminateds, truncateds, _ = env.step(actions)
                total += sum(rewards.values())
                if terminateds["__all__"] or truncateds["__all__"]:
                    returns.append(total)
                    break
    return returns


def test_onnx_policies_per_agent_type_run_in_java(swarm_model, tmp_path):
    walker = write_policy(tmp_path / "walker.onnx", weights=RIGHT_FROM_TICK_1,
                          observation_space=gym.spaces.Box(-1e6, 1e6, (2,)), action_space=gym.spaces.Discrete(3))
    result = alpyperl("run", swarm_model, "--policy", f"walker={walker}", "--episodes", 3, "--seed", 10,
                      "--param", "masks=true", "--param", "ticks=6", "--param", "agents=4")
    assert result.returncode == 0, result.stderr
    assert f"policies walker={walker}" in result.stdout
    java = [float(value) for value in re.findall(r"return +(\S+)  steps", result.stdout)]
    expected = python_returns(swarm_model, [10, 11, 12], masks=True, ticks=6, agents=4)
    assert java == pytest.approx(expected, abs=1e-9) and len(set(java)) > 1, (java, expected)
    assert re.search(r"mean return per agent type: walker -?[\d.]+, scout 0\.000", result.stdout)
    # one file for every type: the same episodes
    shared = alpyperl("run", swarm_model, "--policy", walker, "--episodes", 3, "--seed", 10,
                      "--param", "masks=true", "--param", "ticks=6", "--param", "agents=4")
    assert re.findall(r"return +(\S+)  steps", shared.stdout) == re.findall(r"return +(\S+)  steps", result.stdout)


def test_policy_mistakes_and_the_exit_status(swarm_model, cartpole_model, tmp_path):
    walker = write_policy(tmp_path / "walker.onnx", weights=RIGHT_FROM_TICK_1,
                          observation_space=gym.spaces.Box(-1e6, 1e6, (2,)), action_space=gym.spaces.Discrete(3))
    cases = [
        (["--policy", f"walker={walker}", "--param", "scouts=1"], 1,
         "agent scout_0 decides, but no policy was given for its type 'scout': add --policy scout=FILE.onnx"),
        (["--policy", walker, "--param", "scouts=1"], 1,
         "was trained for the observation space Box(-1000000.0, 1000000.0, (2,), float32), but the observation space "
         "of agent type 'scout' is Box"),
        (["--policy", f"robot={walker}"], 1, "the model has no agent type 'robot'; its agent types are [walker, scout]"),
        (["--policy", f"walker={tmp_path / 'missing.onnx'}"], 1, "missing.onnx does not exist"),
        (["--policy", "random", "--policy", f"walker={walker}"], 2, "--policy random chooses every action"),
        (["--policy", f"walker={walker}", "--policy", f"walker={walker}"], 2, "--policy walker=... is given twice"),
        (["--policy", "walker="], 2, "--policy walker= names no file"),
        (["--policy", f"walker={walker}", "--record", tmp_path / "x.jsonl"], 2, "--record works with the random policy"),
        (["--max-agents", 0], 2, "--max-agents"),
    ]
    for args, status, message in cases:
        result = alpyperl("run", swarm_model, "--episodes", 1, *args)
        assert result.returncode == status and message in result.stderr, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    single = alpyperl("run", cartpole_model, "--policy", f"walker={walker}")
    assert single.returncode == 1 and "CartPole has one deciding agent: give --policy FILE.onnx" in single.stderr
    single = alpyperl("run", cartpole_model, "--max-agents", 4, "--episodes", 1)
    assert single.returncode == 2 and "--max-agents is for multi-agent models" in single.stderr


def test_max_agents_sets_the_crossing_in_python_and_java(swarm_model, tmp_path):
    walker = write_policy(tmp_path / "walker.onnx", weights=RIGHT_FROM_TICK_1,
                          observation_space=gym.spaces.Box(-1e6, 1e6, (2,)), action_space=gym.spaces.Discrete(3))
    for args in ([], ["--policy", walker]):
        result = alpyperl("run", swarm_model, "--episodes", 1, "--param", "agents=5", "--max-agents", 2, *args)
        assert result.returncode == 1 and "5 agents are in the episode at its end, but a crossing holds 2" in \
            result.stdout + result.stderr, (args, result.stdout, result.stderr)
        fits = alpyperl("run", swarm_model, "--episodes", 1, "--param", "agents=5", "--max-agents", 5, *args)
        assert fits.returncode == 0, fits.stderr


def box_action_policy(path):
    """A policy file for the walkers' observation whose action is Box(-1, 1, (1,)) (a Gaussian's mean and log std)."""
    write_policy(path, weights=np.zeros((2, 2)), observation_space=gym.spaces.Box(-1e6, 1e6, (2,)),
                 action_space=gym.spaces.Discrete(2))
    model = onnx.load(path)
    metadata = json.loads(next(prop.value for prop in model.metadata_props if prop.key == "alpyperl.policy"))
    metadata["action_space"] = describe(gym.spaces.Box(-1, 1, (1,)))
    metadata["action_layout"] = [{"kind": "gaussian", "from": 0, "size": 1, "low": [-1.0], "high": [1.0]}]
    onnx.helper.set_model_props(model, {"alpyperl.policy": json.dumps(metadata)})
    onnx.save(model, path)
    return path


def test_the_java_runner_takes_the_spaces_a_type_leaves_to_python_from_its_policy(python_spaces_model, tmp_path):
    walker = write_policy(tmp_path / "walker.onnx", weights=RIGHT_FROM_TICK_1,
                          observation_space=gym.spaces.Box(-1e6, 1e6, (2,)), action_space=gym.spaces.Discrete(3))
    params = ["--param", "masks=true", "--param", "ticks=6", "--param", "agents=4"]
    result = alpyperl("run", python_spaces_model, "--policy", f"walker={walker}", "--episodes", 3, "--seed", 10,
                      *params)
    assert result.returncode == 0, result.stderr
    java = [float(value) for value in re.findall(r"return +(\S+)  steps", result.stdout)]
    spaces = {"observation_spaces": {"walker": WALKER_OBSERVATION}, "action_spaces": {"walker": WALKER_ACTION}}
    expected = python_returns(python_spaces_model, [10, 11, 12], spaces, masks=True, ticks=6, agents=4)
    assert java == pytest.approx(expected, abs=1e-9) and len(set(java)) > 1, (java, expected)
    # stepped from Python (--render), the walkers take their spaces from the policy too
    rendered = alpyperl("run", python_spaces_model, "--policy", f"walker={walker}", "--episodes", 3, "--seed", 10,
                        "--render", tmp_path / "walkers.mp4", "--render-size", "120x80", *params)
    assert rendered.returncode == 0, rendered.stderr
    assert [float(value) for value in re.findall(r"return +(\S+)  truncated", rendered.stdout)] == java
    random = alpyperl("run", python_spaces_model, "--episodes", 1)
    assert random.returncode == 1 and "agent type 'walker' leaves its spaces to Python (the model's " \
        "getObservationSpace or getActionSpace returns null), so random actions have no space to be drawn from; give " \
        "its policy, --policy walker=FILE.onnx, whose spaces it takes" in random.stderr, random.stderr
    box_actions = box_action_policy(tmp_path / "box.onnx")
    wide = write_policy(tmp_path / "wide.onnx", weights=np.zeros((3, 3)), observation_space=gym.spaces.Box(-1, 1, (3,)),
                        action_space=gym.spaces.Discrete(3))
    cases = [
        (["--policy", f"scout={walker}"], "agent type 'walker' leaves its spaces to Python (the model's "
         'getObservationSpace("walker") or getActionSpace("walker") returns null), so it takes them from its policy: '
         "give --policy walker=FILE.onnx"),
        (["--policy", f"walker={box_actions}"], "agent type 'walker' uses an action mask, but its action space "
         "Box(-1.0, 1.0, (1,), float32) is neither Discrete nor MultiDiscrete"),
        (["--policy", f"walker={wide}"], "getObservation() of agent walker_0 returned 2 values, but the observation "
         "space of its type is Box(-1.0, 1.0, (3,), float32)"),
    ]
    for args, message in cases:
        refused = alpyperl("run", python_spaces_model, "--episodes", 1, *args, *params)
        assert refused.returncode == 1 and message in refused.stderr + refused.stdout, (args, refused.stdout,
                                                                                        refused.stderr)
        assert "Traceback" not in refused.stderr


def test_info_shows_each_agent_type_and_its_spaces(swarm_model, python_spaces_model):
    """Not "give observation_space=... to AnyLogicEnv", which would not open a multi-agent model."""
    result = alpyperl("info", swarm_model)
    assert result.returncode == 0, result.stderr
    assert "agent types   2 (a multi-agent model: open it with AnyLogicMultiAgentEnv)" in result.stdout
    assert "\n  scout  (up to 4 agents, with an action mask)\n" in result.stdout
    assert "\n    actions       MultiDiscrete([2 3])  (defined by the model; 2 value(s) flat)\n" in result.stdout
    assert "AnyLogicEnv\n" not in result.stdout and "agents               int      3" in result.stdout
    from_python = alpyperl("info", python_spaces_model)
    assert from_python.returncode == 0, from_python.stderr
    assert ("    observations  not defined by the model: give observation_spaces={'walker': ...} to "
            "AnyLogicMultiAgentEnv") in from_python.stdout
