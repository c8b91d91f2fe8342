"""alpyperl.sb3: a Stable-Baselines3 VecEnv over AnyLogicVectorEnv, checked against SB3's own
DummyVecEnv over AnyLogicEnvs (same seeds, same actions: the same trajectories, infos included),
with Box, Dict and Tuple observations; its attribute methods; SB3 as an optional extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from alpyperl import AnyLogicEnv
from alpyperl.sb3 import AnyLogicVecEnv

REPO = Path(__file__).resolve().parent.parent
INVENTORY = REPO / "examples/inventory"
ALPYPERL1_EXPORT = REPO / "tests/alpyperl1-model/build/export/CartPole1x"


def inventory_spaces():
    sys.path.insert(0, str(INVENTORY))
    try:
        import inventory
    finally:
        sys.path.remove(str(INVENTORY))
    return {"model": str(inventory.MODEL_DIR), "observation_space": inventory.observation_space(),
            "action_space": inventory.action_space()}


def assert_same_observations(got, want):
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want)
        for key in want:
            assert got[key].dtype == want[key].dtype and np.array_equal(got[key], want[key])
    elif isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for part, expected in zip(got, want):
            assert part.dtype == expected.dtype and np.array_equal(part, expected)
    else:
        assert got.dtype == want.dtype and np.array_equal(got, want)


def assert_same_infos(got: list[dict], want: list[dict]):
    assert len(got) == len(want)
    for mine, theirs in zip(got, want):
        assert set(mine) == set(theirs)
        assert mine["TimeLimit.truncated"] is theirs["TimeLimit.truncated"]
        if "terminal_observation" in theirs:
            assert_same_observations(mine["terminal_observation"], theirs["terminal_observation"])


@pytest.mark.filterwarnings("ignore:The JVM of this process already runs")  # the 1.x export asks for -Xmx256m
@pytest.mark.parametrize("kind", ["box", "dict", "tuple"])
def test_trajectories_equal_those_of_dummy_vec_env_over_anylogic_envs(cartpole_model, kind):
    n = 3
    if kind == "box":
        settings = {"model": str(cartpole_model), "env_params": {"maxSteps": 15}}
    elif kind == "dict":
        settings = {**inventory_spaces(), "env_params": {"horizonDays": 6}}
    else:
        settings = {"model": str(ALPYPERL1_EXPORT), "model_output": "off"}
    adapter = AnyLogicVecEnv(num_envs=n, **settings)
    dummy = DummyVecEnv([lambda: AnyLogicEnv(**settings) for _ in range(n)])
    try:
        assert adapter.observation_space == dummy.observation_space and adapter.action_space == dummy.action_space
        assert adapter.seed(21) == dummy.seed(21) == [21, 22, 23]
        assert_same_observations(adapter.reset(), dummy.reset())
        assert adapter.reset_infos == dummy.reset_infos and adapter.reset_infos[1]["seed"] == 22
        dummy.action_space.seed(4)
        dones_seen = truncations_seen = 0
        for _ in range(50):
            actions = np.array([dummy.action_space.sample() for _ in range(n)])
            adapter.step_async(actions)
            got = adapter.step_wait()
            want = dummy.step(actions)
            assert_same_observations(got[0], want[0])
            assert got[1].dtype == want[1].dtype == np.float32 and np.array_equal(got[1], want[1])
            assert got[2].dtype == want[2].dtype == bool and np.array_equal(got[2], want[2])
            assert_same_infos(got[3], want[3])
            assert adapter.reset_infos == dummy.reset_infos  # the seeds of the episodes started since
            dones_seen += int(want[2].sum())
            truncations_seen += sum(info["TimeLimit.truncated"] for info in want[3])
        assert dones_seen >= 3
        if kind == "box":
            assert truncations_seen >= 1  # both endings are covered: the pole fell, and 15 steps ran out
        # reset() with no seed draws each episode's seed from the sub-environment's generator
        assert_same_observations(adapter.reset(), dummy.reset())
        assert adapter.reset_infos == dummy.reset_infos
    finally:
        adapter.close()
        dummy.close()


def test_each_step_gives_new_info_dicts(cartpole_model):
    """step_wait builds the infos of a step where no episode ended without looking at each
    sub-environment; they are still one new dict each, so what SB3 or a callback keeps or changes
    in one does not show up in another or in a later step's."""
    env = AnyLogicVecEnv(model=cartpole_model, num_envs=3, env_params={"maxSteps": 3})
    try:
        env.seed(0)
        env.reset()
        _, _, dones, first = env.step(np.array([0, 1, 0]))
        assert not dones.any() and first == [{"TimeLimit.truncated": False}] * 3
        assert len({id(info) for info in first}) == 3
        first[0]["kept by a callback"] = True
        _, _, dones, second = env.step(np.array([1, 0, 1]))
        assert not dones.any() and second == [{"TimeLimit.truncated": False}] * 3
        assert all(info is not kept for info, kept in zip(second, first))
        _, _, dones, third = env.step(np.array([0, 1, 0]))  # maxSteps: every episode is cut here
        assert dones.all() and [info["TimeLimit.truncated"] for info in third] == [True] * 3
        assert all(set(info) == {"TimeLimit.truncated", "terminal_observation"} for info in third)
        _, _, dones, fourth = env.step(np.array([1, 0, 1]))  # new episodes, started in the step that ended them
        assert not dones.any() and fourth == [{"TimeLimit.truncated": False}] * 3
    finally:
        env.close()


def test_options_seeds_and_attributes(cartpole_model):
    env = AnyLogicVecEnv(model=cartpole_model, num_envs=2)
    try:
        assert env.get_attr("render_mode") == [None, None] and env.render_mode is None
        assert env.metadata["autoreset_mode"] is gym.vector.AutoresetMode.SAME_STEP
        env.set_options({"env_params": {"maxSteps": 2}})
        env.seed(3)
        env.reset()
        assert env.reset_infos == [{"seed": 3, "env_params": {"maxSteps": 2}},
                                   {"seed": 4, "env_params": {"maxSteps": 2}}]
        env.step(np.array([1, 1]))
        _, _, dones, infos = env.step(np.array([1, 1]))
        assert dones.all() and all(info["TimeLimit.truncated"] for info in infos)
        assert env.get_attr("episode_seed", indices=[1]) == [env.reset_infos[1]["seed"]]
        assert env.env_method("episode_seed", indices=0) == [env.reset_infos[0]["seed"]]
        env.set_attr("env_params", {"maxSteps": 5})
        assert env.get_attr("env_params") == [{"maxSteps": 5}] * 2
        with pytest.raises(ValueError, match="share them: leave indices out"):
            env.set_attr("env_params", {"maxSteps": 6}, indices=[0])
        with pytest.raises(AttributeError, match="set_attr sets 'env_params' only"):
            env.set_attr("gravity", 1.0)
        assert not env.has_attr("gravity") and env.has_attr("instance_label")
        assert env.env_is_wrapped(Monitor) == [False, False]
        env.set_options([{"env_params": {"maxSteps": 3}}, {}])
        with pytest.raises(ValueError, match="different options.*share their model parameters"):
            env.reset()
        with pytest.raises(TypeError, match="no autoreset_mode"):
            AnyLogicVecEnv(model=cartpole_model, num_envs=2, autoreset_mode="NextStep")
        with pytest.raises(ValueError, match="needs autoreset_mode SAME_STEP"):
            AnyLogicVecEnv({"model": str(cartpole_model), "num_envs": 2, "autoreset_mode": "NextStep"})
    finally:
        env.close()


def test_frames_are_tiled_by_sb3s_render(cartpole_model):
    env = AnyLogicVecEnv(model=cartpole_model, num_envs=4, render_mode="rgb_array", render_size=(60, 40))
    try:
        env.seed(0)
        env.reset()
        frames = env.get_images()
        image = env.render()
        assert len(frames) == 4 and image.shape == (80, 120, 3)  # a 2 x 2 grid of 60 x 40 frames
        assert np.array_equal(image[:40, 60:], frames[1]) and np.array_equal(image[40:, :60], frames[2])
    finally:
        env.close()


def test_sb3s_check_env_passes_on_a_single_environment(cartpole_model):
    env = AnyLogicEnv(model=cartpole_model)
    try:
        check_env(env, warn=False)
    finally:
        env.close()


def test_alpyperl_does_not_import_stable_baselines3():
    code = "import sys, alpyperl, alpyperl.env, alpyperl.vector_env; print('stable_baselines3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_stable_baselines3_the_module_says_how_to_install_it():
    code = ("import sys; sys.modules['stable_baselines3'] = None\n"
            "try:\n    import alpyperl.sb3\nexcept ImportError as error:\n    print(error)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "alpyperl.sb3 needs Stable-Baselines3: pip install 'alpyperl[sb3]'", result.stderr


def test_the_example_trains_briefly_saves_and_evaluates_its_policy(cartpole_model, tmp_path):
    """examples/cartpole/train_sb3.py --quick: PPO on AnyLogicVecEnv behind VecMonitor, a tiny budget."""
    policy = tmp_path / "policy.zip"
    result = subprocess.run([sys.executable, str(REPO / "examples/cartpole/train_sb3.py"), "--quick", "--max-steps",
                             "1024", "--out", str(policy)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "steps    1,024 | mean return" in result.stdout  # VecMonitor saw whole episodes
    assert policy.is_file() and f"Saved the policy in {policy}" in result.stdout
    evaluation = result.stdout.strip().splitlines()[-1]
    assert evaluation.startswith("Evaluation: mean return ") and evaluation.endswith("over 10 episodes")
