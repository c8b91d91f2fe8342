"""The environments RLlib creates on its EnvRunners: :func:`make_env`, registered by :func:`register_env`.

Seeds: RLlib seeds runner ``w`` with ``seed + w``, and Gymnasium's vector env then seeds its
sub-environment ``i`` with ``seed + w + i``, so runner 1's second environment and runner 2's
first one would replay the same episodes, and an environment that RLlib re-creates after a
failure would replay its first episodes again. The environments made by :func:`make_env`
therefore replace that seed by :func:`derive_seed` of it, the runner's index and the number of
environments this process created before; every runner and every sub-environment, re-created
ones included, gets its own reproducible seed stream.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from ray.tune.registry import register_env as _ray_register_env

from .. import process
from ..bridge import SEED_LIMIT
from ..env import AnyLogicEnv
from ..errors import ModelLoadError
from .nodes import node_name

__all__ = [
    "ENV_NAME", "VECTOR_SETTINGS", "register_env", "make_env", "derive_seed", "recording_path", "DistinctSeeds",
    "DistinctVectorSeeds", "flatten_observations",
]

#: The name :func:`register_env` registers by default.
ENV_NAME = "anylogic"

_created = 0  # environments made by make_env in this process


def register_env(name: str = ENV_NAME) -> str:
    """Registers :func:`make_env` with Ray under ``name`` and returns ``name``.

    Use the name in ``config.environment(name, env_config={...})``; ``env_config`` holds
    :class:`~alpyperl.AnyLogicEnv`'s settings (``model``, ``env_params``, ``step_timeout``, ...).
    The registration travels to every Ray process, on every node.
    """
    _ray_register_env(name, make_env)
    return name


#: Settings of AnyLogicVectorEnv that a single AnyLogicEnv does not take.
VECTOR_SETTINGS = ("model_threads", "parallelism", "autoreset_mode")


def make_env(env_config: Mapping[str, Any]) -> gym.Env:
    """Creates the environment RLlib asks for, from its ``env_config`` (an ``EnvContext``).

    Usually one model instance: an :class:`~alpyperl.AnyLogicEnv` wrapped in
    :class:`DistinctSeeds`. With ``config.env_runners(gym_env_vectorize_mode="vector_entry_point")``
    RLlib adds ``num_envs`` to the settings and gets an :class:`~alpyperl.AnyLogicVectorEnv`
    wrapped in :class:`DistinctVectorSeeds` (all of a runner's models stepped in one call). A
    model folder missing on the node of this runner raises :class:`~alpyperl.ModelLoadError`
    naming the node.

    The vector environment's own settings ``model_threads``, ``parallelism`` and ``autoreset_mode`` may stay in
    ``env_config`` when RLlib steps single environments (the default ``sync`` mode): they only
    apply to a vector environment.

    Two settings are handled here, on top of AnyLogicEnv's: ``debug_port`` P makes EnvRunner
    ``w``'s JVM listen for a Java debugger on 127.0.0.1:P+w (logged by each runner), and
    ``record_dir`` records every environment's episodes with
    :class:`~alpyperl.recording.EpisodeRecorder` to its own file
    ``episodes-runner<w>-env<instance>-pid<process>.jsonl`` in that folder. What the models of
    EnvRunner ``w`` (from 1) print is labelled ``[runner w, <Model>#<n>]`` (``model_output``).

    With ``attach`` (a model running in AnyLogic, see docs/anylogic.md) there is one environment:
    ``num_env_runners`` 0 or 1 and ``num_envs_per_env_runner=1``; more are refused.
    """
    global _created
    settings = dict(env_config)
    worker_index = int(getattr(env_config, "worker_index", 0) or 0)
    process.become_runner(worker_index)
    record_dir = settings.pop("record_dir", None)
    if settings.get("attach") and (worker_index > 1 or "num_envs" in settings):
        raise ValueError("attach=... trains the one model running in AnyLogic, so RLlib must create one environment: "
                         "config.env_runners(num_env_runners=0 or 1, num_envs_per_env_runner=1)")
    _debug_per_runner(settings, worker_index)
    if record_dir is not None and "num_envs" in settings:
        raise ValueError("record_dir records AnyLogicEnvs; it does not work with "
                         "gym_env_vectorize_mode='vector_entry_point' (use the default 'sync' mode to record)")
    try:
        if "num_envs" in settings:  # gym_env_vectorize_mode="vector_entry_point"
            from ..vector_env import AnyLogicVectorEnv

            env = AnyLogicVectorEnv(settings)
        else:
            for vector_only in VECTOR_SETTINGS:
                settings.pop(vector_only, None)
            env = AnyLogicEnv(settings)
    except ModelLoadError as error:
        where = f"on Ray node {node_name()}, EnvRunner {worker_index}, process {os.getpid()}"
        if settings.get("model") is not None and not os.path.isdir(settings["model"]):
            raise ModelLoadError(
                f"{error}\n({where}: every node that runs EnvRunners needs the model folder at this path; put it "
                "on a shared file system or ship it with the Ray runtime environment, see docs/training.md)"
            ) from None
        raise ModelLoadError(f"{error}\n({where})") from None  # the folder is there: the model itself was refused
    instance, _created = _created, _created + 1
    if record_dir is not None:
        from ..recording import EpisodeRecorder

        env = EpisodeRecorder(env, recording_path(record_dir, worker_index, instance))
    if isinstance(env, gym.vector.VectorEnv):
        return DistinctVectorSeeds(env, worker_index=worker_index, instance=instance)
    return DistinctSeeds(env, worker_index=worker_index, instance=instance)


def recording_path(record_dir: str | os.PathLike, worker_index: int, instance: int) -> str:
    """The file in ``record_dir`` (created if missing) that records environment ``instance`` of
    EnvRunner ``worker_index`` in this process: ``episodes-runner<w>-env<instance>-pid<process>.jsonl``."""
    os.makedirs(record_dir, exist_ok=True)
    return os.path.join(record_dir, f"episodes-runner{worker_index}-env{instance}-pid{os.getpid()}.jsonl")


def _debug_per_runner(settings: dict, worker_index: int) -> None:
    """With ``debug_port`` P in env_config, EnvRunner ``w`` listens on port P + w (each runner
    process has its own JVM, so each needs its own port), and its log line names the runner."""
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
