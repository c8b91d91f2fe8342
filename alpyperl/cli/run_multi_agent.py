"""``alpyperl run MODEL`` on a multi-agent model with random valid actions: every waiting agent's
action is drawn uniformly among those its mask allows; returns are summed over the agents and
shown per agent type. (An ONNX policy per type runs in the Java launcher: :func:`~alpyperl.cli.run.run_onnx`.)"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from gymnasium import spaces

from ..errors import AlpyperlError
from .arguments import UsageError, params

__all__ = ["run_multi_agent", "random_valid_action"]


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


def run_multi_agent(args: argparse.Namespace, step_timeout: float) -> int:
    """Runs the episodes of ``args`` on a multi-agent model with random valid actions; returns the exit status."""
    from ..multi_agent import DEFAULT_MAX_AGENTS, AnyLogicMultiAgentEnv, agent_type
    from ..recording import EpisodeRecorder
    from ..render import DEFAULT_SIZE, VideoFile
    from .run import Progress, _summary

    if args.render and args.policy != "random":
        raise UsageError("--render with a multi-agent model draws episodes of random valid actions; its ONNX "
                         "policies run in Java, without --render")
    rendering = {"render_mode": "rgb_array", "render_size": args.render_size or DEFAULT_SIZE} if args.render else {}
    env = AnyLogicMultiAgentEnv(model=args.model, env_params=params(args), step_timeout=step_timeout,
                                max_agents=args.max_agents or DEFAULT_MAX_AGENTS, debug_port=args.debug_port,
                                debug_suspend=args.suspend, **rendering)
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
    print(f"model {os.path.abspath(args.model)} ({len(types)} agent type(s): {', '.join(types)}): random valid "
          f"actions, {args.episodes} episode(s), seeds {args.seed} to {args.seed + args.episodes - 1}"
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
                    actions = {agent: random_valid_action(types[agent_type(agent)], observations[agent], rng)
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
                progress.print(f"episode {episode:4d}  seed {args.seed + episode}  failed at step {steps + 1}: "
                               f"{type(error).__name__}: {str(error).splitlines()[0]}")
            progress.update(episode + 1)
    finally:
        progress.close()
        env.close()
        if video is not None:
            video.close()
    print(_summary(returns, lengths, failures, time.perf_counter() - started))
    if video is not None:
        print(f"video of {video.frames} frame(s) at {video.fps:g} frames/s written to {args.render}"
              if video.frames else f"no frame to write: {args.render} was not written")
    if returns:
        print("mean return per agent type: "
              + ", ".join(f"{name} {value / len(returns):.6g}" for name, value in type_totals.items()))
    if failures:
        print(f"{len(failures)} episode(s) failed: {', '.join(map(str, failures))}. "
              + (f"Replay one with: alpyperl replay {args.record} --episode {failures[0]}" if args.record else
                 "Run again with --record FILE to record them, then replay one with `alpyperl replay FILE "
                 "--episode K`."))
        return 1
    return 0
