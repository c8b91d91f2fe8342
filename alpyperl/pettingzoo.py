"""``AnyLogicParallelEnv``: a multi-agent model with PettingZoo's Parallel API, without PettingZoo.

A thin adapter over :class:`~alpyperl.AnyLogicMultiAgentEnv` that follows PettingZoo's
``ParallelEnv`` by duck typing (nothing here imports ``pettingzoo``). What differs from a
PettingZoo environment whose agents all act at every step (docs/multi-agent.md, "PettingZoo's
Parallel API"):

- ``agents`` are the agents that must act at the next ``step()``: those waiting for a decision.
  An agent in the episode that does not decide at this crossing is not in ``agents`` and not in
  the step's dicts, and comes back when it decides again.
- An agent that is done is reported once, terminated or truncated, with its last observation.
  There is no ``"__all__"``: when the episode ends, every agent still in it is reported done.
- ``possible_agents`` are the agents the model declares (``MultiAgentModel.getPossibleAgents``);
  for a type that leaves its number open, the agents of it seen so far (the list only grows).
- A masked agent's observation is PettingZoo's ``{"observation": ..., "action_mask": ...}``, the
  mask in the form ``action_space(agent).sample(mask=...)`` takes: an int8 array for
  ``Discrete``, a tuple of int8 arrays (one per entry) for ``MultiDiscrete``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .masks import MASK_KEY, OBSERVATIONS_KEY
from .multi_agent import AgentType, AnyLogicMultiAgentEnv, agent_type

__all__ = ["AnyLogicParallelEnv", "OBSERVATION_KEY"]

#: The key of an agent's own observation in a masked agent's observation (PettingZoo's convention).
OBSERVATION_KEY = "observation"


class AnyLogicParallelEnv:
    """A model with several deciding agents, with PettingZoo's Parallel API.

    Args:
        env: an :class:`~alpyperl.AnyLogicMultiAgentEnv` to wrap, or its settings (a mapping or the
            model's folder), with the other settings as keywords, to open one.

    ``reset(seed=, options=)`` returns ``(observations, infos)``; ``step(actions)`` takes one action
    per agent in ``agents`` and returns ``(observations, rewards, terminations, truncations,
    infos)``, keyed by the agents it reports: those that decide next and those that are done now.
    A wrong, missing or masked action is a ``ValueError`` naming the agent, and changes nothing.
    """

    def __init__(self, env: AnyLogicMultiAgentEnv | Mapping[str, Any] | str | os.PathLike | None = None,
                 **settings: Any):
        if isinstance(env, AnyLogicMultiAgentEnv):
            if settings:
                raise TypeError(f"AnyLogicParallelEnv wraps the given AnyLogicMultiAgentEnv as it is; settings "
                                f"{sorted(settings)} belong to AnyLogicMultiAgentEnv(...) instead")
        else:
            env = AnyLogicMultiAgentEnv(env, **settings)
        #: The multi-agent environment this one steps.
        self.env = env
        self._observation_spaces = {t.name: _observation_space(t) for t in env.agent_types.values()}
        self._observations = {t.name: _observation_reader(t) for t in env.agent_types.values()}
        # the model's name, as its printed lines are labelled ("runner 1, JobShop#3": JobShop)
        model_name = env.instance_label.rpartition(", ")[2].partition("#")[0]
        self.metadata = {**env.metadata, "name": f"alpyperl_{model_name}", "is_parallelizable": True}
        self._possible = [f"{t.name}_{number}" for t in env.agent_types.values()
                          for number in range(t.possible_agents)]
        self._possible_set = set(self._possible)

    # ---- the agents -----------------------------------------------------------------------------

    @property
    def agents(self) -> list[str]:
        """The agents that must act at the next ``step()`` (those waiting for a decision); empty once
        the episode is over."""
        return self.env.waiting_agents

    @property
    def possible_agents(self) -> list[str]:
        """The agents the model declares (``getPossibleAgents``), then those seen so far of types
        that leave their number open (this part grows as agents join)."""
        return list(self._possible)

    @property
    def num_agents(self) -> int:
        """How many agents must act at the next ``step()``."""
        return len(self.env.waiting_agents)

    @property
    def max_num_agents(self) -> int:
        """``len(possible_agents)``."""
        return len(self._possible)

    def observation_space(self, agent: str) -> gym.Space:
        """The observation space of ``agent`` (that of its type; the same object every time)."""
        try:
            return self._observation_spaces[agent_type(agent)]
        except KeyError:
            raise ValueError(f"agent {agent!r} has the type {agent_type(agent)!r}, which the model does not define; "
                             f"its agent types are {sorted(self._observation_spaces)}") from None

    def action_space(self, agent: str) -> gym.Space:
        """The action space of ``agent`` (that of its type; the same object every time)."""
        return self.env.get_action_space(agent)

    # ---- episodes -------------------------------------------------------------------------------

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Starts a new episode: ``(observations, infos)`` of the agents that decide first (each info
        holds the episode's ``"seed"``). ``options={"env_params": {...}}`` sets model parameters."""
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._converted(observations), infos

    def step(self, actions: Mapping[str, Any]):
        """One action per agent in ``agents``; returns ``(observations, rewards, terminations,
        truncations, infos)`` of the agents that decide next and of those that are done now."""
        observations, rewards, terminations, truncations, _ = self.env.step(actions)
        del terminations["__all__"], truncations["__all__"]  # every agent of an ended episode is reported done
        observations = self._converted(observations)
        return observations, rewards, terminations, truncations, {agent: {} for agent in observations}

    def _converted(self, observations: dict[str, Any]) -> dict[str, Any]:
        """Observations in PettingZoo's form; agents not seen before join ``possible_agents``."""
        if not self._possible_set.issuperset(observations):
            new = [agent for agent in observations if agent not in self._possible_set]
            self._possible.extend(new)
            self._possible_set.update(new)
        readers = self._observations
        return {agent: readers[agent_type(agent)](value) for agent, value in observations.items()}

    # ---- the rest -------------------------------------------------------------------------------

    @property
    def unwrapped(self) -> AnyLogicParallelEnv:
        """This environment (PettingZoo's ``unwrapped`` of an environment that wraps none of its own)."""
        return self

    @property
    def render_mode(self) -> str | None:
        return self.env.render_mode

    def render(self):
        """The model's picture, as :meth:`alpyperl.AnyLogicMultiAgentEnv.render` gives it."""
        return self.env.render()

    def close(self) -> None:
        """Closes the model (see :meth:`alpyperl.AnyLogicMultiAgentEnv.close`)."""
        self.env.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _observation_space(kind: AgentType) -> gym.Space:
    """The observation space of agents of ``kind`` here: PettingZoo's form for a masked type."""
    if not kind.mask_size:
        return kind.observation_space
    action_space = kind.action_space
    if isinstance(action_space, spaces.Discrete):
        mask = spaces.Box(0, 1, (int(action_space.n),), np.int8)
    else:
        mask = spaces.Tuple([spaces.Box(0, 1, (int(n),), np.int8) for n in action_space.nvec])
    return spaces.Dict({OBSERVATION_KEY: kind.model_observation_space, MASK_KEY: mask})


def _observation_reader(kind: AgentType) -> Callable[[Any], Any]:
    """What turns an observation of ``kind`` from :class:`AnyLogicMultiAgentEnv` into this one's."""
    if not kind.mask_size:
        return lambda observation: observation
    if isinstance(kind.action_space, spaces.Discrete):
        def read(observation):
            return {OBSERVATION_KEY: observation[OBSERVATIONS_KEY], MASK_KEY: observation[MASK_KEY].astype(np.int8)}
    else:
        ends = np.cumsum(kind.action_space.nvec)[:-1]

        def read(observation):
            mask = observation[MASK_KEY].astype(np.int8)
            return {OBSERVATION_KEY: observation[OBSERVATIONS_KEY], MASK_KEY: tuple(np.split(mask, ends))}
    return read
