"""Agent types whose spaces are defined in Python (tests/models' PythonSpacesSwarmModel: its walkers'
getObservationSpace / getActionSpace return null): the environment and RLlib take them by type, Java
lays its table out and checks actions with them; a mismatch or a missing space names the type."""

from __future__ import annotations


import numpy as np
import pytest
import ray
import ray.tune.trainable.trainable as ray_trainable
from gymnasium import spaces
from ray.rllib.algorithms.ppo import PPOConfig

from alpyperl import AnyLogicMultiAgentEnv, rllib
from alpyperl.errors import SpaceDefinitionError
from conftest import copy_of_test_model

WALKER_OBSERVATION = spaces.Box(-1e6, 1e6, (2,), np.float64)
WALKER_ACTION = spaces.Discrete(3)


@pytest.fixture(scope="module")
def python_spaces_model(test_model, tmp_path_factory):
    """A copy of the test model folder whose model class is PythonSpacesSwarmModel."""
    return copy_of_test_model(test_model, tmp_path_factory.mktemp("python_spaces"), "PythonSpacesSwarmModel")


def open_env(model, **settings):
    return AnyLogicMultiAgentEnv(model=model, model_output="off", **settings)


def test_walkers_step_with_the_spaces_given_in_python(python_spaces_model):
    with open_env(python_spaces_model, observation_spaces={"walker": WALKER_OBSERVATION},
                  action_spaces={"walker": WALKER_ACTION}, env_params={"agents": 4, "ticks": 3}) as env:
        assert env.action_spaces_by_type == {"walker": WALKER_ACTION, "scout": spaces.MultiDiscrete([2, 3])}
        walker = env.observation_spaces_by_type["walker"]
        assert walker["observations"] == WALKER_OBSERVATION
        assert walker["action_mask"].shape == (3,)  # the mask's size comes from the action space given in Python
        observations, _ = env.reset(seed=5)
        assert sorted(observations) == [f"walker_{i}" for i in range(4)]
        positions = {agent: int(obs["observations"][0]) for agent, obs in observations.items()}
        observations, rewards, _, _, _ = env.step({agent: 2 for agent in observations})  # all step right
        for agent, position in positions.items():
            assert int(observations[agent]["observations"][0]) == position + 1
            assert rewards[agent] == -abs(position + 1)
        with pytest.raises(ValueError, match=r"the action of agent walker_\d is not in its action space Discrete\(3\)"):
            env.step({agent: 3 for agent in observations})  # checked in Java against the agreed space
        observations, *_ = env.step({agent: 1 for agent in observations})  # nothing changed: the same agents wait
        assert sorted(observations) == [f"walker_{i}" for i in range(4)]


def test_a_space_the_model_also_defines_must_equal_it(python_spaces_model):
    with open_env(python_spaces_model, observation_spaces={"walker": WALKER_OBSERVATION},
                  action_spaces={"walker": WALKER_ACTION, "scout": spaces.MultiDiscrete([2, 3])}) as env:
        assert env.action_spaces_by_type["scout"] == spaces.MultiDiscrete([2, 3])
    with pytest.raises(SpaceDefinitionError, match=(
            r"the action space of agent type 'scout' is defined both in the model \(MultiDiscrete\(\[2 3\]\)\) and in "
            r"Python \(MultiDiscrete\(\[2 4\]\)\), and they differ; define it in one place only: remove 'scout' from "
            r"action_spaces or make the model's getActionSpace\(\"scout\"\) return null")):
        open_env(python_spaces_model, observation_spaces={"walker": WALKER_OBSERVATION},
                 action_spaces={"walker": WALKER_ACTION, "scout": spaces.MultiDiscrete([2, 4])})


def test_a_missing_space_names_the_type_and_what_to_pass(python_spaces_model):
    with pytest.raises(SpaceDefinitionError, match=(
            r"the action space of agent type 'walker' is defined neither in the model \(its "
            r"getActionSpace\(\"walker\"\) returns null\) nor in Python \(pass action_spaces=\{'walker': \.\.\.\} "
            r"to AnyLogicMultiAgentEnv\)")):
        open_env(python_spaces_model, observation_spaces={"walker": WALKER_OBSERVATION})
    with pytest.raises(SpaceDefinitionError, match=r"observation_spaces names agent types the model does not have: "
                                                   r"\['robot'\]; its agent types are \['walker', 'scout'\]"):
        open_env(python_spaces_model, observation_spaces={"walker": WALKER_OBSERVATION, "robot": WALKER_OBSERVATION},
                 action_spaces={"walker": WALKER_ACTION})


def test_rllib_trains_with_the_spaces_from_env_config(python_spaces_model, tmp_path, monkeypatch):
    monkeypatch.setattr(ray_trainable, "DEFAULT_STORAGE_PATH", str(tmp_path / "ray_results"))
    env_config = {"model": str(python_spaces_model), "model_output": "off", "env_params": {"agents": 3, "ticks": 20},
                  "observation_spaces": {"walker": WALKER_OBSERVATION}, "action_spaces": {"walker": WALKER_ACTION}}
    config = (PPOConfig()
              .environment(rllib.register_multi_agent_env(), env_config=env_config)
              .env_runners(num_env_runners=0, num_envs_per_env_runner=1, rollout_fragment_length=60)
              .training(train_batch_size_per_learner=60, minibatch_size=30, num_epochs=1)
              .debugging(seed=1))
    config = rllib.multi_agent_modules(config, env_config, model_config={"fcnet_hiddens": [8]})
    walker = config.rl_module_spec.rl_module_specs["walker"]
    assert walker.action_space == WALKER_ACTION
    assert walker.observation_space["observations"] == WALKER_OBSERVATION
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        algo = rllib.build_algo(config)
        try:
            result = algo.train()
            assert rllib.env_steps(result) >= 60
        finally:
            algo.stop()
    finally:
        ray.shutdown()


def test_a_recording_keeps_the_spaces_given_in_python_and_replays_with_them(python_spaces_model, tmp_path):
    from alpyperl.recording import EpisodeRecorder
    from alpyperl.replay import read_recording, replay

    path = tmp_path / "walkers.jsonl"
    env = EpisodeRecorder(open_env(python_spaces_model, observation_spaces={"walker": WALKER_OBSERVATION},
                                   action_spaces={"walker": WALKER_ACTION}, env_params={"agents": 2, "ticks": 4}), path)
    observations, _ = env.reset(seed=11)
    done = False
    while not done:
        observations, _, terminateds, truncateds, _ = env.step({agent: 2 for agent in observations
                                                                 if agent in env.waiting_agents})
        done = terminateds["__all__"] or truncateds["__all__"]
    env.close()
    (episode,) = read_recording(path)
    assert set(episode.header["observation_spaces"]) == set(episode.header["action_spaces"]) == {"walker"}
    assert episode.data["steps"] > 0
    assert replay(path, 0).reproduced  # without the spaces the model leaves to Python it could not open


def test_a_multi_agent_header_with_a_broken_space_is_named(python_spaces_model, tmp_path):
    import json

    from alpyperl.errors import RecordingError
    from alpyperl.replay import read_recording

    header = {"alpyperl_recording": 2, "environment": "multi_agent", "model": str(python_spaces_model),
              "max_agents": 8, "step_timeout": 60.0, "jvm_options": [],
              "observation_spaces": {"walker": '{"type": "NoSuchSpace"}'}, "action_spaces": None}
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(header) + "\n")
    with pytest.raises(RecordingError, match=r"line 1 of .*: the field 'observation_spaces' \(agent type 'walker'\) "
                                             r"is no space alpyperl can use"):
        read_recording(path)
