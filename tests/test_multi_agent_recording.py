"""Recording and replaying episodes of multi-agent models (EpisodeRecorder over AnyLogicMultiAgentEnv,
tests/models' SwarmModel): per-agent round trips, divergences that name the step and the agent,
failed episodes, damaged files, and single-agent recordings of format 1 still replaying."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alpyperl import AnyLogicMultiAgentEnv, ModelError
from alpyperl.recording import EpisodeRecorder, MultiAgentEpisodeRecorder, RecordingError
from alpyperl.replay import read_recording, replay
from test_multi_agent import swarm_model, walker_actions  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parents[1]


def recorder(swarm_model, path, **params) -> MultiAgentEpisodeRecorder:
    settings = {key: params.pop(key) for key in ("max_agents",) if key in params}
    env = AnyLogicMultiAgentEnv(model=swarm_model, env_params=params, model_output="off", **settings)
    return EpisodeRecorder(env, path)


def scout_action(rng):
    return np.array([int(rng.integers(2)), int(rng.integers(2))])  # the scouts' mask forbids 2 as second choice


def run_episode(env, seed, rng):
    """One episode with random valid actions; returns what the caller saw, step by step."""
    observations, _ = env.reset(seed=seed)
    seen = {"observations": [observations], "actions": [], "rewards": [], "ended": []}
    while True:
        actions = walker_actions(env, observations, lambda position: int(rng.integers(3)) if position < 2 else 0)
        actions |= {agent: scout_action(rng) for agent in env.waiting_agents if agent.startswith("scout_")}
        observations, rewards, terminateds, truncateds, _ = env.step(actions)
        for field, value in (("observations", observations), ("actions", actions), ("rewards", rewards),
                             ("ended", {a for a in terminateds if a != "__all__" and (terminateds[a] or truncateds[a])})):
            seen[field].append(value)
        if terminateds["__all__"] or truncateds["__all__"]:
            return seen


def lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_episodes_round_trip_per_agent_and_replay(swarm_model, tmp_path):
    path = tmp_path / "swarm.jsonl"
    rng = np.random.default_rng(0)
    env = recorder(swarm_model, path, agents=3, scouts=1, ticks=4, leaveAt=1, joinAt=2, masks=True, max_agents=8)
    assert isinstance(env, MultiAgentEpisodeRecorder) and env.max_agents == 8  # the environment's attributes
    seen = run_episode(env, 5, rng)
    env.reset(seed=6)  # abandoned by close()
    env.close()

    header, first, second = lines(path)
    assert header["alpyperl_recording"] == 2 and header["environment"] == "multi_agent"
    assert header["model"] == str(swarm_model) and header["max_agents"] == 8
    assert first["seed"] == 5 and first["env_params"]["leaveAt"] == 1 and first["steps"] == 4
    walker = env.get_observation_space("walker_0")
    recorded_reset = first["observations"][0]["walker_1"]
    assert recorded_reset == [*seen["observations"][0]["walker_1"]["action_mask"].tolist(),
                              *seen["observations"][0]["walker_1"]["observations"].tolist()]
    assert walker["action_mask"].shape == (3,)
    assert [sorted(step) for step in first["observations"]] == [sorted(step) for step in seen["observations"]]
    assert first["actions"][0]["scout_0"] == [float(v) for v in seen["actions"][0]["scout_0"]]
    assert first["rewards"] == seen["rewards"]
    assert first["ended"][0] == {"walker_0": "terminated"}  # it left at tick 1, reported at its crossing
    assert [set(step) for step in first["ended"]] == seen["ended"]
    assert first["return"] == sum(sum(step.values()) for step in seen["rewards"])
    assert first["truncated"] and not first["terminated"] and not first["abandoned"]
    assert second["abandoned"] and second["steps"] == 0

    episodes = read_recording(path)
    assert [e.multi_agent for e in episodes] == [True, True]
    assert "agents   5" in episodes[0].summary()  # walkers 0-2, walker_100 and scout_0
    for index, episode in enumerate(lines(path)[1:]):
        result = replay(path, index)
        assert result.reproduced, str(result)
        assert str(result) == f"episode {index} reproduced: {episode['steps']} steps identical"


def test_a_divergence_names_the_step_and_the_agent(swarm_model, tmp_path):
    path = tmp_path / "swarm.jsonl"
    env = recorder(swarm_model, path, agents=3, ticks=3)
    run_episode(env, 1, np.random.default_rng(1))
    env.close()
    header, episode = lines(path)

    def replayed(changed: dict) -> str:
        tampered = tmp_path / "tampered.jsonl"
        tampered.write_text(json.dumps(header) + "\n" + json.dumps({**episode, **changed}) + "\n")
        result = replay(tampered, 0)
        assert not result.reproduced
        return str(result)

    observations = json.loads(json.dumps(episode["observations"]))
    observations[2]["walker_1"][3] += 0.5  # the position of walker_1 after the second step (the mask is first)
    text = replayed({"observations": observations})
    assert text.startswith("episode 0 diverges at step 2 (step 0 to 1 identical): observation of agent walker_1 "
                           "differs at step 2 (first at index 3"), text
    rewards = json.loads(json.dumps(episode["rewards"]))
    rewards[0]["walker_2"] = 99.0
    assert "reward of agent walker_2 differs at step 1" in replayed({"rewards": rewards})
    observations = json.loads(json.dumps(episode["observations"]))
    observations[1]["walker_7"] = observations[1].pop("walker_0")
    assert "set of agents observed differs at step 1 (recorded only: walker_7; replayed only: walker_0)" \
        in replayed({"observations": observations})
    ended = json.loads(json.dumps(episode["ended"]))
    ended[-1]["walker_0"] = "terminated"
    assert "ended of agent walker_0 differs at step 3" in replayed({"ended": ended})


def test_other_parameters_diverge_at_the_step_they_change(swarm_model, tmp_path):
    path = tmp_path / "swarm.jsonl"
    env = recorder(swarm_model, path, agents=2, ticks=5, leaveAt=3)
    run_episode(env, 2, np.random.default_rng(2))
    env.close()
    header, episode = lines(path)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(json.dumps(header) + "\n" + json.dumps({**episode, "env_params": {**episode["env_params"],
                                                                                          "leaveAt": 2}}) + "\n")
    result = replay(changed, 0)
    # walker_0 now leaves at tick 2, reported by the step that reaches it
    assert result.divergence.step == 2 and result.divergence.what == "set of agents that ended", str(result)
    assert result.divergence.detail == "replayed only: walker_0"


def test_a_failed_episode_is_recorded_with_its_error_and_replays(swarm_model, tmp_path):
    path = tmp_path / "failing.jsonl"
    env = recorder(swarm_model, path, agents=3, misbehave="forget decide")
    observations, _ = env.reset(seed=4)
    with pytest.raises(ModelError, match="waited for their actions"):
        env.step(walker_actions(env, observations))
    env.close()
    episode = lines(path)[1]
    assert episode["error"].startswith("ModelError: ")
    assert "the run ended while agents [walker_0, walker_1, walker_2]" in episode["error"].splitlines()[0]
    assert len(episode["actions"]) == 1 and len(episode["observations"]) == 1 and episode["rewards"] == []
    result = replay(path, 0)
    assert result.reproduced and "then the same error: ModelError: " in str(result)
    assert "the run ended while agents" in str(result)


def test_a_refused_action_is_not_recorded(swarm_model, tmp_path):
    path = tmp_path / "refused.jsonl"
    with recorder(swarm_model, path, agents=2, ticks=2) as env:
        env.reset(seed=0)
        with pytest.raises(ValueError, match="agent walker_1 is not in its action space"):
            env.step({"walker_0": 1, "walker_1": 7})
        with pytest.raises(ValueError, match="no action for agents walker_1"):
            env.step({"walker_0": 1})
        env.step({"walker_0": 1, "walker_1": 1})
    episode = lines(path)[1]
    assert episode["actions"] == [{"walker_0": [1.0], "walker_1": [1.0]}]
    assert replay(path, 0).reproduced


def test_the_cli_lists_and_replays_a_multi_agent_recording(swarm_model, tmp_path):
    path = tmp_path / "swarm.jsonl"
    env = recorder(swarm_model, path, agents=2, ticks=3)
    run_episode(env, 9, np.random.default_rng(9))
    env.close()
    listed = subprocess.run([sys.executable, "-m", "alpyperl", "replay", str(path)], capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert listed.returncode == 0 and "1 episode\n" in listed.stdout and "agents   2" in listed.stdout, listed
    replayed = subprocess.run([sys.executable, "-m", "alpyperl", "replay", str(path), "--episode", "0"],
                              capture_output=True, text=True, timeout=120, cwd=REPO)
    assert replayed.returncode == 0 and "episode 0 reproduced: 3 steps identical" in replayed.stdout, replayed


MA_HEADER = {"alpyperl_recording": 2, "alpyperl_version": "2.0.0", "environment": "multi_agent", "model": "MODEL",
             "max_agents": 4, "step_timeout": 10.0, "jvm_options": [], "created": "2026-01-01T00:00:00+0000"}
MA_EPISODE = {"episode": 0, "seed": 3, "env_params": {}, "actions": [{"walker_0": [1.0]}],
              "observations": [{"walker_0": [1, 1, 1, 0.0, 0.0]}, {"walker_0": [1, 1, 1, 0.0, 1.0]}],
              "rewards": [{"walker_0": 0.0}], "ended": [{}], "terminated": False, "truncated": False,
              "abandoned": True, "error": None, "steps": 1, "return": 0.0}


@pytest.mark.parametrize("header, episode, line, field", [
    ({**MA_HEADER, "max_agents": 0}, MA_EPISODE, "line 1", "'max_agents' must be a positive whole number"),
    ({k: v for k, v in MA_HEADER.items() if k != "max_agents"}, MA_EPISODE, "line 1", "'max_agents' is missing"),
    ({**MA_HEADER, "environment": "vector"}, MA_EPISODE, "line 1", "'environment' must be 'single_agent' or"),
    ({**MA_HEADER, "alpyperl_recording": 3}, MA_EPISODE, "line 1", "recording format 3 is not supported"),
    (MA_HEADER, {**MA_EPISODE, "actions": [[1.0]]}, "line 2", "'actions' must be a list of objects of agent id"),
    (MA_HEADER, {**MA_EPISODE, "rewards": [{"walker_0": "1"}]}, "line 2", "'rewards' must be a list of objects"),
    (MA_HEADER, {**MA_EPISODE, "ended": [{"walker_0": "gone"}]}, "line 2", "'ended' must be"),
    (MA_HEADER, {**MA_EPISODE, "ended": []}, "line 2", "the field 'ended' has 0 entries; 1 rewards need 1"),
    (MA_HEADER, {**MA_EPISODE, "actions": [{"walker": [1.0]}]}, "line 2", "'walker' is no agent id"),
    (MA_HEADER, {k: v for k, v in MA_EPISODE.items() if k != "ended"}, "line 2", "'ended' is missing"),
], ids=["max_agents 0", "no max_agents", "unknown environment", "format 3", "actions not per agent",
        "reward a string", "unknown ending", "ended too short", "no agent id", "no ended"])
def test_a_damaged_multi_agent_recording_is_one_line_naming_line_and_field(header, episode, line, field, swarm_model,
                                                                          tmp_path):
    recording = tmp_path / "damaged.jsonl"
    recording.write_text(json.dumps({**header, "model": str(swarm_model)}) + "\n" + json.dumps(episode) + "\n")
    for args in (["--episode", "0"], []):
        result = subprocess.run([sys.executable, "-m", "alpyperl", "replay", str(recording), *args],
                                capture_output=True, text=True, timeout=120, cwd=REPO)
        assert result.returncode == 1, result.stdout + result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert f"{line} of {recording}" in result.stderr and field in result.stderr, result.stderr


def test_the_undamaged_multi_agent_recording_reads(swarm_model, tmp_path):
    """The base of the damaged recordings above is valid: each test fails for its damage alone."""
    recording = tmp_path / "good.jsonl"
    recording.write_text(json.dumps({**MA_HEADER, "model": str(swarm_model)}) + "\n" + json.dumps(MA_EPISODE) + "\n")
    [episode] = read_recording(recording)
    assert episode.multi_agent and episode.data["ended"] == [{}]


def test_a_single_agent_recording_of_format_1_still_replays(cartpole_model, tmp_path):
    from alpyperl import AnyLogicEnv

    path = tmp_path / "new.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
    env.reset(seed=3)
    for _ in range(5):
        env.step(1)
    env.close()
    header, episode = lines(path)
    assert header["alpyperl_recording"] == 2 and header["environment"] == "single_agent"
    old = {key: value for key, value in header.items() if key != "environment"} | {"alpyperl_recording": 1}
    (tmp_path / "old.jsonl").write_text(json.dumps(old) + "\n" + json.dumps(episode) + "\n")
    [read] = read_recording(tmp_path / "old.jsonl")
    assert not read.multi_agent
    assert replay(tmp_path / "old.jsonl", 0).reproduced


def test_the_recorder_refuses_other_environments(tmp_path):
    with pytest.raises(TypeError, match="records an AnyLogicMultiAgentEnv, not dict"):
        MultiAgentEpisodeRecorder({}, tmp_path / "x.jsonl")
    with pytest.raises(RecordingError, match="does not exist"):
        read_recording(tmp_path / "nothing.jsonl")
