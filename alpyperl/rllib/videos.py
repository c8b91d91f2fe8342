"""Videos of the policy during training: one episode every few iterations, run in the driver."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np

from ..env import AnyLogicEnv
from ..errors import AlpyperlError

__all__ = ["record_videos", "EpisodeVideos", "record_episode"]


def record_videos(config, every: int, *, folder: str | os.PathLike | None = None, max_steps: int = 500,
                  seed: int = 0, render_size: tuple[int, int] = (600, 400)):
    """Returns ``config`` set up to write a video of one episode every ``every`` training iterations.

    After iteration ``k * every``, the driver runs one episode of the model with the current policy
    (its most likely actions, at most ``max_steps`` steps, seed ``seed``) on an
    :class:`~alpyperl.AnyLogicEnv` with ``render_mode="rgb_array"`` and the settings of
    ``env_config``, and writes ``iteration-<k>.mp4`` into ``folder`` (default: ``videos`` in the
    run's log folder, ``algo.logdir``). The result of that iteration names the file under
    ``"alpyperl_video"``. The model must draw itself (``com.alpyperl.connector.Drawable``); the
    driver then starts a JVM of its own. Needs ``pip install 'alpyperl[video]'``.
    """
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive number of iterations, got {every!r}")
    return config.callbacks(on_train_result=EpisodeVideos(every, folder=folder, max_steps=max_steps, seed=seed,
                                                          render_size=render_size))


class EpisodeVideos:
    """The ``on_train_result`` callback of :func:`record_videos`."""

    def __init__(self, every: int, *, folder: str | os.PathLike | None, max_steps: int, seed: int,
                 render_size: tuple[int, int]):
        self.every, self.max_steps, self.seed, self.render_size = every, max_steps, seed, render_size
        self.folder = None if folder is None else os.fspath(folder)

    def __call__(self, *, algorithm, result: dict, **_) -> None:
        iteration = int(result.get("training_iteration", 0))
        if iteration % self.every:
            return
        folder = self.folder or os.path.join(algorithm.logdir, "videos")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"iteration-{iteration:04d}.mp4")
        record_episode(algorithm, path, max_steps=self.max_steps, seed=self.seed, render_size=self.render_size)
        result["alpyperl_video"] = path


def record_episode(algorithm, path: str | os.PathLike, *, max_steps: int = 500, seed: int = 0,
                   render_size: tuple[int, int] = (600, 400)) -> int:
    """Runs one episode with ``algorithm``'s current policy (most likely actions) in this process
    and writes its video to ``path``; returns the number of frames.

    The environment is an :class:`~alpyperl.AnyLogicEnv` made from the algorithm's ``env_config``
    (without the per-runner settings ``record_dir``, ``debug_port`` and ``num_envs``) with
    ``render_mode="rgb_array"``. Observations go to the policy as they come (a Box); models whose
    training needs observation connectors are not supported here.
    """
    import torch
    from ray.rllib.core.columns import Columns

    from ..render import VideoFile

    settings = {key: value for key, value in dict(algorithm.config.env_config or {}).items()
                if key not in ("record_dir", "debug_port", "debug_suspend", "num_envs")}
    module = algorithm.get_module()
    if module is None:
        raise AlpyperlError("the algorithm has no RLModule to choose actions for the video")
    distribution = module.get_inference_action_dist_cls()
    env = AnyLogicEnv({**settings, "render_mode": "rgb_array", "render_size": render_size})
    try:
        with VideoFile(path, fps=env.metadata["render_fps"]) as video:
            observation, _ = env.reset(seed=seed)
            video.add(env.render())
            for _ in range(max_steps):
                batch = {Columns.OBS: torch.as_tensor(np.asarray(observation, dtype=np.float32)[None])}
                with torch.no_grad():
                    output = module.forward_inference(batch)
                if Columns.ACTIONS in output:
                    action = output[Columns.ACTIONS][0]
                else:
                    action = distribution.from_logits(output[Columns.ACTION_DIST_INPUTS]).to_deterministic().sample()[0]
                action = action.numpy()
                if isinstance(env.action_space, gym.spaces.Discrete):
                    action = int(action)
                observation, _, terminated, truncated, _ = env.step(action)
                video.add(env.render())
                if terminated or truncated:
                    break
            return video.frames
    finally:
        env.close()
