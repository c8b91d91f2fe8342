"""The ``alpyperl`` command line: look at a model, run it, train it, export its policy, replay an episode.

    alpyperl info MODEL
    alpyperl run MODEL [--policy random|FILE.onnx] [--episodes N] [--seed S] [--param NAME=VALUE]...
                       [--record FILE] [--render VIDEO.mp4] [--debug-port P [--suspend]]
    alpyperl train MODEL [--iterations N] [--runners R] [--envs-per-runner E] [--target-return X] [--out DIR]
    alpyperl export --checkpoint DIR --out FILE.onnx
    alpyperl replay FILE [--episode K] [--debug-port P [--suspend]]
    alpyperl upgrade-1x EXPORT [--policy FILE.onnx] [--undo]

``main(argv)`` returns the exit status: 0 when all went well, 1 when the model, a policy or a
replay failed, 2 for a wrong command line, 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Any, Sequence

from . import alpyperl1, bridge, launch_script
from .errors import AlpyperlError

PROG = "alpyperl"

DESCRIPTION = """\
ALPypeRL runs AnyLogic and Java simulation models as reinforcement-learning environments, with
the model's JVM inside this Python process. MODEL is always a model folder: an AnyLogic
"standalone Java application" export, or a folder with alpyperl-model.properties (as the
examples build into examples/<name>/build/model)."""

EPILOG = """\
examples:
  alpyperl info examples/cartpole/build/model
  alpyperl run examples/cartpole/build/model --episodes 20 --record episodes.jsonl
  alpyperl replay episodes.jsonl                          # list the recorded episodes
  alpyperl replay episodes.jsonl --episode 7 --debug-port 5005 --suspend
  alpyperl train examples/cartpole/build/model --target-return 475 --out cartpole-ppo
  alpyperl export --checkpoint cartpole-ppo --out cartpole.onnx
  alpyperl run examples/cartpole/build/model --policy cartpole.onnx --episodes 20
  alpyperl upgrade-1x path/to/1x-export --policy cartpole.onnx    # ALPypeRL 1.x models

Run `alpyperl COMMAND --help` for the options of a command. Debugging a model with a Java
debugger (IntelliJ IDEA, Eclipse) is explained in docs/debugging.md."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``alpyperl`` command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:  # alpyperl.export parses its own options (and its own --help)
        return _export(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except AlpyperlError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # a setting the user gave that the model or alpyperl refuses
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output went to a pipe that closed early (`alpyperl info ... | head`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (so that the interpreter's final flush stays quiet)
        return 0


# ---- the parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``alpyperl`` command and its subcommands."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=formatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"alpyperl {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    info = commands.add_parser(
        "info", help="show a model's spaces, parameters, classpath and kind", formatter_class=formatter,
        description=_wrap("Open MODEL and show what a training script needs to know about it: its kind (plain Java "
                    "or AnyLogic export), classpath, observation and action spaces (and whether the model "
                    "defines them), and its parameters with their defaults."),
        epilog="example:\n  alpyperl info examples/cartpole/build/model")
    info.add_argument("model", metavar="MODEL", help="the model folder")
    info.set_defaults(handler=info_command)

    run = commands.add_parser(
        "run", help="run episodes with a random policy or an exported ONNX policy", formatter_class=formatter,
        description=_wrap("Run episodes of MODEL and print each episode's return and a summary. With --policy random "
                    "(the default) actions are drawn uniformly from the action space, in Python; with a .onnx "
                    "file (from `alpyperl export`) the Java launcher runs the policy inside the JVM. Episode k "
                    "uses the seed S + k, so any episode can be run again on its own."),
        epilog="examples:\n"
               "  alpyperl run examples/cartpole/build/model --episodes 100 --param poleLength=0.8\n"
               "  alpyperl run MODEL --episodes 500 --record episodes.jsonl   # then: alpyperl replay episodes.jsonl\n"
               "  alpyperl run MODEL --policy policy.onnx --episodes 20\n"
               "  alpyperl run MODEL --policy policy.onnx --episodes 1 --render episode.mp4   # watch it")
    run.add_argument("model", metavar="MODEL", help="the model folder")
    run.add_argument("--policy", default="random", metavar="random|FILE.onnx",
                     help="'random' (default) or an ONNX policy exported with `alpyperl export`")
    run.add_argument("--episodes", type=_positive_int, default=10, metavar="N", help="episodes to run (default 10)")
    run.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the first episode (default 0)")
    _add_param_option(run)
    run.add_argument("--step-timeout", type=float, default=None, metavar="SECONDS",
                     help="seconds the model may take to reach its next decision (default 10; one day "
                          "with --debug-port, so that a breakpoint is no timeout)")
    run.add_argument("--record", metavar="FILE",
                     help="record every episode to this JSON-lines file (random policy), for `alpyperl replay`")
    run.add_argument("--render", metavar="VIDEO.mp4",
                     help="write a video of the episodes (one after another) to this file, drawn by the model "
                          "(it must implement com.alpyperl.connector.Drawable; needs `pip install alpyperl[video]`)")
    run.add_argument("--render-size", type=_size, default=None, metavar="WxH",
                     help="with --render: frame size in pixels (default 600x400)")
    _add_debug_options(run)
    run.set_defaults(handler=run_command)

    train = commands.add_parser(
        "train", help="train a PPO policy with Ray RLlib", formatter_class=formatter,
        description=_wrap("Train a PPO policy (Ray RLlib, small fully connected networks) on MODEL. Every EnvRunner "
                    "is a process with its own JVM and --envs-per-runner model instances. Prints one line per "
                    "iteration and saves an RLlib checkpoint in --out. The model must define its spaces itself "
                    "(for spaces given in Python, write a training script: see docs/training.md). "
                    "Needs `pip install alpyperl[rllib]`."),
        epilog="example:\n"
               "  alpyperl train examples/cartpole/build/model --target-return 475 --out cartpole-ppo\n"
               "  alpyperl export --checkpoint cartpole-ppo --out cartpole.onnx")
    train.add_argument("model", metavar="MODEL", help="the model folder")
    train.add_argument("--iterations", type=_positive_int, default=50, metavar="N",
                       help="stop after N training iterations (default 50)")
    train.add_argument("--target-return", type=float, default=None, metavar="X",
                       help="stop early when the mean episode return reaches X")
    train.add_argument("--runners", type=int, default=2, metavar="R", help="EnvRunner processes (default 2)")
    train.add_argument("--envs-per-runner", type=_positive_int, default=4, metavar="E",
                       help="model instances per runner (default 4)")
    train.add_argument("--batch-size", type=_positive_int, default=4000, metavar="STEPS",
                       help="environment steps per training iteration (default 4000)")
    train.add_argument("--seed", type=int, default=0, metavar="S", help="the experiment seed (default 0)")
    train.add_argument("--out", default="alpyperl-checkpoint", metavar="DIR",
                       help="where to save the checkpoint (default ./alpyperl-checkpoint)")
    _add_param_option(train)
    train.add_argument("--step-timeout", type=float, default=None, metavar="SECONDS",
                       help="seconds the model may take to reach its next decision (default 10; one day "
                            "with --debug-port)")
    train.add_argument("--record-dir", metavar="DIR",
                       help="record every episode of every runner to a file in DIR (for `alpyperl replay`)")
    train.add_argument("--debug-port", type=_port, metavar="P",
                       help="Java debugger: runner w listens on 127.0.0.1:P+w (see docs/debugging.md)")
    train.set_defaults(handler=train_command)

    commands.add_parser(
        "export", help="export a trained policy (RLlib checkpoint) to ONNX", add_help=False,
        description="Run `alpyperl export --help` for its options.")

    replay = commands.add_parser(
        "replay", help="re-run a recorded episode and check that it reproduces", formatter_class=formatter,
        description=_wrap("Re-run episode K of a recording (written by `alpyperl run --record`, `train --record-dir`, "
                    "or alpyperl.recording.EpisodeRecorder) against the model: same seed, same parameters, same "
                    "actions. Prints 'episode K reproduced: N steps identical' or the first step where the model "
                    "now behaves differently, with both values. Without --episode, lists the recorded episodes. "
                    "With --debug-port, attach a Java debugger and stop at a breakpoint in the model while the "
                    "episode replays."),
        epilog="examples:\n"
               "  alpyperl replay episodes.jsonl                 # which episodes are there, which failed\n"
               "  alpyperl replay episodes.jsonl --episode 7\n"
               "  alpyperl replay episodes.jsonl --episode 7 --debug-port 5005 --suspend\n"
               "      then in IntelliJ IDEA: Run > Debug 'Remote JVM Debug' on 127.0.0.1:5005")
    replay.add_argument("file", metavar="FILE", help="the recording (JSON lines)")
    replay.add_argument("--episode", type=int, metavar="K", help="the episode to replay (as listed)")
    replay.add_argument("--model", metavar="DIR", help="replay against this model folder instead of the recorded one")
    _add_debug_options(replay)
    replay.set_defaults(handler=replay_command)

    upgrade = commands.add_parser(
        "upgrade-1x", help="make an ALPypeRL 1.x export run a trained policy without Python",
        formatter_class=formatter,
        description=_wrap("Upgrade the AnyLogic export of an ALPypeRL 1.x model in place, so that AnyLogic's own "
                    "launch script runs it with a trained policy: no Python, no policy server. The 1.x library "
                    "(lib/model0.jar) is kept as lib/model0.jar.alpyperl1-backup and replaced by alpyperl's "
                    "compatibility jar; --policy copies the ONNX file (from `alpyperl export`) to policy.onnx "
                    "in the export, where the model reads it when its RL mode is EVALUATE, and then runs one "
                    "episode with it to check that it fits the model. Training from Python needs no upgrade: "
                    "alpyperl runs 1.x exports as they are."),
        epilog="examples:\n"
               "  alpyperl upgrade-1x exported_models/cartpole_v0_eval --policy cartpole.onnx\n"
               "  exported_models/cartpole_v0_eval/CartPole_v0_linux.sh      # AnyLogic's launcher, with the policy\n"
               "  alpyperl upgrade-1x exported_models/cartpole_v0_eval --undo")
    upgrade.add_argument("export", metavar="EXPORT", help="the export's folder")
    upgrade.add_argument("--policy", metavar="FILE.onnx", help="the trained policy, exported with `alpyperl export`")
    upgrade.add_argument("--undo", action="store_true", help="put the 1.x library back")
    upgrade.set_defaults(handler=upgrade_command)
    return parser


def _wrap(text: str) -> str:
    """A command's description as paragraphs of at most 90 characters."""
    import textwrap

    return textwrap.fill(text, 90)


def _add_param_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--param", action="append", default=[], type=_parameter, metavar="NAME=VALUE",
                        help="set a model parameter (repeatable); VALUE is read as a number, true/false, "
                             "or else as text")


def _add_debug_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug-port", type=_port, metavar="P",
                        help="let a Java debugger attach on 127.0.0.1:P (see docs/debugging.md)")
    parser.add_argument("--suspend", action="store_true",
                        help="with --debug-port: wait until the debugger attaches before the model runs")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port number from 1 to 65535, got {text!r}")
    return value


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, e.g. 600x400, got {text!r}") from None


def _parameter(text: str) -> tuple[str, Any, str]:
    """``NAME=VALUE`` as (name, value read as JSON number/boolean or else text, the original text)."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
        if not isinstance(parsed, (int, float, bool)):
            parsed = value
    except json.JSONDecodeError:
        parsed = value
    return name.strip(), parsed, text


def _params(args: argparse.Namespace) -> dict[str, Any]:
    return {name: value for name, value, _ in args.param}


def _check_debug(args: argparse.Namespace) -> None:
    if args.suspend and args.debug_port is None:
        raise ValueError("--suspend needs --debug-port (the port the Java debugger attaches to)")


# ---- info ---------------------------------------------------------------------------------------


def info_command(args: argparse.Namespace) -> int:
    """``alpyperl info MODEL``."""
    from . import bridge
    from .spaces import flat_size, space_from_json

    folder = os.path.abspath(args.model)
    if not os.path.isdir(folder):
        raise AlpyperlError(f"model folder {folder} does not exist" if not os.path.exists(folder)
                            else f"{folder} is a file; give the model's folder")
    kind, model_class, classpath = describe_folder(folder)
    print(f"model         {folder}")
    print(f"kind          {kind}")
    if model_class:
        print(f"model class   {model_class}")
    print(f"classpath     {', '.join(classpath) if classpath else '(unknown)'}", flush=True)
    described = bridge.describe_model(folder, 30.0)
    for label, key in (("observations", "observation_space"), ("actions", "action_space")):
        if described[key] is None:
            print(f"{label:13} not defined by the model: give {key}=... to AnyLogicEnv")
        else:
            space = space_from_json(json.dumps(described[key]))
            print(f"{label:13} {space}  (defined by the model; {flat_size(space)} value(s) flat)")
    names = described["parameters"]
    if names is None:
        print("parameters    (known once the model runs)")
    elif not names:
        print("parameters    (none)")
    else:
        defaults = _parameter_defaults(folder, model_class, classpath, names) if model_class else {}
        print("parameters    (set with env_params={...} or --param NAME=VALUE)")
        width = max(len(name) for name in names)
        for name in names:
            java_type, default = defaults.get(name, ("", "default unknown"))
            print(f"  {name:{width}}  {java_type:8} {default}")
    return 0


def describe_folder(folder: str) -> tuple[str, str | None, list[str]]:
    """(kind, model class, classpath entries) of a model folder, read from its files."""
    settings = bridge.read_descriptor(folder)
    if settings is not None:
        entries = [entry for entry in settings.get("classpath", "").replace(";", ":").split(":") if entry]
        return "plain Java model (alpyperl-model.properties)", settings.get("model.class"), entries
    script = launch_script.find(folder)
    if script is not None:
        command = launch_script.parse(script.name, script.read_text(encoding="utf-8", errors="replace"))
        entries = list(dict.fromkeys(command.classpath)) if command is not None else []  # repeated entries once
        if alpyperl1.library_jars(folder):
            return (f"AnyLogic export ({script.name}) of an ALPypeRL 1.x model (runs with alpyperl's 1.x "
                    "compatibility jar)"), None, entries
        return f"AnyLogic export ({script.name})", None, entries
    return "unknown (no alpyperl-model.properties and no AnyLogic launch script)", None, []


def _parameter_defaults(folder: str, model_class: str, classpath: list[str], names: list[str]) -> dict[str, tuple]:
    """(Java type, default) of a plain Java model's parameters: the initial values of its
    ``@ModelParameter`` fields, read from one instance made in a class loader of its own.
    Empty if that instance cannot be made (the defaults are then shown as unknown)."""
    import jpype

    try:
        url = jpype.JClass("java.net.URL")
        urls = jpype.JArray(url)([jpype.JClass("java.io.File")(os.path.join(folder, entry)).toURI().toURL()
                                  for entry in classpath])
        parent = jpype.JClass("com.alpyperl.launcher.ModelFolder").class_.getClassLoader()
        loader = jpype.JClass("java.net.URLClassLoader")(urls, parent)
        try:
            cls = jpype.JClass("java.lang.Class").forName(model_class, True, loader)
            instance = cls.getConstructor().newInstance()
            found = {}
            for name in names:
                field = cls.getField(name)
                value = field.get(instance)
                java_type = str(field.getType().getSimpleName())
                shown = repr(str(value)) if java_type == "String" else str(value).lower() \
                    if java_type == "boolean" else str(value)
                found[name] = (java_type, shown)
            return found
        finally:
            loader.close()
    except (jpype.JException, TypeError, AttributeError):
        return {}


# ---- run ----------------------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    """``alpyperl run MODEL``."""
    _check_debug(args)
    if args.render_size is not None and not args.render:
        raise ValueError("--render-size needs --render (the video file to write)")
    if args.policy != "random" and not args.render:
        return _run_onnx(args)
    from .env import AnyLogicEnv
    from .settings import DEBUG_STEP_TIMEOUT
    from .recording import EpisodeRecorder
    from .render import DEFAULT_SIZE, VideoFile

    if args.policy != "random":
        _check_policy_file(args)
    step_timeout = args.step_timeout or (DEBUG_STEP_TIMEOUT if args.debug_port is not None else 10.0)
    rendering = {"render_mode": "rgb_array", "render_size": args.render_size or DEFAULT_SIZE} if args.render else {}
    env = AnyLogicEnv(model=args.model, env_params=_params(args), step_timeout=step_timeout,
                      debug_port=args.debug_port, debug_suspend=args.suspend, **rendering)
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
    else:
        policy, policy_name = _onnx_actor(args.policy, env), f"policy {args.policy} (most likely actions)"
    print(f"model {os.path.abspath(args.model)}: {policy_name}, {args.episodes} episode(s), seeds {args.seed} "
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
                progress.print(f"episode {episode:4d}  seed {args.seed + episode}  failed at step {steps + 1}: "
                               f"{type(error).__name__}: {str(error).splitlines()[0]}")
            progress.update(episode + 1)
    finally:
        progress.close()
        env.close()
        if video is not None:
            video.close()
    elapsed = time.perf_counter() - started
    print(_summary(returns, lengths, failures, elapsed))
    if video is not None:
        print(f"video of {video.frames} frame(s) at {video.fps:g} frames/s written to {args.render}"
              if video.frames else f"no frame to write: {args.render} was not written")
    if failures:
        print(f"{len(failures)} episode(s) failed: {', '.join(map(str, failures))}. "
              + (f"Replay one with: alpyperl replay {args.record} --episode {failures[0]}" if args.record else
                 "Run again with --record FILE to record them, then replay one with `alpyperl replay FILE "
                 "--episode K` (under the debugger with --debug-port, see docs/debugging.md)."))
        return 1
    return 0


def _summary(returns: list[float], lengths: list[int], failures: list[int], elapsed: float) -> str:
    import numpy as np

    if not returns:
        return f"no episode finished ({len(failures)} failed)"
    values = np.asarray(returns)
    steps = int(sum(lengths))
    return (f"{len(returns)} episode(s)" + (f", {len(failures)} failed" if failures else "") +
            f": mean return {values.mean():.6g}, std {values.std():.6g}, min {values.min():.6g}, "
            f"max {values.max():.6g} | steps {steps:,} (mean {steps / len(lengths):.1f}) | "
            f"{elapsed:.2f} s, {steps / elapsed if elapsed > 0 else 0:,.0f} steps/s")


def _check_policy_file(args: argparse.Namespace) -> None:
    if not args.policy.endswith(".onnx"):
        raise ValueError(f"--policy must be 'random' or an .onnx file, got {args.policy!r}")
    if not os.path.isfile(args.policy):
        raise ValueError(f"the policy file {os.path.abspath(args.policy)} does not exist")


def _onnx_actor(policy_file: str, env):
    """A function observation -> action that asks the ONNX policy, evaluated in Java by the
    connector's evaluator (as the launcher does), for its most likely action."""
    import jpype
    import numpy as np

    from .bridge import call_java
    from .recording import flatten, unflatten

    paths = jpype.JClass("java.nio.file.Paths")
    try:
        policy = jpype.JClass("com.alpyperl.policy.OnnxPolicy").load(paths.get(os.path.abspath(policy_file), []))
    except jpype.JException as error:
        raise AlpyperlError(f"cannot load the policy {policy_file}: {error.getMessage()}") from None
    observations = jpype.JArray(jpype.JDouble)

    def act(observation):
        flat = observations(flatten(env.observation_space, observation))
        return unflatten(env.action_space, list(np.asarray(call_java(policy.act, flat), dtype=np.float64)))

    return act


def _run_onnx(args: argparse.Namespace) -> int:
    """Runs an ONNX policy with the Java launcher's command line, in this process's JVM."""
    import jpype

    from . import jvm

    _check_policy_file(args)
    if args.record:
        raise ValueError("--record works with the random policy only (an ONNX policy runs inside Java)")
    options = jvm.debug_options(args.debug_port, args.suspend) if args.debug_port is not None else []
    jvm.start_jvm(options)
    try:
        launcher = jpype.JClass("com.alpyperl.launcher.Main")
    except TypeError:
        raise AlpyperlError("this alpyperl's launcher.jar has no command line (com.alpyperl.launcher.Main) to run "
                            "ONNX policies; update alpyperl (or rebuild the jars with `gradle build`)") from None
    command = ["run", "--model", os.path.abspath(args.model), "--policy", os.path.abspath(args.policy),
               "--episodes", str(args.episodes), "--seed", str(args.seed)]
    for _, _, text in args.param:
        command += ["--param", text]
    system = jpype.JClass("java.lang.System")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        status = int(launcher.execute(jpype.JArray(jpype.JString)(command), system.out, system.err))
    finally:
        system.out.flush()
        system.err.flush()
    return status


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
        print(text, flush=True)
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


# ---- train --------------------------------------------------------------------------------------


def train_command(args: argparse.Namespace) -> int:
    """``alpyperl train MODEL``: PPO with alpyperl.rllib, one progress line per iteration."""
    model = os.path.abspath(args.model)
    if not os.path.isdir(model):
        raise ValueError(f"model folder {model} does not exist")
    if args.runners < 0:
        raise ValueError(f"--runners must be 0 or more, got {args.runners}")
    try:
        import ray
        from ray.rllib.algorithms.ppo import PPOConfig
    except ImportError:
        raise AlpyperlError("alpyperl train needs Ray RLlib: pip install 'alpyperl[rllib]'") from None
    from . import rllib

    from .settings import DEBUG_STEP_TIMEOUT

    step_timeout = args.step_timeout or (DEBUG_STEP_TIMEOUT if args.debug_port is not None else 10.0)
    env_config: dict[str, Any] = {"model": model, "env_params": _params(args), "step_timeout": step_timeout}
    if args.record_dir:
        env_config["record_dir"] = os.path.abspath(args.record_dir)
    if args.debug_port is not None:
        env_config["debug_port"] = args.debug_port
    ray.init(address="local", num_cpus=max(os.cpu_count() or 1, args.runners), include_dashboard=False,
             log_to_driver=True)
    config = (PPOConfig()
              .environment(rllib.register_env(), env_config=env_config)
              .env_runners(num_env_runners=args.runners, num_envs_per_env_runner=args.envs_per_runner,
                           num_cpus_per_env_runner=1)
              .rl_module(model_config={"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"})
              .training(train_batch_size_per_learner=args.batch_size, minibatch_size=min(256, args.batch_size))
              .debugging(seed=args.seed))
    config = rllib.fault_tolerant(config)
    print(f"Training PPO on {model}\n  {args.runners} runner(s) x {args.envs_per_runner} model instance(s), "
          f"{args.batch_size} steps per iteration, seed {args.seed}, at most {args.iterations} iterations"
          + (f", target mean return {args.target_return:g}" if args.target_return is not None else ""), flush=True)
    algo, failure, restarts = None, None, 0
    try:
        algo = rllib.build_algo(config)
        for _ in range(args.iterations):
            result = algo.train()
            print(rllib.progress_line(result), flush=True)
            restarts = rllib.runner_restarts(result)
            if rllib.steps_this_iteration(result) == 0:
                failure = (f"iteration {result.get('training_iteration')} sampled no steps: the models failed or "
                           "their EnvRunner processes died, and the output above says why. Stopped without saving "
                           "a checkpoint.")
                break
            if args.target_return is not None and rllib.episode_return(result) >= args.target_return:
                print(f"Reached a mean return of {rllib.episode_return(result):.1f}.")
                break
        if failure is None:
            out = os.path.abspath(args.out)
            algo.save(out)
            print(f"Checkpoint saved in {out}\n  export the policy with: alpyperl export --checkpoint {out} "
                  f"--out policy.onnx")
    finally:
        if algo is not None:  # (a failure is raised only after this: RLlib logs an exception being handled)
            algo.stop()
        ray.shutdown()
    if failure is not None:
        raise AlpyperlError(failure)
    if restarts:
        print(f"{PROG} train: error: EnvRunner processes died {restarts} time(s) during training and Ray replaced "
              "them; their output above says why", file=sys.stderr)
        return 1
    return 0


# ---- export -------------------------------------------------------------------------------------


def _export(argv: list[str]) -> int:
    """``alpyperl export ...``: handed to alpyperl.export, which parses its own options."""
    import importlib

    try:
        export = importlib.import_module("alpyperl.export")
    except ImportError as error:
        if getattr(error, "name", None) == "alpyperl.export":
            problem = "this alpyperl has no exporter (alpyperl/export.py)"
        elif isinstance(error, ModuleNotFoundError):
            problem = f"the exporter needs the package {error.name}: pip install 'alpyperl[rllib]' onnx"
        else:
            problem = f"the exporter could not be loaded: {error}"
        print(f"{PROG} export: error: {problem}", file=sys.stderr)
        return 1
    return int(export.main(argv) or 0)


# ---- replay -------------------------------------------------------------------------------------


def replay_command(args: argparse.Namespace) -> int:
    """``alpyperl replay FILE [--episode K]``."""
    from .recording import read_recording, replay

    _check_debug(args)
    if args.episode is None:
        episodes = read_recording(args.file)
        print(f"{args.file}: {len(episodes)} episode(s)")
        for episode in episodes:
            print("  " + episode.summary())
        failed = [episode.index for episode in episodes if episode.data["error"]]
        print(f"Replay one with: alpyperl replay {args.file} --episode "
              f"{failed[0] if failed else (episodes[0].index if episodes else 0)}")
        return 0

    def wait_for_debugger() -> None:
        if args.debug_port is not None and not args.suspend and sys.stdin.isatty():
            input(f"Attach the Java debugger to 127.0.0.1:{args.debug_port}, set your breakpoints, "
                  "then press Enter to replay the episode: ")

    print(f"replaying episode {args.episode} of {args.file}", flush=True)
    result = replay(args.file, args.episode, model=args.model, debug_port=args.debug_port,
                    debug_suspend=args.suspend, on_ready=wait_for_debugger)
    print(result)
    return 0 if result.reproduced else 1


# ---- upgrade-1x ---------------------------------------------------------------------------------


def upgrade_command(args: argparse.Namespace) -> int:
    """``alpyperl upgrade-1x EXPORT``."""
    if args.undo:
        if args.policy:
            raise ValueError("--undo puts the 1.x library back; it takes no --policy")
        alpyperl1.undo_upgrade(args.export)
        return 0
    alpyperl1.upgrade_export(args.export, args.policy)
    if args.policy is None:
        if os.path.isfile(os.path.join(args.export, alpyperl1.POLICY_FILE)):
            return 0
        print(f"The model now needs {alpyperl1.POLICY_FILE} in its folder (or ALPYPERL_POLICY=FILE) to run in "
              "EVALUATE mode: upgrade again with --policy FILE.onnx")
        return 0
    print("Checking the policy on the model: one episode with alpyperl's launcher", flush=True)
    check = argparse.Namespace(model=args.export, policy=os.path.join(args.export, alpyperl1.POLICY_FILE),
                               episodes=1, seed=0, param=[], record=None, debug_port=None, suspend=False)
    if _run_onnx(check) != 0:
        raise AlpyperlError(f"the policy {args.policy} does not run on the model (see above); the export is "
                            "upgraded nevertheless")
    script = launch_script.find(args.export)
    print(f"Done. With its RL mode EVALUATE (the root agent's rlMode), the model answers requestAction() from "
          f"{alpyperl1.POLICY_FILE}: run it with AnyLogic's launch script {script}, in AnyLogic, or in AnyLogic Cloud.")
    return 0
