"""``AnyLogicEnv``: a Gymnasium environment whose dynamics are a Java simulation model.

The model runs in a JVM inside this process (JPype), on a thread of its own; each ``step`` is
one call into Java. Observations, actions and rewards travel through one float64 buffer shared
by Python and Java.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Mapping
from typing import Any, Sequence

import gymnasium as gym
import jpype
import numpy as np

from . import jvm
from .errors import (
    AlpyperlError,
    ModelError,
    ModelLoadError,
    ModelTimeoutError,
    ResetNeeded,
    SpaceDefinitionError,
)
from .spaces import Codec, flat_size, space_from_json, space_to_json

_RUNNING, _TERMINATED, _TRUNCATED = 0, 1, 2
_SEED_LIMIT = 2**63  # episode seeds are Java longs


class AnyLogicEnv(gym.Env):
    """A simulation model as a Gymnasium environment.

    Args:
        model: the model's folder: an AnyLogic export, or an example model built by Gradle
            (``examples/cartpole/build/model``).
        env_params: model parameters by name, applied at every reset (the others keep the
            model's defaults). ``reset(options={"env_params": {...}})`` changes them later.
        observation_space, action_space: the spaces, when the model does not define them
            itself. Defining a space in both places is an error.
        step_timeout: seconds the model may take to reach its next decision before
            :class:`ModelTimeoutError` is raised.
        jvm_options: options for the embedded JVM (for example ``["-Xmx2g"]``); only the first
            environment of a process starts the JVM, so only its options count.

    The settings may also come as one mapping, as RLlib passes its ``env_config``:
    ``AnyLogicEnv({"model": ..., "env_params": {...}})``.

    ``reset()`` reports the episode's seed in ``info["seed"]``; ``reset(seed=that)`` replays it.
    """

    metadata = {"render_modes": []}

    SETTINGS = ("model", "env_params", "observation_space", "action_space", "step_timeout", "jvm_options")

    def __init__(
        self,
        config: Mapping[str, Any] | str | os.PathLike | None = None,
        *,
        model: str | os.PathLike | None = None,
        env_params: Mapping[str, Any] | None = None,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
        step_timeout: float = 10.0,
        jvm_options: Sequence[str] = (),
    ):
        settings = dict(model=model, env_params=env_params, observation_space=observation_space,
                        action_space=action_space, step_timeout=step_timeout, jvm_options=jvm_options)
        if isinstance(config, Mapping):
            unknown = sorted(set(config) - set(self.SETTINGS))
            if unknown:
                raise TypeError(f"unknown AnyLogicEnv setting(s) {unknown}; the settings are {list(self.SETTINGS)}")
            settings.update(config)
        elif config is not None:
            settings["model"] = config
        if settings["model"] is None:
            raise TypeError("AnyLogicEnv needs a model: the path of an exported model folder")
        if not settings["step_timeout"] or float(settings["step_timeout"]) <= 0:
            raise ValueError(f"step_timeout must be a positive number of seconds, got {settings['step_timeout']!r}")

        self.model_path = os.fspath(settings["model"])
        self.step_timeout = float(settings["step_timeout"])
        self._env_params: dict[str, Any] = dict(settings["env_params"] or {})
        self._session = None
        self._closer = None
        self._episode_over = True

        self._session = _open_session(self.model_path, list(settings["jvm_options"] or ()), self.step_timeout)
        self._closer = weakref.finalize(self, _close_session, self._session)
        try:
            self._configure(settings)
        except BaseException:
            self._closer()
            raise

    def _configure(self, settings: dict[str, Any]) -> None:
        """Agrees on the spaces with the model and shares the step buffer with it."""
        described = json.loads(str(_call_java(self._session.describeModel, self.step_timeout)))
        self.observation_space = _choose_space("observation", described["observation_space"],
                                               settings["observation_space"])
        self.action_space = _choose_space("action", described["action_space"], settings["action_space"])
        self.model_parameters = described["parameters"]

        actions, observations = flat_size(self.action_space), flat_size(self.observation_space)
        # The buffer Java reads actions from and writes observations and the reward to.
        self._buffer = np.zeros(actions + observations + 1, dtype=np.float64)
        self._reward_index = actions + observations
        _call_java(self._session.configure, space_to_json(self.observation_space),
                   space_to_json(self.action_space), self.step_timeout,
                   jpype.nio.convertToDirectBuffer(self._buffer))
        self._set_parameters(self._env_params)
        self._write_action = Codec(self.action_space, self._buffer[:actions], "action").write
        self._read_observation = Codec(self.observation_space, self._buffer[actions:-1], "observation").read
        self._java_step = self._session.step

    @property
    def env_params(self) -> dict[str, Any]:
        """The model parameters applied at each reset (a copy)."""
        return dict(self._env_params)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Starts a new episode (abandoning a running one) and returns ``(observation, info)``.

        ``info["seed"]`` is the episode's seed; ``options={"env_params": {...}}`` updates model
        parameters from this episode on.
        """
        if self._closer is None or not self._closer.alive:
            raise AlpyperlError("the environment is closed; create a new AnyLogicEnv")
        super().reset(seed=seed)
        if options and "env_params" in options:
            updated = {**self._env_params, **options["env_params"]}
            self._set_parameters(updated)
            self._env_params = updated
        if seed is not None:
            episode_seed = int(seed) % _SEED_LIMIT
        else:
            episode_seed = int(self.np_random.integers(_SEED_LIMIT - 1))
        self._episode_over = True
        status = _call_java(self._session.reset, episode_seed)
        self._episode_over = status != _RUNNING
        info = {"seed": episode_seed, "env_params": dict(self._env_params)}
        return self._read_observation(), info

    def step(self, action):
        """Applies ``action`` and runs the model to its next decision or to the end of the episode."""
        if self._episode_over:
            raise ResetNeeded(
                "step() needs a running episode: the last one has ended (terminated, truncated or failed) "
                "or none was started; call reset() first"
            )
        self._write_action(action)
        try:
            status = self._java_step()
        except jpype.JException as error:
            self._episode_over = True
            raise _translate(error) from None
        if status != _RUNNING:
            self._episode_over = True
        return (self._read_observation(), float(self._buffer[self._reward_index]),
                status == _TERMINATED, status == _TRUNCATED, {})

    def close(self):
        """Ends the episode and the model's thread. The environment cannot be used afterwards."""
        self._episode_over = True
        if self._closer is not None:
            self._closer()

    def _set_parameters(self, params: Mapping[str, Any]) -> None:
        try:
            text = json.dumps(dict(params), default=_plain_value)
        except TypeError as error:
            raise ModelLoadError(f"env_params must be numbers, booleans or strings: {error}") from None
        _call_java(self._session.setParameters, text)


# ---- opening models --------------------------------------------------------------------------


def _open_session(model_path: str, jvm_options: list[str], step_timeout: float):
    if not os.path.isdir(model_path):
        raise ModelLoadError(
            f"model folder {os.path.abspath(model_path)} does not exist"
            if not os.path.exists(model_path) else f"{model_path} is a file; give the model's folder"
        )
    jvm.start_jvm(jvm_options + _descriptor_jvm_options(model_path))
    launcher = jpype.JPackage("com.alpyperl.launcher")
    folder = _call_java(launcher.ModelFolder.open, model_path)
    return _call_java(launcher.ModelSession, folder)


def _descriptor_jvm_options(model_path: str) -> list[str]:
    """The JVM options a model folder asks for (``jvm.options=`` in its descriptor)."""
    descriptor = os.path.join(model_path, "alpyperl-model.properties")
    if not os.path.isfile(descriptor):
        return []
    with open(descriptor, encoding="utf-8") as lines:
        for line in lines:
            key, _, value = line.partition("=")
            if key.strip() == "jvm.options":
                return value.split()
    return []


def _close_session(session) -> None:
    if jvm.is_running():
        try:
            session.close()
        except jpype.JException:
            pass


def _choose_space(kind: str, from_model: dict | None, from_python: gym.Space | None) -> gym.Space:
    if from_model is not None and from_python is not None:
        raise SpaceDefinitionError(
            f"the {kind} space is defined both in the model ({space_from_json(json.dumps(from_model))}) and in "
            f"Python ({from_python}); define it in one place only: remove {kind}_space=... or make the model's "
            f"get{kind.capitalize()}Space() return null"
        )
    if from_model is not None:
        return space_from_json(json.dumps(from_model))
    if from_python is None:
        raise SpaceDefinitionError(
            f"the {kind} space is defined neither in the model (its get{kind.capitalize()}Space() returns null) "
            f"nor in Python (pass {kind}_space=... to AnyLogicEnv)"
        )
    if not isinstance(from_python, gym.Space):
        raise SpaceDefinitionError(f"{kind}_space must be a gymnasium space, got {from_python!r}")
    space_to_json(from_python)  # refuses unsupported spaces with a clear message
    return from_python


def _plain_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a number, boolean or string")


# ---- Java exceptions -> Python exceptions -------------------------------------------------------


def _call_java(method, *args):
    """Calls into Java, turning the launcher's exceptions into alpyperl's."""
    try:
        return method(*args)
    except jpype.JException as error:
        raise _translate(error) from None


def _translate(error: "jpype.JException") -> AlpyperlError:
    kind = str(error.getClass().getName())
    message = str(error.getMessage())
    if kind == "com.alpyperl.launcher.ModelFailure":
        return ModelError(message, str(error.getModelStackTrace()))
    if kind == "com.alpyperl.launcher.StepTimeoutException":
        return ModelTimeoutError(message)
    if kind == "com.alpyperl.launcher.ModelLoadException":
        return ModelLoadError(message)
    return AlpyperlError(f"{kind}: {message}\n{error.stacktrace()}")
