"""``alpyperl run MODEL``: episodes with a random policy or an exported ONNX policy, with a summary."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

from .. import bridge, jvm
from ..errors import AlpyperlError, SpaceDefinitionError
from ..masks import OBSERVATIONS_KEY, is_masked, sample_valid, split
from .arguments import (
    FORMATTER, UsageError, add_debug_options, add_param_option, check_debug, params, port, positive_float, positive_int,
    size, wrap,
)
from .wording import counted

__all__ = ["add_parser", "run_command", "run_onnx", "Progress"]

#: What to do when MODEL leaves a space to Python, which the command line cannot give.
_SPACES_FROM_PYTHON = ("`alpyperl run` cannot give a model its spaces: run such a model with --policy FILE.onnx (it "
                       "takes the spaces the policy was trained with), or from Python with "
                       "AnyLogicEnv(model=..., observation_space=..., action_space=...)")
_RENDER_NEEDS_SPACES = ("With --render, `alpyperl run` needs a model that defines its spaces; without --render it takes "
                        "the spaces the policy was trained with")


def add_parser(commands) -> None:
    """Adds ``alpyperl run`` to the commands."""
    run = commands.add_parser(
        "run", help="run episodes with a random policy or an exported ONNX policy", formatter_class=FORMATTER,
        description=wrap("Run episodes of MODEL and print each episode's return and a summary. With --policy random "
                    "(the default) actions are drawn uniformly from the action space, in Python; with a .onnx "
                    "file (from `alpyperl export`) the Java launcher runs the policy inside the JVM. Episode k "
                    "uses the seed S + k, so any episode can be run again on its own. A multi-agent model "
                    "(MultiAgentModel) runs the same way, also with --render and --attach: random actions are drawn "
                    "among those each agent's mask allows, --policy TYPE=FILE.onnx gives an agent type its policy "
                    "(one FILE.onnx: every type; a type whose spaces the model leaves to Python takes its policy's), "
                    "and returns are summed over the agents and shown per agent type."),
        epilog="examples:\n"
               "  alpyperl run examples/cartpole/build/model --episodes 100 --param poleLength=0.8\n"
               "  alpyperl run MODEL --episodes 500 --record episodes.jsonl   # then: alpyperl replay episodes.jsonl\n"
               "  alpyperl run MODEL --policy policy.onnx --episodes 20\n"
               "  alpyperl run examples/jobshop/build/model --policy machine=machine.onnx   # multi-agent\n"
               "  alpyperl run MODEL --policy policy.onnx --episodes 1 --render episode.mp4   # watch it\n"
               "  alpyperl run --attach --policy policy.onnx --episodes 5   # then press Run in AnyLogic, watch it\n"
               "  alpyperl run --attach --policy machine=machine.onnx   # a multi-agent model in AnyLogic")
    run.add_argument("model", metavar="MODEL", nargs="?", help="the model folder (not with --attach)")
    run.add_argument("--attach", nargs="?", const=True, type=_attach_port, metavar="PORT",
                     help="run the model that runs in AnyLogic itself instead of MODEL: wait for it on 127.0.0.1 "
                          "(PORT, or any free port) until Run is pressed in AnyLogic, whose animation shows the "
                          "episodes (the model's connector set to train; see docs/anylogic.md)")
    run.add_argument("--attach-timeout", type=float, default=None, metavar="SECONDS",
                     help="with --attach: seconds to wait for the model to attach (default 600)")
    run.add_argument("--policy", action="append", metavar="random|FILE.onnx|TYPE=FILE.onnx",
                     help="'random' (default) or an ONNX policy exported with `alpyperl export`; for a multi-agent "
                          "model one file for every agent type, or TYPE=FILE.onnx per type (repeat the option); "
                          "a type whose spaces the model leaves to Python takes those of its policy")
    run.add_argument("--max-agents", type=positive_int, default=None, metavar="N",
                     help="multi-agent models: how many agents one crossing holds (default 128)")
    run.add_argument("--episodes", type=positive_int, default=10, metavar="N", help="episodes to run (default 10)")
    run.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the first episode (default 0)")
    add_param_option(run)
    run.add_argument("--step-timeout", type=positive_float, default=None, metavar="SECONDS",
                     help="seconds the model may take to reach its next decision (default 10; one day "
                          "with --debug-port, so that a breakpoint is no timeout)")
    run.add_argument("--record", metavar="FILE",
                     help="record every episode to this JSON-lines file (random policy), for `alpyperl replay`")
    run.add_argument("--render", metavar="VIDEO.mp4",
                     help="write a video of the episodes (one after another) to this file, drawn by the model "
                          "(it must implement com.alpyperl.connector.Drawable; needs `pip install alpyperl[video]`)")
    run.add_argument("--render-size", type=size, default=None, metavar="WxH",
                     help="with --render: frame size in pixels (default 600x400)")
    add_debug_options(run)
    run.set_defaults(handler=run_command)


def _attach_port(text: str) -> int:
    """--attach's optional PORT; a model folder after --attach is told apart from a wrong port."""
    try:
        return port(text)
    except argparse.ArgumentTypeError as error:
        if os.path.isdir(text):
            raise argparse.ArgumentTypeError(f"{error}: --attach runs the model running in AnyLogic instead of a "
                                             "model folder such as this one; give MODEL or --attach, one of them")
        raise


def run_command(args: argparse.Namespace) -> int:
    """``alpyperl run MODEL``."""
    check_debug(args)
    if args.render_size is not None and not args.render:
        raise UsageError("--render-size needs --render (the video file to write)")
    if (args.model is None) == (args.attach is None):
        raise UsageError("give MODEL (an exported model's folder) or --attach (the model running in AnyLogic), one "
                         "of them")
    if args.attach is None and args.attach_timeout is not None:
        raise UsageError("--attach-timeout needs --attach")
    if args.attach is not None and (args.render or args.debug_port is not None):
        raise UsageError("--render and --debug-port are not for --attach: AnyLogic shows and debugs the model itself")
    _read_policies(args)
    if args.policy != "random" and not args.render and args.attach is None:
        return run_onnx(args)
    from ..env import AnyLogicEnv
    from ..settings import DEBUG_STEP_TIMEOUT, DEFAULT_STEP_TIMEOUT
    from ..recording import EpisodeRecorder
    from ..render import DEFAULT_SIZE, VideoFile

    if args.policy != "random":
        _check_policy_file(args)
    step_timeout = args.step_timeout or (DEBUG_STEP_TIMEOUT if args.debug_port is not None else DEFAULT_STEP_TIMEOUT)
    attached = None
    if args.attach is not None:  # the model running in AnyLogic attaches once: ask it what it is, then drive it
        from ..attach import AttachedModel
        from ..settings import DEFAULT_ATTACH_TIMEOUT

        attached = AttachedModel(0 if args.attach is True else args.attach,
                                 args.attach_timeout or DEFAULT_ATTACH_TIMEOUT,
                                 timeout_setting="--attach-timeout SECONDS")
        agents = attached.describe(step_timeout).get("agents")
    else:
        agents = _agents_of(args, step_timeout)
    if agents is not None:
        from .run_multi_agent import run_multi_agent

        return run_multi_agent(args, step_timeout, agents, attached)
    try:
        if args.max_agents is not None:
            raise UsageError(f"--max-agents is for multi-agent models, and {args.model or 'the attached model'} has "
                             "one deciding agent")
        if args.policy is None:  # every --policy named an agent type
            raise AlpyperlError(f"--policy TYPE=FILE names the policy of an agent type of a multi-agent model, and "
                                f"{args.model or 'the attached model'} has one deciding agent: give --policy FILE.onnx")
    except BaseException:
        if attached is not None:
            attached.close()
        raise
    rendering = {"render_mode": "rgb_array", "render_size": args.render_size or DEFAULT_SIZE} if args.render else {}
    if attached is not None:
        try:
            env = AnyLogicEnv(attach=attached, env_params=params(args))
        except BaseException:
            attached.close()
            raise
    else:
        try:
            env = AnyLogicEnv(model=args.model, env_params=params(args), step_timeout=step_timeout,
                              debug_port=args.debug_port, debug_suspend=args.suspend, **rendering)
        except SpaceDefinitionError as error:
            hint = _SPACES_FROM_PYTHON if args.policy == "random" else _RENDER_NEEDS_SPACES
            raise SpaceDefinitionError(f"{error}. {hint}") from None
    video = None
    if args.render:
        try:
            video = VideoFile(args.render, fps=env.metadata["render_fps"])
        except BaseException:
            env.close()
            raise
    if args.record:
        env = EpisodeRecorder(env, args.record)
    if args.policy == "random":
        env.action_space.seed(args.seed)
        policy, policy_name = (lambda _: env.action_space.sample()), "random policy"
        if is_masked(env.observation_space):  # a model with an action mask: random valid actions
            policy = lambda observation: sample_valid(env.action_space, split(observation)[1])
    else:
        policy, policy_name = _onnx_actor(args.policy, env), f"policy {args.policy} (most likely actions)"
    shown = os.path.abspath(args.model) if args.model is not None else "attached from AnyLogic"
    print(f"model {shown}: {policy_name}, {counted(args.episodes, 'episode')}, seeds {args.seed} "
          f"to {args.seed + args.episodes - 1}" + (f", recording to {args.record}" if args.record else "")
          + (f", video to {args.render}" if args.render else ""), flush=True)
    returns, lengths, failures = [], [], []
    progress = Progress(args.episodes, "episodes")
    started = time.perf_counter()
    try:
        for episode in range(args.episodes):
            total, steps, error = 0.0, 0, None
            try:
                observation, _ = env.reset(seed=args.seed + episode)
                if video is not None:
                    video.add(env.render())
                done = False
                while not done:
                    observation, reward, terminated, truncated, _ = env.step(policy(observation))
                    total += float(reward)
                    steps += 1
                    done = terminated or truncated
                    if video is not None:
                        video.add(env.render())
            except AlpyperlError as failure:  # the model threw or timed out: report it, go on
                error = failure
            if error is None:
                returns.append(total)
                lengths.append(steps)
                ending = "terminated" if terminated else "truncated"
                progress.print(f"episode {episode:4d}  seed {args.seed + episode}  steps {steps:6d}  "
                               f"return {total:12.6g}  {ending}")
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
    return _status(failures, args.record, " (under the debugger with --debug-port, see docs/debugging.md)")


def _print_interrupted(returns: list[float], lengths: list[int], failures: list[int], elapsed: float) -> None:
    """Ctrl-C stopped the episodes: the summary of those that ended before (the command then ends
    with status 130)."""
    print(f"interrupted in episode {len(returns) + len(failures)}; the episodes before it: "
          + _summary(returns, lengths, failures, elapsed), flush=True)


def _failure_line(episode: int, seed: int, steps: int, error: Exception) -> str:
    """The progress line of an episode whose model threw or timed out."""
    return (f"episode {episode:4d}  seed {seed}  failed at step {steps + 1}: "
            f"{type(error).__name__}: {str(error).splitlines()[0]}")


def _video_line(video, path: str) -> str:
    """What became of the ``--render`` video."""
    return (f"video of {video.frames} frame(s) at {video.fps:g} frames/s written to {path}"
            if video.frames else f"no frame to write: {path} was not written")


def _status(failures: list[int], record: str | None, replay_hint: str = "") -> int:
    """Prints which episodes failed and how to replay one; the exit status (1 if any failed)."""
    if not failures:
        return 0
    print(f"{counted(len(failures), 'episode')} failed: {', '.join(map(str, failures))}. "
          + (f"Replay one with: alpyperl replay {record} --episode {failures[0]}" if record else
             "Run again with --record FILE to record them, then replay one with `alpyperl replay FILE "
             f"--episode K`{replay_hint}."))
    return 1


def _summary(returns: list[float], lengths: list[int], failures: list[int], elapsed: float) -> str:
    import numpy as np

    if not returns:
        return f"no episode finished ({len(failures)} failed)"
    values = np.asarray(returns)
    steps = int(sum(lengths))
    return (counted(len(returns), "episode") + (f", {len(failures)} failed" if failures else "") +
            f": mean return {values.mean():.6g}, std {values.std():.6g}, min {values.min():.6g}, "
            f"max {values.max():.6g} | steps {steps:,} (mean {steps / len(lengths):.1f}) | "
            f"{elapsed:.2f} s, {steps / elapsed if elapsed > 0 else 0:,.0f} steps/s")


def _read_policies(args: argparse.Namespace) -> None:
    """Splits the --policy options into ``args.policy`` ('random', the one FILE, or None when every
    policy names its type) and ``args.type_policies`` (agent type -> FILE), as the Java launcher reads them."""
    given = args.policy or ["random"]
    args.type_policies, files = {}, []
    for value in given:
        kind, equals, file = value.partition("=")
        if equals and kind and not any(separator in kind for separator in "/\\") and not os.path.exists(value):
            if not file:
                raise UsageError(f"--policy {value} names no file; give --policy {kind}=FILE.onnx")
            if kind in args.type_policies:
                raise UsageError(f"--policy {kind}=... is given twice")
            args.type_policies[kind] = file
        else:
            files.append(value)
    if "random" in files and len(given) > 1:
        raise UsageError("--policy random chooses every action; give it alone (without other --policy options)")
    if len(files) > 1:
        raise UsageError(f"--policy FILE is given twice ({files[0]}, {files[1]}); a multi-agent model takes one FILE "
                         "for every agent type, and TYPE=FILE for others")
    args.policy = files[0] if files else None


def _check_policy_file(args: argparse.Namespace) -> None:
    for policy in ([args.policy] if args.policy else []) + list(args.type_policies.values()):
        if not policy.endswith(".onnx"):
            raise UsageError(f"--policy must be 'random' or an .onnx file, got {policy!r}")
        if not os.path.isfile(policy):
            raise AlpyperlError(f"the policy file {os.path.abspath(policy)} does not exist")


def _agents_of(args: argparse.Namespace, step_timeout: float) -> dict | None:
    """The agent types of MODEL (``describeModel``'s ``agents``) if it has several deciding agents
    (it implements MultiAgentModel), else None."""
    options = jvm.debug_options(args.debug_port, args.suspend) if args.debug_port is not None else []
    return bridge.describe_model(os.path.abspath(args.model), step_timeout, options).get("agents")


def _onnx_actor(policy_file: str, env):
    """A function observation -> action that asks the ONNX policy, evaluated in Java by the
    connector's evaluator (as the launcher does), for its most likely action."""
    from ..replay import flatten, unflatten

    try:
        policy = bridge.JavaOnnxPolicy(policy_file)
    except bridge.JavaError as error:
        raise AlpyperlError(f"cannot load the policy {policy_file}: {error.message}") from None

    def act(observation):
        return unflatten(env.action_space, policy.act(flatten(env.observation_space, observation)))

    def act_within_mask(observation):  # a model with an action mask: the policy reads its own observation
        own, mask = split(observation)
        return unflatten(env.action_space, policy.act(flatten(env.observation_space[OBSERVATIONS_KEY], own), mask))

    return act_within_mask if is_masked(env.observation_space) else act


def run_onnx(args: argparse.Namespace) -> int:
    """Runs an ONNX policy with the Java launcher's command line, in this process's JVM (``args`` as
    ``alpyperl run`` reads them; ``type_policies`` and ``max_agents`` are optional)."""
    args.type_policies = getattr(args, "type_policies", {})
    args.max_agents = getattr(args, "max_agents", None)
    if args.record:
        raise UsageError("--record works with the random policy only (an ONNX policy runs inside Java)")
    _check_policy_file(args)
    options = jvm.debug_options(args.debug_port, args.suspend) if args.debug_port is not None else []
    jvm.start_jvm(options)
    command = ["run", "--model", os.path.abspath(args.model), "--episodes", str(args.episodes), "--seed", str(args.seed)]
    if args.policy is not None:
        command += ["--policy", os.path.abspath(args.policy)]
    for kind, policy in args.type_policies.items():
        command += ["--policy", f"{kind}={os.path.abspath(policy)}"]
    if args.max_agents is not None:
        command += ["--max-agents", str(args.max_agents)]
    for _, _, text in args.param:
        command += ["--param", text]
    return bridge.run_launcher(command)


class Progress:
    """A progress bar on stderr (only when stderr is a terminal): ``[#####-----] 12/40 episodes 3.1 s``.

    ``print()`` writes a line to stdout without mixing it into the bar.
    """

    def __init__(self, total: int, unit: str, stream=None, enabled: bool | None = None):
        self.total, self.unit = total, unit
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.started = time.perf_counter()
        self._drawn = 0.0

    def update(self, done: int) -> None:
        self.done = done
        now = time.perf_counter()
        if self.enabled and (now - self._drawn >= 0.1 or done == self.total):
            self._drawn = now
            self._draw()

    def print(self, text: str) -> None:
        if self.enabled:
            self._clear()
        sys.stdout.write(text + "\n")  # one write: a Ctrl-C never leaves the line without its end
        sys.stdout.flush()
        if self.enabled:
            self._draw()

    def close(self) -> None:
        if self.enabled:
            self._clear()

    def _draw(self) -> None:
        width = 30
        filled = width * self.done // max(self.total, 1)
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else math.nan
        eta_text = f", {eta:.0f} s left" if self.done and self.done < self.total else ""
        self.stream.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} {self.unit}  "
                          f"{elapsed:.1f} s{eta_text}")
        self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()
