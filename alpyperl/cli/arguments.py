"""What the commands of the ``alpyperl`` command line share: the program's name, argument types and options."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

__all__ = [
    "PROG", "FORMATTER", "wrap", "add_param_option", "add_debug_options", "positive_int", "port", "size", "parameter",
    "params", "check_debug",
]

PROG = "alpyperl"
#: The help formatter of every command: descriptions and examples keep their line breaks.
FORMATTER = argparse.RawDescriptionHelpFormatter


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
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
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
    return name.strip(), parsed, text


def params(args: argparse.Namespace) -> dict[str, Any]:
    return {name: value for name, value, _ in args.param}


def check_debug(args: argparse.Namespace) -> None:
    if args.suspend and args.debug_port is None:
        raise ValueError("--suspend needs --debug-port (the port the Java debugger attaches to)")
