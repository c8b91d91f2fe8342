"""The inventory example (examples/inventory): a discrete-event Java model whose spaces are
defined in Python. Needs the built model: run `gradle build` in the repository root first."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from alpyperl.errors import ModelError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "inventory"


def _load_example():
    spec = importlib.util.spec_from_file_location("inventory_example", EXAMPLE / "inventory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


inventory = _load_example()
SEEDS = range(8)


def _require_model() -> None:
    assert (inventory.MODEL_DIR / "alpyperl-model.properties").is_file(), (
        f"the inventory model is not built ({inventory.MODEL_DIR} is missing): run `gradle build` "
        "in the repository root before the tests")


@pytest.fixture(scope="module")
def env():
    _require_model()
    environment = inventory.make_env()
    yield environment
    environment.close()


@pytest.fixture
def make_env():
    """Environments with non-default parameters, closed after the test."""
    _require_model()
    made = []

    def make(**env_params):
        made.append(inventory.make_env(**env_params))
        return made[-1]

    yield make
    for environment in made:
        environment.close()


def _rollout(env, seed, actions):
    """Observations (the reset one first) and rewards of one episode played with ``actions``."""
    observation, info = env.reset(seed=seed)
    assert info["seed"] == seed
    observations, rewards = [observation], []
    for action in actions:
        observation, reward, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        rewards.append(reward)
        if terminated or truncated:
            return observations, rewards
    raise AssertionError(f"the episode did not end within {len(actions)} decisions")


def _fixed_actions(count=400, seed=123):
    return np.random.default_rng(seed).integers(0, inventory.ORDER_LEVELS, size=(count, len(inventory.PRODUCTS)))


def _same(first, second):
    """Whether two trajectories are identical, value for value."""
    (obs_a, rewards_a), (obs_b, rewards_b) = first, second
    if rewards_a != rewards_b or len(obs_a) != len(obs_b):
        return False
    return all(np.array_equal(a[key], b[key]) for a, b in zip(obs_a, obs_b) for key in a)


def test_base_stock_policy_beats_random_policy(env):
    heuristic = inventory.BaseStockPolicy()
    random_policy = inventory.RandomPolicy(seed=0)
    heuristic_returns = np.array([inventory.run_episode(env, heuristic, seed)[0] for seed in SEEDS])
    random_returns = np.array([inventory.run_episode(env, random_policy, seed)[0] for seed in SEEDS])
    assert (heuristic_returns < 0).all() and (random_returns < 0).all()  # returns are minus costs
    # Same seed, same customers: the heuristic wins every episode and costs less than half on average.
    assert (heuristic_returns > random_returns).all(), (heuristic_returns, random_returns)
    assert -heuristic_returns.mean() < 0.5 * -random_returns.mean(), (heuristic_returns.mean(), random_returns.mean())


def test_same_seed_and_actions_replay_the_episode(env, make_env):
    actions = _fixed_actions()
    reference = _rollout(env, 11, actions)
    assert len(reference[1]) > 20

    # Replayed while a second instance runs another seed in the same JVM, step by step interleaved.
    other = make_env()
    trajectories = [([env.reset(seed=11)[0]], []), ([other.reset(seed=12)[0]], [])]
    running = [True, True]
    for action in actions:
        for index, (environment, (observations, rewards)) in enumerate(zip((env, other), trajectories)):
            if running[index]:
                observation, reward, terminated, truncated, _ = environment.step(action)
                observations.append(observation)
                rewards.append(reward)
                running[index] = not (terminated or truncated)
        if not any(running):
            break
    assert not any(running)
    replay, different = trajectories
    assert _same(reference, replay)
    assert not _same(reference, different)
    assert reference[1] != different[1]


def test_unseeded_reset_reports_a_seed_that_replays_it(env):
    actions = _fixed_actions(seed=5)
    env.reset()
    seed = env.reset()[1]["seed"]
    first = _rollout(env, seed, actions)
    assert _same(first, _rollout(env, seed, actions))


def test_demand_rate_from_python_changes_demand(make_env):
    env = make_env(horizonDays=7)
    no_orders = np.zeros((50, len(inventory.PRODUCTS)), dtype=np.int64)
    initial = 60 * len(inventory.PRODUCTS)

    def demand(rate, seed):
        observation, info = env.reset(seed=seed, options={"env_params": {"demandRate": rate}})
        assert info["env_params"] == {"horizonDays": 7, "demandRate": rate}
        last = _rollout(env, seed, no_orders)[0][-1]
        # Nothing was ordered: everything that left the shelf or is owed was demanded.
        return initial - last["on_hand"].sum() + last["backlog"].sum()

    for seed in range(3):
        low, high = demand(10.0, seed), demand(50.0, seed)
        assert 0 < low and 3 * low < high, (seed, low, high)


def test_order_cost_is_the_reward_when_stock_costs_nothing(make_env):
    env = make_env(holdingCost=0.0, backlogCost=0.0, orderCost=25.0, horizonDays=5)
    actions = _fixed_actions(seed=9)
    _, rewards = _rollout(env, 3, actions)
    # A step's reward is minus the costs that followed its action: one fixed cost per order line.
    expected = [-25.0 * np.count_nonzero(action) for action in actions[: len(rewards)]]
    assert rewards == expected


def test_stockout_reviews_can_be_switched_off(make_env):
    env = make_env(stockoutReviews=False, horizonDays=10)
    observations, _ = _rollout(env, 4, _fixed_actions(count=100, seed=2))
    decisions = observations[:-1]  # the last observation is the end of the run
    assert [float(o["time"][0]) for o in decisions] == [float(day) for day in range(10)]
    assert all(o["trigger"] == inventory.DAILY_REVIEW for o in decisions)


def test_decisions_happen_at_irregular_model_times(env):
    policy = inventory.BaseStockPolicy()
    observation, _ = env.reset(seed=3)
    observations, truncated, terminated = [observation], False, False
    while not (terminated or truncated):
        observation, _, terminated, truncated, _ = env.step(policy(observation))
        observations.append(observation)
    assert truncated and not terminated  # the horizon truncates; the model never terminates
    assert observations[-1]["time"][0] == 28.0  # the default horizonDays
    decisions = observations[:-1]
    times = np.array([o["time"][0] for o in decisions])
    triggers = np.array([o["trigger"] for o in decisions])
    hours = np.array([o["hour"][0] for o in decisions])

    assert (np.diff(times) > 0).all() and times[-1] < 28.0
    assert [o["day_of_week"] for o in decisions] == [int(t) % 7 for t in times]
    # Daily reviews at midnight of every day ...
    daily = triggers == inventory.DAILY_REVIEW
    assert times[daily].tolist() == [float(day) for day in range(28)]
    assert (hours[daily] == 0).all()
    # ... and stock-out reviews in between, while the store is open (8:00 to 20:00).
    stockouts = triggers == inventory.STOCKOUT_REVIEW
    assert stockouts.sum() >= 5
    assert ((hours[stockouts] > 8) & (hours[stockouts] < 20)).all()
    assert len(set(np.round(np.diff(times), 9))) > 10


def test_invalid_parameter_fails_with_a_clear_message(make_env):
    env = make_env(productMix="0.5,0.5")
    with pytest.raises(ModelError, match="productMix needs 3 comma-separated shares"):
        env.reset(seed=0)


def test_gymnasium_check_env_passes_without_a_warning(env):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. infinite bounds: "Box observation space maximum value is infinity"
        check_env(env.unwrapped, skip_render_check=True)


def test_the_space_bounds_follow_the_parameters():
    space = inventory.observation_space({"capacity": 300, "horizonDays": 7})
    assert space["on_hand"].high.tolist() == [300] * 3 and space["backlog"].low.tolist() == [0] * 3
    assert space["time"].high.tolist() == [7.0]
    default = inventory.observation_space()
    assert default["on_order"].high.tolist() == [2000] * 3 and default["time"].high.tolist() == [28.0]


def _all_observations(env, seed, policy):
    observation, _ = env.reset(seed=seed)
    observations, rewards, done = [observation], [], False
    while not done:
        observation, reward, terminated, truncated, _ = env.step(policy(observation))
        observations.append(observation)
        rewards.append(reward)
        done = terminated or truncated
    return observations, rewards


def test_stock_and_orders_stay_within_the_capacity(make_env):
    """Ordering all it can, the warehouse fills to its capacity and no further: orders are cut to fit."""
    env = make_env(capacity=150, horizonDays=10)
    observations, _ = _all_observations(env, 1, lambda _: np.full(3, inventory.ORDER_LEVELS - 1))
    assert all(env.observation_space.contains(o) for o in observations)
    filled = np.array([o["on_hand"] + o["on_order"] for o in observations])
    assert filled.max() == 150 and (filled <= 150).all()


def test_back_orders_stay_within_the_capacity_and_the_rest_are_lost_sales(make_env):
    """Ordering nothing, the order book fills to its capacity; each unit beyond it costs lostSaleCost."""
    env = make_env(capacity=60, horizonDays=6, holdingCost=0.0, backlogCost=0.0, orderCost=0.0, lostSaleCost=1.0)
    observations, rewards = _all_observations(env, 2, lambda _: np.zeros(3, dtype=np.int64))
    assert all(env.observation_space.contains(o) for o in observations)
    backlog = np.array([o["backlog"] for o in observations])
    assert backlog.max() == 60 and (backlog <= 60).all()
    lost = -sum(rewards)  # the only cost: one per unit lost
    assert lost > 0 and lost == int(lost)
