"""Exporting the policy of an RLlib checkpoint: its RLModule, its environment's spaces, and the
connector settings that the exported file reproduces.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from gymnasium import spaces

from ..errors import ExportError
from .graph import masks_actions, network_observation_space
from .rl_module import export_module

__all__ = ["export_checkpoint"]

#: Env-to-module connector pieces that do not change observations (batching, tensors, time rank).
_NEUTRAL_ENV_TO_MODULE = {
    "AddObservationsFromEpisodesToBatch", "AddTimeDimToBatchAndZeroPad", "AddStatesFromEpisodesToBatch",
    "BatchIndividualItems", "NumpyToTensor", "AgentToModuleMapping",
}
#: Module-to-env connector pieces whose effect on the deterministic action the metadata describes.
_KNOWN_MODULE_TO_ENV = {
    "GetActions", "TensorToNumpy", "UnBatchToIndividualItems", "RemoveSingleTsTimeRankFromBatch",
    "NormalizeAndClipActions", "ListifyDataForVectorEnv", "ModuleToAgentUnmapping",
}


def export_checkpoint(checkpoint: str | os.PathLike, out: str | os.PathLike, *, module_id: str = "default_policy",
                      observation_space: spaces.Space | None = None, verify: bool = True, samples: int = 2000,
                      seed: int = 0, log: Callable[[str], None] | None = print) -> Path:
    """Exports the policy ``module_id`` of an RLlib checkpoint (``algo.save(...)``) to the ONNX file ``out``.

    The RLModule comes from ``<checkpoint>/learner_group/learner/rl_module/<module_id>``. The
    environment's observation and action spaces, the observation connectors and the action
    settings come from the checkpoint's env runner (``<checkpoint>/env_runner``, the
    env-to-module and module-to-env connector pipelines); ``observation_space`` replaces the
    observation space found there, or supplies it when the checkpoint has none. See
    :func:`export_module` for the verification and the other arguments.
    """
    say = log or (lambda message: None)
    root = Path(checkpoint).expanduser().resolve()
    module_dir = _module_dir(root, module_id)
    say(f"Loading the RLModule {module_id!r} from {module_dir}")
    from ray.rllib.core.rl_module.rl_module import RLModule

    try:
        module = RLModule.from_checkpoint(str(module_dir))
    except Exception as error:  # RLlib raises many kinds; say which folder failed
        raise ExportError(f"RLlib cannot load the RLModule from {module_dir}: {type(error).__name__}: {error}") from error
    settings = _pipeline_settings(root, module, observation_space)
    say(f"Observation space {settings['observation_space']}, action space {settings['action_space']}"
        f" (normalize_actions={settings['normalize_actions']})")
    return export_module(module, out, verify=verify, samples=samples, seed=seed, log=log, **settings)


def _per_agent(space) -> bool:
    """Whether ``space`` is a multi-agent environment's space: a Dict by agent id (``machine_3``)."""
    from ..multi_agent import agent_type

    if not isinstance(space, spaces.Dict) or not space.spaces:
        return False
    try:
        for key in space.spaces:
            agent_type(key)
    except ValueError:
        return False
    return True


def _module_dir(root: Path, module_id: str) -> Path:
    if not root.is_dir():
        raise ExportError(f"the checkpoint folder {root} does not exist")
    modules = root / "learner_group" / "learner" / "rl_module"
    if not modules.is_dir():
        inside = sorted(str(entry) for entry in root.iterdir()
                        if (entry / "learner_group" / "learner" / "rl_module").is_dir())
        hint = (f"; it holds {'checkpoints' if len(inside) > 1 else 'a checkpoint'} in {', '.join(inside)}: give "
                f"{'one of them' if len(inside) > 1 else 'that folder'}" if inside else
                " (save one with algo.save(folder))")
        raise ExportError(f"{root} is not an RLlib (new API stack) algorithm checkpoint: {modules} is missing{hint}")
    module_dir = modules / module_id
    if not module_dir.is_dir():
        found = sorted(entry.name for entry in modules.iterdir() if entry.is_dir())
        raise ExportError(f"the checkpoint has no RLModule {module_id!r}; it has {found} (choose one with --module-id)")
    return module_dir


def _without_mask(module, space: spaces.Space | None) -> spaces.Space | None:
    """The environment's observation space as the exported file takes it: for an action-masking
    module, the ``"observations"`` part of a masked model's observation (Java applies the mask)."""
    if masks_actions(module) and isinstance(space, spaces.Dict) and "observations" in space.spaces:
        return space["observations"]
    return space


def _pipeline_settings(root: Path, module, observation_space: spaces.Space | None) -> dict:
    """The environment's spaces and the connector settings that the export reproduces."""
    runner = root / "env_runner"
    env_to_module = runner / "env_to_module_connector"
    module_to_env = runner / "module_to_env_connector"
    settings: dict[str, Any] = {"observation_space": observation_space, "action_space": module.action_space,
                                "normalize_actions": True, "removed_keys": ()}
    if env_to_module.is_dir():
        from ray.rllib.connectors.env_to_module import EnvToModulePipeline

        pipeline = EnvToModulePipeline.from_checkpoint(str(env_to_module))
        for piece in pipeline.connectors:
            name = type(piece).__name__
            if name == "FlattenObservations":
                if piece._multi_agent:
                    raise ExportError("the checkpoint flattens multi-agent observations; only single-agent "
                                      "policies can be exported")
                settings["removed_keys"] = tuple(piece._keys_to_remove or ())
            elif name not in _NEUTRAL_ENV_TO_MODULE:
                raise ExportError(
                    f"the checkpoint's env-to-module connector pipeline holds {name}, which changes observations in a "
                    "way the exported file cannot describe (only FlattenObservations is supported); normalize "
                    "observations in the model instead, or train without it")
        if _per_agent(pipeline.input_observation_space):
            # A multi-agent checkpoint: the pipeline's spaces are by agent; the module's are those of its agents
            # (for an action-masking module, its observations without the mask, which Java applies itself).
            if observation_space is None:
                settings["observation_space"] = network_observation_space(module)
        else:
            if observation_space is None:
                settings["observation_space"] = _without_mask(module, pipeline.input_observation_space)
            if pipeline.input_action_space is not None:
                settings["action_space"] = pipeline.input_action_space
    if module_to_env.is_dir():
        from ray.rllib.connectors.module_to_env import ModuleToEnvPipeline

        for piece in ModuleToEnvPipeline.from_checkpoint(str(module_to_env)).connectors:
            name = type(piece).__name__
            if name == "NormalizeAndClipActions":
                settings["normalize_actions"] = bool(piece.normalize_actions)
            elif name not in _KNOWN_MODULE_TO_ENV:
                raise ExportError(f"the checkpoint's module-to-env connector pipeline holds {name}, which changes "
                                  "actions in a way the exported file cannot describe")
    if settings["observation_space"] is None:
        raise ExportError(
            f"cannot tell the environment's observation space: the checkpoint has no {env_to_module} (was it saved "
            "with algo.save()?); pass observation_space= (--observation-space-json on the command line)")
    return settings
