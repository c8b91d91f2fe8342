"""The job shop example's Python side: opening the model, the longest-queue heuristic, and
running an episode with any policy.

The model (JobShop.java) has several machines, each a deciding agent with an action mask; see
README.md. Its return is the number of jobs the machines finish in the shift (higher is better).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alpyperl import AnyLogicMultiAgentEnv

#: The model folder that `gradle build` assembles.
MODEL_DIR = Path(__file__).resolve().parent / "build" / "model"
#: The action that keeps a machine idle for a tick (JobShop.IDLE).
IDLE = 3


def make_env(**env_params) -> AnyLogicMultiAgentEnv:
    """The job shop with these model parameters (machines, ticks, arrivalRate, queueRoom)."""
    return AnyLogicMultiAgentEnv(model=MODEL_DIR, env_params=env_params)


def longest_queue(observation) -> int:
    """The heuristic: take a job from the longest queue this machine may take from, else stay idle."""
    mask = observation["action_mask"][:IDLE]
    queues = np.where(mask > 0, observation["observations"][:IDLE], -1.0)
    return int(queues.argmax()) if queues.max() > 0 else IDLE


def run_episode(env: AnyLogicMultiAgentEnv, choose, seed: int) -> float:
    """One episode with ``choose(agent_id, observation) -> action``; returns the jobs finished (all agents' rewards)."""
    observations, _ = env.reset(seed=seed)
    total = 0.0
    while True:
        actions = {agent: choose(agent, observations[agent]) for agent in env.waiting_agents}
        observations, rewards, terminateds, truncateds, _ = env.step(actions)
        total += sum(rewards.values())
        if terminateds["__all__"] or truncateds["__all__"]:
            return total
