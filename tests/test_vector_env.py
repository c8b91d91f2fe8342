"""AnyLogicVectorEnv: many model instances stepped with one call, with Gymnasium's next-step autoreset."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, ModelError, ResetNeeded


def separate_envs_step(envs, done, actions):
    """What N separate AnyLogicEnvs return for one vector step, autoresetting the finished ones."""
    observations, rewards, terminated, truncated = [], [], [], []
    for index, env in enumerate(envs):
        if done[index]:
            observation, _ = env.reset()
            reward, ended, cut = 0.0, False, False
        else:
            observation, reward, ended, cut, _ = env.step(actions[index])
        observations.append(observation)
        rewards.append(reward)
        terminated.append(ended)
        truncated.append(cut)
        done[index] = ended or cut
    return np.array(observations), np.array(rewards), np.array(terminated), np.array(truncated)


def test_trajectories_equal_those_of_separate_environments(cartpole_model):
    n = 4
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=n, env_params={"maxSteps": 40})
    singles = [AnyLogicEnv(model=cartpole_model, env_params={"maxSteps": 40}) for _ in range(n)]
    observations, info = vector.reset(seed=100)
    expected = np.array([env.reset(seed=100 + i)[0] for i, env in enumerate(singles)])
    assert np.array_equal(observations, expected)
    assert info["seed"].tolist() == [100, 101, 102, 103] and info["_seed"].all()

    rng = np.random.default_rng(0)
    done = np.zeros(n, dtype=bool)
    endings = autoresets = 0
    for _ in range(200):
        actions = rng.integers(0, 2, n)
        resetting = done.copy()
        got = vector.step(actions)
        want = separate_envs_step(singles, done, actions)
        for value, reference in zip(got[:4], want):
            assert np.array_equal(value, reference)
        endings += int((got[2] | got[3]).sum())
        if resetting.any():
            autoresets += 1
            assert got[4]["_seed"].tolist() == resetting.tolist()
    assert endings > 10 and autoresets > 5  # both terminations and 40-step truncations occurred
    vector.close()
    for env in singles:
        env.close()


def test_spaces_from_python_with_dict_observations_and_multidiscrete_actions(repo_root):
    spec = importlib.util.spec_from_file_location("inventory_example", repo_root / "examples/inventory/inventory.py")
    inventory = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(inventory)
    vector = AnyLogicVectorEnv(model=inventory.MODEL_DIR, num_envs=3, observation_space=inventory.observation_space(),
                               action_space=inventory.action_space())
    assert vector.single_observation_space == inventory.observation_space()
    assert vector.single_action_space == inventory.action_space() and vector.action_space.shape == (3, 3)
    observations, _ = vector.reset(seed=5)
    assert vector.observation_space.contains(observations)
    single = inventory.make_env()
    first, _ = single.reset(seed=6)
    for key in first:
        assert np.array_equal(observations[key][1], first[key])
    actions = np.array([[1, 2, 0], [0, 0, 0], [3, 3, 3]])
    observations, rewards, _, _, _ = vector.step(actions)
    expected, reward, _, _, _ = single.step(actions[1])
    assert vector.observation_space.contains(observations)
    assert rewards[1] == reward and all(np.array_equal(observations[key][1], expected[key]) for key in expected)
    with pytest.raises(ValueError, match="MultiDiscrete"):
        vector.step(np.array([[1, 2, 0], [0, 0, 0], [3, 3, 9]]))
    vector.close()
    single.close()


def test_a_failing_instance_is_named_and_reset_recovers(test_model):
    vector = AnyLogicVectorEnv(model=test_model, num_envs=3, step_timeout=10.0)
    vector.reset(seed=1, options={"env_params": {"fault": "none"}})
    vector.step(np.array([0, 1, 2]))
    vector.reset(seed=1, options={"env_params": {"fault": "takeAction", "faultAtStep": 2}})
    vector.step(np.array([0, 1, 2]))
    with pytest.raises(ModelError, match=r"\[environment 0\].*takeAction\(\)"):
        vector.step(np.array([0, 1, 2]))
    with pytest.raises(ResetNeeded):
        vector.step(np.array([0, 1, 2]))
    vector.reset(seed=2, options={"env_params": {"fault": "none"}})
    observations, rewards, terminated, truncated, _ = vector.step(np.array([1, 1, 1]))
    assert rewards.tolist() == [1.0, 1.0, 1.0] and not terminated.any() and not truncated.any()
    vector.close()


def test_settings_as_one_mapping_as_rllib_passes_them(cartpole_model):
    vector = AnyLogicVectorEnv({"model": cartpole_model, "num_envs": 2, "env_params": {"poleLength": 0.25}})
    assert vector.num_envs == 2 and vector.env_params == {"poleLength": 0.25}
    vector.close()
    with pytest.raises(ValueError, match="num_envs"):
        AnyLogicVectorEnv(model=cartpole_model, num_envs=0)
    with pytest.raises(TypeError, match="unknown setting"):
        AnyLogicVectorEnv({"model": cartpole_model, "num_env": 2})


def test_closing_ends_every_model_thread(cartpole_model):
    import jpype

    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=5)
    vector.reset(seed=0)
    names = [str(session.getModelThreadName()) for session in vector._sessions]
    vector.close()
    alive = {str(t.getName()) for t in jpype.JClass("java.lang.Thread").getAllStackTraces().keySet()}
    assert not alive & set(names)
