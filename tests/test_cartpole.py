"""The Java CartPole example against Gymnasium's CartPole-v1: same physics, start states, rewards, limits."""

import gymnasium as gym
import numpy as np
import pytest

from alpyperl import AnyLogicEnv


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


def test_spaces_match_gymnasium(java_cartpole):
    reference = gym.make("CartPole-v1")
    assert java_cartpole.action_space == reference.action_space
    assert java_cartpole.observation_space.shape == reference.observation_space.shape
    assert java_cartpole.observation_space.dtype == np.float32
    np.testing.assert_allclose(java_cartpole.observation_space.high, reference.observation_space.high)
    np.testing.assert_allclose(java_cartpole.observation_space.low, reference.observation_space.low)


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


# CartPole-v1's velocity bounds are infinite too; the checker warns about that for both.
@pytest.mark.filterwarnings("ignore:.*Box observation space (minimum|maximum) value is")
def test_gymnasium_env_checker_passes(java_cartpole):
    from gymnasium.utils.env_checker import check_env

    check_env(java_cartpole, skip_render_check=True)
