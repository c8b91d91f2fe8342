"""The warnings of Ray and RLlib 2.60 that a user of alpyperl cannot act on, kept out of the output.

Each is dropped where it arises, and only it (docs/training.md lists them, and the one left):

- "Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out"
  (``ray.init`` starting a new local Ray while ``RAY_AUTH_MODE`` is unset): Ray's secure default
  applies all the same. Setting ``RAY_AUTH_MODE=token`` would say so without a warning, but only
  before Ray is imported (Ray reads its configuration once; set afterwards, no token is made and
  Ray's GCS server fails to start), which a library cannot ensure.
- "You are running PPO on the new API stack! This is the new default behavior ..." (every
  algorithm's config): alpyperl supports the new API stack only.
- "`RLModule(config=[RLModuleConfig object])` has been deprecated" (once in every process that
  builds an RLModule: the driver and every EnvRunner): RLlib's own ``RLModule.__init__`` makes the
  deprecated object, whatever arguments it gets.
- "Install gputil for GPU system monitoring." (the algorithm's system monitor): CPU and memory are
  monitored all the same; with GPUs, ``pip install gputil`` adds them.

These are Python log records; :func:`silence_ray_noise` drops exactly those records at the loggers
that emit them. ``alpyperl.rllib`` calls it when it is imported, so it applies in the
driver and in every EnvRunner (which imports ``alpyperl.rllib`` to create its environments, before
it builds its RLModule).
"""

from __future__ import annotations

import logging

__all__ = ["NOISE", "silence_ray_noise"]

#: (logger, the start of the message, a part of the message) of each log record dropped.
NOISE = (
    ("ray._private.authentication.authentication_token_setup", "Token authentication is enabled for this Ray "
     "cluster. Set RAY_AUTH_MODE=disabled to opt out.", ""),
    ("ray.rllib.algorithms.algorithm_config", "You are running ", "on the new API stack! This is the new default"),
    ("ray._common.deprecation", "DeprecationWarning: `RLModule(config=[RLModuleConfig object])` has been deprecated",
     ""),
    ("ray.tune.utils.util", "Install gputil for GPU system monitoring.", ""),
)


class _DropNoise(logging.Filter):
    """Drops the records of one logger whose message starts with ``start`` and contains ``part``."""

    def __init__(self, start: str, part: str):
        super().__init__()
        self.start, self.part = start, part

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith(self.start) and self.part in message)


def silence_ray_noise() -> None:
    """Drops the log records listed in :data:`NOISE` in this process (calling it again changes nothing)."""
    for name, start, part in NOISE:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _DropNoise) and existing.start == start for existing in logger.filters):
            logger.addFilter(_DropNoise(start, part))
