"""ALPypeRL: reinforcement learning on AnyLogic and Java simulation models, in one process.

>>> from alpyperl import AnyLogicEnv
>>> env = AnyLogicEnv("examples/cartpole/build/model")
>>> observation, info = env.reset(seed=7)
"""

from .env import AnyLogicEnv
from .vector_env import AnyLogicVectorEnv
from .alpyperl1 import BaseAnyLogicEnv, create_custom_env
from .errors import (
    AlpyperlError,
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

__version__ = "2.0.0.dev0"

__all__ = [
    "AnyLogicEnv",
    "AnyLogicVectorEnv",
    "BaseAnyLogicEnv",
    "create_custom_env",
    "AlpyperlError",
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
