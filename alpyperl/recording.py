"""Recording episodes to a file and replaying one of them against the model.

    from alpyperl import AnyLogicEnv
    from alpyperl.recording import EpisodeRecorder, replay

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
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import __version__
from .env import DEBUG_STEP_TIMEOUT, AnyLogicEnv
from .errors import AlpyperlError
from .jvm import options_from_file
from .spaces import Codec, flat_size, space_from_json, space_to_json

FORMAT = 1  # the version of the file format, in every header


class RecordingError(AlpyperlError):
    """A recording file is missing, malformed, or has no such episode."""


# ---- flat values ------------------------------------------------------------------------------


def flatten(space: spaces.Space, value: Any) -> list[float]:
    """``value`` of ``space`` as the flat list of numbers in which it crosses to Java (no checks)."""
    if isinstance(space, spaces.Discrete):
        return [float(int(np.asarray(value).reshape(())))]
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        return np.asarray(value, dtype=np.float64).ravel().tolist()
    if isinstance(space, spaces.Tuple):
        return [number for part, item in zip(space.spaces, value) for number in flatten(part, item)]
    if isinstance(space, spaces.Dict):
        return [number for key, part in space.spaces.items() for number in flatten(part, value[key])]
    raise AlpyperlError(f"{space} is not supported")


def unflatten(space: spaces.Space, flat: list[float]) -> Any:
    """The value of ``space`` that :func:`flatten` turned into ``flat``."""
    row = np.asarray(flat, dtype=np.float64)
    if row.shape != (flat_size(space),):
        raise RecordingError(f"a recorded value has {row.size} numbers; the space {space} needs {flat_size(space)}")
    return Codec(space, row).read()


def _checked_flat_action(space: spaces.Space, action: Any) -> list[float]:
    """The action in the flat layout, refused (``ValueError``) exactly as AnyLogicEnv would refuse it."""
    row = np.zeros(flat_size(space), dtype=np.float64)
    Codec(space, row, "action").write(action)
    return row.tolist()


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# ---- recording ----------------------------------------------------------------------------------


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
        self._next_episode = (sum(1 for _, line in _episode_lines(self.path) if "alpyperl_recording" not in line)
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
        flat_action = _checked_flat_action(self.action_space, action)  # a refused action is not recorded
        self._episode["actions"].append(flat_action)
        try:
            observation, reward, terminated, truncated, info = self.env.step(action)
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
                       error=None if error is None else _error_text(error),
                       steps=len(episode["rewards"]), **{"return": float(sum(episode["rewards"]))})
        self._write(episode)

    def _write(self, line: dict[str, Any]) -> None:
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()


# ---- reading ------------------------------------------------------------------------------------


@dataclass
class RecordedEpisode:
    """One episode of a recording, with the header that says how to re-create its environment."""

    header: dict[str, Any]
    data: dict[str, Any]

    @property
    def index(self) -> int:
        return int(self.data["episode"])

    def summary(self) -> str:
        """One line: index, seed, steps, return and how it ended."""
        data = self.data
        if data["error"]:
            ending = "failed: " + data["error"].splitlines()[0]
        else:
            ending = ("terminated" if data["terminated"] else "truncated" if data["truncated"]
                      else "abandoned")
        return (f"episode {self.index:4d}  seed {data['seed']}  steps {data['steps']:5d}  "
                f"return {data['return']:10.4g}  {ending}")


def _episode_lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of every complete line of a recording, headers included."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.endswith("\n"):
                return  # the last line was cut off by a crash while it was written
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                raise RecordingError(f"line {number} of {path} is not JSON ({error.msg}); "
                                     "is this a recording written by alpyperl's EpisodeRecorder?") from None


def read_recording(path: str | os.PathLike) -> list[RecordedEpisode]:
    """Every episode of the recording at ``path``, in file order."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise RecordingError(f"recording {os.path.abspath(path)} does not exist"
                             if not os.path.exists(path) else f"{path} is not a file")
    episodes, header = [], None
    for number, line in _episode_lines(path):
        if "alpyperl_recording" in line:
            if line["alpyperl_recording"] != FORMAT:
                raise RecordingError(f"line {number} of {path}: recording format {line['alpyperl_recording']} "
                                     f"is not supported (this alpyperl reads format {FORMAT})")
            header = line
        elif header is None or "episode" not in line:
            raise RecordingError(f"line {number} of {path} is neither a recording header nor an episode "
                                 "after one; is this a recording written by alpyperl's EpisodeRecorder?")
        else:
            episodes.append(RecordedEpisode(header, line))
    return episodes


def recorded_episode(path: str | os.PathLike, episode: int) -> RecordedEpisode:
    """Episode number ``episode`` of the recording (numbers as in the file's ``episode`` fields)."""
    episodes = read_recording(path)
    for candidate in episodes:
        if candidate.index == episode:
            return candidate
    have = f"episodes {episodes[0].index} to {episodes[-1].index}" if episodes else "no episodes"
    raise RecordingError(f"{path} has no episode {episode}; it has {have}")


# ---- replaying ----------------------------------------------------------------------------------


@dataclass
class Divergence:
    """Where a replay first differs from its recording. Step 0 is the reset; step i the i-th action."""

    step: int
    what: str  # "observation", "reward", "terminated", "truncated" or "error"
    recorded: Any
    replayed: Any
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.what} differs at step {self.step}"
        if self.detail:
            text += f" ({self.detail})"
        return text + f":\n  recorded: {_short(self.recorded)}\n  replayed: {_short(self.replayed)}"


@dataclass
class ReplayResult:
    """What :func:`replay` found. ``reproduced`` is true when every step matched exactly."""

    episode: int
    seed: int | None
    steps: int  # steps compared and found identical (the reset counts as step 0, not as a step)
    divergence: Divergence | None
    recorded_error: str | None

    @property
    def reproduced(self) -> bool:
        return self.divergence is None

    def __str__(self) -> str:
        if self.divergence is not None:
            same = f"step 0 to {self.divergence.step - 1} identical" if self.divergence.step else "no step identical"
            return f"episode {self.episode} diverges at step {self.divergence.step} ({same}): {self.divergence}"
        text = f"episode {self.episode} reproduced: {self.steps} steps identical"
        if self.recorded_error:
            text += f", then the same error: {self.recorded_error.splitlines()[0]}"
        return text


def replay(path: str | os.PathLike, episode: int, *, model: str | os.PathLike | None = None,
           debug_port: int | None = None, debug_suspend: bool = False,
           on_ready: Callable[[], None] | None = None) -> ReplayResult:
    """Re-runs episode ``episode`` of a recording against the model and compares it step by step.

    The environment is re-created from the recording's header (``model`` replaces the model
    folder, e.g. a rebuilt one), reset with the episode's seed and parameters, and given the
    recorded actions. Observations and rewards must be identical to the last bit, and the flags
    and any error (its type and first line) the same; the first difference is reported in the
    result. ``debug_port``/``debug_suspend`` start the JVM with a Java debugger (see
    docs/debugging.md), so a breakpoint in model code stops the replayed episode; the step timeout is
    then one day (``DEBUG_STEP_TIMEOUT``), so time spent at a breakpoint is no error. ``on_ready`` is
    called once the model is open and before the episode starts (e.g. to wait for a debugger).
    """
    recorded = recorded_episode(path, episode)
    header, data = recorded.header, recorded.data
    if data["seed"] is None:
        raise RecordingError(f"episode {episode} cannot be replayed: its reset failed before the episode had a seed "
                             f"({(data['error'] or '').splitlines()[0]})")
    env = AnyLogicEnv(
        model=model if model is not None else header["model"],
        env_params=data["env_params"],
        observation_space=space_from_json(header["observation_space"]) if header["observation_space"] else None,
        action_space=space_from_json(header["action_space"]) if header["action_space"] else None,
        step_timeout=header["step_timeout"] if debug_port is None else max(header["step_timeout"], DEBUG_STEP_TIMEOUT),
        jvm_options=options_from_file(header["jvm_options"], f"the recording {path}"),
        debug_port=debug_port, debug_suspend=debug_suspend)
    try:
        if on_ready is not None:
            on_ready()
        return _compare(env, recorded)
    finally:
        env.close()


def _compare(env: AnyLogicEnv, recorded: RecordedEpisode) -> ReplayResult:
    data = recorded.data
    actions, observations, rewards = data["actions"], data["observations"], data["rewards"]
    failed_at = len(observations) if data["error"] else None  # the step (0: the reset) that raised

    def result(steps: int, divergence: Divergence | None = None) -> ReplayResult:
        return ReplayResult(recorded.index, data["seed"], steps, divergence, data["error"])

    def outcome(step: int, call) -> tuple[Any, Divergence | None]:
        """Runs a reset or step; returns its value, or the divergence if it raised unlike the recording."""
        try:
            value = call()
        except Exception as error:
            replayed = _error_text(error)
            if step == failed_at and _first_line(replayed) == _first_line(data["error"]):
                return None, None
            return None, Divergence(step, "error", data["error"] if step == failed_at else None, replayed)
        if step == failed_at:
            return None, Divergence(step, "error", data["error"], None, "the replay did not fail")
        return value, None

    reset, divergence = outcome(0, lambda: env.reset(seed=data["seed"]))
    if divergence is not None or failed_at == 0:
        return result(0, divergence)
    divergence = _compare_values(0, "observation", observations[0], flatten(env.observation_space, reset[0]))
    if divergence is not None:
        return result(0, divergence)
    for step, flat_action in enumerate(actions, 1):
        stepped, divergence = outcome(step, lambda: env.step(unflatten(env.action_space, flat_action)))
        if divergence is not None:
            return result(step - 1, divergence)
        if step == failed_at:
            return result(step - 1)
        observation, reward, terminated, truncated, _ = stepped
        last = step == len(actions)
        expected_flags = (data["terminated"], data["truncated"]) if last else (False, False)
        for what, recorded_value, replayed_value in (
                ("observation", observations[step], flatten(env.observation_space, observation)),
                ("reward", rewards[step - 1], float(reward)),
                ("terminated", expected_flags[0], bool(terminated)),
                ("truncated", expected_flags[1], bool(truncated))):
            divergence = _compare_values(step, what, recorded_value, replayed_value)
            if divergence is not None:
                return result(step - 1, divergence)
    return result(len(actions))


def _compare_values(step: int, what: str, recorded: Any, replayed: Any) -> Divergence | None:
    """A Divergence if the values differ (exactly; NaN equals NaN), naming the first differing entry."""
    if isinstance(recorded, list):
        if len(recorded) != len(replayed):
            return Divergence(step, what, recorded, replayed, f"{len(recorded)} values recorded, {len(replayed)} replayed")
        for index, (a, b) in enumerate(zip(recorded, replayed)):
            if not _same(a, b):
                return Divergence(step, what, recorded, replayed, f"first at index {index}: {a!r} vs {b!r}")
        return None
    return None if _same(recorded, replayed) else Divergence(step, what, recorded, replayed)


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


def _first_line(text: str | None) -> str:
    return (text or "").splitlines()[0] if text else ""


def _short(value: Any) -> str:
    if isinstance(value, str):  # an error: its first line (the whole text is in the recording or the exception)
        lines = value.splitlines() or [""]
        return lines[0] + (" [...]" if len(lines) > 1 else "")
    text = repr(value)
    return text if len(text) <= 400 else text[:397] + "..."
