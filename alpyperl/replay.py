"""Reading the recordings that :mod:`alpyperl.recording` writes, and replaying an episode against the model.

    from alpyperl.replay import read_recording, replay

    for episode in read_recording("episodes.jsonl"):
        print(episode.summary())
    print(replay("episodes.jsonl", episode=3))   # "episode 3 reproduced: 57 steps identical ..."

The file format is described in :mod:`alpyperl.recording`. A replay re-creates the environment
from the recording's header, resets it with the episode's seed and parameters, gives it the
recorded actions, and reports the first step where the model now behaves differently.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from gymnasium import spaces

from .env import AnyLogicEnv
from .bridge import SEED_LIMIT
from .errors import RecordingError, SpaceDefinitionError
from .jvm import options_from_file
from .settings import DEBUG_STEP_TIMEOUT
from .spaces import short_repr, flatten, space_from_json
from .spaces import unflatten as spaces_unflatten

__all__ = [
    "FORMAT",
    "flatten",
    "unflatten",
    "RecordedEpisode",
    "read_recording",
    "recorded_episode",
    "Divergence",
    "ReplayResult",
    "replay",
]

#: The version of the file format, in every header.
FORMAT = 1


# ---- flat values ------------------------------------------------------------------------------


def unflatten(space: spaces.Space, flat: list[float]) -> Any:
    """The value of ``space`` that :func:`~alpyperl.spaces.flatten` turned into ``flat``."""
    try:
        return spaces_unflatten(space, flat)
    except ValueError as error:
        raise RecordingError(f"a recorded value does not fit: {error}") from None


def error_text(error: BaseException) -> str:
    """An error as a recording stores it: its type and message."""
    return f"{type(error).__name__}: {error}"


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


def recording_lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of every complete line of a recording, headers included."""
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.endswith(b"\n"):
                return  # the last line was cut off by a crash while it was written
            try:
                value = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as error:
                raise RecordingError(f"line {number} of {path} is not UTF-8 text (byte {error.start + 1}); "
                                     "is this a recording written by alpyperl's EpisodeRecorder?") from None
            except json.JSONDecodeError as error:
                raise RecordingError(f"line {number} of {path} is not JSON ({error.msg}); "
                                     "is this a recording written by alpyperl's EpisodeRecorder?") from None
            except RecursionError:
                raise RecordingError(f"line {number} of {path} nests JSON too deeply to be a recording") from None
            except ValueError as error:  # a number of more than 4300 digits
                raise RecordingError(f"line {number} of {path} is not JSON alpyperl can read ({error})") from None
            if not isinstance(value, dict):
                raise RecordingError(f"line {number} of {path} is a JSON {type(value).__name__}, not an object; "
                                     "is this a recording written by alpyperl's EpisodeRecorder?")
            yield number, value


# ---- what a line must hold ----------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_is_number(item) for item in value)


def _is_parameter_value(value: Any) -> bool:
    """Whether ``value`` can be a model parameter's value: a finite number, a boolean or a string."""
    return isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value))


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(_is_numbers(row) for row in value)


#: The fields of a header and of an episode line: field -> (test of its value, what it must be).
_HEADER_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model": (lambda v: isinstance(v, str) and v != "", "the model folder (a string)"),
    "observation_space": (lambda v: v is None or isinstance(v, str), "null or a space's JSON text"),
    "action_space": (lambda v: v is None or isinstance(v, str), "null or a space's JSON text"),
    "step_timeout": (lambda v: _is_number(v) and 0 < v < float("inf"), "a positive number of seconds"),
    "jvm_options": (lambda v: isinstance(v, list) and all(isinstance(o, str) for o in v), "a list of strings"),
}
_EPISODE_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "episode": (lambda v: _is_int(v) and v >= 0, "a whole number from 0"),
    "seed": (lambda v: v is None or (_is_int(v) and 0 <= v < SEED_LIMIT), "null or a whole number from 0 to 2**63 - 1"),
    "env_params": (lambda v: v is None or isinstance(v, dict), "null or an object of parameter values"),
    "actions": (_is_rows, "a list of lists of numbers"),
    "observations": (_is_rows, "a list of lists of numbers"),
    "rewards": (_is_numbers, "a list of numbers"),
    "terminated": (lambda v: isinstance(v, bool), "true or false"),
    "truncated": (lambda v: isinstance(v, bool), "true or false"),
    "error": (lambda v: v is None or isinstance(v, str), "null or the error's text"),
    "steps": (lambda v: _is_int(v) and v >= 0, "a whole number from 0"),
    "return": (_is_number, "a number"),
}


def _check_fields(line: dict[str, Any], fields: dict, where: str) -> None:
    """Raises :class:`RecordingError` naming the first field of ``line`` that is missing or wrong."""
    for field, (valid, meaning) in fields.items():
        if field not in line:
            raise RecordingError(f"{where}: the field {field!r} is missing")
        if not valid(line[field]):
            raise RecordingError(f"{where}: the field {field!r} must be {meaning}, not {short_repr(line[field])}")


def _check_episode(line: dict[str, Any], where: str) -> None:
    """Checks an episode line's fields and that its lists have the lengths a replay relies on."""
    _check_fields(line, _EPISODE_FIELDS, where)
    for name, value in (line["env_params"] or {}).items():
        if not _is_parameter_value(value):
            raise RecordingError(f"{where}: the field 'env_params' must hold numbers, booleans or strings; its "
                                 f"parameter {short_repr(name)} is {short_repr(value)}")
    actions, observations, rewards = (len(line[field]) for field in ("actions", "observations", "rewards"))
    failed = line["error"] is not None
    expected = (actions, max(actions - 1, 0)) if failed else (actions + 1, actions)
    if (observations, rewards) != expected:
        raise RecordingError(f"{where}: the field 'observations' has {observations} and 'rewards' {rewards} entries; "
                             f"{actions} actions {'of a failed episode ' if failed else ''}need {expected[0]} and "
                             f"{expected[1]}")


def read_recording(path: str | os.PathLike) -> list[RecordedEpisode]:
    """Every episode of the recording at ``path``, in file order; :class:`RecordingError` naming the line
    and field if a line is not what :class:`~alpyperl.recording.EpisodeRecorder` writes."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise RecordingError(f"recording {os.path.abspath(path)} does not exist"
                             if not os.path.exists(path) else f"{path} is not a file")
    episodes, header = [], None
    for number, line in recording_lines(path):
        where = f"line {number} of {path}"
        if "alpyperl_recording" in line:
            if line["alpyperl_recording"] != FORMAT:
                raise RecordingError(f"{where}: recording format {short_repr(line['alpyperl_recording'])} "
                                     f"is not supported (this alpyperl reads format {FORMAT})")
            _check_fields(line, _HEADER_FIELDS, where)
            for kind in ("observation_space", "action_space"):
                if line[kind] is not None:
                    try:
                        space_from_json(line[kind])
                    except (SpaceDefinitionError, ValueError) as error:
                        raise RecordingError(f"{where}: the field {kind!r} is no space alpyperl can use: "
                                             f"{error}") from None
            header = line
        elif header is None or "episode" not in line:
            raise RecordingError(f"{where} is neither a recording header nor an episode "
                                 "after one; is this a recording written by alpyperl's EpisodeRecorder?")
        else:
            _check_episode(line, where)
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
            replayed = error_text(error)
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
