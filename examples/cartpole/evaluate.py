"""Run the Java CartPole model with an exported policy, in plain Java, without Python.

    python examples/cartpole/evaluate.py cartpole.onnx --episodes 20

This only starts the launcher's command line (the same as running it yourself):

    java -jar alpyperl/jars/launcher.jar run --model examples/cartpole/build/model \\
         --policy cartpole.onnx --episodes 20

The launcher runs each episode as training does (same seeds, parameters and step timeout), but
every action comes from the policy file, evaluated by the connector's ONNX evaluator. Export a
policy from a training checkpoint with `alpyperl export --checkpoint DIR --out cartpole.onnx`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from alpyperl import jvm
from alpyperl.cli.arguments import positive_int  # the same number checks as the alpyperl command

MODEL = Path(__file__).resolve().parent / "build" / "model"


def evaluate_in_java(policy_file: Path, *, episodes: int = 20, seed: int = 0) -> int:
    """Runs ``episodes`` episodes with the policy in a new `java` process; returns its exit status."""
    command = [jvm.java_executable(), "-jar", str(jvm.JARS_DIR / "launcher.jar"), "run", "--model", str(MODEL),
               "--policy", str(policy_file), "--episodes", str(episodes), "--seed", str(seed)]
    print("Evaluating the policy in Java, without Python:\n  " + " ".join(command), flush=True)
    return subprocess.run(command).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="exit status: 0 success, 1 failure (a missing policy file or model, a policy that does not fit "
               "the model), 2 wrong command line")
    parser.add_argument("policy", type=Path, help="the ONNX file written by `alpyperl export`")
    parser.add_argument("--episodes", type=positive_int, default=20, help="episodes to run (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default 0)")
    args = parser.parse_args(argv)
    for path, what in ((args.policy, "the policy file"), (MODEL, "the CartPole model (run `gradle build`)")):
        if not path.exists():
            print(f"error: {what} {path.absolute()} does not exist", file=sys.stderr)
            return 1
    return evaluate_in_java(args.policy, episodes=args.episodes, seed=args.seed)

if __name__ == "__main__":
    sys.exit(main())
