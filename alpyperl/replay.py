"""Reading the recordings that :mod:`alpyperl.recording` writes, and replaying an episode against the model.

    from alpyperl.replay import read_recording, replay

    for episode in read_recording("episodes.jsonl"):
        print(episode.summary())
    print(replay("episodes.jsonl", episode=3))   # "episode 3 reproduced: 57 steps identical ..."

The file format is described in :mod:`alpyperl.recording`. A replay re-creates the environment
from the recording's header (an :class:`~alpyperl.AnyLogicEnv`, or an
:class:`~alpyperl.AnyLogicMultiAgentEnv` for a multi-agent recording), resets it with the
episode's seed and parameters, gives it the recorded actions, and reports the first step (and,
for a multi-agent model, the agent) where the model now behaves differently.
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
    "FORMATS",
    "SINGLE_AGENT",
    "MULTI_AGENT",
    "flatten",
    "unflatten",
    "RecordedEpisode",
    "read_recording",
    "recorded_episode",
    "Divergence",
    "ReplayResult",
    "replay",
]

#: The version of the file format that recorders write, in every header. Format 1 (alpyperl 2.0)
#: had single-agent recordings only; format 2 adds ``"environment"`` to the header and multi-agent
#: episodes.
FORMAT = 2
#: The formats this alpyperl reads.
FORMATS = (1, 2)
#: The header's ``"environment"``: an AnyLogicEnv's recording (the only kind in format 1) or an AnyLogicMultiAgentEnv's.
SINGLE_AGENT, MULTI_AGENT = "single_agent", "multi_agent"


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

    @property
    def multi_agent(self) -> bool:
        """Whether the episode is one of an :class:`~alpyperl.AnyLogicMultiAgentEnv` (actions and
        observations per agent)."""
        return self.header.get("environment") == MULTI_AGENT

    def summary(self) -> str:
        """One line: index, seed, steps, return (summed over the agents of a multi-agent model) and how it ended."""
        data = self.data
        if data["error"]:
            ending = "failed: " + data["error"].splitlines()[0]
        else:
            ending = ("terminated" if data["terminated"] else "truncated" if data["truncated"]
                      else "abandoned")
        agents = ""
        if self.multi_agent:
            count = len({agent for observations in data["observations"] for agent in observations})
            agents = f"  agents {count:3d}"
        return (f"episode {self.index:4d}  seed {data['seed']}  steps {data['steps']:5d}{agents}  "
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


def _is_agent_rows(value: Any) -> bool:
    """A list of objects of agent id -> a list of numbers (a multi-agent episode's actions or observations)."""
    return isinstance(value, list) and all(
        isinstance(row, dict) and all(_is_numbers(values) for values in row.values()) for row in value)


def _is_agent_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(row, dict) and all(_is_number(number) for number in row.values()) for row in value)


def _is_agent_endings(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(row, dict) and all(ending in ENDINGS for ending in row.values()) for row in value)


#: How an agent's part in a multi-agent episode ended (an episode line's ``"ended"``).
ENDINGS = ("terminated", "truncated")


#: The fields of a header and of an episode line: field -> (test of its value, what it must be).
_HEADER_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model": (lambda v: isinstance(v, str) and v != "", "the model folder (a string)"),
    "observation_space": (lambda v: v is None or isinstance(v, str), "null or a space's JSON text"),
    "action_space": (lambda v: v is None or isinstance(v, str), "null or a space's JSON text"),
    "step_timeout": (lambda v: _is_number(v) and 0 < v < float("inf"), "a positive number of seconds"),
    "jvm_options": (lambda v: isinstance(v, list) and all(isinstance(o, str) for o in v), "a list of strings"),
}
_MULTI_AGENT_HEADER_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model": _HEADER_FIELDS["model"],
    "max_agents": (lambda v: _is_int(v) and 0 < v < 1 << 31, "a positive whole number"),
    "step_timeout": _HEADER_FIELDS["step_timeout"],
    "jvm_options": _HEADER_FIELDS["jvm_options"],
}
#: Fields a multi-agent header may lack (recordings made before they were written): the spaces given in Python.
_OPTIONAL_MULTI_AGENT_HEADER_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    kind: (lambda v: v is None or (isinstance(v, dict) and all(isinstance(s, str) for s in v.values())),
           "null or an object of agent type -> a space's JSON text")
    for kind in ("observation_spaces", "action_spaces")
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
_MULTI_AGENT_EPISODE_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    **_EPISODE_FIELDS,
    "actions": (_is_agent_rows, "a list of objects of agent id -> list of numbers"),
    "observations": (_is_agent_rows, "a list of objects of agent id -> list of numbers"),
    "rewards": (_is_agent_numbers, "a list of objects of agent id -> number"),
    "ended": (_is_agent_endings, 'a list of objects of agent id -> "terminated" or "truncated"'),
}


def _check_fields(line: dict[str, Any], fields: dict, where: str) -> None:
    """Raises :class:`RecordingError` naming the first field of ``line`` that is missing or wrong."""
    for field, (valid, meaning) in fields.items():
        if field not in line:
            raise RecordingError(f"{where}: the field {field!r} is missing")
        if not valid(line[field]):
            raise RecordingError(f"{where}: the field {field!r} must be {meaning}, not {short_repr(line[field])}")


def _check_episode(line: dict[str, Any], where: str, multi_agent: bool) -> None:
    """Checks an episode line's fields and that its lists have the lengths a replay relies on."""
    _check_fields(line, _MULTI_AGENT_EPISODE_FIELDS if multi_agent else _EPISODE_FIELDS, where)
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
    if multi_agent:
        for agent in (agent for row in line["actions"] + line["observations"] for agent in row):
            if not _is_agent_id(agent):
                raise RecordingError(f"{where}: {short_repr(agent)} is no agent id (<type>_<number>, e.g. machine_3)")
        if len(line["ended"]) != rewards:
            raise RecordingError(f"{where}: the field 'ended' has {len(line['ended'])} entries; {rewards} rewards "
                                 f"need {rewards}")


def _is_agent_id(agent: str) -> bool:
    kind, _, number = agent.rpartition("_")
    return bool(kind) and number.isdigit()


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
            if line["alpyperl_recording"] not in FORMATS or isinstance(line["alpyperl_recording"], bool):
                raise RecordingError(f"{where}: recording format {short_repr(line['alpyperl_recording'])} "
                                     f"is not supported (this alpyperl reads formats "
                                     f"{', '.join(map(str, FORMATS))}); is it from a newer alpyperl?")
            environment = line.get("environment", SINGLE_AGENT) if line["alpyperl_recording"] > 1 else SINGLE_AGENT
            if environment not in (SINGLE_AGENT, MULTI_AGENT):
                raise RecordingError(f"{where}: the field 'environment' must be {SINGLE_AGENT!r} or {MULTI_AGENT!r}, "
                                     f"not {short_repr(environment)}")
            line = {**line, "environment": environment}
            if environment == MULTI_AGENT:
                _check_fields(line, _MULTI_AGENT_HEADER_FIELDS, where)
                line = {kind: None for kind in _OPTIONAL_MULTI_AGENT_HEADER_FIELDS} | line
                _check_fields(line, _OPTIONAL_MULTI_AGENT_HEADER_FIELDS, where)
                for kind in _OPTIONAL_MULTI_AGENT_HEADER_FIELDS:
                    for name, text in (line[kind] or {}).items():
                        _check_space(text, where, f"{kind!r} (agent type {short_repr(name)})")
                header = line
                continue
            _check_fields(line, _HEADER_FIELDS, where)
            for kind in ("observation_space", "action_space"):
                if line[kind] is not None:
                    _check_space(line[kind], where, repr(kind))
            header = line
        elif header is None or "episode" not in line:
            raise RecordingError(f"{where} is neither a recording header nor an episode "
                                 "after one; is this a recording written by alpyperl's EpisodeRecorder?")
        else:
            _check_episode(line, where, header["environment"] == MULTI_AGENT)
            episodes.append(RecordedEpisode(header, line))
    return episodes


def _check_space(text: str, where: str, field: str) -> None:
    """Raises :class:`RecordingError` if ``text`` is no space's JSON that alpyperl can use."""
    try:
        space_from_json(text)
    except (SpaceDefinitionError, ValueError) as error:
        raise RecordingError(f"{where}: the field {field} is no space alpyperl can use: {error}") from None


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
    what: str  # "observation", "reward", "terminated", "truncated", "error"; multi-agent: "ended", "set of agents ..."
    recorded: Any
    replayed: Any
    detail: str = ""
    agent: str | None = None  # in a multi-agent episode: the agent whose value differs

    def __str__(self) -> str:
        text = f"{self.what} {'' if self.agent is None else f'of agent {self.agent} '}differs at step {self.step}"
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
    settings = dict(
        model=model if model is not None else header["model"],
        env_params=data["env_params"],
        step_timeout=header["step_timeout"] if debug_port is None else max(header["step_timeout"], DEBUG_STEP_TIMEOUT),
        jvm_options=options_from_file(header["jvm_options"], f"the recording {path}"),
        debug_port=debug_port, debug_suspend=debug_suspend)
    if recorded.multi_agent:
        from .multi_agent import AnyLogicMultiAgentEnv

        given = {kind: {name: space_from_json(text) for name, text in header[kind].items()} if header[kind] else None
                 for kind in ("observation_spaces", "action_spaces")}
        env, compare = AnyLogicMultiAgentEnv(max_agents=header["max_agents"], **given, **settings), _compare_multi_agent
    else:
        env, compare = AnyLogicEnv(
            observation_space=space_from_json(header["observation_space"]) if header["observation_space"] else None,
            action_space=space_from_json(header["action_space"]) if header["action_space"] else None,
            **settings), _compare
    try:
        if on_ready is not None:
            on_ready()
        return compare(env, recorded)
    finally:
        env.close()


def _compare(env: AnyLogicEnv, recorded: RecordedEpisode) -> ReplayResult:
    data = recorded.data
    actions, observations, rewards = data["actions"], data["observations"], data["rewards"]
    failed_at = len(observations) if data["error"] else None  # the step (0: the reset) that raised

    def result(steps: int, divergence: Divergence | None = None) -> ReplayResult:
        return ReplayResult(recorded.index, data["seed"], steps, divergence, data["error"])

    reset, divergence = _outcome(data, 0, lambda: env.reset(seed=data["seed"]))
    if divergence is not None or failed_at == 0:
        return result(0, divergence)
    divergence = _compare_values(0, "observation", observations[0], flatten(env.observation_space, reset[0]))
    if divergence is not None:
        return result(0, divergence)
    for step, flat_action in enumerate(actions, 1):
        stepped, divergence = _outcome(data, step, lambda: env.step(unflatten(env.action_space, flat_action)))
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


def _outcome(data: dict[str, Any], step: int, call) -> tuple[Any, Divergence | None]:
    """Runs a reset or step (``step`` 0: the reset) of the episode ``data``; returns its value, or
    the divergence if it raised unlike the recording (or did not raise where the recording did)."""
    failed_at = len(data["observations"]) if data["error"] else None
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


def _compare_multi_agent(env, recorded: RecordedEpisode) -> ReplayResult:
    """:func:`_compare` for an :class:`~alpyperl.AnyLogicMultiAgentEnv`: per step the same agents
    with the same observations, rewards and endings, and the same ``"__all__"`` flags at the end."""
    data = recorded.data
    actions, observations, rewards, ended = data["actions"], data["observations"], data["rewards"], data["ended"]
    failed_at = len(observations) if data["error"] else None

    def result(steps: int, divergence: Divergence | None = None) -> ReplayResult:
        return ReplayResult(recorded.index, data["seed"], steps, divergence, data["error"])

    reset, divergence = _outcome(data, 0, lambda: env.reset(seed=data["seed"]))
    if divergence is not None or failed_at == 0:
        return result(0, divergence)
    divergence = _compare_agents(0, "observation", observations[0], _flat_observations(env, reset[0]))
    if divergence is not None:
        return result(0, divergence)
    for step, flat_actions in enumerate(actions, 1):
        try:
            step_actions = {agent: unflatten(env.get_action_space(agent), values)
                            for agent, values in flat_actions.items()}
        except (ValueError, RecordingError) as error:  # a type the model no longer has, or other spaces
            return result(step - 1, Divergence(step, "error", None, error_text(error)))
        stepped, divergence = _outcome(data, step, lambda: env.step(step_actions))
        if divergence is not None:
            return result(step - 1, divergence)
        if step == failed_at:
            return result(step - 1)
        step_observations, step_rewards, terminateds, truncateds, _ = stepped
        last = step == len(actions)
        expected_flags = (data["terminated"], data["truncated"]) if last else (False, False)
        for what, recorded_values, replayed_values in (
                ("observation", observations[step], _flat_observations(env, step_observations)),
                ("reward", rewards[step - 1], {agent: float(r) for agent, r in step_rewards.items()}),
                ("ended", ended[step - 1], _endings(terminateds, truncateds))):
            divergence = _compare_agents(step, what, recorded_values, replayed_values)
            if divergence is not None:
                return result(step - 1, divergence)
        for what, recorded_value, replayed_value in (("terminated", expected_flags[0], bool(terminateds["__all__"])),
                                                     ("truncated", expected_flags[1], bool(truncateds["__all__"]))):
            divergence = _compare_values(step, what, recorded_value, replayed_value)
            if divergence is not None:
                return result(step - 1, divergence)
    return result(len(actions))


def _flat_observations(env, observations: dict) -> dict[str, list[float]]:
    """A multi-agent step's observations, each agent's in the flat layout of its type's observation space."""
    return {agent: flatten(env.get_observation_space(agent), value) for agent, value in observations.items()}


def _endings(terminateds: dict, truncateds: dict) -> dict[str, str]:
    """The agents whose part ended in a multi-agent step: agent id -> "terminated" or "truncated"."""
    return {agent: "terminated" if terminateds[agent] else "truncated" for agent in terminateds
            if agent != "__all__" and (terminateds[agent] or truncateds[agent])}


#: What a Divergence calls the agents of a multi-agent step whose values are compared, when they differ.
_AGENT_SETS = {"observation": "set of agents observed", "reward": "set of agents rewarded",
               "ended": "set of agents that ended"}


def _compare_agents(step: int, what: str, recorded: dict, replayed: dict) -> Divergence | None:
    """A Divergence if the agents differ, or else the value of one of them (the first in the recording's order)."""
    if set(recorded) != set(replayed):
        missing, extra = sorted(set(recorded) - set(replayed)), sorted(set(replayed) - set(recorded))
        detail = "; ".join(part for part in (f"recorded only: {', '.join(missing)}" if missing else "",
                                             f"replayed only: {', '.join(extra)}" if extra else "") if part)
        return Divergence(step, _AGENT_SETS[what], sorted(recorded), sorted(replayed), detail)
    for agent, value in recorded.items():
        divergence = _compare_values(step, what, value, replayed[agent])
        if divergence is not None:
            divergence.agent = agent
            return divergence
    return None


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
