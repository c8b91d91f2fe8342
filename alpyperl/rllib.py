"""Helpers for training on AnyLogic models with Ray RLlib (new API stack).

Import this module only where RLlib is used; ``alpyperl`` itself never imports Ray.

    from ray.rllib.algorithms.ppo import PPOConfig
    from alpyperl import rllib

    env_name = rllib.register_env()                      # "anylogic", creates AnyLogicEnv
    config = (PPOConfig()
              .environment(env_name, env_config={"model": "examples/cartpole/build/model"})
              .env_runners(num_env_runners=2, num_envs_per_env_runner=4)
              .debugging(seed=7))                        # one experiment seed
    config = rllib.fault_tolerant(config)                # restart failed models and runners
    algo = rllib.build_algo(config)                      # config.build_algo(), readable model errors
    result = algo.train()
    print(rllib.progress_line(result))
    algo.stop()

Every EnvRunner is its own process with its own JVM; its ``num_envs_per_env_runner`` environments
are model instances in that JVM: separate AnyLogicEnvs in Gymnasium's SyncVectorEnv (RLlib's
default, ``gym_env_vectorize_mode="sync"``), or one AnyLogicVectorEnv stepping them all in one
call (``gym_env_vectorize_mode="vector_entry_point"``). See docs/training.md.

Seeds: RLlib seeds runner ``w`` with ``seed + w``, and Gymnasium's vector env then seeds its
sub-environment ``i`` with ``seed + w + i``, so runner 1's second environment and runner 2's
first one would replay the same episodes, and an environment that RLlib re-creates after a
failure would replay its first episodes again. The environments made by :func:`make_env`
therefore replace that seed by :func:`derive_seed` of it, the runner's index and the number of
environments this process created before; every runner and every sub-environment, re-created
ones included, gets its own reproducible seed stream.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import ray
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    EPISODE_RETURN_MEAN,
    NUM_ENV_STEPS_SAMPLED,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_EPISODES,
)
from ray.tune.registry import register_env as _ray_register_env

from . import output
from .bridge import SEED_LIMIT
from .env import AnyLogicEnv
from .errors import AlpyperlError, ModelLoadError

#: The name :func:`register_env` registers by default.
ENV_NAME = "anylogic"

_created = 0  # environments made by make_env in this process


# ---- environments ---------------------------------------------------------------------------


def register_env(name: str = ENV_NAME) -> str:
    """Registers :func:`make_env` with Ray under ``name`` and returns ``name``.

    Use the name in ``config.environment(name, env_config={...})``; ``env_config`` holds
    :class:`~alpyperl.AnyLogicEnv`'s settings (``model``, ``env_params``, ``step_timeout``, ...).
    The registration travels to every Ray process, on every node.
    """
    _ray_register_env(name, make_env)
    return name


#: Settings of AnyLogicVectorEnv that a single AnyLogicEnv does not take.
VECTOR_SETTINGS = ("model_threads", "parallelism")


def make_env(env_config: Mapping[str, Any]) -> gym.Env:
    """Creates the environment RLlib asks for, from its ``env_config`` (an ``EnvContext``).

    Usually one model instance: an :class:`~alpyperl.AnyLogicEnv` wrapped in
    :class:`DistinctSeeds`. With ``config.env_runners(gym_env_vectorize_mode="vector_entry_point")``
    RLlib adds ``num_envs`` to the settings and gets an :class:`~alpyperl.AnyLogicVectorEnv`
    wrapped in :class:`DistinctVectorSeeds` (all of a runner's models stepped in one call). A
    model folder missing on the node of this runner raises :class:`~alpyperl.ModelLoadError`
    naming the node.

    The vector environment's own settings ``model_threads`` and ``parallelism`` may stay in
    ``env_config`` when RLlib steps single environments (the default ``sync`` mode): they only
    apply to a vector environment.

    Two settings are handled here, on top of AnyLogicEnv's: ``debug_port`` P makes EnvRunner
    ``w``'s JVM listen for a Java debugger on 127.0.0.1:P+w (logged by each runner), and
    ``record_dir`` records every environment's episodes with
    :class:`~alpyperl.recording.EpisodeRecorder` to its own file
    ``episodes-runner<w>-env<instance>-pid<process>.jsonl`` in that folder. What the models of
    EnvRunner ``w`` (from 1) print is labelled ``[runner w, <Model>#<n>]`` (``model_output``).
    """
    global _created
    settings = dict(env_config)
    worker_index = int(getattr(env_config, "worker_index", 0) or 0)
    output.runner_index = worker_index or None  # the driver's own runner (0) needs no label
    record_dir = settings.pop("record_dir", None)
    _debug_per_runner(settings, worker_index)
    if record_dir is not None and "num_envs" in settings:
        raise ValueError("record_dir records AnyLogicEnvs; it does not work with "
                         "gym_env_vectorize_mode='vector_entry_point' (use the default 'sync' mode to record)")
    try:
        if "num_envs" in settings:  # gym_env_vectorize_mode="vector_entry_point"
            from .vector_env import AnyLogicVectorEnv

            env = AnyLogicVectorEnv(settings)
        else:
            for vector_only in VECTOR_SETTINGS:
                settings.pop(vector_only, None)
            env = AnyLogicEnv(settings)
    except ModelLoadError as error:
        raise ModelLoadError(
            f"{error}\n(on Ray node {_node_name()}, EnvRunner {worker_index}, process {os.getpid()}: "
            "every node that runs EnvRunners needs the model folder at this path; put it on a shared "
            "file system or ship it with the Ray runtime environment, see docs/training.md)"
        ) from None
    instance, _created = _created, _created + 1
    if record_dir is not None:
        from .recording import EpisodeRecorder

        os.makedirs(record_dir, exist_ok=True)
        name = f"episodes-runner{worker_index}-env{instance}-pid{os.getpid()}.jsonl"
        env = EpisodeRecorder(env, os.path.join(record_dir, name))
    if isinstance(env, gym.vector.VectorEnv):
        return DistinctVectorSeeds(env, worker_index=worker_index, instance=instance)
    return DistinctSeeds(env, worker_index=worker_index, instance=instance)


def _debug_per_runner(settings: dict, worker_index: int) -> None:
    """With ``debug_port`` P in env_config, EnvRunner ``w`` listens on port P + w (each runner
    process has its own JVM, so each needs its own port), and its log line names the runner."""
    from . import jvm

    jvm.process_label = f"EnvRunner {worker_index}, process {os.getpid()}"
    port = settings.get("debug_port")
    if port is None:
        return
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port + worker_index <= 65535:
        raise ValueError(f"debug_port must be a TCP port number such that debug_port + EnvRunner index "
                         f"(here {worker_index}) is at most 65535, got {port!r}")
    settings["debug_port"] = port + worker_index


def derive_seed(seed: int, *keys: int) -> int:
    """A seed in [0, 2**63) derived from ``seed`` and ``keys``; distinct keys give independent seeds."""
    sequence = np.random.SeedSequence(int(seed) % SEED_LIMIT, spawn_key=tuple(int(key) for key in keys))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class DistinctSeeds(gym.Wrapper):
    """Replaces the seed given to ``reset`` by one that is distinct per runner and environment.

    ``reset(seed=s)`` resets the wrapped environment with ``derive_seed(s, worker_index,
    instance)``, where ``instance`` numbers the environments created in this process (so an
    environment re-created after a failure gets fresh seeds). ``reset()`` without a seed is
    passed on unchanged: the environment draws its next episode's seed from its own generator.
    """

    def __init__(self, env: gym.Env, *, worker_index: int, instance: int):
        super().__init__(env)
        self.worker_index = worker_index
        self.instance = instance

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            seed = derive_seed(seed, self.worker_index, self.instance)
        return self.env.reset(seed=seed, options=options)


class DistinctVectorSeeds(gym.vector.VectorWrapper):
    """:class:`DistinctSeeds` for a vector environment: ``reset(seed=s)`` seeds sub-environment
    ``i`` with ``derive_seed(s, worker_index, instance, i)``."""

    def __init__(self, env: gym.vector.VectorEnv, *, worker_index: int, instance: int):
        super().__init__(env)
        self.worker_index = worker_index
        self.instance = instance

    def reset(self, *, seed: int | list | None = None, options: dict[str, Any] | None = None):
        if isinstance(seed, (int, np.integer)):
            seed = [derive_seed(seed, self.worker_index, self.instance, index) for index in range(self.num_envs)]
        return self.env.reset(seed=seed, options=options)


def _node_name() -> str:
    if not ray.is_initialized():
        return socket.gethostname()
    node_id = ray.get_runtime_context().get_node_id()
    return f"{ray.util.get_node_ip_address()} ({socket.gethostname()}, node id {node_id[:8]})"


def flatten_observations(env=None, spaces=None, device=None) -> list:
    """An env-to-module connector for ``config.env_runners(env_to_module_connector=...)``: RLlib's
    ``FlattenObservations`` when the model's observation space is not a Box (a Tuple or Dict, for
    example the Tuple of scalar Boxes of ALPypeRL 1.x's CartPole), which RLlib's default networks
    cannot read; nothing for a Box. :func:`build_algo` adds it when no such connector is set."""
    from ray.rllib.connectors.env_to_module import FlattenObservations

    if spaces is not None and "__env_single__" in spaces:
        space = spaces["__env_single__"][0]
    else:
        space = getattr(env, "single_observation_space", getattr(env, "observation_space", None))
    return [] if isinstance(space, gym.spaces.Box) else [FlattenObservations()]


# ---- building on a cluster ------------------------------------------------------------------


def build_algo(config):
    """``config.build_algo()``, failing with a readable error when a node cannot open the model.

    Observations that are not a Box are flattened for RLlib's default networks
    (:func:`flatten_observations`) unless ``config`` sets an env-to-module connector itself.

    First checks that every node of the Ray cluster has the model folder named by
    ``env_config["model"]`` (:func:`check_model_on_nodes`). If building fails anyway, for example
    because the model's class cannot be loaded, the environment is created once on each node
    to find out why, and that error is raised with the node's name: when
    ``restart_failed_env_runners`` is on (RLlib's default), RLlib only logs why its runners died
    and then fails with an unrelated ``IndexError``.
    """
    if config._env_to_module_connector is None:
        config = config.copy(copy_frozen=False).env_runners(env_to_module_connector=flatten_observations)
    env_config = dict(config.env_config or {})
    model = env_config.get("model")
    if model is not None and ray.is_initialized():  # else RLlib starts Ray: check after a failure
        check_model_on_nodes(model)
    try:
        return config.build_algo()
    except Exception as error:
        if model is None:
            raise
        failures = _env_failures_on_nodes(env_config)
        if not failures:
            raise
        kind = ModelLoadError if any(name == "ModelLoadError" for _, name, _ in failures) else AlpyperlError
        details = "\n".join(f"- on node {node}: {name}: {message}" for node, name, message in failures)
        raise kind(f"the EnvRunners could not create the environment:\n{details}") from error


def check_model_on_nodes(model: str | os.PathLike) -> None:
    """Raises :class:`~alpyperl.ModelLoadError` naming every Ray node that lacks the model folder.

    Checks the live nodes with CPUs (those that can run EnvRunners). Each needs the exported
    model at the same path: a shared file system, a copy made when the node is set up, or Ray's
    runtime environment (a relative path is resolved in the job's working directory on the node).
    """
    path = os.fspath(model)

    def folder_problem(folder: str) -> str | None:  # runs on the node; pickled by value
        import os

        if os.path.isdir(folder):
            return None
        return "no such folder" if not os.path.exists(folder) else "a file, not a folder"

    missing = [(node, problem) for node, problem in _on_every_node(folder_problem, path) if problem]
    if missing:
        listed = "; ".join(f"{node}: {problem}" for node, problem in missing)
        raise ModelLoadError(
            f"the model folder {path} is missing on {len(missing)} of {len(_runner_nodes())} Ray node(s) ({listed}). "
            "Every node that runs EnvRunners needs the exported model at this path: put it on a shared file "
            "system, copy it to each node, or ship it with Ray's runtime environment (see docs/training.md)."
        )


def _env_failures_on_nodes(env_config: dict) -> list[tuple[str, str, str]]:
    """Creates the environment once on every node; returns (node, error type, message) of failures."""

    def try_env(settings: dict):  # runs on the node in a one-off process; pickled by value
        from alpyperl import AnyLogicEnv

        try:
            AnyLogicEnv(settings).close()
        except Exception as error:  # reported to the driver
            return type(error).__name__, str(error)
        return None

    return [(node, *failure) for node, failure in _on_every_node(try_env, env_config, fresh_process=True)
            if failure]


def _on_every_node(function, argument, *, fresh_process: bool = False) -> list[tuple[str, Any]]:
    """Runs ``function(argument)`` once on every live node; returns (node description, result)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(num_cpus=0, max_calls=1 if fresh_process else 0)(function)
    nodes = _runner_nodes()
    calls = [remote.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False))
             .remote(argument) for node in nodes]
    names = [f"{node['NodeManagerAddress']} ({node['NodeManagerHostname']}, node id {node['NodeID'][:8]})"
             for node in nodes]
    return list(zip(names, ray.get(calls)))


def _runner_nodes() -> list[dict]:
    """The live Ray nodes that have CPUs, i.e. that can run EnvRunners."""
    return [node for node in ray.nodes() if node.get("Alive") and node.get("Resources", {}).get("CPU", 0) > 0]


# ---- fault tolerance ------------------------------------------------------------------------


def fault_tolerant(config, *, restart_delay_s: float = 2.0, max_runner_restarts: int = 100):
    """Returns ``config`` set up to keep training when models or runner processes fail.

    - ``restart_failed_sub_environments=True``: a model that throws (``ModelError``, with the
      Java stack trace in RLlib's log) or times out makes its runner close and re-create its
      environments; the runner's partial episodes are dropped and sampling goes on.
    - ``restart_failed_env_runners=True``: a runner process that dies (crash, ``SIGKILL``, a lost
      node) is replaced by Ray with a new process and a new JVM, at most ``max_runner_restarts``
      times per runner. A runner whose call raised an error waits ``restart_delay_s`` seconds
      (RLlib's default is 60) before its process exits to be replaced.
    """
    return config.fault_tolerance(
        restart_failed_sub_environments=True,
        restart_failed_env_runners=True,
        max_num_env_runner_restarts=max_runner_restarts,
        delay_between_env_runner_restarts_s=restart_delay_s,
    )


# ---- progress -------------------------------------------------------------------------------


def episode_return(result: Mapping[str, Any]) -> float:
    """The mean return of the recent episodes (RLlib smooths over the last 100); NaN before any."""
    value = result.get(ENV_RUNNER_RESULTS, {}).get(EPISODE_RETURN_MEAN)
    return math.nan if value is None else float(value)


def env_steps(result: Mapping[str, Any]) -> int:
    """Environment steps sampled since training started."""
    return int(result.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0) or 0)


def steps_this_iteration(result: Mapping[str, Any]) -> int:
    """Environment steps sampled in this iteration."""
    return int(result.get(ENV_RUNNER_RESULTS, {}).get(NUM_ENV_STEPS_SAMPLED, 0) or 0)


def runner_restarts(result: Mapping[str, Any]) -> int:
    """How often EnvRunner processes died and were replaced since training started."""
    return int(result.get("fault_tolerance", {}).get("num_remote_worker_restarts", 0) or 0)


def progress_line(result: Mapping[str, Any]) -> str:
    """One readable line for a result of ``algo.train()``.

    ``iter   3 | steps     12,000 | return   45.2 | episodes   120 | 3,010 steps/s | 4.0 s (total 12.1 s)``;
    steps/s counts the env steps sampled in this iteration over its whole duration (sampling and
    learning).
    """
    runners = result.get(ENV_RUNNER_RESULTS, {})
    seconds = float(result.get("time_this_iter_s", 0.0))
    rate = steps_this_iteration(result) / seconds if seconds > 0 else 0.0
    mean_return = episode_return(result)
    shown_return = "    n/a" if math.isnan(mean_return) else f"{mean_return:7.1f}"
    line = (f"iter {int(result.get('training_iteration', 0)):3d} | steps {env_steps(result):10,d} | "
            f"return {shown_return} | episodes {int(runners.get(NUM_EPISODES, 0) or 0):5d} | "
            f"{rate:7,.0f} steps/s | {seconds:5.1f} s (total {float(result.get('time_total_s', 0.0)):6.1f} s)")
    restarts = runner_restarts(result)
    failures = int(runners.get("num_env_step_failures", 0) or 0)
    if restarts or failures:
        line += f" | model failures {failures}, runner restarts {restarts}"
    return line


class TensorBoardWriter:
    """Writes the numeric entries of ``algo.train()`` results as TensorBoard scalars.

    RLlib's ``algo.train()`` (without Ray Tune) writes no TensorBoard files itself; this puts
    them in ``logdir`` (by default the algorithm's ``algo.logdir``, under ``~/ray_results``).
    View them with ``tensorboard --logdir ~/ray_results``. Needs ``tensorboardX``.
    """

    def __init__(self, logdir: str | os.PathLike):
        from tensorboardX import SummaryWriter

        self.logdir = os.fspath(logdir)
        self._writer = SummaryWriter(self.logdir, flush_secs=10)

    def write(self, result: Mapping[str, Any]) -> None:
        """Adds one point per numeric entry (``env_runners/episode_return_mean``, ...)."""
        step = env_steps(result)
        for key, value in _numbers(result):
            self._writer.add_scalar(key, value, global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def _numbers(result: Mapping[str, Any], prefix: str = ""):
    """The finite numbers of a nested result dict as ("a/b", value), without the config."""
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if name != "config":
                yield from _numbers(value, name + "/")
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            if math.isfinite(float(value)):
                yield name, float(value)


# ---- videos of the policy during training ----------------------------------------------------


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

    from .render import VideoFile

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
