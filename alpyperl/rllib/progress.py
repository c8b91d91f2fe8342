"""The results of ``algo.train()`` as numbers, as one readable line, and as TensorBoard scalars."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    EPISODE_RETURN_MEAN,
    NUM_ENV_STEPS_SAMPLED,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_EPISODES,
)

__all__ = [
    "episode_return", "env_steps", "steps_this_iteration", "runner_restarts", "progress_line",
    "TensorBoardWriter",
]


def episode_return(result: Mapping[str, Any]) -> float:
    """The mean return of the recent episodes (RLlib smooths over the last 100); NaN before any."""
    value = result.get(ENV_RUNNER_RESULTS, {}).get(EPISODE_RETURN_MEAN)
    return math.nan if value is None else float(value)


def env_steps(result: Mapping[str, Any]) -> int:
    """Environment steps sampled since training started."""
    return int(result.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0) or 0)


def steps_this_iteration(result: Mapping[str, Any]) -> int:
    """Environment steps sampled in this iteration."""
    return int(result.get(ENV_RUNNER_RESULTS, {}).get(NUM_ENV_STEPS_SAMPLED, 0) or 0)


def runner_restarts(result: Mapping[str, Any]) -> int:
    """How often EnvRunner processes died and were replaced since training started."""
    return int(result.get("fault_tolerance", {}).get("num_remote_worker_restarts", 0) or 0)


def progress_line(result: Mapping[str, Any]) -> str:
    """One readable line for a result of ``algo.train()``.

    ``iter   3 | steps     12,000 | return   45.2 | episodes   120 | 3,010 steps/s | 4.0 s (total 12.1 s)``;
    steps/s counts the env steps sampled in this iteration over its whole duration (sampling and
    learning).
    """
    runners = result.get(ENV_RUNNER_RESULTS, {})
    seconds = float(result.get("time_this_iter_s", 0.0))
    rate = steps_this_iteration(result) / seconds if seconds > 0 else 0.0
    mean_return = episode_return(result)
    shown_return = "    n/a" if math.isnan(mean_return) else f"{mean_return:7.1f}"
    line = (f"iter {int(result.get('training_iteration', 0)):3d} | steps {env_steps(result):10,d} | "
            f"return {shown_return} | episodes {int(runners.get(NUM_EPISODES, 0) or 0):5d} | "
            f"{rate:7,.0f} steps/s | {seconds:5.1f} s (total {float(result.get('time_total_s', 0.0)):6.1f} s)")
    restarts = runner_restarts(result)
    failures = int(runners.get("num_env_step_failures", 0) or 0)
    if restarts or failures:
        line += f" | model failures {failures}, runner restarts {restarts}"
    return line


class TensorBoardWriter:
    """Writes the numeric entries of ``algo.train()`` results as TensorBoard scalars.

    RLlib's ``algo.train()`` (without Ray Tune) writes no TensorBoard files itself; this puts
    them in ``logdir`` (by default the algorithm's ``algo.logdir``, under ``~/ray_results``).
    View them with ``tensorboard --logdir ~/ray_results``. Needs ``tensorboardX``.
    """

    def __init__(self, logdir: str | os.PathLike):
        from tensorboardX import SummaryWriter

        self.logdir = os.fspath(logdir)
        self._writer = SummaryWriter(self.logdir, flush_secs=10)

    def write(self, result: Mapping[str, Any]) -> None:
        """Adds one point per numeric entry (``env_runners/episode_return_mean``, ...)."""
        step = env_steps(result)
        for key, value in _numbers(result):
            self._writer.add_scalar(key, value, global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def _numbers(result: Mapping[str, Any], prefix: str = ""):
    """The finite numbers of a nested result dict as ("a/b", value), without the config."""
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if name != "config":
                yield from _numbers(value, name + "/")
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            if math.isfinite(float(value)):
                yield name, float(value)
