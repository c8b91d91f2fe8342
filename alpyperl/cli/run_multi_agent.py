"""``alpyperl run`` on a multi-agent model, stepped from Python: with random valid actions (every
waiting agent's action drawn uniformly among those its mask allows), or with ONNX policies per agent
type evaluated by the connector's evaluator in this process's JVM (as the single-agent ``run --render``
and ``run --attach`` do), for ``--render``, ``--record`` and ``--attach``. Returns are summed over the
agents and shown per agent type. (ONNX policies without those options run in the Java launcher:
:func:`~alpyperl.cli.run.run_onnx`.)"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from ..errors import AlpyperlError, SpaceDefinitionError
from .arguments import params
from .wording import counted

__all__ = ["run_multi_agent", "random_valid_action", "TypePolicies"]


def random_valid_action(kind, observation: Any, rng: np.random.Generator):
    """A uniformly random action of the agent type ``kind`` (an :class:`~alpyperl.multi_agent.AgentType`)
    among those the agent's mask (in ``observation``, for a masked type) allows."""
    space = kind.action_space
    if not kind.mask_size:
        return space.sample()
    mask = np.asarray(observation["action_mask"]) > 0
    if isinstance(space, spaces.Discrete):
        return int(space.start + rng.choice(np.flatnonzero(mask)))
    choices, at = [], 0
    for n in space.nvec.tolist():
        choices.append(int(rng.choice(np.flatnonzero(mask[at:at + n]))))
        at += n
    return np.asarray(choices, dtype=space.dtype) + space.start


def _same_layout(a: spaces.Space, b: spaces.Space) -> bool:
    """Whether values of ``a`` and ``b`` are laid out alike (the connector's ``Space.hasSameLayout``:
    Box bounds and dtypes are not compared)."""
    from ..spaces import space_to_json

    if isinstance(a, spaces.Box) and isinstance(b, spaces.Box):
        return a.shape == b.shape
    if isinstance(a, spaces.Tuple) and isinstance(b, spaces.Tuple):
        return len(a) == len(b) and all(map(_same_layout, a, b))
    if isinstance(a, spaces.Dict) and isinstance(b, spaces.Dict):
        return list(a.keys()) == list(b.keys()) and all(map(_same_layout, a.values(), b.values()))
    return space_to_json(a) == space_to_json(b)


class TypePolicies:
    """The ONNX policies of ``alpyperl run --policy`` for a multi-agent model: ``TYPE=FILE`` per agent
    type, one ``FILE`` for every other type; each file loaded once, in the connector's evaluator."""

    def __init__(self, type_files: dict[str, str], default_file: str | None):
        self.type_files, self.default_file = dict(type_files), default_file
        self._loaded: dict[str, Any] = {}

    def file_of(self, name: str) -> str | None:
        """The policy file of agent type ``name``, or None if none was given for it."""
        return self.type_files.get(name, self.default_file)

    def load(self, file: str):
        """The policy in ``file`` (a :class:`~alpyperl.bridge.JavaOnnxPolicy`)."""
        from .. import bridge

        if file not in self._loaded:
            try:
                self._loaded[file] = bridge.JavaOnnxPolicy(file)
            except bridge.JavaError as error:
                raise AlpyperlError(f"cannot load the policy {file}: {error.message}") from None
        return self._loaded[file]

    def spaces_for(self, described_types: list[dict]) -> tuple[dict[str, spaces.Space], dict[str, spaces.Space]]:
        """The observation and action spaces, by type, of the types whose spaces the model leaves to
        Python (``describeModel``'s ``agents["types"]``): their policies' (the model's other space must
        fit), as the launcher's runner and evaluation mode take them."""
        from ..spaces import space_from_json

        observations, actions = {}, {}
        for described in described_types:
            name = str(described["name"])
            if described["observation_space"] is not None and described["action_space"] is not None:
                continue
            file = self.file_of(name)
            if file is None:
                raise SpaceDefinitionError(
                    f"agent type '{name}' leaves its spaces to Python (the model's getObservationSpace(\"{name}\") or "
                    f"getActionSpace(\"{name}\") returns null), so it takes them from its policy: give --policy "
                    f"{name}=FILE.onnx (exported with `alpyperl export --module-id {name}`), or one --policy FILE.onnx "
                    "for every type")
            policy = self.load(file)
            for kind, found, own in (("observation", observations, described["observation_space"]),
                                     ("action", actions, described["action_space"])):
                trained = getattr(policy, f"{kind}_space")
                if own is not None:
                    self._check(kind, trained, space_from_json(json.dumps(own)), file, name)
                found[name] = trained
        return observations, actions

    def actor(self, kind) -> Callable[[Any], Any]:
        """A function observation -> action of an agent of ``kind`` (an :class:`~alpyperl.multi_agent.AgentType`):
        its policy's most likely action among those its mask allows. Its policy is loaded and checked
        against its spaces here: ValueError naming the type if it has none or they do not fit."""
        from ..spaces import flatten, unflatten

        file = self.file_of(kind.name)
        if file is None:
            raise ValueError(f"an agent of type '{kind.name}' decides, but no policy was given for its type "
                             f"'{kind.name}': add --policy {kind.name}=FILE.onnx (exported with `alpyperl export "
                             f"--module-id {kind.name}`), or give one --policy FILE.onnx for every type")
        policy = self.load(file)
        self._check("observation", policy.observation_space, kind.model_observation_space, file, kind.name)
        self._check("action", policy.action_space, kind.action_space, file, kind.name)
        observation_space, action_space = kind.model_observation_space, kind.action_space
        if kind.mask_size:
            return lambda observation: unflatten(action_space, policy.act(
                flatten(observation_space, observation["observations"]), np.asarray(observation["action_mask"]) > 0))
        return lambda observation: unflatten(action_space, policy.act(flatten(observation_space, observation)))

    @staticmethod
    def _check(kind: str, trained: spaces.Space, declared: spaces.Space, file: str, name: str) -> None:
        if not _same_layout(trained, declared):  # a ValueError that ends the run (not one episode's failure)
            raise ValueError(
                f"the policy {file} was trained for the {kind} space {trained}, but the {kind} space of agent type "
                f"'{name}' is {declared}; give the policy exported for that type (alpyperl export --module-id TYPE)")

    def text(self) -> str:
        """The policies as the command line gave them: ``walker=w.onnx, others=all.onnx``."""
        given = [f"{name}={file}" for name, file in self.type_files.items()]
        if self.default_file is not None:
            given.append(("others=" if given else "") + self.default_file)
        return ", ".join(given)


def run_multi_agent(args: argparse.Namespace, step_timeout: float, described: dict, attached=None) -> int:
    """Runs the episodes of ``args`` on a multi-agent model (``described``: its ``describeModel``'s
    ``agents``; ``attached``: the :class:`~alpyperl.attach.AttachedModel` for ``--attach``, which this
    closes) with random valid actions or ONNX policies per type; returns the exit status."""
    from ..multi_agent import DEFAULT_MAX_AGENTS, AnyLogicMultiAgentEnv, agent_type
    from ..recording import EpisodeRecorder
    from ..render import DEFAULT_SIZE, VideoFile
    from .run import Progress, _failure_line, _status, _summary, _video_line, _print_interrupted

    onnx = args.policy != "random"
    policies = TypePolicies(args.type_policies, args.policy) if onnx else None
    try:
        if onnx:
            unknown = sorted(set(args.type_policies) - {str(t["name"]) for t in described["types"]})
            if unknown:
                raise ValueError(f"--policy {unknown[0]}=...: the model has no agent type '{unknown[0]}'; its agent "
                                 f"types are [{', '.join(str(t['name']) for t in described['types'])}]")
            observation_spaces, action_spaces = policies.spaces_for(described["types"])
        else:
            observation_spaces = action_spaces = None
            spaceless = [str(t["name"]) for t in described["types"]
                         if t["observation_space"] is None or t["action_space"] is None]
            if spaceless:
                raise SpaceDefinitionError(
                    f"agent type '{spaceless[0]}' leaves its spaces to Python (the model's getObservationSpace or "
                    "getActionSpace returns null), so random actions have no space to be drawn from; give its "
                    f"policy, --policy {spaceless[0]}=FILE.onnx, whose spaces it takes")
        rendering = {"render_mode": "rgb_array", "render_size": args.render_size or DEFAULT_SIZE} if args.render else {}
        settings = dict(env_params=params(args), max_agents=args.max_agents or DEFAULT_MAX_AGENTS,
                        observation_spaces=observation_spaces, action_spaces=action_spaces)
        if attached is not None:
            env = AnyLogicMultiAgentEnv(attach=attached, **settings)
        else:
            env = AnyLogicMultiAgentEnv(model=args.model, step_timeout=step_timeout, debug_port=args.debug_port,
                                        debug_suspend=args.suspend, **rendering, **settings)
    except BaseException:
        if attached is not None:
            attached.close()
        raise
    video = None
    if args.render:
        try:
            video = VideoFile(args.render, fps=env.metadata["render_fps"])
        except BaseException:
            env.close()
            raise
    if args.record:
        env = EpisodeRecorder(env, args.record)
    types = env.agent_types
    rng = np.random.default_rng(args.seed)
    for index, kind in enumerate(types.values()):
        kind.action_space.seed(args.seed + index)
    if onnx:
        actors: dict[str, Callable[[Any], Any]] = {}  # by type, made when its first agent decides (as in Java)

        def choose(kind, observation):
            if kind.name not in actors:
                actors[kind.name] = policies.actor(kind)
            return actors[kind.name](observation)
    else:
        def choose(kind, observation):
            return random_valid_action(kind, observation, rng)
    shown = os.path.abspath(args.model) if args.model is not None else "attached from AnyLogic"
    chosen = f"policies {policies.text()} (most likely actions)" if onnx else "random valid actions"
    print(f"model {shown} ({counted(len(types), 'agent type')}: {', '.join(types)}): {chosen}, "
          f"{counted(args.episodes, 'episode')}, "
          f"seeds {args.seed} to {args.seed + args.episodes - 1}"
          + (f", recording to {args.record}" if args.record else "")
          + (f", video to {args.render}" if args.render else ""), flush=True)
    returns, lengths, failures = [], [], []
    type_totals = dict.fromkeys(types, 0.0)
    progress = Progress(args.episodes, "episodes")
    started = time.perf_counter()
    try:
        for episode in range(args.episodes):
            type_returns, steps, error, ending = dict.fromkeys(types, 0.0), 0, None, ""
            try:
                observations, _ = env.reset(seed=args.seed + episode)
                if video is not None:
                    video.add(env.render())
                while True:
                    actions = {agent: choose(types[agent_type(agent)], observations[agent])
                               for agent in env.waiting_agents}
                    observations, rewards, terminateds, truncateds, _ = env.step(actions)
                    steps += 1
                    if video is not None:
                        video.add(env.render())
                    for agent, reward in rewards.items():
                        type_returns[agent_type(agent)] += float(reward)
                    if terminateds["__all__"] or truncateds["__all__"]:
                        ending = "terminated" if terminateds["__all__"] else "truncated"
                        break
            except AlpyperlError as failure:  # the model threw or timed out: report it, go on
                error = failure
            if error is None:
                total = sum(type_returns.values())
                returns.append(total)
                lengths.append(steps)
                for name, value in type_returns.items():
                    type_totals[name] += value
                per_type = ", ".join(f"{name} {value:.6g}" for name, value in type_returns.items())
                progress.print(f"episode {episode:4d}  seed {args.seed + episode}  steps {steps:6d}  "
                               f"return {total:12.6g}  {ending}  ({per_type})")
            else:
                failures.append(episode)
                progress.print(_failure_line(episode, args.seed + episode, steps, error))
            progress.update(episode + 1)
    except KeyboardInterrupt:
        progress.close()
        _print_interrupted(returns, lengths, failures, time.perf_counter() - started)
        raise
    finally:
        progress.close()
        env.close()
        if video is not None:
            video.close()
    print(_summary(returns, lengths, failures, time.perf_counter() - started))
    if video is not None:
        print(_video_line(video, args.render))
    if returns:
        print("mean return per agent type: "
              + ", ".join(f"{name} {value / len(returns):.6g}" for name, value in type_totals.items()))
    return _status(failures, args.record)
