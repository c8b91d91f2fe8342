"""Talking to the launcher in the embedded JVM: opening model sessions, agreeing on spaces, and
turning the launcher's Java exceptions into alpyperl's Python exceptions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import jpype
import numpy as np

from . import jvm, launch_script, output
from .errors import AlpyperlError, ModelError, ModelLoadError, ModelTimeoutError, SpaceDefinitionError
from .spaces import space_from_json, space_to_json

# ---- opening models --------------------------------------------------------------------------


def open_folder(model_path: str, jvm_options: list[str]):
    """Starts the JVM if needed and opens the model folder in the launcher (its class loader)."""
    if not os.path.isdir(model_path):
        raise ModelLoadError(
            f"model folder {os.path.abspath(model_path)} does not exist"
            if not os.path.exists(model_path) else f"{model_path} is a file; give the model's folder"
        )
    jvm.start_jvm(jvm_options + _model_jvm_options(model_path))
    return call_java(jpype.JClass("com.alpyperl.launcher.ModelFolder").open, model_path)


def open_session(model_path: str, jvm_options: list[str]):
    """Starts the JVM if needed and opens a launcher session (one model instance) on the folder."""
    folder = open_folder(model_path, jvm_options)
    return call_java(jpype.JClass("com.alpyperl.launcher.ModelSession"), folder)


DESCRIPTOR = "alpyperl-model.properties"


def read_descriptor(model_path: str) -> dict[str, str] | None:
    """The settings of a model folder's descriptor (``alpyperl-model.properties``: name,
    model.class, classpath, jvm.options), or None if the folder has none (an AnyLogic export)."""
    descriptor = os.path.join(model_path, DESCRIPTOR)
    if not os.path.isfile(descriptor):
        return None
    settings = {}
    with open(descriptor, encoding="utf-8") as lines:
        for line in lines:
            if line.strip() and not line.lstrip().startswith(("#", "!")):
                key, _, value = line.partition("=")
                settings[key.strip()] = value.strip()
    return settings


def _model_jvm_options(model_path: str) -> list[str]:
    """The JVM options a model folder asks for: ``jvm.options=`` in its descriptor, or the options
    in the launch script of an AnyLogic export (read here because the JVM may not run yet)."""
    settings = read_descriptor(model_path)
    if settings is None:
        return launch_script.jvm_options(model_path)
    return jvm.options_from_file(settings.get("jvm.options", "").split(), os.path.join(model_path, DESCRIPTOR))


def close_session(session, instance_output: "output.InstanceOutput | None" = None) -> None:
    """Closes a session, then logs what its model printed last (``model_output="log"``); does
    nothing once the JVM has shut down (at interpreter exit)."""
    if jvm.is_running():
        try:
            session.close()
        except jpype.JException:
            pass
        if instance_output is not None:
            instance_output.drain()


def choose_space(kind: str, from_model: dict | None, from_python: gym.Space | None) -> gym.Space:
    """The one definition of a space: the model's (as JSON) or Python's; both or neither is an error."""
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


def agree_on_spaces(session, timeout: float, observation_space: gym.Space | None,
                    action_space: gym.Space | None) -> tuple[gym.Space, gym.Space, list[str] | None]:
    """The observation and action spaces (each from the model or from Python) and the model's parameter names."""
    described = json.loads(str(call_java(session.describeModel, timeout)))
    return (choose_space("observation", described["observation_space"], observation_space),
            choose_space("action", described["action_space"], action_space),
            described["parameters"])


def parameters_json(params: Mapping[str, Any]) -> str:
    """Model parameters as the JSON object the launcher reads."""
    try:
        return json.dumps(dict(params), default=_plain_value)
    except TypeError as error:
        raise ModelLoadError(f"env_params must be numbers, booleans or strings: {error}") from None


def settings_from(config: Mapping[str, Any] | str | os.PathLike | None, defaults: dict[str, Any]) -> dict[str, Any]:
    """Merges an environment's settings given as one mapping (RLlib's env_config) or a model path
    over the keyword arguments in ``defaults``, refusing unknown keys."""
    settings = dict(defaults)
    if isinstance(config, Mapping):
        from .alpyperl1 import translate_settings  # (imports alpyperl.env, which imports this module)

        config = translate_settings(config)
        unknown = sorted(set(config) - set(defaults))
        if unknown:
            raise TypeError(f"unknown setting(s) {unknown}; the settings are {sorted(defaults)}")
        settings.update(config)
    elif config is not None:
        settings["model"] = config
    if settings["model"] is None:
        raise TypeError("a model is needed: the path of an exported model folder")
    timeout = settings["step_timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"step_timeout must be a positive number of seconds, got {timeout!r}")
    settings["model_output"] = output.check_setting(settings["model_output"])
    jvm.check_options(settings["jvm_options"])
    return settings


def _plain_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a number, boolean or string")


# ---- Java exceptions -> Python exceptions -------------------------------------------------------


def call_java(method, *args):
    """Calls into Java, turning the launcher's exceptions into alpyperl's."""
    try:
        return method(*args)
    except jpype.JException as error:
        raise translate(error) from None


def translate(error: "jpype.JException") -> Exception:
    """The alpyperl exception (or ValueError, for a refused action) for an exception the launcher threw."""
    kind = str(error.getClass().getName())
    message = str(error.getMessage())
    if kind == "com.alpyperl.launcher.ModelFailure":
        return ModelError(message, str(error.getModelStackTrace()))
    if kind == "com.alpyperl.launcher.StepTimeoutException":
        return ModelTimeoutError(message)
    if kind == "com.alpyperl.launcher.ModelLoadException":
        return ModelLoadError(message)
    if kind == "com.alpyperl.launcher.ActionOutsideSpaceException":
        return ValueError(message)
    return AlpyperlError(f"{kind}: {message}\n{error.stacktrace()}")
