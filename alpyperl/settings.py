"""The settings of an environment, shared by :class:`~alpyperl.AnyLogicEnv` and
:class:`~alpyperl.AnyLogicVectorEnv`: their defaults, how they arrive (keywords, or one mapping as
RLlib passes its ``env_config``) and how they are checked.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import jvm, output
from .bridge import MODEL_THREADS
from .errors import ModelLoadError

__all__ = ["DEFAULT_STEP_TIMEOUT", "DEBUG_STEP_TIMEOUT", "DEFAULT_ATTACH_TIMEOUT", "resolve", "check_attach",
           "jvm_options_of", "check_parameters", "parameters_json"]

#: Seconds a model may take to reach its next decision before ``ModelTimeoutError``.
DEFAULT_STEP_TIMEOUT = 10.0
#: A step timeout for debugging sessions: a debugger holding the model at a breakpoint (and, by
#: default, every other thread) must not turn into a ModelTimeoutError. See docs/debugging.md.
DEBUG_STEP_TIMEOUT = 24 * 3600.0
#: Seconds ``AnyLogicEnv(attach=...)`` waits for the model to attach (at creation, and at a reset after a loss).
DEFAULT_ATTACH_TIMEOUT = 600.0


def resolve(config: Mapping[str, Any] | str | os.PathLike | None, keywords: dict[str, Any]) -> dict[str, Any]:
    """An environment's settings: the keyword arguments it was given (``keywords``, which name
    every setting it knows), overridden by ``config``: one mapping (RLlib's env_config, whose
    unknown keys are refused) or the model's path. Each setting is checked; a bad one raises
    ``ValueError`` or ``TypeError`` naming it."""
    settings = dict(keywords)
    if isinstance(config, Mapping):
        from .alpyperl1 import translate_settings  # (imports alpyperl.env, which imports this module)

        config = translate_settings(config)
        unknown = sorted(set(config) - set(keywords))
        if unknown:
            raise TypeError(f"unknown setting(s) {unknown}; the settings are {sorted(keywords)}")
        settings.update(config)
    elif config is not None:
        settings["model"] = config
    attach = settings.get("attach")
    if attach is not None and attach is not False:
        check_attach(settings)
    elif settings["model"] is None:
        raise TypeError("a model is needed: the path of an exported model folder (or attach=True, to train a model "
                        "running in AnyLogic itself)")
    timeout = settings["step_timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"step_timeout must be a positive number of seconds, got {timeout!r}")
    settings["model_output"] = output.check_setting(settings["model_output"])
    jvm.check_options(settings["jvm_options"])
    if settings["model_threads"] not in MODEL_THREADS:
        raise ValueError(f"model_threads must be one of {', '.join(map(repr, MODEL_THREADS))}, "
                         f"got {settings['model_threads']!r}")
    if settings.get("parallelism") is not None and not positive_int(settings["parallelism"]):
        raise ValueError(f"parallelism must be a positive integer or None, got {settings['parallelism']!r}")
    return settings


def check_attach(settings: dict[str, Any]) -> None:
    """Checks ``attach`` (True, a port, or an :class:`~alpyperl.attach.AttachedModel` that attached
    already) and ``attach_timeout``; what attach mode cannot use is refused."""
    from .attach import AttachedModel  # (alpyperl.attach imports this module)

    attach = settings["attach"]
    if not (attach is True or isinstance(attach, AttachedModel) or positive_int(attach) and attach <= 65535):
        raise ValueError(f"attach must be True (any free port) or a TCP port 1-65535, got {attach!r}")
    timeout = settings.get("attach_timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"attach_timeout must be a positive number of seconds, got {timeout!r}")
    if settings["model"] is not None:
        raise ValueError("attach=... trains the model running in AnyLogic; model=... opens an export in this process: "
                         "give one of them")
    if settings.get("render_mode") is not None:
        raise ValueError("render_mode is not needed with attach=...: AnyLogic shows the model's own animation")
    if settings["debug_port"] is not None:
        raise ValueError("debug_port is not needed with attach=...: debug the model in AnyLogic itself (its "
                         "debugger holds a decision as long as it likes: an attached step has no timeout)")


def jvm_options_of(settings: Mapping[str, Any]) -> list[str]:
    """The JVM options an environment's settings ask for: ``jvm_options`` plus the debugger's."""
    options = list(settings["jvm_options"] or ())
    if settings["debug_port"] is not None:
        options += jvm.debug_options(settings["debug_port"], settings["debug_suspend"])
    elif settings["debug_suspend"]:
        raise ValueError("debug_suspend=True needs a debug_port (the port the Java debugger attaches to)")
    return options


def check_parameters(params: Any) -> Mapping[str, Any]:
    """``params`` if it is a mapping of model parameters (``env_params``); else a ``TypeError`` saying so."""
    if not isinstance(params, Mapping):
        raise TypeError(f"env_params must be a mapping of model parameter names to values, got {params!r}")
    return params


def parameters_json(params: Mapping[str, Any]) -> str:
    """Model parameters as the JSON object the launcher reads; NaN and infinities are refused."""
    for name, value in params.items():
        if isinstance(value, (float, np.floating)) and not math.isfinite(value):
            raise ValueError(f"env_params[{name!r}] is {value}: model parameters must be finite numbers")
    try:
        return json.dumps(dict(params), default=_plain_value)
    except TypeError as error:
        raise ModelLoadError(f"env_params must be numbers, booleans or strings: {error}") from None


def positive_int(value: Any) -> bool:
    """Whether ``value`` is a whole number >= 1 (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _plain_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a number, boolean or string")
