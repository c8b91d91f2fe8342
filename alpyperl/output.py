"""What model code prints, per model instance: the ``model_output`` setting.

Each model instance runs on its own Java thread, and the launcher cuts what that thread prints on
``System.out`` and ``System.err`` (AnyLogic's ``traceln()`` included) into whole lines of that
instance. ``model_output`` says where they go:

* ``"log"`` (the default): to Python's :mod:`logging`, logger ``alpyperl.model``, each line
  prefixed with the instance's label (``[CartPole#3] ...``; in an RLlib EnvRunner
  ``[runner 2, CartPole#3] ...``), at INFO for ``System.out`` and WARNING for ``System.err``.
  The lines wait in Java and are logged after the ``reset()``/``step()`` call during which they
  were printed (a step without output costs nothing extra). If the process has configured no
  logging at all, they are written to ``sys.stderr`` as ``[label] line``, so nothing printed is
  lost by default.
* ``"console"``: passed through to the process's stdout/stderr unchanged, as without alpyperl
  (lines of concurrent instances may interleave, even within a line).
* a folder (a path, created if missing): one file per instance, ``<label>-pid<process>.log``.
* ``"off"`` or ``None``: dropped.

Whatever the setting, an error of the model still carries what the model printed before it.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import jpype

#: The logger that model output goes to with ``model_output="log"``.
LOGGER = logging.getLogger("alpyperl.model")
if LOGGER.level == logging.NOTSET:
    # Model output is shown by default, as a model author expects of a print(); quieten it with
    # logging.getLogger("alpyperl.model").setLevel(logging.WARNING) or model_output="off".
    LOGGER.setLevel(logging.INFO)

#: The keywords of ``model_output`` (any other string is a folder).
KEYWORDS = ("log", "console", "off")
#: Added by the launcher to a reset/step status while printed lines wait to be taken.
OUTPUT_WAITING = 4
#: The EnvRunner this process is, set by :func:`alpyperl.rllib.make_env` (None outside RLlib or in
#: the driver); it becomes part of every instance's label.
runner_index: int | None = None

_STREAMS = {"O": (logging.INFO, "stdout"), "E": (logging.WARNING, "stderr")}


def check_setting(value: Any) -> str | None:
    """The ``model_output`` setting in its normal form: a keyword, None for "off", or a folder path.

    Raises ValueError for anything else, naming the choices.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in KEYWORDS:
        keyword = value.strip().lower()
        return None if keyword == "off" else keyword
    if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
        path = os.fspath(value)
        if path.strip():
            if os.path.exists(path) and not os.path.isdir(path):
                raise ValueError(f"model_output={path!r} is a file; give a folder for the per-instance "
                                 "output files, or one of 'log', 'console', 'off'")
            return path
    raise ValueError(f"model_output must be 'log' (Python logging, the default), 'console' (printed as it is), "
                     f"'off' / None, or the path of a folder for one file per model instance; got {value!r}")


class InstanceOutput:
    """Where one model instance (a launcher session) sends what it prints, seen from Python.

    ``label`` is the instance's label as it appears in the log; ``path`` the file its lines go to
    (folder setting only). :meth:`drain` logs the lines waiting in Java; the environments call it
    after a reset or step whose status carries :data:`OUTPUT_WAITING`, after errors and on close.
    """

    def __init__(self, session):
        self.label = str(session.getLabel())
        if runner_index is not None:
            self.label = f"runner {runner_index}, {self.label}"
        self.path: str | None = None
        self._session = session
        self._to_log = False

    def send_to(self, setting: str | None) -> None:
        """Sends the instance's lines where ``setting`` (from :func:`check_setting`) says."""
        if setting in ("log", "console", None):
            self._session.setOutput({"log": "caller", "console": "console", None: "off"}[setting], None)
            self._to_log = setting == "log"
            return
        try:
            os.makedirs(setting, exist_ok=True)
        except OSError as error:
            raise ValueError(f"model_output={setting!r}: cannot create the folder for the model's output: "
                             f"{error.strerror or error}") from None
        runner = f"-runner{runner_index}" if runner_index is not None else ""
        path = os.path.join(os.path.abspath(setting), f"{self._session.getLabel()}{runner}-pid{os.getpid()}.log")
        try:
            self._session.setOutput("file", path)
        except jpype.JException as error:
            raise ValueError(f"model_output={setting!r}: {error.getMessage()}") from None
        self.path = path
        self._to_log = False

    def drain(self) -> None:
        """Logs the lines the instance printed since the last drain (nothing unless the setting is "log")."""
        if not self._to_log:
            return
        try:
            text = str(self._session.takeOutput())
        except Exception:  # noqa: BLE001 - the JVM is shutting down: nothing can be taken any more
            return
        if not text:
            return
        configured = LOGGER.hasHandlers()
        for line in text[:-1].split("\n"):
            level, stream = _STREAMS.get(line[:1], _STREAMS["O"])
            if not LOGGER.isEnabledFor(level):
                continue
            if configured:
                LOGGER.log(level, "[%s] %s", self.label, line[1:],
                           extra={"model_instance": self.label, "model_stream": stream})
            else:
                sys.stderr.write(f"[{self.label}] {line[1:]}\n")
        if not configured:
            sys.stderr.flush()
