"""What the commands of the ``alpyperl`` command line share: the program's name, exit statuses,
argument types and options.

The exit statuses follow one rule in every command (and in the launcher's Java command line):
``0`` success, ``1`` a failure (a missing model folder or file, an unknown model parameter, a model
or policy that fails), ``2`` a wrong command line (an unknown option, a missing or malformed value,
options that do not go together): what is found wrong before anything runs.
"""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from typing import Any

__all__ = [
    "PROG", "FORMATTER", "SUCCESS", "FAILURE", "USAGE", "EXIT_STATUS_HELP", "UsageError", "wrap", "add_param_option",
    "add_debug_options", "positive_int", "non_negative_int", "positive_float", "port", "size", "parameter", "params", "check_debug",
]

PROG = "alpyperl"
#: The help formatter of every command: descriptions and examples keep their line breaks.
FORMATTER = argparse.RawDescriptionHelpFormatter

SUCCESS = 0
#: Exit status of a failure: a missing model folder or file, an unknown parameter, a model that fails.
FAILURE = 1
#: Exit status of a wrong command line (argparse's own status for its errors).
USAGE = 2
#: The exit statuses, as every command's help explains them.
EXIT_STATUS_HELP = """\
exit status:
  0  success
  1  failure: a missing model folder or file, an unknown model parameter, a model or policy that fails
  2  wrong command line: an unknown option, a missing or malformed value, options that do not go together"""


class UsageError(Exception):
    """The command line is wrong in a way argparse cannot see (options that do not go together):
    the command prints the message and exits with status 2, before anything runs."""


def wrap(text: str) -> str:
    """A command's description as paragraphs of at most 90 characters."""
    return textwrap.fill(text, 90)


def add_param_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--param", action="append", default=[], type=parameter, metavar="NAME=VALUE",
                        help="set a model parameter (repeatable); VALUE is read as a number, true/false, "
                             "or else as text")


def add_debug_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug-port", type=port, metavar="P",
                        help="let a Java debugger attach on 127.0.0.1:P (see docs/debugging.md)")
    parser.add_argument("--suspend", action="store_true",
                        help="with --debug-port: wait until the debugger attaches before the model runs")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole_number(text, at_least=1)


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    return _whole_number(text, at_least=0)


def _whole_number(text: str, at_least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < at_least:
        raise argparse.ArgumentTypeError(f"expected a number of at least {at_least}, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port number from 1 to 65535, got {text!r}")
    return value


def size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, e.g. 600x400, got {text!r}") from None


def parameter(text: str) -> tuple[str, Any, str]:
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
    if isinstance(parsed, float) and not math.isfinite(parsed):
        raise argparse.ArgumentTypeError(f"a model parameter must be a finite number, got {text!r}")
    return name.strip(), parsed, text


def params(args: argparse.Namespace) -> dict[str, Any]:
    return {name: value for name, value, _ in args.param}


def check_debug(args: argparse.Namespace) -> None:
    if args.suspend and args.debug_port is None:
        raise UsageError("--suspend needs --debug-port (the port the Java debugger attaches to)")
