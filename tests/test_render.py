"""Seeing the model: frames drawn by the Java model (render_mode="rgb_array"), videos of episodes
(RecordVideo, `alpyperl run --render`), the window mode's errors, and the vector env without a render mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import imageio_ffmpeg  # videos: pip install 'alpyperl[video]' (installed by .ci/setup.sh)
import numpy as np
import pytest
from conftest import built_model
from test_evaluation import CARTPOLE_SPACE, LEAN, python_returns, write_policy

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, ModelLoadError, ResetNeeded
from alpyperl.render import VideoFile, check_settings, ppm

REPO = Path(__file__).resolve().parents[1]
POLE_COLOR = (202, 152, 101)  # CartPole.POLE_COLOR
WHITE = (255, 255, 255)



def frame_count(path: Path) -> int:
    """The number of frames ffmpeg finds in a video file."""
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    return frames


def cart_pixel(observation, width=600, height=400) -> tuple[int, int]:
    """(row, column) a few pixels below the centre of the cart, where CartPole.drawFrame draws black."""
    scale = width / 4.8
    column = int(round(width / 2 + observation[0] * scale))
    row = int(round(height - height / 4 + 0.06 * scale))  # below the axle, inside the cart (0.24 m high)
    return row, column


@pytest.fixture
def cartpole(cartpole_model):
    env = AnyLogicEnv(model=cartpole_model, render_mode="rgb_array")
    yield env
    env.close()


def test_frames_show_the_cart_and_pole_where_the_model_says_they_are(cartpole):
    assert cartpole.metadata["render_modes"] == ["rgb_array", "human"]
    observation, _ = cartpole.reset(seed=3, options={"env_params": {"initialState": "1.0,0,0.1,0"}})
    frame = cartpole.render()
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8 and frame.flags.c_contiguous
    row, column = cart_pixel(observation)
    assert tuple(frame[row, column]) == (0, 0, 0)  # the cart, 1 m right of the centre
    assert tuple(frame[row, 300]) == WHITE  # nothing at the centre of the track at this height
    # the pole leans right by 0.1 rad: halfway up its 1 m, it is 0.5 * sin(0.1) m right of the axle
    scale = 600 / 4.8
    axle_row = 400 - 100 - 0.06 * scale
    half_row = int(round(axle_row - 0.5 * np.cos(0.1) * scale))
    half_column = int(round(column + 0.5 * np.sin(0.1) * scale))
    assert tuple(frame[half_row, half_column]) == POLE_COLOR
    assert tuple(frame[half_row, column - 3]) == WHITE  # left of the leaning pole
    assert tuple(frame[0, 0]) == WHITE


def test_frames_follow_the_episode_and_never_share_memory(cartpole):
    cartpole.reset(seed=0)
    first = cartpole.render()
    again = cartpole.render()
    assert np.array_equal(first, again) and not np.shares_memory(first, again)
    for action in (1, 1, 1, 1, 1):
        observation, *_ = cartpole.step(action)
    moved = cartpole.render()
    assert not np.array_equal(first, moved)  # the pole turned and the cart moved
    assert np.array_equal(first, again)  # the earlier frame kept its pixels
    row, column = cart_pixel(observation)
    assert tuple(moved[row, column]) == (0, 0, 0)


def test_the_final_state_is_drawn_after_the_episode_ends(cartpole):
    observation, _ = cartpole.reset(seed=1)
    terminated = truncated = False
    while not (terminated or truncated):
        observation, _, terminated, truncated, _ = cartpole.step(1)
    assert terminated
    frame = cartpole.render()  # the cart where the model stopped it
    row, column = cart_pixel(observation)
    assert tuple(frame[row, column]) == (0, 0, 0)


def test_render_before_reset_and_after_close_say_what_to_do(cartpole):
    with pytest.raises(ResetNeeded, match=r"render\(\) has no model to draw: no episode has been started"):
        cartpole.render()
    cartpole.reset(seed=0)
    cartpole.close()
    with pytest.raises(Exception, match="the environment is closed"):
        cartpole.render()


def test_render_size_sets_the_frame_size(cartpole_model):
    env = AnyLogicEnv({"model": str(cartpole_model), "render_mode": "rgb_array", "render_size": (160, 90)})
    try:
        observation, _ = env.reset(seed=0)
        frame = env.render()
        assert frame.shape == (90, 160, 3)
        row, column = cart_pixel(observation, 160, 90)
        assert tuple(frame[row, column]) == (0, 0, 0)
    finally:
        env.close()


def test_a_model_that_does_not_draw_is_refused_when_the_environment_is_made(test_model):
    with pytest.raises(ModelLoadError, match=r"render_mode='rgb_array' needs a model that draws itself.*"
                                             r"com\.alpyperl\.connector\.Drawable"):
        AnyLogicEnv(model=test_model, render_mode="rgb_array")
    env = AnyLogicEnv(model=test_model)  # without render_mode, the same model is fine
    env.close()


@pytest.mark.parametrize("settings, message", [
    ({"render_mode": "rgb"}, "render_mode must be one of ['rgb_array', 'human'] or None, got 'rgb'"),
    ({"render_mode": "rgb_array", "render_size": (0, 10)}, "render_size must be (width, height)"),
    ({"render_mode": "rgb_array", "render_size": "600x400"}, "render_size must be (width, height)"),
    ({"render_mode": "rgb_array", "render_fps": 0}, "render_fps must be a positive number"),
])
def test_bad_render_settings_are_refused_before_the_model_opens(settings, message):
    with pytest.raises(ValueError) as error:
        check_settings(settings.get("render_mode"), settings.get("render_size", (600, 400)),
                       settings.get("render_fps", 30))
    assert message in str(error.value)
    with pytest.raises(ValueError, match=re.escape(message)):
        AnyLogicEnv(model="does/not/matter", **settings)  # checked before the folder is looked at


def test_without_render_mode_render_warns_and_returns_nothing(cartpole_model):
    env = AnyLogicEnv(model=cartpole_model)
    try:
        env.reset(seed=0)
        with pytest.warns(UserWarning, match="no render_mode"):
            assert env.render() is None
        assert not hasattr(env, "_frame_bytes")  # no frame buffer: rendering costs nothing
    finally:
        env.close()


def test_human_mode_without_a_display_is_a_clear_error(cartpole_model):
    script = ("from alpyperl import AnyLogicEnv\n"
              f"AnyLogicEnv(model={str(cartpole_model)!r}, render_mode='human')\n")
    environment = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environment["PYTHONPATH"] = str(REPO) + os.pathsep + environment.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env=environment)
    assert result.returncode == 1
    assert "AlpyperlError: render_mode='human' needs a display, and there is none" in result.stderr
    assert "render_mode='rgb_array'" in result.stderr


def test_ppm_of_a_frame_holds_its_pixels():
    frame = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert ppm(frame) == b"P6 3 2 255\n" + bytes(range(18))


def test_inventory_model_draws_its_stock(repo_root):
    sys.path.insert(0, str(repo_root / "examples/inventory"))
    try:
        import inventory
    finally:
        sys.path.pop(0)
    env = AnyLogicEnv(model=built_model("examples/inventory/build/model"), render_mode="rgb_array",
                      observation_space=inventory.observation_space(), action_space=inventory.action_space())
    try:
        env.reset(seed=0)
        start = env.render()
        colours = {tuple(pixel) for pixel in start.reshape(-1, 3)[::7]}
        assert (46, 139, 87) in colours  # InventoryModel.ON_HAND_COLOR: the initial stock
        for _ in range(5):
            env.step(np.array([2, 2, 2]))
        later = env.render()
        assert (70, 130, 180) in {tuple(pixel) for pixel in later.reshape(-1, 3)[::7]}  # ON_ORDER_COLOR
        assert not np.array_equal(start, later)
    finally:
        env.close()


def test_the_vector_env_renders_only_when_asked(cartpole_model):
    """Frames of a vector env: tests/test_vector_api.py."""
    envs = AnyLogicVectorEnv(model=cartpole_model, num_envs=2)
    try:
        assert envs.render_mode is None and envs.metadata["render_modes"] == ["rgb_array"]
        envs.reset(seed=0)
        envs.step(np.array([0, 1]))
        with pytest.warns(UserWarning, match="no render_mode"):
            assert envs.render() is None
    finally:
        envs.close()


# ---- videos ------------------------------------------------------------------------------------


def test_record_video_writes_an_episode(cartpole_model, tmp_path):
    env = gym.wrappers.RecordVideo(AnyLogicEnv(model=cartpole_model, render_mode="rgb_array", render_fps=50),
                                   str(tmp_path / "videos"), episode_trigger=lambda episode: True, disable_logger=True)
    try:
        env.reset(seed=5)
        steps, done = 0, False
        while not done:
            _, _, terminated, truncated, _ = env.step(steps % 2)
            steps += 1
            done = terminated or truncated
    finally:
        env.close()
    videos = sorted((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0
    assert frame_count(videos[0]) == steps + 1  # the first observation and one frame per step


def test_video_file_refuses_frames_of_another_size(tmp_path):
    with VideoFile(tmp_path / "v.mp4", fps=10) as video:
        video.add(np.zeros((40, 60, 3), np.uint8))
        with pytest.raises(ValueError, match="one size: 60 x 40 pixels, got 30 x 40"):
            video.add(np.zeros((40, 30, 3), np.uint8))
    assert frame_count(tmp_path / "v.mp4") == 1


def alpyperl(*args) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "alpyperl", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env=environment)


def test_cli_run_render_writes_a_video_of_the_episodes(cartpole_model, tmp_path):
    video = tmp_path / "episodes.mp4"
    result = alpyperl("run", cartpole_model, "--episodes", 2, "--render", video, "--render-size", "120x80")
    assert result.returncode == 0, result.stderr
    steps = [int(s) for s in re.findall(r"steps +(\d+) +return", result.stdout)]
    assert len(steps) == 2
    frames = sum(steps) + 2  # each episode: its first observation and one frame per step
    assert f"video of {frames} frame(s) at 30 frames/s written to {video}" in result.stdout
    assert video.stat().st_size > 0 and frame_count(video) == frames


def test_cli_run_render_with_an_onnx_policy(cartpole_model, tmp_path):
    policy = write_policy(tmp_path / "lean.onnx", weights=LEAN, observation_space=CARTPOLE_SPACE,
                          action_space=gym.spaces.Discrete(2))
    video = tmp_path / "policy.mp4"
    result = alpyperl("run", cartpole_model, "--policy", policy, "--episodes", 1, "--seed", 100,
                      "--render", video, "--render-size", "120x80")
    assert result.returncode == 0, result.stderr
    # the same episode as the Java launcher runs with this policy
    expected = python_returns(cartpole_model, [100])[0]
    assert re.findall(r"return +(\S+)", result.stdout)[0] == f"{expected:.6g}"
    assert frame_count(video) == int(expected) + 1


def test_cli_render_errors(cartpole_model, test_model, tmp_path):
    refused = alpyperl("run", test_model, "--episodes", 1, "--render", tmp_path / "v.mp4")
    assert refused.returncode == 1 and "needs a model that draws itself" in refused.stderr
    assert not (tmp_path / "v.mp4").exists()
    nowhere = alpyperl("run", cartpole_model, "--render", tmp_path / "missing" / "v.mp4")
    assert nowhere.returncode == 1 and "the folder" in nowhere.stderr and "does not exist" in nowhere.stderr
    size = alpyperl("run", cartpole_model, "--render-size", "100x100")
    assert size.returncode == 2 and "--render-size needs --render" in size.stderr


def test_rllib_writes_a_video_every_n_iterations(cartpole_model, tmp_path):
    """PPO with record_videos(every=2): after iterations 2 and 4 the driver writes one episode."""
    script = f"""
import ray
from ray.rllib.algorithms.ppo import PPOConfig
from alpyperl import rllib
ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
config = (PPOConfig().environment(rllib.register_env(), env_config={{"model": {str(cartpole_model)!r}}})
          .env_runners(num_env_runners=0, num_envs_per_env_runner=1, rollout_fragment_length=32)
          .rl_module(model_config={{"fcnet_hiddens": [8]}})
          .training(train_batch_size_per_learner=32, minibatch_size=32, num_epochs=1)
          .debugging(seed=0))
config = rllib.record_videos(config, every=2, folder={str(tmp_path / "videos")!r}, max_steps=40,
                             render_size=(120, 80))
algo = config.build_algo()
for _ in range(3):
    print("video:", algo.train().get("alpyperl_video"))
algo.stop()
"""
    environment = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env=environment, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    videos = tmp_path / "videos"
    assert result.stdout.splitlines()[-3:] == ["video: None", f"video: {videos / 'iteration-0002.mp4'}",
                                               "video: None"]
    assert sorted(path.name for path in videos.iterdir()) == ["iteration-0002.mp4"]
    assert 2 <= frame_count(videos / "iteration-0002.mp4") <= 41  # the first frame, then one per step (at most 40)
