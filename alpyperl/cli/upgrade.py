"""``alpyperl upgrade-1x EXPORT``: make an ALPypeRL 1.x export run a trained policy without Python."""

from __future__ import annotations

import argparse
import os

from .. import alpyperl1, launch_script
from ..errors import AlpyperlError
from .arguments import FORMATTER, UsageError, wrap
from .run import run_onnx

__all__ = ["add_parser", "upgrade_command"]


def add_parser(commands) -> None:
    """Adds ``alpyperl upgrade-1x`` to the commands."""
    upgrade = commands.add_parser(
        "upgrade-1x", help="make an ALPypeRL 1.x export run a trained policy without Python",
        formatter_class=FORMATTER,
        description=wrap("Upgrade the AnyLogic export of an ALPypeRL 1.x model in place, so that AnyLogic's own "
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


def upgrade_command(args: argparse.Namespace) -> int:
    """``alpyperl upgrade-1x EXPORT``."""
    if args.undo:
        if args.policy:
            raise UsageError("--undo puts the 1.x library back; it takes no --policy")
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
    if run_onnx(check) != 0:
        raise AlpyperlError(f"the policy {args.policy} does not run on the model (see above); the export is "
                            "upgraded nevertheless")
    script = launch_script.find(args.export)
    print(f"Done. With its RL mode EVALUATE (the root agent's rlMode), the model answers requestAction() from "
          f"{alpyperl1.POLICY_FILE}: run it with AnyLogic's launch script {script}, in AnyLogic, or in AnyLogic Cloud.")
    return 0
