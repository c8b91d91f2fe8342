"""Stable-Baselines3 on simulation models: :class:`AnyLogicVecEnv`, an SB3 ``VecEnv`` whose
sub-environments are the model instances of one :class:`~alpyperl.AnyLogicVectorEnv`, all
stepped with one call into Java.

    pip install 'alpyperl[sb3]'

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor
    from alpyperl.sb3 import AnyLogicVecEnv

    env = VecMonitor(AnyLogicVecEnv(model="examples/cartpole/build/model", num_envs=8))
    PPO("MlpPolicy", env, seed=0).learn(100_000)

SB3's ``DummyVecEnv`` over ``AnyLogicEnv`` instances also works, and gives the same
trajectories, but it steps the models one after another, a call into Java each; this adapter
makes one call for all.
``alpyperl`` itself never imports this module nor Stable-Baselines3.

**Models with an action mask** (``MaskedModel``) train with sb3-contrib's ``MaskablePPO``
(``pip install 'alpyperl[sb3]'`` brings it), which reads the masks through :meth:`AnyLogicVecEnv.action_masks`
and never samples a masked action (SB3's own algorithms ignore masks, and the model refuses a
masked action)::

    from sb3_contrib import MaskablePPO

    env = VecMonitor(AnyLogicVecEnv(model="examples/maintenance/build/model", num_envs=4))
    MaskablePPO("MlpPolicy", env, seed=0).learn(50_000)

The policy then sees the model's own observation; ``mask_in_observation=True`` gives it the
``{"action_mask", "observations"}`` dict instead (``"MultiInputPolicy"``), as RLlib's masking module reads it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Sequence

import numpy as np
from gymnasium.vector import AutoresetMode

try:
    from stable_baselines3.common.preprocessing import check_for_nested_spaces
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn
except ImportError:  # pragma: no cover - depends on what is installed
    raise ImportError("alpyperl.sb3 needs Stable-Baselines3: pip install 'alpyperl[sb3]'") from None

from .masks import MASK_KEY, OBSERVATIONS_KEY, is_masked
from .vector_env import AnyLogicVectorEnv

__all__ = ["AnyLogicVecEnv"]


class AnyLogicVecEnv(VecEnv):
    """``num_envs`` instances of a model as a Stable-Baselines3 ``VecEnv``.

    Takes the settings of :class:`~alpyperl.AnyLogicVectorEnv` (``model``, ``num_envs``,
    ``env_params``, ``render_mode="rgb_array"``, ...), as keywords or one mapping; the
    vector environment it drives is :attr:`vector_env`. It keeps SB3's contract exactly as
    ``DummyVecEnv`` does over ``AnyLogicEnv`` instances, and gives the same trajectories for the
    same seeds and actions:

    - ``step`` returns ``(observations, rewards, dones, infos)``: rewards as float32, ``dones``
      = terminated or truncated, and per sub-environment an info dict with
      ``"TimeLimit.truncated"``; a sub-environment whose episode ended starts its next one at
      once, and its info holds the last observation under ``"terminal_observation"``.
    - ``seed(s)`` gives sub-environment ``i`` the seed ``s + i`` at the next ``reset()``;
      ``set_options({"env_params": {...}})`` updates model parameters at the next ``reset()``.
      ``reset_infos[i]`` holds each episode's ``seed`` and ``env_params``.
    - Dict observations are dicts of batched arrays, Tuple observations tuples of them (nested
      spaces are refused, as SB3 refuses them).
    - ``get_attr``, ``set_attr`` and ``env_method`` reach the sub-environments as
      :meth:`AnyLogicVectorEnv.get_attr <alpyperl.AnyLogicVectorEnv.get_attr>`, ``set_attr`` and
      ``call`` describe (model instances have no Python attributes of their own: ``env_params``
      can be set, for all of them together). ``env_is_wrapped`` is false: wrap this VecEnv
      instead (``VecMonitor``, ``VecNormalize``).
    - A model with an action mask: :meth:`action_masks` gives the masks of the last observations
      (also as ``env_method("action_masks")``, which sb3-contrib's ``MaskablePPO`` calls). The
      observations are the model's own, without the mask, unless ``mask_in_observation=True``
      (then the dict of mask and observation, as :class:`~alpyperl.AnyLogicVectorEnv` gives it).
    """

    def __init__(self, config: Mapping[str, Any] | None = None, *, mask_in_observation: bool = False,
                 **settings: Any):
        if not isinstance(mask_in_observation, bool):
            raise TypeError(f"mask_in_observation must be True or False, got {mask_in_observation!r}")
        if "autoreset_mode" in settings:
            raise TypeError("AnyLogicVecEnv takes no autoreset_mode: Stable-Baselines3 starts the next episode in "
                            "the step that ends one (AutoresetMode.SAME_STEP), always")
        #: The :class:`~alpyperl.AnyLogicVectorEnv` whose instances are the sub-environments.
        self.vector_env = AnyLogicVectorEnv(config, autoreset_mode=AutoresetMode.SAME_STEP, **settings)
        try:
            if self.vector_env.autoreset_mode is not AutoresetMode.SAME_STEP:
                raise ValueError(f"AnyLogicVecEnv needs autoreset_mode SAME_STEP (Stable-Baselines3 starts the next "
                                 f"episode in the step that ends one), got {self.vector_env.autoreset_mode.name}; "
                                 "leave autoreset_mode out of the settings")
            observation_space = self.vector_env.single_observation_space
            #: Whether the model has an action mask (``MaskedModel``): :meth:`action_masks` gives it.
            self.masked = is_masked(observation_space)
            #: Whether observations are the model's own part alone (a masked model without ``mask_in_observation``).
            self._own_part = self.masked and not mask_in_observation
            if self._own_part:
                observation_space = observation_space[OBSERVATIONS_KEY]
            check_for_nested_spaces(observation_space)
            super().__init__(self.vector_env.num_envs, observation_space, self.vector_env.single_action_space)
        except BaseException:
            self.vector_env.close()
            raise
        self.metadata = {**self.metadata, "render_fps": self.vector_env.metadata["render_fps"],
                         "autoreset_mode": AutoresetMode.SAME_STEP}
        self._actions: np.ndarray | None = None
        self._masks: np.ndarray | None = None  # the action masks of the last observations (float32 rows)

    def reset(self) -> VecEnvObs:
        """Starts a new episode in every sub-environment, with the seeds of :meth:`seed` and the
        options of :meth:`set_options` (used once); returns the observations."""
        seeds, options = self._seeds, self._options
        if any(option != options[0] for option in options):
            raise ValueError("set_options() gave the sub-environments different options, but the model instances of "
                             "one AnyLogicVecEnv share their model parameters: give them all the same options")
        seed = None if all(given is None for given in seeds) else seeds
        observations, infos = self.vector_env.reset(seed=seed, options=dict(options[0]) or None)
        env_params = self.vector_env.env_params
        for index in np.flatnonzero(infos["_seed"]):  # all of them, unless the options held a reset_mask
            self.reset_infos[index] = {"seed": int(infos["seed"][index]), "env_params": dict(env_params)}
        self._reset_seeds()
        self._reset_options()
        return self._passed_on(observations)

    def step_async(self, actions: np.ndarray) -> None:
        """Keeps the actions for :meth:`step_wait` (which steps all instances in one call)."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Steps every sub-environment with the actions of :meth:`step_async`."""
        if self._actions is None:
            raise RuntimeError("step_wait() needs actions: call step_async(actions) first (or step(actions))")
        actions, self._actions = self._actions, None
        observations, rewards, terminated, truncated, infos = self.vector_env.step(actions)
        # The info dicts are SB3's and new each step (VecMonitor and callbacks may keep or change them).
        step_infos = [{"TimeLimit.truncated": False} for _ in range(self.num_envs)]
        if "_final_obs" in infos:  # episodes ended (the vector env says so only then): most steps skip this
            env_params = self.vector_env.env_params
            final_observations, seeds = infos["final_obs"], infos["seed"]
            for index in np.flatnonzero(infos["_final_obs"]).tolist():
                final = final_observations[index]
                step_infos[index] = {"TimeLimit.truncated": bool(truncated[index] and not terminated[index]),
                                     "terminal_observation": final[OBSERVATIONS_KEY] if self._own_part else final}
                self.reset_infos[index] = {"seed": int(seeds[index]), "env_params": dict(env_params)}
        return self._passed_on(observations), rewards.astype(np.float32), terminated | truncated, step_infos

    def _passed_on(self, observations):
        """The observations as SB3 gets them; keeps a masked model's masks for :meth:`action_masks`."""
        if not self.masked:
            return observations
        self._masks = observations[MASK_KEY]
        return observations[OBSERVATIONS_KEY] if self._own_part else observations

    def action_masks(self) -> np.ndarray:
        """The action masks of the last observations, one row of booleans per sub-environment
        (``(num_envs, choices)``, laid out as :mod:`alpyperl.masks` says): what sb3-contrib's
        ``MaskablePPO`` reads. ``AttributeError`` for a model without a mask."""
        if not self.masked:
            raise _no_masks()
        if self._masks is None:
            raise RuntimeError("action_masks() gives the masks of the last observations: call reset() first")
        return self._masks > 0.5

    def close(self) -> None:
        """Ends the episodes and the model threads."""
        self.vector_env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Each sub-environment's frame (``render_mode="rgb_array"``); SB3's ``render()`` tiles them."""
        if self.render_mode != "rgb_array":
            warnings.warn(f"The render mode is {self.render_mode}, but this method assumes it is `rgb_array` to "
                          "obtain images: create the AnyLogicVecEnv with render_mode='rgb_array'")
            return [None] * self.num_envs
        return list(self.vector_env.render())

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute ``attr_name`` of the sub-environments ``indices`` (see
        :meth:`alpyperl.AnyLogicVectorEnv.get_attr`); for ``"action_masks"`` of a masked model,
        per sub-environment a function that gives its row of :meth:`action_masks`."""
        if attr_name == "action_masks":
            if not self.masked:  # sb3-contrib's MaskablePPO then says that the environment has no masks
                raise _no_masks()
            return [lambda index=index: self.action_masks()[index] for index in self._get_indices(indices)]
        values = self.vector_env.get_attr(attr_name)
        return [values[index] for index in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Sets ``env_params`` of every sub-environment (see :meth:`alpyperl.AnyLogicVectorEnv.set_attr`)."""
        if attr_name == "env_params" and sorted(self._get_indices(indices)) != list(range(self.num_envs)):
            raise ValueError(f"set_attr('env_params', value, indices={indices!r}) would give some sub-environments "
                             "other model parameters than the others, but the instances of one AnyLogicVecEnv share "
                             "them: leave indices out")
        self.vector_env.set_attr(attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        """What ``method_name`` gives for the sub-environments ``indices`` (see
        :meth:`alpyperl.AnyLogicVectorEnv.call`: ``"render"`` or an attribute); ``"action_masks"``
        gives the rows of :meth:`action_masks` (one array for all sub-environments)."""
        if method_name == "action_masks":
            if method_args or method_kwargs:
                raise TypeError("env_method('action_masks') takes no arguments")
            return list(self.action_masks()[self._get_indices(indices)])
        results = self.vector_env.call(method_name, *method_args, **method_kwargs)
        return [results[index] for index in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        """False for every sub-environment: model instances are not Gymnasium environments that
        wrappers wrap; wrap the VecEnv instead (``VecMonitor``, ``VecNormalize``)."""
        return [False for _ in self._get_indices(indices)]


def _no_masks() -> AttributeError:
    return AttributeError("action_masks: the model has no action mask (its root does not implement "
                          "com.alpyperl.connector.MaskedModel); train it without masking")
