"""The ``alpyperl`` command line: look at a model, run it, train it, export its policy, replay an episode.

    alpyperl info MODEL
    alpyperl run MODEL [--policy random|FILE.onnx] [--episodes N] [--seed S] [--param NAME=VALUE]...
                       [--record FILE] [--render VIDEO.mp4] [--debug-port P [--suspend]]
    alpyperl train MODEL [--iterations N] [--runners R] [--envs-per-runner E] [--target-return X] [--out DIR]
    alpyperl export --checkpoint DIR --out FILE.onnx
    alpyperl replay FILE [--episode K] [--debug-port P [--suspend]]
    alpyperl upgrade-1x EXPORT [--policy FILE.onnx] [--undo]
    alpyperl jar [--copy DIR [--1x]]
    alpyperl doctor

``main(argv)`` returns the exit status, by one rule for every command: 0 when all went well, 1 for a
failure (a missing model folder or file, an unknown model parameter, a model, policy or replay that
fails), 2 for a wrong command line (what argparse refuses, and :class:`~.arguments.UsageError`),
130 after Ctrl-C. Each command is a module of this package, with its options and what it does;
``arguments`` holds what they share.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..errors import AlpyperlError
from . import doctor, export, info, jar, replay, run, train, upgrade
from .arguments import EXIT_STATUS_HELP, FAILURE, FORMATTER, PROG, USAGE, UsageError

__all__ = ["main", "build_parser"]

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
  alpyperl jar --copy path/to/anylogic-model                      # the connector, for AnyLogic
  alpyperl doctor                                                 # Java, jars, versions, problems

Run `alpyperl COMMAND --help` for the options of a command. Debugging a model with a Java
debugger (IntelliJ IDEA, Eclipse) is explained in docs/debugging.md.

""" + EXIT_STATUS_HELP


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``alpyperl`` command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)  # a wrong command line exits here, with status 2
    if args.command is None:
        parser.print_help()
        return USAGE
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"{PROG} {args.command}: error: {error}\nRun `{PROG} {args.command} --help` for its options.",
              file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print(f"\n{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output went to a pipe that closed early (`alpyperl info ... | head`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (so that the interpreter's final flush stays quiet)
        return 0
    except (AlpyperlError, ValueError, OSError) as error:  # alpyperl, the model, or a file refused what was asked
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return FAILURE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``alpyperl`` command and its subcommands."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=FORMATTER)
    parser.add_argument("--version", action="version", version=f"alpyperl {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    for command in (info, run, train, export, replay, upgrade, jar, doctor):
        command.add_parser(commands)
    for command_parser in commands.choices.values():
        command_parser.epilog = f"{command_parser.epilog}\n\n{EXIT_STATUS_HELP}"
    return parser
