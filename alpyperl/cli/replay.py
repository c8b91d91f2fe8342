"""``alpyperl replay FILE``: list a recording's episodes, or re-run one and check that it reproduces."""

from __future__ import annotations

import argparse
import sys

from .arguments import FORMATTER, add_debug_options, check_debug, wrap
from .wording import counted

__all__ = ["add_parser", "replay_command"]


def add_parser(commands) -> None:
    """Adds ``alpyperl replay`` to the commands."""
    replay = commands.add_parser(
        "replay", help="re-run a recorded episode and check that it reproduces", formatter_class=FORMATTER,
        description=wrap("Re-run episode K of a recording (written by `alpyperl run --record`, `train --record-dir`, "
                    "or alpyperl.recording.EpisodeRecorder) against the model: same seed, same parameters, same "
                    "actions. Prints 'episode K reproduced: N steps identical' or the first step where the model "
                    "now behaves differently, with both values (for a multi-agent model, also the agent). "
                    "Without --episode, lists the recorded episodes. "
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
    add_debug_options(replay)
    replay.set_defaults(handler=replay_command)


def replay_command(args: argparse.Namespace) -> int:
    """``alpyperl replay FILE [--episode K]``."""
    from ..replay import read_recording, replay

    check_debug(args)
    if args.episode is None:
        episodes = read_recording(args.file)
        print(f"{args.file}: {counted(len(episodes), 'episode')}")
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
