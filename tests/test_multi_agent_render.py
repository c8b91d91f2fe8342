"""Seeing a multi-agent model: render_mode="rgb_array" frames drawn by the model's root (tests/models'
SwarmModel draws its walkers), `alpyperl run --render` on it, and the refusals (a model that does not
draw, human mode without a display, bad settings, --render with ONNX policies)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import gymnasium as gym
import imageio_ffmpeg  # videos: pip install 'alpyperl[video]' (installed by .ci/setup.sh)
import numpy as np
import pytest
from conftest import built_model
from test_cli import REPO, alpyperl
from test_multi_agent import swarm_model  # noqa: F401 (a fixture)

from alpyperl import AnyLogicMultiAgentEnv, ModelLoadError

BLACK, WHITE = (0, 0, 0), (255, 255, 255)


def walker_pixel(k: int, position: float, width: int) -> tuple[int, int]:
    """(row, column) inside walker k's square (SwarmModel.drawFrame)."""
    return 20 + 20 * k + 5, width // 2 + 20 * int(position) + 5


def test_frames_show_every_walker_where_it_is(swarm_model):
    with AnyLogicMultiAgentEnv(model=swarm_model, env_params={"agents": 3}, render_mode="rgb_array",
                               render_size=(300, 100), model_output="off") as env:
        assert env.metadata["render_modes"] == ["rgb_array", "human"] and env.render_mode == "rgb_array"
        observations, _ = env.reset(seed=4)
        for _ in range(2):
            frame = env.render()
            assert frame.shape == (100, 300, 3) and frame.dtype == np.uint8
            positions = [observations[f"walker_{k}"]["observations"][0] for k in range(3)]
            for k, position in enumerate(positions):
                assert tuple(frame[walker_pixel(k, position, 300)]) == BLACK, (k, position)
                assert tuple(frame[walker_pixel(k, position + 1, 300)]) == WHITE  # nothing right of it
            observations, *_ = env.step({f"walker_{k}": 2 for k in range(3)})  # every walker steps right
        assert not np.array_equal(frame, env.render())  # a new picture after the step


def test_without_render_mode_render_warns_and_returns_nothing(swarm_model):
    with AnyLogicMultiAgentEnv(model=swarm_model, model_output="off") as env:
        env.reset(seed=0)
        with pytest.warns(UserWarning, match="no render_mode"):
            assert env.render() is None


def test_a_model_that_does_not_draw_and_bad_settings_are_refused(swarm_model):
    jobshop = built_model("examples/jobshop/build/model")
    with pytest.raises(ModelLoadError, match=r"render_mode='rgb_array' needs a model that draws itself.*"
                                             r"com.alpyperl.connector.Drawable"):
        AnyLogicMultiAgentEnv(model=jobshop, render_mode="rgb_array")
    with pytest.raises(ValueError, match=r"render_mode must be one of \['rgb_array', 'human'\] or None"):
        AnyLogicMultiAgentEnv(model=swarm_model, render_mode="video")
    with pytest.raises(ValueError, match="render_size must be"):
        AnyLogicMultiAgentEnv(model=swarm_model, render_mode="rgb_array", render_size=(0, 10))


def test_human_mode_without_a_display_is_a_clear_error(swarm_model):
    script = ("from alpyperl import AnyLogicMultiAgentEnv\n"
              f"AnyLogicMultiAgentEnv(model={str(swarm_model)!r}, render_mode='human')\n")
    environment = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environment["PYTHONPATH"] = str(REPO) + os.pathsep + environment.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env=environment)
    assert result.returncode == 1
    assert "AlpyperlError: render_mode='human' needs a display, and there is none" in result.stderr


def test_cli_run_render_writes_a_video_of_a_multi_agent_model(swarm_model, tmp_path):
    video = tmp_path / "swarm.mp4"
    result = alpyperl("run", swarm_model, "--episodes", 2, "--param", "ticks=5", "--render", video,
                      "--render-size", "120x80")
    assert result.returncode == 0, result.stderr
    steps = [int(s) for s in re.findall(r"steps +(\d+) +return", result.stdout)]
    assert steps == [5, 5]
    assert f"video of 12 frame(s) at 30 frames/s written to {video}" in result.stdout  # reset + 5 steps, twice
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert frames == 12
    refused = alpyperl("run", swarm_model, "--policy", tmp_path / "walker.onnx", "--render", video)
    assert refused.returncode == 1 and "walker.onnx does not exist" in refused.stderr, refused.stderr


def test_cli_run_render_with_onnx_policies_gives_the_returns_of_the_java_runner(swarm_model, tmp_path):
    from test_multi_agent_cli import RIGHT_FROM_TICK_1, python_returns
    from test_evaluation import write_policy

    walker = write_policy(tmp_path / "walker.onnx", weights=RIGHT_FROM_TICK_1,
                          observation_space=gym.spaces.Box(-1e6, 1e6, (2,)), action_space=gym.spaces.Discrete(3))
    video = tmp_path / "swarm.mp4"
    arguments = ["--episodes", 3, "--seed", 10, "--param", "masks=true", "--param", "ticks=6", "--param", "agents=4"]
    rendered = alpyperl("run", swarm_model, "--policy", f"walker={walker}", "--render", video,
                        "--render-size", "120x80", *arguments)
    assert rendered.returncode == 0, rendered.stderr
    assert f"policies walker={walker} (most likely actions)" in rendered.stdout
    assert f"video of 21 frame(s) at 30 frames/s written to {video}" in rendered.stdout  # reset + 6 steps, 3 times
    returns = [float(value) for value in re.findall(r"return +(\S+)  truncated", rendered.stdout)]
    in_java = alpyperl("run", swarm_model, "--policy", f"walker={walker}", *arguments)  # the launcher's runner
    assert returns == [float(value) for value in re.findall(r"return +(\S+)  steps", in_java.stdout)]
    assert returns == pytest.approx(python_returns(swarm_model, [10, 11, 12], masks=True, ticks=6, agents=4), abs=1e-9)
    assert len(set(returns)) > 1
    refused = alpyperl("run", swarm_model, "--policy", f"robot={walker}", "--render", video)
    assert refused.returncode == 1 and "the model has no agent type 'robot'; its agent types are [walker, scout]" \
        in refused.stderr, refused.stderr
    refused = alpyperl("run", swarm_model, "--policy", f"walker={walker}", "--render", video, "--param", "scouts=1")
    assert refused.returncode == 1 and "an agent of type 'scout' decides, but no policy was given for its type " \
        "'scout': add --policy scout=FILE.onnx" in refused.stderr, refused.stderr
    refused = alpyperl("run", swarm_model, "--policy", walker, "--render", video, "--param", "scouts=1")
    assert refused.returncode == 1 and f"the policy {walker} was trained for the observation space " \
        "Box(-1e+06, 1e+06, (2,), float32), but the observation space of agent type 'scout' is Box" \
        in refused.stderr, refused.stderr
