"""``alpyperl export`` (also ``python -m alpyperl.export``): export a trained policy (RLlib
checkpoint) to ONNX with :mod:`alpyperl.export`. The exporter (torch, onnx) is imported only when
the command runs, so that ``--help`` and the other commands stay quick.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from ..errors import AlpyperlError
from .arguments import FORMATTER, UsageError, positive_int, wrap

__all__ = ["add_parser", "export_command", "main"]

DESCRIPTION = wrap(
    "Export the policy of an RLlib checkpoint (saved by `alpyperl train`, algo.save() or a training script) to "
    "an ONNX file that the connector evaluates inside the Java model, without Python: in AnyLogic, an "
    "exported application, AnyLogic Cloud or `alpyperl run --policy FILE.onnx`. Before the file is kept, "
    "the export checks it on sampled observations against the torch policy and the Java evaluator. "
    "Needs `pip install alpyperl[rllib]` and onnx.")

EPILOG = """\
examples:
  alpyperl export --checkpoint cartpole-ppo --out cartpole.onnx
  alpyperl run examples/cartpole/build/model --policy cartpole.onnx --episodes 20"""


def add_parser(commands) -> None:
    """Adds ``alpyperl export`` to the commands."""
    export = commands.add_parser("export", help="export a trained policy (RLlib checkpoint) to ONNX",
                                 formatter_class=FORMATTER, description=DESCRIPTION, epilog=EPILOG)
    _add_options(export)
    export.set_defaults(handler=export_command)


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=Path, metavar="DIR",
                        help="the RLlib checkpoint folder (algo.save)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.onnx", help="the ONNX file to write")
    parser.add_argument("--module-id", default="default_policy", metavar="ID",
                        help="the RLModule to export (default: default_policy)")
    parser.add_argument("--no-verify", action="store_true", help="skip the verification (not recommended)")
    parser.add_argument("--samples", type=positive_int, default=2000, metavar="N",
                        help="observations to verify on (default 2000)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the verification's observations (default 0)")
    parser.add_argument("--observation-space-json", default=None, metavar="JSON",
                        help="the environment's observation space as the connector's JSON (only for checkpoints "
                             "without it)")


def export_command(args: argparse.Namespace) -> int:
    """``alpyperl export``: exports an RLlib checkpoint's policy to ONNX; returns the exit status."""
    from ..spaces import space_from_json

    observation_space = None
    if args.observation_space_json is not None:
        try:
            observation_space = space_from_json(args.observation_space_json)
        except (ValueError, KeyError, TypeError) as error:
            raise UsageError(f"--observation-space-json is not a space's JSON form ({error!r}); e.g. "
                             '\'{"type": "Box", "shape": [4], "low": [-1, -1, -1, -1], "high": [1, 1, 1, 1]}\'') \
                from None
    try:
        from ..export import export_checkpoint
    except ImportError as error:
        if getattr(error, "name", None) == "alpyperl.export":
            problem = "this alpyperl has no exporter (alpyperl/export/)"
        elif isinstance(error, ModuleNotFoundError):
            problem = f"the exporter needs the package {error.name}: pip install 'alpyperl[rllib]' onnx"
        else:
            problem = f"the exporter could not be loaded: {error}"
        raise AlpyperlError(problem) from None
    start = time.perf_counter()
    # ExportError, or a space the connector cannot describe: an AlpyperlError (exit status 1)
    export_checkpoint(args.checkpoint, args.out, module_id=args.module_id, observation_space=observation_space,
                      verify=not args.no_verify, samples=args.samples, seed=args.seed)
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m alpyperl.export``: the same command as ``alpyperl export``; returns the exit status."""
    from . import main as alpyperl_main

    return alpyperl_main(["export", *(sys.argv[1:] if argv is None else argv)])
