"""Recording episodes to a file (reading and replaying them: :mod:`alpyperl.replay`).

    from alpyperl import AnyLogicEnv
    from alpyperl.recording import EpisodeRecorder
    from alpyperl.replay import replay

    env = EpisodeRecorder(AnyLogicEnv(model="examples/cartpole/build/model"), "episodes.jsonl")
    ...                                     # reset/step as usual; every episode lands in the file
    env.close()
    print(replay("episodes.jsonl", episode=3))   # "episode 3 reproduced: 57 steps identical ..."

The file is JSON lines. The first line (a *header*) says how to re-create the environment: the
model folder, the spaces given in Python (``null`` where the model defines them), the step
timeout and JVM options. Every further line is one episode, written when it ends (terminated,
truncated, failed, or abandoned by a ``reset()``/``close()`` in the middle) and flushed at once,
so a crash keeps the earlier episodes:

``{"episode": 3, "seed": ..., "env_params": {...}, "actions": [[...], ...], "observations":
[[...], ...], "rewards": [...], "terminated": bool, "truncated": bool, "abandoned": bool,
"error": null or "ModelError: ...", "steps": n, "return": r}``

``observations[0]`` is the observation of ``reset()`` and ``observations[i]`` the one after
``actions[i-1]``. When the model failed during a step, that step's action is the last one and has
no observation. Actions and observations are stored in the flat layout in which they cross to
Java (``alpyperl.spaces``: one number for ``Discrete``, a ``Box`` row-major, the parts of a
``Tuple``/``Dict`` one after another), not in Gymnasium's ``flatten`` layout (which one-hot
encodes ``Discrete``). Numbers are written as Python writes floats (the shortest text that reads
back as the same float64), so a value round-trips exactly; NaN and infinities are written as
``NaN``/``Infinity``, which Python's json module reads back.

A recorder appended to an existing file adds a new header; each episode belongs to the header
above it, and episodes are numbered through the whole file.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import gymnasium as gym

from . import __version__
from .env import AnyLogicEnv
from .errors import RecordingError
from .replay import FORMAT, error_text, read_recording, recorded_episode, recording_lines, replay, unflatten
from .spaces import flatten, space_to_json

__all__ = [
    "EpisodeRecorder",
    "RecordingError",
    "flatten",
    "unflatten",
    "read_recording",
    "recorded_episode",
    "replay",
]


class EpisodeRecorder(gym.Wrapper):
    """Writes every episode of an :class:`~alpyperl.AnyLogicEnv` to the JSON-lines file ``path``.

    Wrap the AnyLogicEnv itself (wrappers that leave the spaces alone, such as
    ``alpyperl.rllib.DistinctSeeds``, may sit between): what is recorded is what the model saw
    and sent. The file is appended to, one line per episode, flushed when the episode ends.
    A step or reset that fails because of the model ends the episode, which is recorded with the
    error's type and message; an action the environment refuses (``ValueError``) is not recorded.
    """

    def __init__(self, env: gym.Env, path: str | os.PathLike):
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(base, AnyLogicEnv):
            raise TypeError(f"EpisodeRecorder records an AnyLogicEnv, not {type(base).__name__}")
        if env.observation_space != base.observation_space or env.action_space != base.action_space:
            raise ValueError("EpisodeRecorder must wrap the AnyLogicEnv before any wrapper that changes its spaces "
                             "(the recording is replayed against the model itself)")
        self._base = base
        self.path = os.fspath(path)
        self._next_episode = (sum(1 for _, line in recording_lines(self.path) if "alpyperl_recording" not in line)
                              if os.path.exists(self.path) else 0)
        self._file = open(self.path, "a", encoding="utf-8")
        self._episode: dict[str, Any] | None = None
        self._write(self._header())

    def _header(self) -> dict[str, Any]:
        settings = self._base.settings
        given = {kind: space_to_json(settings[kind]) if settings[kind] is not None else None
                 for kind in ("observation_space", "action_space")}
        return {"alpyperl_recording": FORMAT, "alpyperl_version": __version__,
                "model": os.path.abspath(self._base.model_path),
                "observation_space": given["observation_space"], "action_space": given["action_space"],
                "step_timeout": self._base.step_timeout, "jvm_options": list(settings["jvm_options"] or ()),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Resets the environment; an episode still running is recorded as abandoned first."""
        self._finish(abandoned=True)
        self._episode = {"episode": self._next_episode, "seed": None, "env_params": None,
                         "actions": [], "observations": [], "rewards": []}
        self._next_episode += 1
        try:
            observation, info = self.env.reset(seed=seed, options=options)
        except Exception as error:
            self._episode.update(seed=self._base.episode_seed, env_params=self._base.env_params)
            self._finish(error=error)
            raise
        self._episode.update(seed=info.get("seed"), env_params=info.get("env_params"))
        self._episode["observations"].append(flatten(self.observation_space, observation))
        return observation, info

    def step(self, action):
        """Steps the environment and records the action, observation, reward and flags."""
        if self._episode is None:
            return self.env.step(action)  # raises ResetNeeded
        self._episode["actions"].append(flatten(self.action_space, action))
        try:
            observation, reward, terminated, truncated, info = self.env.step(action)
        except ValueError:  # a refused action: nothing happened, so nothing is recorded
            self._episode["actions"].pop()
            raise
        except Exception as error:
            self._finish(error=error)
            raise
        self._episode["observations"].append(flatten(self.observation_space, observation))
        self._episode["rewards"].append(float(reward))
        if terminated or truncated:
            self._finish(terminated=bool(terminated), truncated=bool(truncated))
        return observation, reward, terminated, truncated, info

    def close(self):
        """Records a running episode as abandoned, closes the file, then the environment."""
        if not self._file.closed:
            self._finish(abandoned=True)
            self._file.close()
        super().close()

    def _finish(self, *, terminated: bool = False, truncated: bool = False, abandoned: bool = False,
                error: BaseException | None = None) -> None:
        """Writes the running episode (if any) as one line."""
        episode, self._episode = self._episode, None
        if episode is None:
            return
        episode.update(terminated=terminated, truncated=truncated, abandoned=abandoned,
                       error=None if error is None else error_text(error),
                       steps=len(episode["rewards"]), **{"return": float(sum(episode["rewards"]))})
        self._write(episode)

    def _write(self, line: dict[str, Any]) -> None:
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()
