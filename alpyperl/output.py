"""What model code prints, per model instance: the ``model_output`` setting.

Each model instance runs on its own Java thread, and the launcher cuts what that thread prints on
``System.out`` and ``System.err`` (AnyLogic's ``traceln()`` included) into whole lines of that
instance. ``model_output`` says where they go:

* ``"log"`` (the default): to Python's :mod:`logging`, logger ``alpyperl.model``, each line
  prefixed with the instance's label (``[CartPole#3] ...``; in an RLlib EnvRunner
  ``[runner 2, CartPole#3] ...``; a line a multi-agent model printed in a method of one of its
  agents, called by its connector, also names the agent: ``[JobShop#1, machine_3] ...``), at INFO
  for ``System.out`` and WARNING for ``System.err``.
  The lines wait in Java and are logged after the ``reset()``/``step()`` call during which they
  were printed (a step without output costs nothing extra). If the process has configured no
  logging at all, they are written to ``sys.stderr`` as ``[label] line``, so nothing printed is
  lost by default.
* ``"console"``: passed through to the process's stdout/stderr unchanged, as without alpyperl
  (lines of concurrent instances may interleave, even within a line).
* a folder (a path, created if missing): one file per instance, ``<label>-pid<process>.log`` (a
  line printed in an agent's method starts with ``[machine_3] ``). A
  folder that does not exist yet is given as a path (``"./model-output"``, ``"runs/output"``,
  an absolute path or a ``pathlib.Path``): a bare word that is no keyword is refused as a typo.
* ``"off"`` or ``None``: dropped.

Whatever the setting, an error of the model still carries what the model printed before it.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from . import bridge, process
from .errors import AlpyperlError

__all__ = ["LOGGER", "KEYWORDS", "check_setting", "InstancesOutput"]

#: The logger that model output goes to with ``model_output="log"``.
LOGGER = logging.getLogger("alpyperl.model")
if LOGGER.level == logging.NOTSET:
    # Model output is shown by default, as a model author expects of a print(); quieten it with
    # logging.getLogger("alpyperl.model").setLevel(logging.WARNING) or model_output="off".
    LOGGER.setLevel(logging.INFO)

#: The keywords of ``model_output`` (any other string is a folder).
KEYWORDS = ("log", "console", "off")

_STREAMS = {"O": (logging.INFO, "stdout"), "E": (logging.WARNING, "stderr")}
#: Around the agent's id before a line printed while a multi-agent model's connector called that
#: agent's method (``InstanceOutput.AGENT``).
AGENT = "\x1f"


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
            if isinstance(value, str) and not os.path.isdir(path) and not _looks_like_a_path(path):
                # A bare word such as "bogus" or "lgo" is more likely a mistyped keyword than a new folder.
                raise ValueError(f"model_output={path!r} is neither 'log', 'console' nor 'off', and no folder of that "
                                 f"name exists; to have one file per model instance in a new folder, give its path: "
                                 f"{os.path.join('.', path)!r} or an absolute path")
            return path
    raise ValueError(f"model_output must be 'log' (Python logging, the default), 'console' (printed as it is), "
                     f"'off' / None, or the path of a folder for one file per model instance; got {value!r}")


def _looks_like_a_path(text: str) -> bool:
    """Whether ``text`` names a folder by its form: it has a path separator or starts with ``.`` or ``~``."""
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(separator in text for separator in separators) or text.startswith((".", "~"))


class InstancesOutput:
    """Where the model instances of one environment send what they print, seen from Python.

    ``labels`` are the instances' labels as they appear in the log; ``paths`` the files their lines
    go to (folder setting only, else None). :meth:`drain` logs the lines waiting in Java, all
    instances' in one call; the environments call it after a reset or step whose flags say that
    lines wait, after errors and on close.
    """

    def __init__(self, instances: bridge.ModelGroup, setting: str | None):
        runner_index = process.runner_index()
        prefix = f"runner {runner_index}, " if runner_index is not None else ""
        self.labels = [prefix + label for label in instances.labels()]
        self.paths: list[str | None] = [None] * len(self.labels)
        self._instances = instances
        self._to_log = setting == "log"
        if setting in ("log", "console", None):
            destination = {"log": "caller", "console": "console", None: "off"}[setting]
            for index in range(len(self.labels)):
                instances.set_output(index, destination, None)
            return
        try:
            os.makedirs(setting, exist_ok=True)
        except OSError as error:
            raise ValueError(f"model_output={setting!r}: cannot create the folder for the model's output: "
                             f"{error.strerror or error}") from None
        runner = f"-runner{runner_index}" if runner_index is not None else ""
        for index, label in enumerate(instances.labels()):
            path = os.path.join(os.path.abspath(setting), f"{label}{runner}-pid{os.getpid()}.log")
            try:
                instances.set_output(index, "file", path)
            except AlpyperlError as error:
                raise ValueError(f"model_output={setting!r}: {error}") from None
            self.paths[index] = path

    def drain(self) -> None:
        """Logs the lines the instances printed since the last drain (nothing unless the setting is "log")."""
        if not self._to_log:
            return
        text = self._instances.take_output()
        if not text:
            return
        configured = LOGGER.hasHandlers()
        for line in text[:-1].split("\n"):
            index, _, line = line.partition(" ")
            label = self.labels[int(index)]
            level, stream = _STREAMS.get(line[:1], _STREAMS["O"])
            if not LOGGER.isEnabledFor(level):
                continue
            line, agent = line[1:], None
            if line[:1] == AGENT:  # printed while the connector called a method of this agent
                agent, _, line = line[1:].partition(AGENT)
            shown = label if agent is None else f"{label}, {agent}"
            if configured:
                LOGGER.log(level, "[%s] %s", shown, line,
                           extra={"model_instance": label, "model_stream": stream, "model_agent": agent})
            else:
                sys.stderr.write(f"[{shown}] {line}\n")
        if not configured:
            sys.stderr.flush()
