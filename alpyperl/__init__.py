"""ALPypeRL: reinforcement learning on AnyLogic and Java simulation models, in one process.

>>> from alpyperl import AnyLogicEnv
>>> env = AnyLogicEnv("examples/cartpole/build/model")
>>> observation, info = env.reset(seed=7)

Importing alpyperl registers the Gymnasium id ``alpyperl/AnyLogic-v0``:
``gymnasium.make("alpyperl/AnyLogic-v0", model=...)`` makes an :class:`AnyLogicEnv`, and
``gymnasium.make_vec("alpyperl/AnyLogic-v0", num_envs=8, model=...)`` an
:class:`AnyLogicVectorEnv` (its ``vector_entry_point``), both with the settings as keywords.
"""

from pathlib import Path as _Path

import gymnasium as _gymnasium

from .env import AnyLogicEnv
from .vector_env import AnyLogicVectorEnv
from .multi_agent import AnyLogicMultiAgentEnv
from .alpyperl1 import BaseAnyLogicEnv, create_custom_env
from .errors import (
    AlpyperlError,
    ConnectorVersionWarning,
    DebuggerError,
    ExportError,
    JavaNotFoundError,
    ModelError,
    ModelLoadError,
    ModelTimeoutError,
    RecordingError,
    ResetNeeded,
    SpaceDefinitionError,
)

#: The Gymnasium id of an environment over any model (``model=`` names its folder).
GYMNASIUM_ID = "alpyperl/AnyLogic-v0"
if GYMNASIUM_ID not in _gymnasium.registry:
    _gymnasium.register(id=GYMNASIUM_ID, entry_point="alpyperl.env:AnyLogicEnv",
                        vector_entry_point="alpyperl.vector_env:AnyLogicVectorEnv")

#: This alpyperl's version (PEP 440), also stamped into its jars' manifests; kept in the file VERSION.
__version__ = (_Path(__file__).with_name("VERSION")).read_text(encoding="ascii").strip()

__all__ = [
    "GYMNASIUM_ID",
    "AnyLogicEnv",
    "AnyLogicVectorEnv",
    "AnyLogicMultiAgentEnv",
    "BaseAnyLogicEnv",
    "create_custom_env",
    "AlpyperlError",
    "ConnectorVersionWarning",
    "DebuggerError",
    "ExportError",
    "JavaNotFoundError",
    "ModelError",
    "ModelLoadError",
    "ModelTimeoutError",
    "RecordingError",
    "ResetNeeded",
    "SpaceDefinitionError",
]
