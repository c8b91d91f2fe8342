"""``alpyperl export`` (also ``python -m alpyperl.export``): export a trained policy (RLlib
checkpoint) to ONNX with :mod:`alpyperl.export`. It parses its own options and its own ``--help``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from ..errors import AlpyperlError
from ..spaces import space_from_json
from .arguments import PROG

__all__ = ["add_parser", "main"]


def add_parser(commands) -> None:
    """Lists ``alpyperl export`` among the commands (:func:`main` runs it)."""
    commands.add_parser(
        "export", help="export a trained policy (RLlib checkpoint) to ONNX", add_help=False,
        description="Run `alpyperl export --help` for its options.")


def main(argv: Sequence[str] | None = None) -> int:
    """``alpyperl export``: exports an RLlib checkpoint's policy to ONNX; returns the exit status."""
    try:
        from ..export import export_checkpoint
    except ImportError as error:
        if getattr(error, "name", None) == "alpyperl.export":
            problem = "this alpyperl has no exporter (alpyperl/export/)"
        elif isinstance(error, ModuleNotFoundError):
            problem = f"the exporter needs the package {error.name}: pip install 'alpyperl[rllib]' onnx"
        else:
            problem = f"the exporter could not be loaded: {error}"
        print(f"{PROG} export: error: {problem}", file=sys.stderr)
        return 1
    parser = argparse.ArgumentParser(
        prog=f"{PROG} export",
        description="Export a trained RLlib policy (checkpoint) to an ONNX file that the Java model runs "
                    "without Python, and verify it against the torch policy and the Java evaluator.")
    parser.add_argument("--checkpoint", required=True, type=Path, help="the RLlib checkpoint folder (algo.save)")
    parser.add_argument("--out", required=True, type=Path, help="the ONNX file to write, e.g. policy.onnx")
    parser.add_argument("--module-id", default="default_policy", help="the RLModule to export (default: default_policy)")
    parser.add_argument("--no-verify", action="store_true", help="skip the verification (not recommended)")
    parser.add_argument("--samples", type=int, default=2000, help="observations to verify on (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the verification's observations (default 0)")
    parser.add_argument("--observation-space-json", default=None,
                        help="the environment's observation space as the connector's JSON (only for checkpoints "
                             "without it)")
    args = parser.parse_args(argv)
    observation_space = None
    if args.observation_space_json is not None:
        try:
            observation_space = space_from_json(args.observation_space_json)
        except (ValueError, KeyError, TypeError) as error:
            parser.error(f"--observation-space-json is not a space's JSON form ({error!r}); e.g. "
                         '\'{"type": "Box", "shape": [4], "low": [-1, -1, -1, -1], "high": [1, 1, 1, 1]}\'')
    start = time.perf_counter()
    try:
        export_checkpoint(args.checkpoint, args.out, module_id=args.module_id, observation_space=observation_space,
                          verify=not args.no_verify, samples=args.samples, seed=args.seed)
    except AlpyperlError as error:  # ExportError, or a space the connector cannot describe
        print(f"{PROG} export: error: {error}", file=sys.stderr)
        return 1
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0
