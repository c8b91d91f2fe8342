"""The ONNX graph of a torch RLModule's inference forward pass, traced and written with its metadata.

**Exporter.** The graph is written by PyTorch's TorchScript exporter
(``torch.onnx.export(..., dynamo=False)``), not by the default dynamo exporter of torch 2.13:
that one needs the ``onnxscript`` package (and its own dependencies) at export time, while the
TorchScript exporter is part of torch. RLlib's default policy networks (MLP encoders and heads)
are plain modules that trace exactly, and the TorchScript exporter emits the small set of
standard operators (Gemm, Tanh, Relu, Concat, ...) that the Java evaluator implements and that
its parity tests cover (tests/onnx/make_test_models.py exports the same way). Anything it cannot
trace faithfully is caught by the verification.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

from .metadata import INPUT_NAME, METADATA_KEY, OUTPUT_NAME

__all__ = ["inference_graph", "write_onnx", "masks_actions", "action_dist_inputs", "network_observation_space"]


def masks_actions(module) -> bool:
    """Whether ``module`` is an action-masking RLModule (RLlib's example: observations
    ``{"action_mask", "observations"}``); its export leaves the mask to the evaluator."""
    return callable(getattr(module, "_mask_action_logits", None))


def network_observation_space(module):
    """The observations ``module``'s network reads: its observation space, or for an action-masking
    module the ``"observations"`` part of it (the mask is not an input of the exported file)."""
    space = module.observation_space
    if masks_actions(module) and hasattr(space, "spaces") and "observations" in space.spaces:
        return space["observations"]
    return space


def action_dist_inputs(module, batch: dict):
    """The module's inference output for ``batch``; for an action-masking module the logits before
    the mask (its network alone: the exported file takes the observation, and Java applies the mask)."""
    if masks_actions(module):
        return module._forward(batch)["action_dist_inputs"]
    return module.forward_inference(batch)["action_dist_inputs"]


def inference_graph(module, observation_shape: tuple[int, ...]):
    """The ``torch.nn.Module`` that is exported: flat float32 observations in, the module's
    ``action_dist_inputs`` out (reshaped in the graph when the module takes another shape)."""
    import torch

    class InferenceGraph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = _batch_safe(module)

        def forward(self, obs):
            if len(observation_shape) != 1:
                obs = obs.reshape((-1,) + tuple(observation_shape))
            return action_dist_inputs(self.module, {"obs": obs})

    return InferenceGraph().eval()


def _batch_safe(module):
    """``module``, or a copy whose free-log-std policy head exports for any batch size.

    RLlib's ``TorchFreeLogStdMLPHead`` repeats its log-stds ``len(mean)`` times; the tracer
    records that length as the constant of the example batch, so the graph would only run at
    batch size 1. The copy's head computes the same values with a batch-size-independent expand.
    """
    import torch
    from ray.rllib.core.models.torch.heads import TorchFreeLogStdMLPHead

    if not isinstance(getattr(module, "pi", None), TorchFreeLogStdMLPHead):
        return module

    class BatchSafeFreeLogStdHead(torch.nn.Module):
        def __init__(self, head):
            super().__init__()
            self.head = head

        def forward(self, inputs):
            head = self.head
            mean = head.net(inputs)
            log_std = head.log_std
            if head.clip_log_std:
                log_std = torch.clamp(log_std, -head.log_std_clip_param_const, head.log_std_clip_param_const)
            return torch.cat([mean, log_std.expand(mean.shape[0], -1)], dim=1)

    safe = copy.deepcopy(module)
    safe.pi = BatchSafeFreeLogStdHead(safe.pi)
    return safe


def write_onnx(graph, input_size: int, metadata: dict, path: Path) -> None:
    """Exports ``graph`` with the TorchScript exporter and stores ``metadata`` in the file."""
    import onnx
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
        torch.onnx.export(graph, (torch.zeros(1, input_size),), str(path), dynamo=False, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    proto = onnx.load(str(path))
    onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(metadata)})
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
