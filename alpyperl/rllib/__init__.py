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

The parts: ``envs`` (the environments RLlib creates, with distinct seeds), ``algo`` (building
the algorithm), ``nodes`` (the model folder on the cluster's nodes), ``progress`` (results as
lines and TensorBoard scalars), ``videos`` (videos of the policy during training), ``action_masks``
(single-agent models with an action mask: RLlib's action-masking module), ``multi_agent``
(models with several deciding agents: their environment and one module per agent type), ``quiet``
(the warnings of Ray and RLlib that a user cannot act on, which importing this module silences
in the driver and in every EnvRunner).
"""

from .action_masks import action_masking
from .algo import build_algo, fault_tolerant
from .envs import (
    ENV_NAME,
    VECTOR_SETTINGS,
    DistinctSeeds,
    DistinctVectorSeeds,
    derive_seed,
    flatten_observations,
    make_env,
    register_env,
)
from .multi_agent import (
    MULTI_AGENT_ENV_NAME,
    SHARED_MODULE,
    RLlibMultiAgentEnv,
    make_multi_agent_env,
    multi_agent_modules,
    policy_by_type,
    register_multi_agent_env,
    shared_policy,
)
from .nodes import check_model_on_nodes
from .progress import TensorBoardWriter, env_steps, episode_return, progress_line, runner_restarts, steps_this_iteration
from .quiet import silence_ray_noise
from .videos import EpisodeVideos, record_episode, record_videos

silence_ray_noise()

__all__ = [
    "silence_ray_noise",
    "ENV_NAME",
    "VECTOR_SETTINGS",
    "register_env",
    "make_env",
    "derive_seed",
    "DistinctSeeds",
    "DistinctVectorSeeds",
    "flatten_observations",
    "action_masking",
    "build_algo",
    "check_model_on_nodes",
    "fault_tolerant",
    "episode_return",
    "env_steps",
    "steps_this_iteration",
    "runner_restarts",
    "progress_line",
    "TensorBoardWriter",
    "record_videos",
    "EpisodeVideos",
    "record_episode",
    "MULTI_AGENT_ENV_NAME",
    "SHARED_MODULE",
    "RLlibMultiAgentEnv",
    "make_multi_agent_env",
    "register_multi_agent_env",
    "multi_agent_modules",
    "policy_by_type",
    "shared_policy",
]
