"""The Gymnasium id that importing alpyperl registers: ``gym.make`` and ``gym.make_vec`` make its
environments, with the settings as keywords."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import alpyperl
from alpyperl import AnyLogicEnv, AnyLogicVectorEnv


def test_gym_make_makes_an_anylogic_env(cartpole_model):
    env = gym.make(alpyperl.GYMNASIUM_ID, model=cartpole_model, env_params={"poleLength": 0.25})
    try:
        assert alpyperl.GYMNASIUM_ID == "alpyperl/AnyLogic-v0"
        assert isinstance(env.unwrapped, AnyLogicEnv) and env.unwrapped.env_params == {"poleLength": 0.25}
        observation, info = env.reset(seed=3)
        assert env.observation_space.contains(observation) and info["seed"] == 3
        env.step(env.action_space.sample())
    finally:
        env.close()


def test_gym_make_vec_makes_an_anylogic_vector_env_or_a_sync_vector_env_of_them(cartpole_model):
    envs = gym.make_vec(alpyperl.GYMNASIUM_ID, num_envs=3, model=cartpole_model)
    try:
        assert isinstance(envs, AnyLogicVectorEnv) and envs.num_envs == 3
        envs.reset(seed=0)
        envs.step(np.ones(3, dtype=np.int64))
    finally:
        envs.close()
    sync = gym.make_vec(alpyperl.GYMNASIUM_ID, num_envs=2, vectorization_mode="sync", model=cartpole_model)
    try:
        assert all(isinstance(env.unwrapped, AnyLogicEnv) for env in sync.envs)
        sync.reset(seed=0)
        sync.step(np.ones(2, dtype=np.int64))
    finally:
        sync.close()
