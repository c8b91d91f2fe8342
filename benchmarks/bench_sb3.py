"""Stable-Baselines3 PPO on the Java CartPole through alpyperl.sb3.AnyLogicVecEnv, against SB3 PPO
on Gymnasium's CartPole-v1 with DummyVecEnv: env steps per second of learn(), same settings, same run.

    python benchmarks/bench_sb3.py                       # 8 environments, PPO settings default and cleanrl
    python benchmarks/bench_sb3.py --num-envs 64         # more environments per VecEnv
    python benchmarks/bench_sb3.py --ppo zoo             # the settings of examples/cartpole/train_sb3.py
    python benchmarks/bench_sb3.py --quick               # a smoke run of a few seconds

PPO settings (``--ppo``, each the same for both sides; seed 0, CPU, one torch thread):

- ``default``: SB3's own defaults (``PPO("MlpPolicy", env)``: n_steps 2048, batch_size 64, 10 epochs),
- ``cleanrl``: the usual recipe when environments are cheap and many (the defaults of CleanRL's
  ``ppo.py``): n_steps 128, 4 epochs over 4 minibatches per rollout (batch_size = 32 x num_envs),
  the rest SB3's defaults,
- ``zoo``: the RL Baselines3 Zoo's CartPole-v1 settings (examples/cartpole/train_sb3.py: n_steps 32,
  20 epochs, batch_size 256).

Per setting, two VecEnvs of ``--num-envs`` CartPoles, each behind VecMonitor and trained by its
own PPO: ``adapter`` (``AnyLogicVecEnv``, all Java models stepped in one call) and ``gym_dummy``
(``DummyVecEnv`` of ``gym.make("CartPole-v1")``, the reference of the goal). Each round runs,
per setting, ``model.learn()`` on each for the same number of env steps (whole rollouts, at
least ``--steps``), one after the other so that the machine's load hits both alike; then steps
three VecEnvs alone (the two and ``anylogic_dummy``, ``DummyVecEnv`` of ``AnyLogicEnv``: a call
into Java per model) with a fixed balancing policy and no network.

Rates, in env steps per second of wall-clock time and of this process's CPU time (everything runs
on its one Python thread: the models on the caller's thread, torch on one thread; other processes
disturb CPU time far less): ``learn`` (all of ``learn()``: rollouts and gradient updates),
``rollout`` (its rollout phases, timed by a callback) and ``env`` (``VecEnv.step()`` alone). And
the share of ``learn()``'s CPU time spent inside ``VecEnv.step()`` (timed by a wrapper under
VecMonitor): what any VecEnv can save at most. Ratios to ``gym_dummy`` are medians of the rounds'
ratios. The goal of issue 14: the adapter's PPO env steps/s >= 1.5x gym_dummy's. Writes
benchmarks/results/sb3.json.
"""

from __future__ import annotations

import argparse
import json
import math
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
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper, VecMonitor

from alpyperl import AnyLogicEnv
from alpyperl.sb3 import AnyLogicVecEnv

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "cartpole" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "sb3.json"
sys.path.insert(0, str(ROOT / "examples" / "cartpole"))
from train_sb3 import ppo_settings as zoo_settings  # noqa: E402  (the example's PPO settings)

GOAL = 1.5
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
LEARN_KINDS = ("learn_wall", "learn_cpu", "rollout_wall", "rollout_cpu")
ENV_KINDS = ("env_wall", "env_cpu")
TRAINED = ("adapter", "gym_dummy")
STEPPED = ("adapter", "gym_dummy", "anylogic_dummy")
SETTINGS = ("default", "cleanrl", "zoo")
QUICK_N_STEPS = 64  # --quick: rollouts this short in every setting (a smoke run; its rates mean nothing)


def ppo_settings(name: str, num_envs: int) -> dict:
    """The PPO keyword arguments of setting ``name`` (see the module's description)."""
    if name == "default":
        return {}
    if name == "cleanrl":
        return {"n_steps": 128, "n_epochs": 4, "batch_size": 128 * num_envs // 4}
    if name == "zoo":
        return zoo_settings(num_envs)
    raise ValueError(f"unknown PPO setting {name!r}: choose default, cleanrl or zoo")


class StepClock(VecEnvWrapper):
    """Adds up the CPU time spent inside the wrapped VecEnv's ``step()`` (two reads of the clock
    per step, about a microsecond, on both sides alike)."""

    def __init__(self, venv):
        super().__init__(venv)
        self.seconds = 0.0
        self._started = 0.0

    def reset(self):
        return self.venv.reset()

    def step_async(self, actions) -> None:
        self._started = time.process_time()
        self.venv.step_async(actions)

    def step_wait(self):
        result = self.venv.step_wait()
        self.seconds += time.process_time() - self._started
        return result


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


def make_vec_env(name: str, num_envs: int):
    if name == "adapter":
        return AnyLogicVecEnv(model=MODEL, num_envs=num_envs)
    if name == "gym_dummy":
        return DummyVecEnv([lambda: gym.make("CartPole-v1") for _ in range(num_envs)])
    return DummyVecEnv([lambda: AnyLogicEnv(model=MODEL) for _ in range(num_envs)])


def learn_rates(model: PPO, clock: StepClock, steps: int) -> dict[str, float]:
    """Env steps per second of ``model.learn(steps)`` and of its rollout phases alone, per clock
    (``learn_wall``, ``rollout_cpu``, ...), and the share of its CPU time inside ``VecEnv.step()``."""
    rollouts = RolloutClock()
    clock.seconds = 0.0
    start = {name: read() for name, read in CLOCKS.items()}
    model.learn(steps, callback=rollouts, reset_num_timesteps=False)
    rates = {}
    for name, read in CLOCKS.items():
        elapsed = read() - start[name]
        rates[f"learn_{name}"] = rollouts.steps / elapsed
        rates[f"rollout_{name}"] = rollouts.steps / rollouts.seconds[name]
        if name == "cpu":
            rates["env_share"] = clock.seconds / elapsed
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


def median_ratios(rates: dict, names, kinds) -> dict:
    """Per VecEnv in ``names`` and kind, the median of the rounds' ratios to gym_dummy."""
    return {name: {kind: statistics.median(mine / reference for mine, reference in
                                           zip(rates[name][kind], rates["gym_dummy"][kind]))
                   for kind in kinds}
            for name in names}


def medians_of(rates: dict) -> dict:
    return {name: {kind: statistics.median(values) for kind, values in kinds.items()} for name, kinds in rates.items()}


def describe(settings: dict) -> dict:
    return {key: f"linear from {value(1.0):g} to 0" if callable(value) else value for key, value in settings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, default=8, help="CartPoles per VecEnv (default 8)")
    parser.add_argument("--ppo", default="default,cleanrl",
                        help="PPO settings to measure, comma-separated: default, cleanrl, zoo "
                             "(default: default,cleanrl)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 5, or 1 with --quick)")
    parser.add_argument("--steps", type=int, default=None,
                        help="env steps per round, setting and VecEnv, rounded up to whole rollouts "
                             "(default 16,384, or 256 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: one short round, rollouts of at most {QUICK_N_STEPS} steps")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"the JSON file (default {RESULTS})")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    min_steps = args.steps or (256 if args.quick else 16_384)
    env_seconds = 0.2 if args.quick else 0.5
    names = [name.strip() for name in args.ppo.split(",") if name.strip()]
    unknown = [name for name in names if name not in SETTINGS]
    if unknown or not names:
        parser.error(f"--ppo {args.ppo!r}: choose one or more of {', '.join(SETTINGS)}, separated by commas")
    settings = {name: ppo_settings(name, args.num_envs) for name in names}
    if args.quick:
        for chosen in settings.values():
            chosen["n_steps"] = min(chosen.get("n_steps", 2048), QUICK_N_STEPS)
            chosen["batch_size"] = min(chosen.get("batch_size", 64), QUICK_N_STEPS * args.num_envs)
    torch.set_num_threads(1)  # as examples/cartpole/train_sb3.py: the fastest for a network this small

    load_before = os.getloadavg()[0]
    models, clocks, steps_per_round = {}, {}, {}
    for setting, chosen in settings.items():
        rollout = chosen.get("n_steps", 2048) * args.num_envs
        steps_per_round[setting] = math.ceil(min_steps / rollout) * rollout
        for name in TRAINED:
            clocks[setting, name] = StepClock(make_vec_env(name, args.num_envs))
            models[setting, name] = PPO("MlpPolicy", VecMonitor(clocks[setting, name]), seed=0, device="cpu",
                                        **chosen)
    stepped = {name: make_vec_env(name, args.num_envs) for name in STEPPED}
    for model in models.values():  # warm up: the JIT, torch's first passes
        model.learn(1, reset_num_timesteps=False)  # one rollout and its update
    for env in stepped.values():
        env_rates(env, env_seconds)

    learned = {setting: {name: {kind: [] for kind in (*LEARN_KINDS, "env_share")} for name in TRAINED}
               for setting in settings}
    alone = {name: {kind: [] for kind in ENV_KINDS} for name in STEPPED}
    for _ in range(rounds):
        for setting in settings:
            for name in TRAINED:
                for kind, value in learn_rates(models[setting, name], clocks[setting, name],
                                               steps_per_round[setting]).items():
                    learned[setting][name][kind].append(value)
        for name, env in stepped.items():
            for kind, value in env_rates(env, env_seconds).items():
                alone[name][kind].append(value)
    for model in models.values():
        model.get_env().close()
    for env in stepped.values():
        env.close()

    result = {
        "benchmark": "sb3", "quick": args.quick, "num_envs": args.num_envs, "rounds": rounds,
        "torch_threads": torch.get_num_threads(), "load_before": load_before, "load_after": os.getloadavg()[0],
        "learn": {}, "env_only": {"rates": alone, "medians": medians_of(alone),
                                  "ratios": median_ratios(alone, ("adapter", "anylogic_dummy"), ENV_KINDS)},
    }
    for setting in settings:
        rates = learned[setting]
        ratios = median_ratios(rates, ("adapter",), LEARN_KINDS)["adapter"]
        result["learn"][setting] = {
            "ppo": describe(settings[setting]), "steps_per_round": steps_per_round[setting],
            "rates": rates, "medians": medians_of(rates), "ratios": ratios,
            # An environment that cost nothing would make gym_dummy's learn() at most this much faster.
            "bound": 1 / (1 - statistics.median(rates["gym_dummy"]["env_share"])),
            # The ratio of learn() rates if the two differed only by their VecEnv.step(): less noisy than
            # the rates (each share is a ratio of times of the same learn() call).
            "from_shares": statistics.median((1 - mine) / (1 - reference) for mine, reference in
                                             zip(rates["adapter"]["env_share"], rates["gym_dummy"]["env_share"])),
            "goal_met": {kind: ratios[kind] >= GOAL for kind in LEARN_KINDS},
        }
    report(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(f"JSON: {args.output}")


def report(result: dict) -> None:
    """Prints the tables: per PPO setting, learn() and its rollouts; then VecEnv.step() alone."""
    n = result["num_envs"]
    print(f"SB3 PPO, {n} CartPoles per VecEnv, {result['rounds']} rounds, "
          f"load {result['load_before']:.1f} -> {result['load_after']:.1f}. Env steps per CPU second (medians), "
          "the median ratio to gym_dummy per CPU second and (per wall-clock second)")
    for setting, measured in result["learn"].items():
        chosen = ", ".join(f"{key} {value}" for key, value in measured["ppo"].items()) or "SB3's defaults"
        print(f"\nPPO {setting} ({chosen}), {measured['steps_per_round']:,} env steps per round and VecEnv")
        print(f"{'VecEnv':<16}{'learn()':>10}{'ratio':>18}{'rollouts':>12}{'ratio':>18}{'in VecEnv.step()':>19}")
        for name in TRAINED:
            medians = measured["medians"][name]
            cells = ""
            for kind in ("learn", "rollout"):
                if name == "gym_dummy":
                    ratio = f"{'1.00x':>18}"
                else:
                    ratios = measured["ratios"]
                    ratio = f"{ratios[f'{kind}_cpu']:>9.2f}x ({ratios[f'{kind}_wall']:.2f}x)"
                cells += f"{medians[f'{kind}_cpu']:>{10 if kind == 'learn' else 12},.0f}{ratio}"
            print(f"{name:<16}{cells}{medians['env_share']:>18.1%} of learn()")
        print(f"The shares predict a learn() ratio of {measured['from_shares']:.2f}x (if only VecEnv.step() "
              f"differed); an environment that cost nothing would make gym_dummy's learn() at most "
              f"{measured['bound']:.2f}x faster.")
    env_only = result["env_only"]
    print("\nVecEnv.step() alone (a balancing policy, no network)")
    for name in STEPPED:
        rate = env_only["medians"][name]["env_cpu"]
        ratio = "1.00x" if name == "gym_dummy" else (f"{env_only['ratios'][name]['env_cpu']:.2f}x "
                                                      f"({env_only['ratios'][name]['env_wall']:.2f}x)")
        print(f"{name:<16}{rate:>10,.0f}{ratio:>18}")
    verdicts = [f"{setting} {measured['ratios']['learn_cpu']:.2f}x, "
                f"{'met' if measured['goal_met']['learn_cpu'] else 'not met'}"
                for setting, measured in result["learn"].items()]
    print(f"\ngoal: adapter's learn() >= {GOAL}x gym_dummy's (CPU time): " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
