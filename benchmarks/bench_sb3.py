"""Stable-Baselines3 PPO on the Java CartPole through alpyperl.sb3.AnyLogicVecEnv, against SB3 PPO
on Gymnasium's CartPole-v1 with DummyVecEnv: env steps per second, same settings, same run.

    python benchmarks/bench_sb3.py                 # 8 environments, 5 rounds of 8,192 steps each
    python benchmarks/bench_sb3.py --num-envs 32   # more environments per VecEnv
    python benchmarks/bench_sb3.py --quick         # a smoke run of a few seconds

Three VecEnvs of ``--num-envs`` CartPoles, each behind VecMonitor, each trained by its own PPO
(the PPO settings of examples/cartpole/train_sb3.py, seed 0, CPU, one torch thread):

- ``adapter``: ``AnyLogicVecEnv`` (all Java models stepped in one call),
- ``gym_dummy``: ``DummyVecEnv`` of ``gym.make("CartPole-v1")``, the reference of the goal,
- ``anylogic_dummy``: ``DummyVecEnv`` of ``AnyLogicEnv`` (a call into Java per model and step).

Each round runs ``model.learn()`` for the same number of steps on each, one after the other, so
that the machine's load hits all alike. Three rates per VecEnv: ``learn`` (env steps per second
of ``learn()``: rollouts and gradient updates), ``rollout`` (of the rollout phases only, where
the environments run, timed by a callback) and ``env`` (``VecEnv.step()`` alone, with a fixed
balancing policy and no network). Each is measured per second of wall-clock time and per second
of this process's CPU time (everything runs on its one Python thread: the models on the caller's
thread, torch on one thread), which other processes on a busy machine disturb far less. Ratios
to ``gym_dummy`` are medians of the rounds' ratios. The goal of issue 14: the adapter's PPO env
steps/s >= 1.5x gym_dummy's. Writes benchmarks/results/sb3.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from alpyperl import AnyLogicEnv
from alpyperl.sb3 import AnyLogicVecEnv

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "sb3.json"
sys.path.insert(0, str(ROOT / "examples" / "cartpole"))
from train_sb3 import ppo_settings  # noqa: E402  (the example's PPO settings)

GOAL = 1.5
KINDS = ("learn_wall", "rollout_wall", "env_wall", "learn_cpu", "rollout_cpu", "env_cpu")


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


class RolloutClock(BaseCallback):
    """Adds up the wall-clock and CPU time and the env steps of PPO's rollout phases (where the
    environments run)."""

    def __init__(self):
        super().__init__()
        self.seconds = {clock: 0.0 for clock in CLOCKS}
        self.steps = 0

    def _on_rollout_start(self) -> None:
        self._started = {clock: read() for clock, read in CLOCKS.items()}
        self._steps_before = self.num_timesteps

    def _on_rollout_end(self) -> None:
        for clock, read in CLOCKS.items():
            self.seconds[clock] += read() - self._started[clock]
        self.steps += self.num_timesteps - self._steps_before

    def _on_step(self) -> bool:
        return True


def make_vec_envs(num_envs: int) -> dict:
    return {
        "adapter": AnyLogicVecEnv(model=MODEL, num_envs=num_envs),
        "gym_dummy": DummyVecEnv([lambda: gym.make("CartPole-v1") for _ in range(num_envs)]),
        "anylogic_dummy": DummyVecEnv([lambda: AnyLogicEnv(model=MODEL) for _ in range(num_envs)]),
    }


def learn_rates(model: PPO, steps: int) -> dict[str, float]:
    """Env steps per second of ``model.learn(steps)`` and of its rollout phases alone, per clock
    (``learn_wall``, ``rollout_cpu``, ...)."""
    rollouts = RolloutClock()
    start = {clock: read() for clock, read in CLOCKS.items()}
    model.learn(steps, callback=rollouts, reset_num_timesteps=False)
    rates = {}
    for clock, read in CLOCKS.items():
        rates[f"learn_{clock}"] = rollouts.steps / (read() - start[clock])
        rates[f"rollout_{clock}"] = rollouts.steps / rollouts.seconds[clock]
    return rates


def env_rates(env, seconds: float) -> dict[str, float]:
    """Env steps per second inside ``VecEnv.step()``, per clock, with a balancing policy (no network)."""
    env.seed(0)
    observations = env.reset()
    steps, inside, start = 0, {clock: 0.0 for clock in CLOCKS}, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(20):
            actions = (observations[:, 2] + 0.5 * observations[:, 3] > 0).astype(np.int64)
            before = {clock: read() for clock, read in CLOCKS.items()}
            observations, *_ = env.step(actions)
            for clock, read in CLOCKS.items():
                inside[clock] += read() - before[clock]
        steps += 20 * env.num_envs
    return {f"env_{clock}": steps / inside[clock] for clock in CLOCKS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, default=8, help="CartPoles per VecEnv (default 8)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 11, or 1 with --quick)")
    parser.add_argument("--steps", type=int, default=None,
                        help="env steps per round and VecEnv (default 4096, or 256 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: one short round")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"the JSON file (default {RESULTS})")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 11)
    steps = args.steps or (256 if args.quick else 4096)
    env_seconds = 0.2 if args.quick else 0.5
    torch.set_num_threads(1)  # as examples/cartpole/train_sb3.py: the fastest for a network this small

    load_before = os.getloadavg()[0]
    envs = make_vec_envs(args.num_envs)
    settings = ppo_settings(args.num_envs)
    models = {name: PPO("MlpPolicy", VecMonitor(env), seed=0, device="cpu", **settings) for name, env in envs.items()}
    for model in models.values():  # warm up: the JIT, torch's first passes
        model.learn(settings["n_steps"] * args.num_envs, reset_num_timesteps=False)
    rates = {name: {kind: [] for kind in KINDS} for name in envs}
    for _ in range(rounds):
        for name, model in models.items():
            measured = {**learn_rates(model, steps), **env_rates(envs[name], env_seconds)}
            for kind in KINDS:
                rates[name][kind].append(measured[kind])
    for env in envs.values():
        env.close()

    medians = {name: {kind: statistics.median(values) for kind, values in kinds.items()}
               for name, kinds in rates.items()}
    ratios = {name: {kind: statistics.median(mine / reference for mine, reference in
                                             zip(rates[name][kind], rates["gym_dummy"][kind]))
                     for kind in KINDS}
              for name in ("adapter", "anylogic_dummy")}
    result = {
        "benchmark": "sb3", "quick": args.quick, "num_envs": args.num_envs, "rounds": rounds,
        "steps_per_round": steps,
        "ppo": {key: f"linear from {value(1.0):g} to 0" if callable(value) else value
                for key, value in settings.items()},
        "torch_threads": torch.get_num_threads(),
        "load_before": load_before, "load_after": os.getloadavg()[0],
        "rates": rates, "medians": medians, "ratios": ratios,
        "goal": {"ratio": GOAL, **{f"{kind}_met": ratios["adapter"][kind] >= GOAL for kind in KINDS}},
    }
    print(f"SB3 PPO, {args.num_envs} CartPoles per VecEnv, {rounds} rounds of {steps:,} env steps, "
          f"load {load_before:.1f} -> {result['load_after']:.1f}")
    for clock in CLOCKS:
        print(f"\nenv steps per {clock} second (medians), and the median ratio to gym_dummy")
        print(f"{'VecEnv':<16}{'learn()':>12}{'':>8}{'rollouts':>12}{'':>8}{'env only':>12}{'':>8}")
        for name in envs:
            cells = ""
            for kind in ("learn", "rollout", "env"):
                key = f"{kind}_{clock}"
                ratio = 1.0 if name == "gym_dummy" else ratios[name][key]
                cells += f"{medians[name][key]:>12,.0f}{ratio:>7.2f}x"
            print(f"{name:<16}{cells}")
    met = [kind for kind in KINDS if result["goal"][f"{kind}_met"]]
    print(f"\ngoal: adapter >= {GOAL}x gym_dummy: met for {', '.join(met) or 'none'}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(f"JSON: {args.output}")


if __name__ == "__main__":
    main()
