"""Action masks of single-agent models: the observation of a model that says which actions are
valid now (``com.alpyperl.connector.MaskedModel``), and drawing actions that a mask allows.

Such a model's observation reaches Python as the Dict RLlib's action-masking RLModule reads::

    {"action_mask": Box(0, 1, (choices,), float32), "observations": <the model's observation space>}

with a 1 for each valid choice: ``n`` choices for ``Discrete(n)``, the sum of ``nvec`` for
``MultiDiscrete(nvec)`` (each entry's choices one after another). An action the mask forbids is
refused (a ``ValueError``) before the model runs.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .errors import SpaceDefinitionError

__all__ = ["MASK_KEY", "OBSERVATIONS_KEY", "mask_size", "masked_observation_space", "is_masked", "split",
           "sample_valid"]

#: The key of the mask in a masked model's observation.
MASK_KEY = "action_mask"
#: The key of the model's own observation in it.
OBSERVATIONS_KEY = "observations"


def mask_size(action_space: gym.Space, who: str = "the model") -> int:
    """How many entries a mask of ``action_space`` has; other spaces than Discrete and
    MultiDiscrete have none (:class:`~alpyperl.SpaceDefinitionError` naming ``who``)."""
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim == 1:
        return int(action_space.nvec.sum())
    raise SpaceDefinitionError(f"{who} uses an action mask, but its action space {action_space} is neither Discrete "
                               "nor MultiDiscrete (one-dimensional); masks say which choices of those are valid")


def masked_observation_space(observation_space: gym.Space, action_space: gym.Space,
                             who: str = "the model") -> spaces.Dict:
    """The observation space of a masked model with these spaces (see the module's docstring)."""
    return spaces.Dict({
        MASK_KEY: spaces.Box(0.0, 1.0, (mask_size(action_space, who),), np.float32),
        OBSERVATIONS_KEY: observation_space,
    })


def is_masked(space: gym.Space) -> bool:
    """Whether ``space`` is a masked observation space (a Dict of exactly the mask and the observations)."""
    return isinstance(space, spaces.Dict) and set(space.spaces) == {MASK_KEY, OBSERVATIONS_KEY}


def split(observation: dict) -> tuple[Any, np.ndarray]:
    """A masked observation's own part and its mask as booleans."""
    return observation[OBSERVATIONS_KEY], np.asarray(observation[MASK_KEY]) > 0.5


def sample_valid(action_space: gym.Space, mask: np.ndarray, rng: np.random.Generator | None = None):
    """A uniformly random action of ``action_space`` that ``mask`` (booleans, flat as the module's
    docstring says) allows; ``rng`` defaults to the action space's own generator."""
    mask = np.asarray(mask, dtype=bool)
    rng = rng if rng is not None else action_space.np_random
    if isinstance(action_space, spaces.Discrete):
        return np.int64(action_space.start + rng.choice(np.flatnonzero(mask)))
    choices, at = [], 0
    for n, start in zip(action_space.nvec, action_space.start):
        choices.append(start + rng.choice(np.flatnonzero(mask[at:at + n])))
        at += n
    return np.array(choices, dtype=action_space.dtype)
