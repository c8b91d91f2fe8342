"""Recording episodes (EpisodeRecorder) and replaying them (replay): exact round trips, the first
divergent step, failing episodes recorded with their error, and clear errors for bad files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from alpyperl import AnyLogicEnv, ModelError
from alpyperl.recording import EpisodeRecorder, RecordingError
from alpyperl.replay import flatten, read_recording, recorded_episode, replay, unflatten

REPO = Path(__file__).resolve().parents[1]
PATIENT = 10.0


def load_inventory():
    spec = importlib.util.spec_from_file_location("inventory_example", REPO / "examples" / "inventory" / "inventory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(env, seed, actions_rng, max_steps=None):
    """One episode with random actions; returns (observations, actions, rewards, flags) as seen by the caller."""
    observation, info = env.reset(seed=seed)
    observations, actions, rewards = [observation], [], []
    done = False
    while not done and (max_steps is None or len(actions) < max_steps):
        action = actions_rng(env)
        observation, reward, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        actions.append(action)
        rewards.append(reward)
        done = terminated or truncated
    return observations, actions, rewards, info


def recording_lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_cartpole_episodes_round_trip_exactly_and_replay(cartpole_model, tmp_path):
    path = tmp_path / "episodes.jsonl"
    rng = np.random.default_rng(0)
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model, env_params={"poleLength": 0.6}), path)
    seen = [run(env, seed, lambda e: int(rng.integers(2))) for seed in (5, 6)]
    seen.append(run(env, 7, lambda e: int(rng.integers(2)), max_steps=4))  # abandoned by the next reset
    env.reset(seed=8)  # abandoned by close() with no step
    env.close()

    header, *episodes = recording_lines(path)
    assert header["model"] == str(cartpole_model) and header["observation_space"] is None
    assert [episode["episode"] for episode in episodes] == [0, 1, 2, 3]
    for episode, (observations, actions, rewards, info) in zip(episodes, seen):
        assert episode["seed"] == info["seed"] and episode["env_params"] == {"poleLength": 0.6}
        assert episode["observations"] == [np.asarray(o, dtype=np.float64).tolist() for o in observations]
        assert [unflatten(env.observation_space, o) for o in episode["observations"]][-1].tolist() \
            == observations[-1].tolist()
        assert episode["actions"] == [[float(a)] for a in actions]
        assert episode["rewards"] == rewards and episode["return"] == sum(rewards)
    assert [episode["terminated"] or episode["truncated"] for episode in episodes] == [True, True, False, False]
    assert [episode["abandoned"] for episode in episodes] == [False, False, True, True]
    assert episodes[3]["steps"] == 0 and len(episodes[3]["observations"]) == 1

    for index, episode in enumerate(episodes):
        result = replay(path, index)
        assert result.reproduced, str(result)
        assert result.steps == episode["steps"]
        assert str(result) == f"episode {index} reproduced: {episode['steps']} steps identical"


def test_dict_observations_of_the_inventory_model_round_trip(tmp_path):
    inventory = load_inventory()
    path = tmp_path / "inventory.jsonl"
    env = EpisodeRecorder(inventory.make_env(horizonDays=5, demandRate=35.0), path)
    policy = inventory.BaseStockPolicy(env.unwrapped.env_params)
    observation, _ = env.reset(seed=3)
    seen, done = [observation], False
    while not done:
        observation, reward, terminated, truncated, _ = env.step(policy(observation))
        seen.append(observation)
        done = terminated or truncated
    env.close()

    header, episode = recording_lines(path)
    assert header["observation_space"] is not None and header["action_space"] is not None  # given in Python
    assert episode["env_params"] == {"horizonDays": 5, "demandRate": 35.0}
    assert len(episode["observations"]) == len(seen) > 5
    for flat, original in zip(episode["observations"], seen):
        assert len(flat) == 13  # backlog 3, day 1, hour 1, on_hand 3, on_order 3, time 1, trigger 1
        restored = unflatten(env.observation_space, flat)
        assert restored.keys() == original.keys()
        for key in original:
            assert np.array_equal(restored[key], original[key]) and restored[key].dtype == original[key].dtype
        assert flatten(env.observation_space, restored) == flat
    result = replay(path, 0)
    assert result.reproduced and result.steps == episode["steps"], str(result)


def test_tampered_observation_is_the_first_divergent_step(cartpole_model, tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
    run(env, 11, lambda e: 1 - int(e.unwrapped.episode_seed % 2))
    env.close()
    header, episode = recording_lines(path)
    assert episode["steps"] > 6
    original = episode["observations"][5][2]
    episode["observations"][5][2] = original + 1e-12
    path.write_text(json.dumps(header) + "\n" + json.dumps(episode) + "\n")

    result = replay(path, 0)
    assert not result.reproduced and result.steps == 4
    divergence = result.divergence
    assert (divergence.step, divergence.what) == (5, "observation")
    assert divergence.detail == f"first at index 2: {original + 1e-12!r} vs {original!r}"
    assert str(result).startswith("episode 0 diverges at step 5 (step 0 to 4 identical): observation differs at "
                                  "step 5 (first at index 2:")


def test_other_parameters_diverge_at_the_first_step_they_change(cartpole_model, tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
    run(env, 2, lambda e: 0)
    env.close()
    header, episode = recording_lines(path)
    episode["env_params"] = {"poleLength": 0.9}  # the start state is the same, the physics differ
    path.write_text(json.dumps(header) + "\n" + json.dumps(episode) + "\n")
    result = replay(path, 0)
    assert (result.divergence.step, result.divergence.what) == (1, "observation")
    assert result.steps == 0


def test_episode_that_ends_earlier_in_the_replay_is_a_flag_divergence(cartpole_model, tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
    run(env, 2, lambda e: 0)
    env.close()
    header, episode = recording_lines(path)
    last = episode["steps"]
    # Pretend the recorded run went on: the replay terminates at the step where the recording did not.
    episode["actions"].append([0.0])
    episode["observations"].append(episode["observations"][-1])
    episode["rewards"].append(1.0)
    path.write_text(json.dumps(header) + "\n" + json.dumps(episode) + "\n")
    result = replay(path, 0)
    assert (result.divergence.step, result.divergence.what) == (last, "terminated")
    assert (result.divergence.recorded, result.divergence.replayed) == (False, True)


def test_episode_where_the_model_threw_is_recorded_with_its_error_and_replays(test_model, tmp_path):
    path = tmp_path / "faulty.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(test_model, step_timeout=PATIENT), path)
    env.reset(seed=1)
    env.step(1)
    with pytest.raises(ValueError):
        env.step(7)  # refused by the action space: not recorded, the episode goes on
    env.step(2)
    with pytest.raises(ModelError):
        env.reset(seed=4, options={"env_params": {"fault": "takeAction", "faultAtStep": 3}})
        env.step(0)
        env.step(1)
        env.step(2)
    with pytest.raises(ModelError):
        env.reset(seed=5, options={"env_params": {"fault": "startup", "faultAtStep": 0}})
    env.close()

    episodes = read_recording(path)
    assert [e.data["abandoned"] for e in episodes] == [True, False, False]
    assert episodes[0].data["actions"] == [[1.0], [2.0]]
    failed = episodes[1].data
    assert failed["seed"] == 4 and failed["env_params"] == {"fault": "takeAction", "faultAtStep": 3}
    assert failed["actions"] == [[0.0], [1.0], [2.0]] and len(failed["observations"]) == 3
    assert failed["error"].startswith("ModelError: The model FaultyModel failed: takeAction() of the model threw "
                                      "java.lang.IllegalArgumentException")
    assert "FaultyModel.takeAction(FaultyModel.java:" in failed["error"]  # the Java stack trace too
    assert "failed: ModelError: The model FaultyModel failed: takeAction()" in episodes[1].summary()
    at_reset = episodes[2].data
    assert at_reset["seed"] == 5 and at_reset["observations"] == [] and "IllegalStateException" in at_reset["error"]

    result = replay(path, 1)
    assert result.reproduced and result.steps == 2, str(result)
    assert str(result).startswith("episode 1 reproduced: 2 steps identical, then the same error: ModelError: "
                                  "The model FaultyModel failed: takeAction() of the model threw "
                                  "java.lang.IllegalArgumentException")
    assert replay(path, 2).reproduced

    # The same actions without the fault: the replay does not fail where the recording did.
    lines = recording_lines(path)
    lines[2]["env_params"] = {"fault": "none", "faultAtStep": 3}
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = replay(path, 1)
    assert (result.divergence.step, result.divergence.what, result.divergence.replayed) == (3, "error", None)
    assert "the replay did not fail" in str(result)


def test_each_episode_is_in_the_file_as_soon_as_it_ends(cartpole_model, tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
    run(env, 1, lambda e: 0)
    env.reset(seed=2)
    env.step(0)
    assert len(read_recording(path)) == 1  # the finished episode, while the second still runs
    with open(path, "a") as cut:
        cut.write('{"episode": 1, "seed": 2, "acti')  # a line cut off by a crash is skipped
    assert [e.index for e in read_recording(path)] == [0]
    env.close()


def test_appending_to_a_recording_numbers_on(cartpole_model, tmp_path):
    path = tmp_path / "episodes.jsonl"
    for seed in (1, 2):
        env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
        run(env, seed, lambda e: 1)
        env.close()
    assert [(e.index, e.data["seed"]) for e in read_recording(path)] == [(0, 1), (1, 2)]
    assert replay(path, 1).reproduced


def test_a_recording_into_a_folder_that_does_not_exist_yet_makes_it(cartpole_model, tmp_path):
    path = tmp_path / "runs" / "today" / "episodes.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
    run(env, 3, lambda e: 1)
    env.close()
    assert [e.data["seed"] for e in read_recording(path)] == [3]


def test_bad_recordings_are_clear_errors(cartpole_model, tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        read_recording(tmp_path / "nothing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\n")
    with pytest.raises(RecordingError, match="line 1 of .* is not JSON"):
        read_recording(bad)
    bad.write_text('{"episode": 0}\n')
    with pytest.raises(RecordingError, match="neither a recording header nor an episode after one"):
        read_recording(bad)
    path = tmp_path / "episodes.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(cartpole_model), path)
    run(env, 1, lambda e: 0)
    env.close()
    with pytest.raises(RecordingError, match="has no episode 4; it has episodes 0 to 0"):
        recorded_episode(path, 4)


def test_recorder_refuses_what_it_cannot_replay(cartpole_model, tmp_path):
    import gymnasium as gym

    with pytest.raises(TypeError, match="records an AnyLogicEnv"):
        EpisodeRecorder(gym.make("CartPole-v1"), tmp_path / "x.jsonl")
    scaled = gym.wrappers.TransformObservation(
        AnyLogicEnv(cartpole_model), lambda o: o * 2, gym.spaces.Box(-np.inf, np.inf, (4,), np.float32))
    with pytest.raises(ValueError, match="must wrap the AnyLogicEnv before any wrapper that changes its spaces"):
        EpisodeRecorder(scaled, tmp_path / "x.jsonl")
    scaled.close()


def test_rllib_record_dir_records_each_environment_to_its_own_file(cartpole_model, tmp_path):
    pytest.importorskip("ray.rllib")
    import os

    from ray.rllib.env.env_context import EnvContext

    from alpyperl import rllib

    config = EnvContext({"model": str(cartpole_model), "record_dir": str(tmp_path / "rec")}, worker_index=3)
    envs = [rllib.make_env(config), rllib.make_env(config)]
    for env in envs:
        run(env, 9, lambda e: 1)
        env.close()
    files = sorted(os.listdir(tmp_path / "rec"))
    assert len(files) == 2 and all(name.startswith("episodes-runner3-env") and name.endswith(
        f"-pid{os.getpid()}.jsonl") for name in files)
    first, second = (read_recording(tmp_path / "rec" / name)[0] for name in files)
    assert first.data["seed"] != second.data["seed"]  # DistinctSeeds: each environment has its own seeds
    assert replay(tmp_path / "rec" / files[1], 0).reproduced
