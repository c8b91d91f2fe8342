"""The inventory example: spaces, environment factory and two reference policies.

The Java model (``InventoryModel``) leaves its spaces to Python; they are defined here.
Build the model first with ``gradle build`` (it lands in ``build/model`` next to this file).

    from inventory import make_env, BaseStockPolicy
    env = make_env(demandRate=40)
    policy = BaseStockPolicy(env.env_params)
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(policy(obs))
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from gymnasium import spaces

from alpyperl import AnyLogicEnv

MODEL_DIR = Path(__file__).resolve().parent / "build" / "model"

PRODUCTS = ("A", "B", "C")
#: Order levels per product: level k orders k * orderBatch units (0 = order nothing).
ORDER_LEVELS = 9
#: ``trigger`` values in the observation: why the model asks for a decision.
DAILY_REVIEW, STOCKOUT_REVIEW = 0, 1

#: The model's defaults of the parameters that the base-stock policy needs (see InventoryModel.java).
MODEL_DEFAULTS = {
    "demandRate": 30.0,
    "maxOrderSize": 4,
    "productMix": "0.5,0.3,0.2",
    "leadTimeMean": 3.0,
    "orderBatch": 10,
    "capacity": 2000,
    "horizonDays": 28.0,
}


def observation_space(env_params: Mapping[str, Any] | None = None) -> spaces.Dict:
    """What the model reports at each decision (the Java side writes the keys in this order).

    Its bounds are those of the model with the parameters ``env_params`` (defaults as in the
    model): stock, orders and back-orders of a product stay within its ``capacity``, and the time
    within ``horizonDays``. Give the environment the same parameters (:func:`make_env` does).
    """
    params = {**MODEL_DEFAULTS, **(env_params or {})}
    n = len(PRODUCTS)
    stock = spaces.Box(low=0.0, high=float(params["capacity"]), shape=(n,), dtype=np.float32)
    horizon = float(params["horizonDays"])
    return spaces.Dict({
        "backlog": stock,                      # units owed to waiting customers, per product
        "day_of_week": spaces.Discrete(7),     # 0 = Monday
        "hour": spaces.Box(low=0.0, high=24.0, shape=(1,), dtype=np.float32),
        "on_hand": stock,                      # units on the shelf, per product
        "on_order": stock,                     # units ordered and not yet delivered, per product
        "time": spaces.Box(low=0.0, high=horizon, shape=(1,), dtype=np.float64),  # model time, days
        "trigger": spaces.Discrete(2),         # DAILY_REVIEW or STOCKOUT_REVIEW
    })


def action_space() -> spaces.MultiDiscrete:
    """One order level per product."""
    return spaces.MultiDiscrete([ORDER_LEVELS] * len(PRODUCTS))


def make_env(**env_params: Any) -> AnyLogicEnv:
    """The inventory model as a Gymnasium environment; keyword arguments set model parameters."""
    if not (MODEL_DIR / "alpyperl-model.properties").is_file():
        raise FileNotFoundError(f"the inventory model is not built ({MODEL_DIR} is missing); "
                                "run `gradle build` in the repository root")
    return AnyLogicEnv(model=MODEL_DIR, env_params=env_params,
                       observation_space=observation_space(env_params), action_space=action_space())


class BaseStockPolicy:
    """An order-up-to (base-stock) policy, the textbook heuristic for periodic review.

    Each product has a target *inventory position* (on hand + on order - backlog): the demand
    expected over one lead time plus one review period, plus ``safety_days`` of demand as safety
    stock. At each decision the policy orders the batches that bring the position back up to the
    target (rounded up). The expected demand comes from the model parameters (``env_params``,
    defaults as in the model).
    """

    def __init__(self, env_params: Mapping[str, Any] | None = None, safety_days: float = 0.5):
        params = {**MODEL_DEFAULTS, **(env_params or {})}
        shares = np.array([float(s) for s in str(params["productMix"]).split(",")])
        mean_units = (1 + int(params["maxOrderSize"])) / 2
        daily_demand = float(params["demandRate"]) * mean_units * shares / shares.sum()
        self.batch = int(params["orderBatch"])
        self.targets = daily_demand * (float(params["leadTimeMean"]) + 1.0 + safety_days)

    def __call__(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        position = observation["on_hand"] + observation["on_order"] - observation["backlog"]
        shortfall = np.maximum(self.targets - position, 0.0)
        levels = np.ceil(shortfall / self.batch)
        return np.minimum(levels, ORDER_LEVELS - 1).astype(np.int64)


class RandomPolicy:
    """Orders a uniformly random level of each product (a baseline, reproducible from ``seed``)."""

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.rng.integers(0, ORDER_LEVELS, size=len(PRODUCTS))


Policy = Callable[[Mapping[str, np.ndarray]], np.ndarray]


def run_episode(env: AnyLogicEnv, policy: Policy, seed: int) -> tuple[float, int]:
    """Runs one episode; returns its return (minus the total cost) and the number of decisions."""
    observation, _ = env.reset(seed=seed)
    total, decisions = 0.0, 0
    done = False
    while not done:
        observation, reward, terminated, truncated, _ = env.step(policy(observation))
        total += reward
        decisions += 1
        done = terminated or truncated
    return total, decisions
