"""sb3-contrib's MaskablePPO on the maintenance example (a machine with an action mask) through
alpyperl.sb3.AnyLogicVecEnv: how well the policy learns when it sees the model's own observation
(the default) and when it sees the mask too (``mask_in_observation=True``, ``MultiInputPolicy``).

    python benchmarks/bench_sb3_masks.py                          # 16,384 and 32,768 steps, seeds 0 to 3
    python benchmarks/bench_sb3_masks.py --steps 60000 --seeds 0 1 2
    python benchmarks/bench_sb3_masks.py --quick                  # a smoke run of a few seconds

Per observation kind, training seed and budget: MaskablePPO (n_steps 256, batch 256, learning rate
1e-3, ent_coef 0.01, two layers of ``--hidden`` units, 4 model instances, one torch thread) learns for
the budget, then its greedy policy plays seeds 10000 to 10009 (one episode each, in a VecEnv of 10);
the table shows that mean return, the untrained policy's, random valid actions' and the
service-at-wear-3 rule's on the same seeds. Writes benchmarks/results/sb3_masks.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor

from alpyperl.sb3 import AnyLogicVecEnv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "maintenance"))
from maintenance import MODEL_DIR, make_env, run_episode, service_at_wear  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "sb3_masks.json"
SEEDS = range(10_000, 10_010)


def greedy_return(model: MaskablePPO, env: AnyLogicVecEnv) -> float:
    env.seed(SEEDS[0])
    returns, _ = evaluate_policy(model, env, n_eval_episodes=len(SEEDS), return_episode_rewards=True, warn=False)
    return float(np.mean(returns))


def random_return(env: AnyLogicVecEnv) -> float:
    """Random valid actions, one episode per evaluation seed."""
    rng = np.random.default_rng(0)
    env.seed(SEEDS[0])
    env.reset()
    returns, running = np.zeros(env.num_envs), np.ones(env.num_envs, dtype=bool)
    while running.any():
        _, rewards, dones, _ = env.step(np.array([rng.choice(np.flatnonzero(mask)) for mask in env.action_masks()]))
        returns += np.where(running, rewards, 0.0)
        running &= ~dones
    return float(returns.mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[16_384, 32_768], help="budgets in env steps")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3], help="training seeds")
    parser.add_argument("--hidden", type=int, default=32, help="units in each of the two layers (default 32)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 512 steps, seed 0")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    budgets, seeds = ([512], [0]) if args.quick else (sorted(args.steps), args.seeds)
    torch.set_num_threads(1)

    with make_env() as env:
        rule = float(np.mean([run_episode(env, service_at_wear, seed) for seed in SEEDS]))
    results: dict = {"mode": "quick" if args.quick else "full", "rule": rule, "runs": []}
    for mask_in_observation in (False, True):
        evaluation = AnyLogicVecEnv(model=MODEL_DIR, num_envs=len(SEEDS), model_output="off",
                                    mask_in_observation=mask_in_observation)
        results.setdefault("random_valid", random_return(evaluation))
        for seed in seeds:
            train = VecMonitor(AnyLogicVecEnv(model=MODEL_DIR, num_envs=4, model_output="off",
                                              mask_in_observation=mask_in_observation))
            model = MaskablePPO("MultiInputPolicy" if mask_in_observation else "MlpPolicy", train, seed=seed,
                                device="cpu", n_steps=256, batch_size=256, learning_rate=1e-3, ent_coef=0.01,
                                policy_kwargs={"net_arch": [args.hidden, args.hidden]})
            run = {"mask_in_observation": mask_in_observation, "seed": seed,
                   "untrained": greedy_return(model, evaluation), "trained": {}, "cpu_seconds": {}}
            started = time.process_time()
            for budget in budgets:
                model.learn(budget - model.num_timesteps, reset_num_timesteps=False)
                run["trained"][budget] = greedy_return(model, evaluation)
                run["cpu_seconds"][budget] = time.process_time() - started
            train.close()
            results["runs"].append(run)
            print(f"mask_in_observation={mask_in_observation!s:5} seed {seed}: untrained {run['untrained']:6.1f} | "
                  + " | ".join(f"{budget:,} steps {score:6.1f}" for budget, score in run["trained"].items()),
                  flush=True)
        evaluation.close()

    print(f"\nmean greedy return over seeds {SEEDS[0]}..{SEEDS[-1]} (rule {rule:.1f}, random valid "
          f"{results['random_valid']:.1f}), training seeds {seeds}")
    print(f"{'env steps':>10} | {'own observation':>22} | {'with the mask':>22}")
    for budget in budgets:
        cells = []
        for mask_in_observation in (False, True):
            scores = [run["trained"][budget] for run in results["runs"]
                      if run["mask_in_observation"] == mask_in_observation]
            cells.append(f"{min(scores):5.1f}..{max(scores):5.1f} (mean {np.mean(scores):5.1f})")
        print(f"{budget:>10,} | {cells[0]:>22} | {cells[1]:>22}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
