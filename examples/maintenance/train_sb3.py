"""Train sb3-contrib's MaskablePPO (Stable-Baselines3) on the maintenance model and compare it with
the service-at-wear-3 rule.

    pip install 'alpyperl[sb3]'                             # Stable-Baselines3 and sb3-contrib (and torch)
    gradle build                                            # once: builds examples/maintenance/build/model
    python examples/maintenance/train_sb3.py                # train until the policy reaches the rule
    python examples/maintenance/train_sb3.py --quick        # a short smoke run

The machine's model refuses actions its mask forbids, so plain PPO cannot train it: MaskablePPO
reads the masks through ``AnyLogicVecEnv.action_masks()`` (``env_method("action_masks")``) and
never samples a masked action. The policy sees the model's own observation (wear, material,
technician, hours left); the mask only restricts its choices. Every ``--eval-every`` env steps the
greedy policy plays the evaluation seeds (one episode per seed, each in its own model instance);
training stops when it reaches the rule's return on them, or at ``--max-steps``.
See docs/training.md, "Stable-Baselines3".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor

from alpyperl.sb3 import AnyLogicVecEnv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from maintenance import MODEL_DIR, make_env, run_episode, service_at_wear  # noqa: E402

EVALUATION_SEEDS = range(10_000, 10_010)  # as train.py (RLlib)


def evaluate(model: MaskablePPO, env: AnyLogicVecEnv) -> float:
    """The greedy policy's mean return over the evaluation seeds: instance i plays seed 10000 + i."""
    env.seed(EVALUATION_SEEDS[0])
    returns, _ = evaluate_policy(model, env, n_eval_episodes=len(EVALUATION_SEEDS), deterministic=True,
                                 return_episode_rewards=True, warn=False)
    return float(np.mean(returns))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (2,048 steps)")
    parser.add_argument("--num-envs", type=int, default=4, help="model instances that train (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of MaskablePPO and of its episodes (default 0)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop after this many env steps (default 150,000, or 2,048 with --quick)")
    parser.add_argument("--eval-every", type=int, default=16_384, help="env steps between evaluations")
    parser.add_argument("--out", type=Path, default=Path("maintenance_maskable_ppo.zip"),
                        help="where to save the trained policy (default maintenance_maskable_ppo.zip)")
    args = parser.parse_args()
    max_steps = args.max_steps or (2_048 if args.quick else 150_000)
    eval_every = min(args.eval_every, max_steps)
    torch.set_num_threads(1)  # networks this small run fastest on one thread

    with make_env() as env:
        rule = float(np.mean([run_episode(env, service_at_wear, seed) for seed in EVALUATION_SEEDS]))
    print(f"service-at-wear-3 rule: return {rule:.1f} per episode (seeds {EVALUATION_SEEDS[0]}..)")

    train_env = VecMonitor(AnyLogicVecEnv(model=MODEL_DIR, num_envs=args.num_envs, model_output="off"))
    eval_env = AnyLogicVecEnv(model=MODEL_DIR, num_envs=len(EVALUATION_SEEDS), model_output="off")
    started = time.perf_counter()
    try:
        model = MaskablePPO("MlpPolicy", train_env, seed=args.seed, device="cpu", n_steps=256, batch_size=256,
                            learning_rate=1e-3, ent_coef=0.01, policy_kwargs={"net_arch": [64, 64]})
        score = evaluate(model, eval_env)
        print(f"steps {0:>8,} | greedy policy {score:6.1f} | rule {rule:.1f}")
        while model.num_timesteps < max_steps and (args.quick or score < rule):
            model.learn(eval_every, reset_num_timesteps=False)
            score = evaluate(model, eval_env)
            seconds = time.perf_counter() - started
            print(f"steps {model.num_timesteps:>8,} | greedy policy {score:6.1f} | rule {rule:.1f} | {seconds:5.1f} s",
                  flush=True)
    finally:
        train_env.close()
        eval_env.close()
    verdict = "reaches" if score >= rule else "does not reach"
    print(f"The policy {verdict} the rule: {score:.1f} against {rule:.1f} per episode after "
          f"{model.num_timesteps:,} env steps in {time.perf_counter() - started:.0f} s.")
    model.save(args.out)
    print(f"Saved the policy in {args.out}; load it with MaskablePPO.load({str(args.out)!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
