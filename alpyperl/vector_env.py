"""``AnyLogicVectorEnv``: many instances of one model, stepped together with one call into Java.

The instances live in this process's JVM, each on a thread of its own, and run concurrently
during a step. Observations, actions and rewards of all instances share one float64 buffer with
Java, so a batch is read and written with a handful of numpy operations.
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
from .bridge import agree_on_spaces, call_java, close_session, open_session, parameters_json, settings_from, translate
from .env import RUNNING, SEED_LIMIT, TERMINATED, TRUNCATED, jvm_options_of
from .errors import AlpyperlError, ResetNeeded
from .output import InstanceOutput
from .spaces import Codec, flat_size, space_to_json

STEP = -1  # the launcher's command for "apply the action"; a command >= 0 is a reset with that seed


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
    ):
        settings = settings_from(config, dict(
            num_envs=num_envs, model=model, env_params=env_params, observation_space=observation_space,
            action_space=action_space, step_timeout=step_timeout, jvm_options=jvm_options,
            debug_port=debug_port, debug_suspend=debug_suspend, model_output=model_output))
        if isinstance(settings["num_envs"], bool) or not isinstance(settings["num_envs"], int) \
                or settings["num_envs"] < 1:
            raise ValueError(f"num_envs must be a positive integer, got {settings['num_envs']!r}")
        self.num_envs = settings["num_envs"]
        self.model_path = os.fspath(settings["model"])
        self.step_timeout = float(settings["step_timeout"])
        self._env_params: dict[str, Any] = dict(settings["env_params"] or {})
        self._sessions: list = []
        self._outputs: list[InstanceOutput] = []
        self._closer = weakref.finalize(self, _close_all, self._sessions, self._outputs)
        self._needs_reset = True
        try:
            self._open(settings)
        except BaseException:
            self._closer()
            raise

    def _open(self, settings: dict[str, Any]) -> None:
        jvm_options = jvm_options_of(settings)
        for _ in range(self.num_envs):
            self._sessions.append(open_session(self.model_path, jvm_options))
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
        self._commands = np.full(self.num_envs, STEP, dtype=np.int64)
        observation_json, action_json = space_to_json(single_observation), space_to_json(single_action)
        for session, row in zip(self._sessions, self._buffer):
            call_java(session.configure, observation_json, action_json, self.step_timeout,
                      jpype.nio.convertToDirectBuffer(row))
        self._set_parameters(self._env_params)
        group = jpype.JClass("com.alpyperl.launcher.ModelSessionGroup")
        session_array = jpype.JArray(jpype.JClass("com.alpyperl.launcher.ModelSession"))(self._sessions)
        self._group = call_java(group, session_array, jpype.nio.convertToDirectBuffer(self._commands))
        self._step_all = self._group.stepAll
        self._write_actions = Codec(single_action, self._buffer[:, :actions], "action").write
        self._read_observations = Codec(single_observation, self._buffer[:, actions:-1], "observation").read
        self._rewards = self._buffer[:, -1]
        self._episode_rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

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
        self._run_commands()
        self._autoreset = self._commands != RUNNING
        infos = {"seed": np.array(episode_seeds, dtype=np.int64), "_seed": np.ones(self.num_envs, dtype=bool)}
        return self._read_observations(), infos

    def step(self, actions):
        """Steps every sub-environment; those whose episode ended at the last step start a new one."""
        if self._needs_reset:
            raise ResetNeeded("step() needs running episodes: call reset() first (after creation or an error)")
        self._write_actions(actions)
        resetting = self._autoreset
        any_resetting = resetting.any()
        self._commands[:] = STEP
        infos = {}
        if any_resetting:  # next-step autoreset: these start a new episode instead of stepping
            seeds = np.zeros(self.num_envs, dtype=np.int64)
            for index in np.flatnonzero(resetting):
                seeds[index] = self._commands[index] = self._next_seed(index)
            infos = {"seed": seeds, "_seed": resetting.copy()}
        self._run_commands()
        statuses = self._commands.copy()
        rewards = self._rewards.copy()
        terminated = statuses == TERMINATED
        truncated = statuses == TRUNCATED
        if any_resetting:
            rewards[resetting] = 0.0
            terminated &= ~resetting
            truncated &= ~resetting
        self._autoreset = statuses != RUNNING
        return self._read_observations(), rewards, terminated, truncated, infos

    def close_extras(self, **kwargs):
        """Ends the episodes and the model threads."""
        self._needs_reset = True
        closer = getattr(self, "_closer", None)  # absent if the settings were refused
        if closer is not None:
            closer()

    def _run_commands(self) -> None:
        self._needs_reset = True
        try:
            output_waiting = self._step_all()
        except jpype.JException as error:
            self._drain_output()  # what the models printed before one failed
            raise translate(error) from None
        if output_waiting:
            self._drain_output()
        self._needs_reset = False

    def _drain_output(self) -> None:
        for output in self._outputs:
            output.drain()

    def _next_seed(self, index: int) -> int:
        return int(self._episode_rngs[index].integers(SEED_LIMIT - 1))

    def _set_parameters(self, params: Mapping[str, Any]) -> None:
        text = parameters_json(params)
        for session in self._sessions:
            call_java(session.setParameters, text)


def _close_all(sessions: list, outputs: list) -> None:
    for index, session in enumerate(sessions):
        close_session(session, outputs[index] if index < len(outputs) else None)
