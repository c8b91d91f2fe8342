"""The Java CartPole example against Gymnasium's CartPole-v1: same physics, start states, rewards, limits."""

import re
import warnings

import gymnasium as gym
import numpy as np
import pytest

from alpyperl import AnyLogicEnv
from alpyperl.errors import ModelError


@pytest.fixture(scope="module")
def java_cartpole(cartpole_model):
    env = AnyLogicEnv(model=cartpole_model)
    yield env
    env.close()


def balancing_action(observation, rng, noise):
    """A policy that keeps the pole up for a long time, with some random pushes."""
    if rng.random() < noise:
        return int(rng.integers(2))
    return int(observation[2] + 0.5 * observation[3] > 0)


def gym_trajectory(seed, noise):
    """Gymnasium's episode: start state, actions, observations, rewards and how it ended."""
    env = gym.make("CartPole-v1")
    observation, _ = env.reset(seed=seed)
    start = env.unwrapped.state.copy()
    rng = np.random.default_rng(seed)
    actions, observations, rewards = [], [], []
    for _ in range(500):
        action = balancing_action(observation, rng, noise)
        observation, reward, terminated, truncated, _ = env.step(action)
        actions.append(action)
        observations.append(observation)
        rewards.append(reward)
        if terminated or truncated:
            break
    env.close()
    return start, actions, np.array(observations), rewards, terminated


@pytest.mark.parametrize("seed, noise", [(0, 0.0), (1, 0.1), (2, 0.3), (3, 1.0), (4, 0.05)])
def test_same_trajectory_as_gymnasium(java_cartpole, seed, noise):
    start, actions, expected, rewards, terminated = gym_trajectory(seed, noise)
    observation, _ = java_cartpole.reset(options={"env_params": {"initialState": ",".join(repr(float(v)) for v in start)}})
    np.testing.assert_allclose(observation, start.astype(np.float32), atol=1e-6)
    observed = []
    for step, action in enumerate(actions):
        observation, reward, java_terminated, java_truncated, _ = java_cartpole.step(action)
        observed.append(observation)
        assert reward == rewards[step]
        last = step == len(actions) - 1
        assert java_terminated == (terminated and last), f"termination differs at step {step + 1}"
        assert java_truncated == (last and not terminated), f"truncation differs at step {step + 1}"
    np.testing.assert_allclose(np.array(observed), expected, atol=1e-6, rtol=0)


def test_parity_covers_both_endings():
    """The parametrised cases include episodes that terminate early and one that reaches 500 steps."""
    lengths = {seed: len(gym_trajectory(seed, noise)[1]) for seed, noise in [(0, 0.0), (3, 1.0)]}
    assert lengths[0] == 500 and lengths[3] < 100


def test_start_states_are_uniform_within_five_hundredths(cartpole_model):
    env = AnyLogicEnv(model=cartpole_model)
    starts = np.array([env.reset(seed=seed)[0] for seed in range(300)])
    env.close()
    assert starts.min() >= -0.05 and starts.max() < 0.05
    assert starts.min() < -0.045 and starts.max() > 0.045  # spread over the whole interval
    assert abs(starts.mean()) < 0.01


def test_spaces_match_gymnasium_with_finite_velocity_bounds(java_cartpole):
    reference = gym.make("CartPole-v1")
    assert java_cartpole.action_space == reference.action_space
    assert java_cartpole.observation_space.shape == reference.observation_space.shape
    assert java_cartpole.observation_space.dtype == np.float32
    positions = [0, 2]  # the cart's position and the pole's angle: Gymnasium's bounds
    np.testing.assert_allclose(java_cartpole.observation_space.high[positions], reference.observation_space.high[positions])
    np.testing.assert_allclose(java_cartpole.observation_space.low[positions], reference.observation_space.low[positions])
    # the velocities, unbounded in Gymnasium, within what the physics allows (CartPole.java)
    assert java_cartpole.observation_space.high[[1, 3]].tolist() == [20.0, 20.0]
    assert java_cartpole.observation_space.low[[1, 3]].tolist() == [-20.0, -20.0]


def pushing_policies(rng):
    """Policies that drive the cart and the pole as hard as they can, balance, or act at random."""
    return {
        "random": lambda o: int(rng.integers(2)),
        "balance": lambda o: int(o[2] + 0.5 * o[3] > 0),
        "speed up the cart": lambda o: int(o[1] >= 0) if abs(o[0]) < 2.0 else int(o[0] < 0),
        "swing the pole": lambda o: int(o[3] < 0),
        "balance, noisily": lambda o: int(o[2] + 2.0 * o[3] > 0) if rng.random() < 0.9 else int(rng.integers(2)),
    }


@pytest.mark.parametrize("pole_length", [0.1, 0.5, 10.0])
def test_observations_stay_within_the_space(cartpole_model, pole_length):
    """From start states at the limits, with the shortest, default and longest pole, whatever the pushes."""
    rng = np.random.default_rng(int(pole_length * 10))
    env = AnyLogicEnv(model=cartpole_model, env_params={"poleLength": pole_length, "maxSteps": 5000})
    largest = np.zeros(4)
    try:
        for name, policy in pushing_policies(rng).items():
            for _ in range(6):
                start = rng.uniform(-1, 1, 4) * [2.4, 2.0, 0.2094, 2.0]
                observation, _ = env.reset(options={"env_params": {"initialState": ",".join(repr(float(v)) for v in start)}})
                done = False
                while not done:
                    observation, _, terminated, truncated, _ = env.step(policy(observation))
                    assert env.observation_space.contains(observation), (name, observation)
                    largest = np.maximum(largest, np.abs(observation))
                    done = terminated or truncated
    finally:
        env.close()
    assert largest[1] > 2.5  # the policies did push the cart beyond any start speed (at most 2)


@pytest.mark.parametrize("params, message", [
    ({"poleLength": 0.05}, "poleLength (half the pole's length) must be from 0.1 to 10.0 m, got 0.05"),
    ({"initialState": "3,0,0,0"}, "initialState must lie where an episode goes on"),
    ({"initialState": "0,0,0,2.5"}, "initialState must lie where an episode goes on"),
])
def test_parameters_outside_the_bounds_are_refused(cartpole_model, params, message):
    env = AnyLogicEnv(model=cartpole_model, env_params=params)
    try:
        with pytest.raises(ModelError, match=re.escape(message)):
            env.reset(seed=0)
    finally:
        env.close()


def test_seed_in_info_replays_the_episode(java_cartpole):
    _, info = java_cartpole.reset(options={"env_params": {"initialState": ""}})
    first = replay(java_cartpole, info["seed"])
    again = replay(java_cartpole, info["seed"])
    other = replay(java_cartpole, info["seed"] + 1)
    assert np.array_equal(first, again)
    assert not np.array_equal(first[0], other[0])


def replay(env, seed):
    observation, info = env.reset(seed=seed)
    assert info["seed"] == seed
    observations = [observation]
    for action in [0, 1, 1, 0, 1, 0, 0, 1] * 3:
        observation, _, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        if terminated or truncated:
            break
    return np.array(observations)


def test_unseeded_resets_differ_and_seeded_sequences_repeat(cartpole_model):
    env = AnyLogicEnv(model=cartpole_model)
    env.reset(seed=11)
    seeds = [env.reset()[1]["seed"] for _ in range(5)]
    env.reset(seed=11)
    assert [env.reset()[1]["seed"] for _ in range(5)] == seeds
    assert len(set(seeds)) == 5
    env.close()


def test_pole_length_parameter_changes_the_dynamics(cartpole_model):
    start = {"initialState": "0,0,0.03,0"}
    short = AnyLogicEnv(model=cartpole_model, env_params={**start, "poleLength": 0.25})
    long = AnyLogicEnv({"model": cartpole_model, "env_params": {**start, "poleLength": 1.0}})
    short.reset()
    long.reset()
    short_obs = short.step(0)[0]
    long_obs = long.step(0)[0]
    short.close()
    long.close()
    # A shorter pole falls faster.
    assert abs(short_obs[3]) > abs(long_obs[3]) > 0


def test_gymnasium_env_checker_passes_without_a_warning(java_cartpole):
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. infinite bounds: "Box observation space maximum value is infinity"
        check_env(java_cartpole, skip_render_check=True)
