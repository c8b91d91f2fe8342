"""Training single-agent models with an action mask (``com.alpyperl.connector.MaskedModel``) with
RLlib's action-masking RLModule, which never samples a masked action:

    from ray.rllib.algorithms.ppo import PPOConfig
    from alpyperl import rllib

    env_config = {"model": "examples/maintenance/build/model"}
    config = PPOConfig().environment(rllib.register_env(), env_config=env_config)
    config = rllib.action_masking(config)
    algo = rllib.build_algo(config)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..bridge import describe_model
from ..errors import ModelLoadError
from .multi_agent import _no_connectors

__all__ = ["action_masking"]


def action_masking(config, *, model_config: Mapping[str, Any] | None = None):
    """Returns ``config`` set up for a model with an action mask: RLlib's
    ``ActionMaskingTorchRLModule`` (it reads the observation ``{"action_mask", "observations"}``
    that such a model gives, and never samples a masked action), no observation flattening (the
    module reads the dict as it is), and no RLlib check of new environments (it steps them with
    random actions, which the mask may forbid and the environment then refuses).
    ``model_config`` is the module's ``model_config`` (e.g. ``{"fcnet_hiddens": [64, 64]}``).

    When ``env_config`` names a ``model`` and no ``attach``, one instance of it is created here to
    check that it has a mask: a model without one is refused with a :class:`~alpyperl.ModelLoadError`.
    """
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    env_config = dict(config.env_config or {})
    if env_config.get("model") is not None and not env_config.get("attach"):
        model = os.fspath(env_config["model"])
        described = describe_model(model, float(env_config.get("step_timeout", 60.0)))
        if described.get("agents") is not None:
            raise ModelLoadError(f"the model in {model} has several deciding agents (MultiAgentModel); set up its "
                                 "modules with rllib.multi_agent_modules(), which masks the types that have masks")
        if not described.get("action_mask"):
            raise ModelLoadError(f"the model in {model} has no action mask: its root does not implement "
                                 "com.alpyperl.connector.MaskedModel; train it without rllib.action_masking()")
    spec = RLModuleSpec(module_class=ActionMaskingTorchRLModule, model_config=dict(model_config or {}))
    return (config
            .environment(disable_env_checking=True)
            .rl_module(rl_module_spec=spec)
            .env_runners(env_to_module_connector=_no_connectors))
