"""Training multi-agent models with RLlib: the environment RLlib creates, and its modules.

    from ray.rllib.algorithms.ppo import PPOConfig
    from alpyperl import rllib

    env_config = {"model": "examples/jobshop/build/model"}
    config = PPOConfig().environment(rllib.register_multi_agent_env(), env_config=env_config)
    config = rllib.multi_agent_modules(config, env_config)    # one policy per agent type
    algo = rllib.build_algo(config)

:func:`multi_agent_modules` maps each agent to the module of its type (:func:`~alpyperl.multi_agent.agent_type`
of its id, so the mapping needs no environment) or to one shared module, and gives a type with an
action mask RLlib's action-masking RLModule, which never samples a masked action.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
from ray.rllib.env.multi_agent_env import MultiAgentEnv
from ray.tune.registry import register_env as _ray_register_env

from .. import process
from ..bridge import describe_model
from ..errors import AlpyperlError, ModelLoadError
from ..multi_agent import AnyLogicMultiAgentEnv, agent_type, agent_types_of
from ..recording import MultiAgentEpisodeRecorder
from .envs import derive_seed, recording_path
from .nodes import node_name

__all__ = ["MULTI_AGENT_ENV_NAME", "SHARED_MODULE", "RLlibMultiAgentEnv", "RecordedMultiAgentEnv",
           "make_multi_agent_env", "register_multi_agent_env", "multi_agent_modules", "policy_by_type", "shared_policy"]

#: The name :func:`register_multi_agent_env` registers by default.
MULTI_AGENT_ENV_NAME = "anylogic-multi-agent"
#: The module id of the one policy all agents share (``multi_agent_modules(..., shared=True)``).
SHARED_MODULE = "shared"

_created = 0  # environments made by make_multi_agent_env in this process


class RLlibMultiAgentEnv(AnyLogicMultiAgentEnv, MultiAgentEnv):
    """:class:`~alpyperl.AnyLogicMultiAgentEnv` as an RLlib ``MultiAgentEnv``. ``reset(seed=s)``
    seeds with ``derive_seed(s, worker_index, instance)``, distinct per runner and environment
    (see :mod:`alpyperl.rllib.envs`)."""

    def __init__(self, config: Mapping[str, Any] | None = None, *, worker_index: int = 0, instance: int = 0, **kwargs):
        AnyLogicMultiAgentEnv.__init__(self, config, **kwargs)
        if not self.possible_agents:
            open_types = [t.name for t in self._types if not t.possible_agents]
            self.close()
            raise ModelLoadError(f"RLlib needs to know every agent that may appear before the first episode, but the "
                                 f"model in {self.model_path} leaves the number of agents of type(s) {open_types} open: "
                                 "implement MultiAgentModel.getPossibleAgents(type) (agents are numbered below it)")
        MultiAgentEnv.__init__(self)
        self.worker_index, self.instance = worker_index, instance

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            seed = derive_seed(seed, self.worker_index, self.instance)
        return AnyLogicMultiAgentEnv.reset(self, seed=seed, options=options)


class RecordedMultiAgentEnv(gym.Env):
    """An :class:`RLlibMultiAgentEnv` whose episodes a
    :class:`~alpyperl.recording.MultiAgentEpisodeRecorder` writes to ``path``, as the Gymnasium
    environment RLlib wraps (``record_dir`` in ``env_config``).

    ``reset``, ``step`` and ``close`` go through the recorder; ``unwrapped`` is the RLlibMultiAgentEnv,
    where RLlib reads the agents and their spaces; other attributes are the environment's.
    """

    def __init__(self, env: RLlibMultiAgentEnv, path: str | os.PathLike):
        #: The recorder that steps the environment and writes its episodes.
        self.recorder = MultiAgentEpisodeRecorder(env, path)
        #: The recording's file.
        self.path = self.recorder.path
        self.metadata, self.render_mode = env.metadata, env.render_mode

    @property
    def unwrapped(self) -> RLlibMultiAgentEnv:
        return self.recorder.env

    @property
    def spec(self):
        """The environment's ``EnvSpec`` (which ``gymnasium.make`` gives the unwrapped one)."""
        return self.recorder.env.spec

    @spec.setter
    def spec(self, value) -> None:
        self.recorder.env.spec = value

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        return self.recorder.reset(seed=seed, options=options)

    def step(self, action_dict):
        return self.recorder.step(action_dict)

    def render(self):
        return self.recorder.env.render()

    def close(self) -> None:
        """Records a running episode as abandoned, closes the file, then the environment."""
        self.recorder.close()

    def __getattr__(self, name: str):
        if name.startswith("_") or name == "recorder":
            raise AttributeError(name)
        return getattr(self.recorder.env, name)


def make_multi_agent_env(env_config: Mapping[str, Any]) -> RLlibMultiAgentEnv | RecordedMultiAgentEnv:
    """Creates the multi-agent environment RLlib asks for, from its ``env_config``
    (:class:`~alpyperl.AnyLogicMultiAgentEnv`'s settings). With ``record_dir`` it records every
    environment's episodes to its own file in that folder, named as for single-agent models
    (:func:`~alpyperl.rllib.envs.recording_path`), for ``alpyperl replay``."""
    global _created
    settings = dict(env_config)
    record_dir = settings.pop("record_dir", None)
    worker_index = int(getattr(env_config, "worker_index", 0) or 0)
    process.become_runner(worker_index)
    if settings.get("attach") and worker_index > 1:
        raise ValueError("attach=... trains the one model running in AnyLogic, so RLlib must create one environment: "
                         "config.env_runners(num_env_runners=0 or 1, num_envs_per_env_runner=1)")
    if settings.get("attach") and record_dir is not None:
        raise ValueError("record_dir records episodes for replay against an exported model folder, which a model "
                         "attached from AnyLogic (attach=...) does not have; leave record_dir out")
    try:
        env = RLlibMultiAgentEnv(settings, worker_index=worker_index, instance=_created)
    except ModelLoadError as error:
        raise ModelLoadError(f"{error}\n(on Ray node {node_name()}, EnvRunner {worker_index}, process {os.getpid()})") \
            from None
    instance, _created = _created, _created + 1
    if record_dir is None:
        return env
    try:
        return RecordedMultiAgentEnv(env, recording_path(record_dir, worker_index, instance))
    except BaseException:
        env.close()
        raise


def register_multi_agent_env(name: str = MULTI_AGENT_ENV_NAME) -> str:
    """Registers :func:`make_multi_agent_env` with Ray under ``name`` and returns ``name``."""
    _ray_register_env(name, make_multi_agent_env)
    return name


def policy_by_type(agent_id, episode=None, **kwargs) -> str:
    """RLlib's ``policy_mapping_fn``: the module of the agent's type (``machine_3`` -> ``machine``)."""
    return agent_type(agent_id)


def shared_policy(agent_id, episode=None, **kwargs) -> str:
    """RLlib's ``policy_mapping_fn``: every agent to the one shared module."""
    return SHARED_MODULE


def multi_agent_modules(config, env_config: Mapping[str, Any], *, shared: bool = False,
                        model_config: Mapping[str, Any] | None = None):
    """Returns ``config`` with one RLModule per agent type of the model (``shared=True``: one for
    all agents, whose types must then have the same spaces), the policy mapping to go with it,
    and no observation flattening (a masked type's observation stays the dict the masking module
    reads). RLlib's check of new environments is turned off: it steps them with random actions,
    which masks may forbid. Reads the agent types from one instance of the model, in this process.
    ``model_config`` is the modules' ``model_config`` (e.g. ``{"fcnet_hiddens": [64, 64]}``). Agent
    types whose spaces the model leaves to Python take them from ``env_config["observation_spaces"]``
    and ``env_config["action_spaces"]`` (by type), as the environment does."""
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    if env_config.get("model") is None:
        raise AlpyperlError("multi_agent_modules reads the agent types from an exported model folder "
                            "(env_config['model']), which a model attached from AnyLogic (attach=...) does not have; "
                            "pass it an env_config naming an export of the same model (the runners' env_config keeps "
                            "attach=True), or train the attached AnyLogicMultiAgentEnv with a loop of your own")
    described = describe_model(os.fspath(env_config["model"]), float(env_config.get("step_timeout", 60.0)))
    if described.get("agents") is None:
        raise ModelLoadError(f"the model in {env_config['model']} is no multi-agent model (MultiAgentModel); "
                             "train it with the single-agent helpers of alpyperl.rllib")
    types = agent_types_of(described["agents"], env_config.get("observation_spaces"), env_config.get("action_spaces"))

    def spec(kind) -> RLModuleSpec:
        return RLModuleSpec(module_class=ActionMaskingTorchRLModule if kind.mask_size else None,
                            observation_space=kind.observation_space, action_space=kind.action_space,
                            model_config=dict(model_config or {}))

    if shared:
        first = types[0]
        for kind in types[1:]:
            if kind.observation_space != first.observation_space or kind.action_space != first.action_space:
                raise AlpyperlError(f"one shared policy needs agent types with the same spaces, but {first.name!r} "
                                    f"has {first.observation_space} -> {first.action_space} and {kind.name!r} "
                                    f"{kind.observation_space} -> {kind.action_space}; use a policy per type")
        modules, mapping = {SHARED_MODULE: spec(first)}, shared_policy
    else:
        modules, mapping = {kind.name: spec(kind) for kind in types}, policy_by_type
    # RLlib's check of a new environment steps it with random actions, which a mask may forbid (the
    # environment refuses them): it is left out.
    return (config
            .environment(disable_env_checking=True)
            .multi_agent(policies=set(modules), policy_mapping_fn=mapping)
            .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=modules))
            .env_runners(env_to_module_connector=_no_connectors))


def _no_connectors(env=None, spaces=None, device=None) -> list:
    """No extra env-to-module connector (the default pipeline batches the dict observations as they are)."""
    return []
