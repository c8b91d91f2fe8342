"""Export a trained RLlib policy to ONNX, so that the Java model runs it without Python.

    alpyperl export --checkpoint runs/cartpole/ckpt --out cartpole.onnx
    python -m alpyperl.export --checkpoint runs/cartpole/ckpt --out cartpole.onnx

    from alpyperl.export import export_checkpoint
    export_checkpoint("runs/cartpole/ckpt", "cartpole.onnx")

The RLModule is loaded from an RLlib (new API stack) checkpoint, its inference forward pass is
written as an ONNX graph, and everything the Java side needs to turn the connector's flat
observation into the network's input and the network's output into an action is stored in the
file's metadata (JSON under the key ``alpyperl.policy``, see :func:`policy_metadata` and
docs/training.md). The graph's input ``obs`` is float32 ``[batch, input_size]`` (the batch
dimension is dynamic); its output ``action_dist_inputs`` is float32 ``[batch, output_size]``.

Then the file is verified (unless ``verify=False``): on ``samples`` observations drawn from the
observation space, onnxruntime's outputs must match the torch module's, the metadata's action
rules must give RLlib's own deterministic actions, and ``com.alpyperl.policy.OnnxPolicy``, run in
this process's JVM, must choose the same actions. A file that fails is not left behind.

Its parts: ``checkpoint`` (what an RLlib checkpoint holds), ``rl_module`` (exporting a module),
``graph`` (the traced ONNX graph), ``metadata`` (the file's rules for the Java side) and
``verify`` (the verification). The command line is :mod:`alpyperl.cli.export`.
"""

from .checkpoint import export_checkpoint
from .metadata import (
    FORMAT_VERSION,
    INPUT_NAME,
    METADATA_KEY,
    OUTPUT_NAME,
    action_layout,
    deterministic_actions,
    network_input,
    observation_layout,
    policy_metadata,
    read_metadata,
)
from .rl_module import export_module
from .verify import ACTION_TOLERANCE, OUTPUT_TOLERANCE, TIE_MARGIN, Verification, verify_export

__all__ = [
    "export_checkpoint",
    "export_module",
    "verify_export",
    "Verification",
    "policy_metadata",
    "observation_layout",
    "action_layout",
    "network_input",
    "deterministic_actions",
    "read_metadata",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "OUTPUT_TOLERANCE",
    "TIE_MARGIN",
    "ACTION_TOLERANCE",
]
