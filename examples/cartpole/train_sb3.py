"""Train PPO (Stable-Baselines3) on the Java CartPole model, save the policy, load it and use it.

    pip install 'alpyperl[sb3]'                        # Stable-Baselines3 (and torch)
    gradle build                                       # once: builds examples/cartpole/build/model
    python examples/cartpole/train_sb3.py              # train until the mean return reaches 475
    python examples/cartpole/train_sb3.py --quick      # a short smoke run

Everything runs in this one process: the JVM, 8 instances of the model and the PPO learner.
``AnyLogicVecEnv`` is a Stable-Baselines3 ``VecEnv`` whose sub-environments are the model
instances of one ``AnyLogicVectorEnv``: one call into Java steps all of them. SB3's
``DummyVecEnv`` over ``AnyLogicEnv`` instances gives the same trajectories for the same seeds,
only more slowly: a call into Java per model and step (benchmarks/bench_sb3.py).
See docs/training.md, "Stable-Baselines3".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor

from alpyperl.sb3 import AnyLogicVecEnv

MODEL = Path(__file__).resolve().parent / "build" / "model"
TARGET_RETURN = 475.0  # Gymnasium's "solved" threshold for CartPole-v1 (episodes end at 500)


def ppo_settings(num_envs: int) -> dict:
    """PPO's settings for CartPole (those of the RL Baselines3 Zoo for CartPole-v1): short
    rollouts of 32 steps per environment, many epochs over each, rates that fall to 0 at the end."""
    return dict(
        n_steps=32,  # steps per environment and rollout: 32 x num_envs samples per update
        batch_size=min(256, 32 * num_envs),
        n_epochs=20,
        gamma=0.98,
        gae_lambda=0.8,
        ent_coef=0.0,
        learning_rate=lambda progress_remaining: 1e-3 * progress_remaining,  # from 1e-3 down to 0
        clip_range=lambda progress_remaining: 0.2 * progress_remaining,
    )


class Progress(BaseCallback):
    """Prints a line about every ``every`` env steps, and stops training once the mean return of
    the latest episodes (VecMonitor keeps 100) reaches ``target``."""

    def __init__(self, every: int, target: float):
        super().__init__()
        self.every, self.target = every, target
        self.next_line = every
        self.reached = False
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        return not self.reached  # False ends learn()

    def _on_rollout_end(self) -> None:
        episodes = self.model.ep_info_buffer  # what VecMonitor recorded of the latest episodes
        mean_return = float(np.mean([episode["r"] for episode in episodes])) if episodes else float("nan")
        seconds = time.perf_counter() - self.start
        if self.num_timesteps >= self.next_line:
            self.next_line += self.every
            print(f"steps {self.num_timesteps:>8,} | mean return {mean_return:6.1f} | {seconds:5.1f} s "
                  f"({self.num_timesteps / seconds:,.0f} steps/s)", flush=True)
        if len(episodes) >= 20 and mean_return >= self.target:
            print(f"Reached a mean return of {mean_return:.1f} after {self.num_timesteps:,} env steps in "
                  f"{seconds:.0f} s.", flush=True)
            self.reached = True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (2,048 steps)")
    parser.add_argument("--num-envs", type=int, default=8, help="model instances (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of PPO and of the episodes (default 0)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop after this many env steps (default 150,000, or 2,048 with --quick)")
    parser.add_argument("--target-return", type=float, default=TARGET_RETURN,
                        help=f"stop when the mean return of the latest episodes reaches this "
                             f"(default {TARGET_RETURN:.0f})")
    parser.add_argument("--out", type=Path, default=Path("cartpole_ppo.zip"),
                        help="where to save the trained policy (default cartpole_ppo.zip)")
    args = parser.parse_args()
    max_steps = args.max_steps or (2_048 if args.quick else 150_000)
    # Networks this small run fastest on one CPU thread: more threads only wait for each other
    # (on a busy machine, PyTorch's default of one thread per core made training 10x slower).
    torch.set_num_threads(1)

    # 1. The environment: num_envs instances of the Java model, stepped together. VecMonitor
    #    records each episode's return and length (PPO's ep_info_buffer, SB3's logs).
    env = VecMonitor(AnyLogicVecEnv(model=MODEL, num_envs=args.num_envs))
    print(f"Training PPO on {MODEL} with {args.num_envs} model instances, seed {args.seed}")
    try:
        # 2. PPO with a small MLP (two layers of 64 units for the policy and for the value).
        #    seed=... seeds torch and the environments (env.seed(seed): instance i gets seed + i).
        model = PPO("MlpPolicy", env, seed=args.seed, device="cpu", **ppo_settings(args.num_envs))
        # 3. Train until the target return or max_steps.
        model.learn(max_steps, callback=Progress(every=1_024 if args.quick else 10_000, target=args.target_return))
    finally:
        env.close()  # ends the model threads (the JVM stays for the evaluation below)

    # 4. Save the policy, and load it back as one would in another script.
    model.save(args.out)
    print(f"Saved the policy in {args.out}; load it with PPO.load({str(args.out)!r})")
    policy = PPO.load(args.out, device="cpu")

    # 5. Use it: 10 episodes on fresh instances with other seeds, the policy's deterministic actions.
    evaluation = VecMonitor(AnyLogicVecEnv(model=MODEL, num_envs=2))
    try:
        evaluation.seed(10_000 + args.seed)
        returns, _ = evaluate_policy(policy, evaluation, n_eval_episodes=10, deterministic=True,
                                     return_episode_rewards=True)
    finally:
        evaluation.close()
    print(f"Evaluation: mean return {np.mean(returns):.1f} (min {np.min(returns):.0f}, max {np.max(returns):.0f}) "
          f"over {len(returns)} episodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
