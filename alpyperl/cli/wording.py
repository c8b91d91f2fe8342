"""How the command line words what it prints: counts with their noun in the singular or plural
("1 episode", "3 episodes"), as the launcher's Java command line words them (``Main.counted``)."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, the noun plural (an ``s`` added) unless the count is 1: ``counted(1,
    "episode")`` is ``"1 episode"``, ``counted(0, "agent type")`` is ``"0 agent types"``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
