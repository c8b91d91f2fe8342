"""``alpyperl jar [--copy DIR] [--1x]``: where the connector jar is, or a copy of it for a model."""

from __future__ import annotations

import argparse
import os
import shutil

from .. import __version__, jar_files
from ..errors import AlpyperlError
from .arguments import FORMATTER, UsageError, wrap

__all__ = ["add_parser", "jar_command"]


def add_parser(commands) -> None:
    """Adds ``alpyperl jar`` to the commands."""
    jar = commands.add_parser(
        "jar", help="print where the connector jar is, or copy it into a model's folder", formatter_class=FORMATTER,
        description=wrap("Print the paths of alpyperl's connector jar (anylogic-lib.jar: what a model adds, in "
                         "AnyLogic as a dependency of the model) and of its ALPypeRL 1.x compatibility jar "
                         "(alpyperl1-compat.jar: the connector with 1.x's API, for 1.x models only; never both in "
                         "one model), one per line, the connector first. --copy DIR copies the connector (with "
                         "--1x: the compatibility jar) into the folder DIR, replacing a file of the same name."),
        epilog="examples:\n"
               "  alpyperl jar\n"
               "  alpyperl jar --copy ~/Models/MyModel            # then add it to the model in AnyLogic\n"
               "  cp \"$(alpyperl jar | head -n 1)\" lib/")
    jar.add_argument("--copy", metavar="DIR", help="copy the jar into the folder DIR (it must exist)")
    jar.add_argument("--1x", dest="alpyperl1", action="store_true",
                     help="with --copy: the 1.x compatibility jar instead of the connector")
    jar.set_defaults(handler=jar_command)


def jar_command(args: argparse.Namespace) -> int:
    """``alpyperl jar``."""
    if args.alpyperl1 and args.copy is None:
        raise UsageError("--1x goes with --copy DIR (without --copy, both jars' paths are printed)")
    if args.copy is None:
        wanted = [jar_files.CONNECTOR, jar_files.COMPATIBILITY]
    else:
        wanted = [jar_files.COMPATIBILITY if args.alpyperl1 else jar_files.CONNECTOR]
    missing = [name for name in wanted if not jar_files.path(name).is_file()]
    if missing:
        are = "is" if len(missing) == 1 else "are"
        raise AlpyperlError(f"{' and '.join(missing)} {are} missing from {jar_files.path(missing[0]).parent}: this "
                            "alpyperl was installed without its jars. Reinstall it from a wheel (`pip wheel .` in a source "
                            "checkout builds them), or run `gradle build` in the source checkout")
    if args.copy is None:
        for name in wanted:
            print(jar_files.path(name))
        return 0
    target = os.path.abspath(os.path.expanduser(args.copy))
    if not os.path.isdir(target):
        raise AlpyperlError(f"{target} is not a folder: --copy DIR copies the jar into an existing folder"
                            if os.path.exists(target) else f"the folder {target} does not exist; create it first")
    for name in wanted:
        try:
            copied = shutil.copyfile(jar_files.path(name), os.path.join(target, name))
        except OSError as error:
            raise AlpyperlError(f"cannot copy {name} into {target}: {error.strerror or error}") from None
        role = next(jar.role for jar in jar_files.JARS if jar.name == name)
        print(f"copied the {role} jar of alpyperl {__version__} to {copied}")
    return 0
