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

**Multi-agent models.** ``EpisodeRecorder(AnyLogicMultiAgentEnv(...), path)`` records an
:class:`~alpyperl.AnyLogicMultiAgentEnv` in the same way (it returns a
:class:`MultiAgentEpisodeRecorder`). Its header says ``"environment": "multi_agent"`` and holds
``max_agents`` and ``observation_spaces``/``action_spaces`` (the spaces given in Python by agent
type, each as its JSON text, or ``null``; optional when reading) instead of the spaces; in its
episode lines every step is an object keyed by agent id: ``actions[i]`` the actions of the agents
that waited, ``observations[i]`` the observations ``reset()``/``step()`` returned (each agent's in
the flat layout of its type's observation space, the mask first for a masked type), ``rewards[i]``
the rewards of step ``i + 1``, and ``ended[i]`` the agents whose part ended in it (``"terminated"``
or ``"truncated"``). ``terminated`` and ``truncated`` are the episode's (``"__all__"``), ``return``
the sum over all agents and steps.

**Formats.** The header's ``alpyperl_recording`` is the format: 2 since multi-agent recordings
(the header has ``"environment": "single_agent"`` or ``"multi_agent"``); recordings of format 1
(single-agent, without ``environment``) are read and replayed as before.
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
from .multi_agent import AnyLogicMultiAgentEnv
from .replay import (
    FORMAT, MULTI_AGENT, SINGLE_AGENT, error_text, read_recording, recorded_episode, recording_lines, replay, unflatten,
)
from .spaces import flatten, space_to_json

__all__ = [
    "EpisodeRecorder",
    "MultiAgentEpisodeRecorder",
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

    Given an :class:`~alpyperl.AnyLogicMultiAgentEnv`, it returns a :class:`MultiAgentEpisodeRecorder`.
    """

    def __new__(cls, env, path: str | os.PathLike):
        if cls is EpisodeRecorder and isinstance(env, AnyLogicMultiAgentEnv):
            return MultiAgentEpisodeRecorder(env, path)
        return super().__new__(cls)

    def __init__(self, env: gym.Env, path: str | os.PathLike):
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(base, AnyLogicEnv):
            raise TypeError(f"EpisodeRecorder records an AnyLogicEnv, not {type(base).__name__}")
        if env.observation_space != base.observation_space or env.action_space != base.action_space:
            raise ValueError("EpisodeRecorder must wrap the AnyLogicEnv before any wrapper that changes its spaces "
                             "(the recording is replayed against the model itself)")
        self._base = base
        self._file = _RecordingFile(path, self._header())
        self.path = self._file.path
        self._episode: dict[str, Any] | None = None

    def _header(self) -> dict[str, Any]:
        settings = self._base.settings
        given = {kind: space_to_json(settings[kind]) if settings[kind] is not None else None
                 for kind in ("observation_space", "action_space")}
        return _header(SINGLE_AGENT, self._base.model_path, observation_space=given["observation_space"],
                       action_space=given["action_space"], step_timeout=self._base.step_timeout,
                       jvm_options=list(settings["jvm_options"] or ()))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Resets the environment; an episode still running is recorded as abandoned first."""
        self._finish(abandoned=True)
        self._episode = {"episode": self._file.next_episode(), "seed": None, "env_params": None,
                         "actions": [], "observations": [], "rewards": []}
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

    def _finish(self, **ending: Any) -> None:
        """Writes the running episode (if any) as one line; ``ending`` as :meth:`_RecordingFile.write_episode`."""
        episode, self._episode = self._episode, None
        if episode is not None:
            self._file.write_episode(episode, sum(episode["rewards"]), **ending)


class MultiAgentEpisodeRecorder:
    """Writes every episode of an :class:`~alpyperl.AnyLogicMultiAgentEnv` to the JSON-lines file
    ``path`` (``EpisodeRecorder(env, path)`` makes one): per step the agents' actions, observations,
    rewards and endings, keyed by agent id (see the module's documentation).

    Everything else of the environment (``waiting_agents``, ``agent_types``, spaces ...) is the
    environment's. As for :class:`EpisodeRecorder`, an episode is written when it ends, a failure
    of the model ends it with the error, and a refused action (``ValueError``) is not recorded.
    """

    def __init__(self, env: AnyLogicMultiAgentEnv, path: str | os.PathLike):
        if not isinstance(env, AnyLogicMultiAgentEnv):
            raise TypeError(f"MultiAgentEpisodeRecorder records an AnyLogicMultiAgentEnv, not {type(env).__name__}")
        self.env = env
        self._file = _RecordingFile(path, _header(
            MULTI_AGENT, env.model_path, max_agents=env.max_agents, step_timeout=float(env.settings["step_timeout"]),
            jvm_options=list(env.settings["jvm_options"] or ()),
            **{kind: _spaces_json(env.settings[kind]) for kind in ("observation_spaces", "action_spaces")}))
        self.path = self._file.path
        self._episode: dict[str, Any] | None = None

    def __getattr__(self, name: str):
        if name.startswith("_") or name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Resets the environment; an episode still running is recorded as abandoned first."""
        self._finish(abandoned=True)
        self._episode = {"episode": self._file.next_episode(), "seed": None, "env_params": None,
                         "actions": [], "observations": [], "rewards": [], "ended": []}
        try:
            observations, infos = self.env.reset(seed=seed, options=options)
        except Exception as error:
            self._episode.update(seed=self.env.episode_seed, env_params=self.env.env_params)
            self._finish(error=error)
            raise
        self._episode.update(seed=self.env.episode_seed, env_params=self.env.env_params)
        self._episode["observations"].append(self._flat(observations))
        return observations, infos

    def step(self, action_dict):
        """Steps the environment and records the actions, observations, rewards and endings."""
        if self._episode is None:
            return self.env.step(action_dict)  # raises ResetNeeded
        try:
            actions = {agent: flatten(self.env.get_action_space(agent), action)
                       for agent, action in action_dict.items()}
        except (ValueError, TypeError):  # no action of the agent's space, or no such agent:
            return self.env.step(action_dict)  # refused with the environment's own message; nothing recorded
        self._episode["actions"].append(actions)
        try:
            observations, rewards, terminateds, truncateds, infos = self.env.step(action_dict)
        except ValueError:  # a refused action: nothing happened, so nothing is recorded
            self._episode["actions"].pop()
            raise
        except Exception as error:
            self._finish(error=error)
            raise
        self._episode["observations"].append(self._flat(observations))
        self._episode["rewards"].append({agent: float(reward) for agent, reward in rewards.items()})
        self._episode["ended"].append({
            agent: "terminated" if terminateds[agent] else "truncated" for agent in terminateds
            if agent != "__all__" and (terminateds[agent] or truncateds.get(agent))})
        if terminateds["__all__"] or truncateds["__all__"]:
            self._finish(terminated=bool(terminateds["__all__"]), truncated=bool(truncateds["__all__"]))
        return observations, rewards, terminateds, truncateds, infos

    def _flat(self, observations: dict) -> dict[str, list[float]]:
        return {agent: flatten(self.env.get_observation_space(agent), value) for agent, value in observations.items()}

    def close(self) -> None:
        """Records a running episode as abandoned, closes the file, then the environment."""
        if not self._file.closed:
            self._finish(abandoned=True)
            self._file.close()
        self.env.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _finish(self, **ending: Any) -> None:
        """Writes the running episode (if any) as one line; ``ending`` as :meth:`_RecordingFile.write_episode`."""
        episode, self._episode = self._episode, None
        if episode is not None:  # its return: every agent's rewards summed
            self._file.write_episode(episode, sum(sum(step.values()) for step in episode["rewards"]), **ending)


def _spaces_json(spaces_by_type) -> dict[str, str] | None:
    """Spaces by agent type given in Python, as a header holds them (each space's JSON text), or None."""
    return None if not spaces_by_type else {name: space_to_json(space) for name, space in spaces_by_type.items()}


def _header(environment: str, model_path: str, **fields: Any) -> dict[str, Any]:
    """A recording's header: format, alpyperl version, kind of environment, model folder, ``fields``, time."""
    return {"alpyperl_recording": FORMAT, "alpyperl_version": __version__, "environment": environment,
            "model": os.path.abspath(model_path), **fields, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


class _RecordingFile:
    """A recording opened for appending (its folder made if missing): writes ``header`` at once,
    then one line per episode (flushed), and numbers the episodes on from those the file holds."""

    def __init__(self, path: str | os.PathLike, header: dict[str, Any]):
        self.path = os.fspath(path)
        self._next = (sum(1 for _, line in recording_lines(self.path) if "alpyperl_recording" not in line)
                      if os.path.exists(self.path) else 0)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")
        self.write(header)

    @property
    def closed(self) -> bool:
        return self._file.closed

    def next_episode(self) -> int:
        """The number of the next episode (counted on)."""
        self._next += 1
        return self._next - 1

    def write(self, line: dict[str, Any]) -> None:
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()

    def write_episode(self, episode: dict[str, Any], episode_return: float, *, terminated: bool = False,
                      truncated: bool = False, abandoned: bool = False,
                      error: BaseException | None = None) -> None:
        """Writes a recorded ``episode`` (its steps in lists) as one line, with how it ended."""
        episode.update(terminated=terminated, truncated=truncated, abandoned=abandoned,
                       error=None if error is None else error_text(error), steps=len(episode["rewards"]),
                       **{"return": float(episode_return)})
        self.write(episode)

    def close(self) -> None:
        self._file.close()
