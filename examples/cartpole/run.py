"""Run the Java CartPole model from Python, in-process, with a hand-written policy.

    python examples/cartpole/run.py --episodes 20

The model (examples/cartpole/src/.../CartPole.java) is a plain Java simulation, packaged like an
AnyLogic export by `gradle build`. AnyLogicEnv starts a JVM inside this Python process, runs the
model on a thread of its own and hands actions and observations across in one call per step.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from alpyperl import AnyLogicEnv
from alpyperl.cli.arguments import positive_int  # the same number checks as the alpyperl command

MODEL = Path(__file__).resolve().parent / "build" / "model"


def balance(observation) -> int:
    """Push the cart towards the side the pole is falling to (angle plus a bit of angular velocity)."""
    angle, angular_velocity = observation[2], observation[3]
    return int(angle + 0.5 * angular_velocity > 0)


def run_episode(env, policy, seed=None):
    observation, info = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        observation, reward, terminated, truncated, _ = env.step(policy(observation))
        total += reward
        done = terminated or truncated
    return total, info["seed"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=positive_int, default=20, help="episodes per policy (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default 0)")
    parser.add_argument("--pole-length", type=float, default=0.5, help="half the pole's length in metres (default 0.5)")
    args = parser.parse_args()

    env = AnyLogicEnv(model=MODEL, env_params={"poleLength": args.pole_length})
    print(f"Model {MODEL}\n  observations {env.observation_space}\n  actions      {env.action_space}")
    env.reset(seed=args.seed)

    rng = np.random.default_rng(args.seed)
    policies = {"random": lambda _: int(rng.integers(2)), "balance": balance}
    for name, policy in policies.items():
        start, steps = time.perf_counter(), 0
        returns = []
        for _ in range(args.episodes):
            total, seed = run_episode(env, policy)
            returns.append(total)
            steps += int(total)
        elapsed = time.perf_counter() - start
        print(f"{name:>8}: mean return {np.mean(returns):6.1f} (min {min(returns):.0f}, max {max(returns):.0f}) "
              f"over {args.episodes} episodes, {steps / elapsed:,.0f} steps/s")
    env.close()


if __name__ == "__main__":
    main()
