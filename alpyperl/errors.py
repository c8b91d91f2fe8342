"""The exceptions alpyperl raises (all derive from :class:`AlpyperlError`), and its warnings."""

from __future__ import annotations

import gymnasium.error

__all__ = [
    "AlpyperlError",
    "JavaNotFoundError",
    "DebuggerError",
    "ModelLoadError",
    "SpaceDefinitionError",
    "ModelError",
    "ModelTimeoutError",
    "ResetNeeded",
    "ExportError",
    "RecordingError",
    "ConnectorVersionWarning",
]


class AlpyperlError(Exception):
    """Base class of alpyperl's errors."""


class JavaNotFoundError(AlpyperlError):
    """No Java runtime (JDK/JRE 11 or newer) could be found to start the embedded JVM."""


class DebuggerError(AlpyperlError):
    """The Java debugger cannot be set up: its port is in use, or the JVM already runs without it."""


class ModelLoadError(AlpyperlError):
    """A model folder, jar, class or parameter is missing or unusable; the message says what to fix."""


class SpaceDefinitionError(AlpyperlError, ValueError):
    """The observation or action space is defined twice (model and Python), or nowhere, or is unsupported."""


class ModelError(AlpyperlError):
    """Model code threw an exception or broke the model contract.

    ``java_stack_trace`` holds the Java stack trace of the model's exception (also in the message).
    After a ``ModelError`` the environment works again after ``reset()``.
    """

    def __init__(self, message: str, java_stack_trace: str = ""):
        super().__init__(message + (f"\n\nJava stack trace of the model:\n{java_stack_trace}" if java_stack_trace else ""))
        self.java_stack_trace = java_stack_trace


class ModelTimeoutError(AlpyperlError, TimeoutError):
    """The model did not reach its next decision within ``step_timeout`` seconds.

    The message shows where the model's thread is. ``reset()`` starts the model on a new thread.
    """


class ResetNeeded(AlpyperlError, gymnasium.error.ResetNeeded, RuntimeError):
    """``step()`` was called although the episode has ended (or never started); call ``reset()``.

    Gymnasium's own ``ResetNeeded``, so code written for any Gymnasium environment catches it.
    """


class ExportError(AlpyperlError):
    """A policy cannot be exported to ONNX, or the exported file failed its verification.

    The message says what is unsupported, or on which observation the exported policy differs
    from the trained one (and by how much).
    """


class RecordingError(AlpyperlError):
    """A recording file is missing, malformed, or has no such episode."""


class ConnectorVersionWarning(UserWarning):
    """A model folder carries another version of the connector than the one alpyperl runs its model
    with (alpyperl's own): given once per folder and process, saying what to do."""
