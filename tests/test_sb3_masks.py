"""Action masks with Stable-Baselines3: AnyLogicVecEnv.action_masks() (what sb3-contrib's MaskablePPO
reads) equals the masks of AnyLogicEnvs given the same seeds and actions; MaskablePPO trains the
maintenance example (a machine whose model refuses masked actions) and beats random valid actions;
a model without a mask says so."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.vec_env import VecMonitor

from alpyperl import AnyLogicEnv
from alpyperl.sb3 import AnyLogicVecEnv
from conftest import built_model

REPO = Path(__file__).resolve().parent.parent
HOURS = 30  # short episodes (the model's default is 200 hours)


@pytest.fixture(scope="module")
def maintenance_model():
    return built_model("examples/maintenance/build/model")


def open_vec(model, num_envs, **settings):
    return AnyLogicVecEnv(model=model, num_envs=num_envs, env_params={"hours": HOURS}, model_output="off", **settings)


def test_action_masks_equal_the_masks_of_the_environments_through_episode_ends(maintenance_model):
    rng = np.random.default_rng(0)
    vec = open_vec(maintenance_model, 3)
    singles = [AnyLogicEnv(model=maintenance_model, env_params={"hours": HOURS}, model_output="off") for _ in range(3)]
    try:
        assert vec.masked and vec.observation_space.shape == (4,)  # the model's own observation, without the mask
        vec.seed(5)
        observations = vec.reset()
        single = [env.reset(seed=5 + index)[0] for index, env in enumerate(singles)]
        ended = 0
        for _ in range(2 * HOURS):
            masks = get_action_masks(VecMonitor(vec))  # as MaskablePPO reads them: env_method("action_masks")
            assert masks.dtype == bool and masks.shape == (3, 3)
            assert np.array_equal(masks, vec.action_masks())
            assert np.array_equal(masks, [observation["action_mask"] > 0.5 for observation in single])
            assert np.array_equal(observations, [observation["observations"] for observation in single])
            actions = np.array([rng.choice(np.flatnonzero(mask)) for mask in masks])
            observations, _, dones, infos = vec.step(actions)
            for index, env in enumerate(singles):
                single[index], _, terminated, truncated, _ = env.step(int(actions[index]))
                assert dones[index] == (terminated or truncated)
                if dones[index]:  # SB3's vector env starts the next episode at once; its seed is in reset_infos
                    assert np.array_equal(infos[index]["terminal_observation"], single[index]["observations"])
                    single[index] = env.reset(seed=vec.reset_infos[index]["seed"])[0]
                    ended += 1
        assert ended >= 3  # the masks were compared across episode ends too
        assert [row.tolist() for row in vec.env_method("action_masks", indices=[2, 0])] == \
            vec.action_masks()[[2, 0]].tolist()
        assert [mask().tolist() for mask in vec.get_attr("action_masks")] == vec.action_masks().tolist()
    finally:
        vec.close()
        for env in singles:
            env.close()


def test_maskable_ppo_learns_without_ever_sending_a_masked_action(maintenance_model):
    """The model refuses a masked action (a ValueError would end learn()). On the model's 200-hour
    episodes, the greedy policy after 16k steps returns clearly more than before training and than
    random valid actions, on the same seeds (measured over training seeds 0 to 3: 131 to 136 after,
    77 to 112 before, 67 random; the service-at-wear-3 rule 145)."""
    torch.set_num_threads(1)
    env = VecMonitor(AnyLogicVecEnv(model=maintenance_model, num_envs=4, model_output="off"))
    evaluation = AnyLogicVecEnv(model=maintenance_model, num_envs=10, model_output="off")
    rng = np.random.default_rng(0)

    def mean_return(choose) -> float:
        """The mean return of the first episodes of seeds 10000 to 10009, one in each sub-environment."""
        evaluation.seed(10_000)
        observations = evaluation.reset()
        returns, running = np.zeros(10), np.ones(10, dtype=bool)
        while running.any():
            observations, rewards, dones, _ = evaluation.step(choose(observations))
            returns += np.where(running, rewards, 0.0)
            running &= ~dones
        return float(returns.mean())

    try:
        model = MaskablePPO("MlpPolicy", env, seed=0, n_steps=256, batch_size=256, learning_rate=1e-3,
                            ent_coef=0.01, policy_kwargs={"net_arch": [32, 32]}, device="cpu")

        def greedy(observations):
            return model.predict(observations, deterministic=True, action_masks=get_action_masks(evaluation))[0]

        untrained = mean_return(greedy)
        model.learn(16_384)
        trained = mean_return(greedy)
        random_valid = mean_return(lambda o: np.array([rng.choice(np.flatnonzero(mask))
                                                       for mask in evaluation.action_masks()]))
        assert trained > max(untrained, random_valid) + 10, (trained, untrained, random_valid)
    finally:
        env.close()
        evaluation.close()


def test_mask_in_observation_gives_the_dict_and_trains_with_multi_input_policy(maintenance_model):
    env = open_vec(maintenance_model, 2, mask_in_observation=True)
    try:
        assert set(env.observation_space.spaces) == {"action_mask", "observations"}
        env.seed(1)
        observations = env.reset()
        assert np.array_equal(observations["action_mask"] > 0.5, env.action_masks())
        MaskablePPO("MultiInputPolicy", env, seed=0, n_steps=32, batch_size=32, n_epochs=1, device="cpu").learn(64)
    finally:
        env.close()
    with pytest.raises(TypeError, match="mask_in_observation must be True or False"):
        AnyLogicVecEnv(model=maintenance_model, num_envs=1, mask_in_observation="yes")


def test_a_model_without_a_mask_says_so(cartpole_model):
    env = AnyLogicVecEnv(model=cartpole_model, num_envs=2, model_output="off")
    try:
        assert not env.masked and not is_masking_supported(env)
        with pytest.raises(AttributeError, match="the model has no action mask"):
            env.action_masks()
        with pytest.raises(ValueError, match="does not support action masking"):
            MaskablePPO("MlpPolicy", env, n_steps=16, batch_size=16, device="cpu").learn(16)
    finally:
        env.close()


def test_masks_before_a_reset_say_what_to_do(maintenance_model):
    env = open_vec(maintenance_model, 1)
    try:
        with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
            env.action_masks()
    finally:
        env.close()


def test_the_example_trains_briefly_evaluates_and_saves(maintenance_model, tmp_path):
    """examples/maintenance/train_sb3.py --quick: the rule, MaskablePPO for a tiny budget, the evaluation."""
    policy = tmp_path / "policy.zip"
    result = subprocess.run([sys.executable, str(REPO / "examples/maintenance/train_sb3.py"), "--quick",
                             "--max-steps", "1024", "--out", str(policy)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"service-at-wear-3 rule: return 1\d\d\.\d per episode", result.stdout)  # README: 145
    assert "steps    1,024 | greedy policy" in result.stdout
    assert policy.is_file() and MaskablePPO.load(policy, device="cpu").num_timesteps == 1024


def test_the_adapter_needs_no_sb3_contrib():
    code = ("import sys; sys.modules['sb3_contrib'] = None\n"
            "import alpyperl.sb3; print(hasattr(alpyperl.sb3.AnyLogicVecEnv, 'action_masks'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr
