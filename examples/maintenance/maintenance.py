"""The maintenance example's Python side: opening the model, the service-at-wear-3 rule, and
running an episode with any policy.

The model (Maintenance.java) is one machine deciding each hour to produce, have it serviced or
wait; production needs material and servicing needs the technician, so its observation carries an
action mask. See README.md. Its return is the machine's output minus service and repair costs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alpyperl import AnyLogicEnv

#: The model folder that `gradle build` assembles.
MODEL_DIR = Path(__file__).resolve().parent / "build" / "model"
#: The actions (Maintenance.PRODUCE, SERVICE, WAIT).
PRODUCE, SERVICE, WAIT = 0, 1, 2
#: Wear levels until the machine breaks down (Maintenance.MAX_WEAR); the observation holds wear / MAX_WEAR.
MAX_WEAR = 6


def make_env(**env_params) -> AnyLogicEnv:
    """The machine with these model parameters (hours, repairHours)."""
    return AnyLogicEnv(model=MODEL_DIR, env_params=env_params, model_output="off")


def service_at_wear(observation, wear: int = 3) -> int:
    """The rule: service from ``wear`` on when the technician is there, else produce if there is
    material, else wait."""
    mask = observation["action_mask"]
    if mask[SERVICE] and observation["observations"][0] * MAX_WEAR >= wear - 1e-6:
        return SERVICE
    return PRODUCE if mask[PRODUCE] else WAIT


def run_episode(env: AnyLogicEnv, choose, seed: int) -> float:
    """One episode with ``choose(observation) -> action``; returns its return."""
    observation, _ = env.reset(seed=seed)
    total = 0.0
    while True:
        observation, reward, terminated, truncated, _ = env.step(choose(observation))
        total += reward
        if terminated or truncated:
            return total


def random_valid(rng: np.random.Generator):
    """A policy choosing uniformly among the valid actions."""
    return lambda observation: int(rng.choice(np.flatnonzero(observation["action_mask"])))
