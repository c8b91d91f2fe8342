"""How much of an RLlib EnvRunner's sampling time a multi-agent model's environment takes.

    python benchmarks/bench_multi_agent_runner.py            # several minutes (RLlib samples slowly)
    python benchmarks/bench_multi_agent_runner.py --quick    # a few seconds of sampling (CI smoke)

An RLlib 2.60 ``MultiAgentEnvRunner`` (PPO's default modules from ``alpyperl.rllib.multi_agent_modules``,
action masking) runs in this process and samples from ``num_envs_per_env_runner`` environments
(RLlib's ``SyncVectorMultiAgentEnv``, 1 and 4); each environment's ``step()`` is timed from the
outside. Models: the job shop example (4 machines; a step answers the idle ones) and the test
model SwarmModel with 64 walkers that all decide every tick. Reported per env step (one step of
one environment): the runner's whole ``sample()`` time, the part inside the environments'
``step()`` (the model in Java, the crossing and Python's dicts), and that part's share. A vector
of multi-agent instances stepped in one crossing could save at most the crossings' share of the
environments' part. Writes benchmarks/results/multi_agent_runner.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBSHOP = ROOT / "examples" / "jobshop" / "build" / "model"
TEST_MODELS = ROOT / "tests" / "models" / "build" / "model"
RESULTS = ROOT / "benchmarks" / "results" / "multi_agent_runner.json"


def swarm_folder(into: Path) -> Path:
    """A copy of the test models' folder whose model class is SwarmModel."""
    folder = into / "swarm"
    shutil.copytree(TEST_MODELS, folder)
    properties = folder / "alpyperl-model.properties"
    properties.write_text(properties.read_text().replace("com.alpyperl.testmodels.FaultyModel",
                                                         "com.alpyperl.testmodels.SwarmModel"))
    return folder


def measure(env_config: dict, envs: int, steps: int) -> dict:
    """Samples ``steps`` env steps (after a warm-up) with a runner of ``envs`` environments."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner

    from alpyperl import rllib

    config = (PPOConfig().environment(rllib.register_multi_agent_env(), env_config=env_config)
              .env_runners(num_env_runners=0, num_envs_per_env_runner=envs))
    config = rllib.multi_agent_modules(config, env_config)
    runner = MultiAgentEnvRunner(config=config)
    inside = [0.0, 0]  # seconds inside the environments' step(), and agents that got an action
    clock = time.perf_counter
    for wrapped in runner.env.envs:
        env = wrapped.unwrapped
        step = env.step

        def timed(actions, step=step):
            start = clock()
            try:
                return step(actions)
            finally:
                inside[0] += clock() - start
                inside[1] += len(actions)

        env.step = timed
    try:
        runner.sample(num_timesteps=max(200, steps // 10))  # warm-up: JIT, first episodes
        inside[:] = [0.0, 0]
        start = clock()
        episodes = runner.sample(num_timesteps=steps)
        total = clock() - start
    finally:
        runner.stop()
    env_steps = sum(len(episode) for episode in episodes)
    return {"envs": envs, "env_steps": env_steps, "agents_per_step": inside[1] / env_steps,
            "us_per_env_step": total / env_steps * 1e6, "env_us_per_env_step": inside[0] / env_steps * 1e6,
            "env_share": inside[0] / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short sampling, for a smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    steps = 200 if args.quick else 1000

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        models = {
            "job shop (4 machines)": {"model": str(JOBSHOP), "model_output": "off"},
            "SwarmModel (64 walkers)": {"model": str(swarm_folder(Path(scratch))), "model_output": "off",
                                        "env_params": {"agents": 64, "ticks": 100}},
        }
        for name, env_config in models.items():
            for envs in (1, 4):
                rows.append({"model": name, **measure(env_config, envs, steps)})

    print(f"\nMulti-agent sampling in one RLlib EnvRunner ({'quick' if args.quick else 'full'}, {steps} env steps), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n")
    print(f"{'model':<26} {'envs':>4} {'agents/step':>11} {'sample us/step':>15} {'env us/step':>12} {'env share':>9}")
    for row in rows:
        print(f"{row['model']:<26} {row['envs']:>4} {row['agents_per_step']:>11.1f} {row['us_per_env_step']:>15.0f} "
              f"{row['env_us_per_env_step']:>12.0f} {row['env_share']:>9.1%}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"benchmark": "multi_agent_runner", "quick": args.quick, "steps": steps,
                                       "rows": rows}, indent=2))
    print(f"JSON: {args.output}")


if __name__ == "__main__":
    main()
