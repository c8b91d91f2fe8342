"""What this process is to the user: the driver of a run, or one of RLlib's EnvRunners. The
runner's index labels what its models print and what its JVM says about the debugger, so that
the lines of many runners can be told apart."""

from __future__ import annotations

import os

__all__ = ["become_runner", "runner_index", "label"]

_runner_index: int | None = None


def become_runner(index: int) -> None:
    """Marks this process as RLlib's EnvRunner ``index`` (0: the driver's own runner, which needs no label)."""
    global _runner_index
    _runner_index = index or None


def runner_index() -> int | None:
    """The EnvRunner this process is (from 1), or None outside RLlib and in the driver."""
    return _runner_index


def label() -> str:
    """How this process names itself in messages: ``EnvRunner 2, process 4711`` or ``process 4711``."""
    prefix = f"EnvRunner {_runner_index}, " if _runner_index is not None else ""
    return f"{prefix}process {os.getpid()}"
