"""Exporting a torch RLModule to an ONNX file: checked, written, verified, then renamed into place."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Sequence

from gymnasium import spaces

from ..errors import ExportError
from .graph import inference_graph, network_observation_space, write_onnx
from .metadata import INPUT_NAME, OUTPUT_NAME, policy_metadata
from .verify import verify_export

__all__ = ["export_module"]


def export_module(module, out: str | os.PathLike, *, observation_space: spaces.Space, action_space: spaces.Space,
                  normalize_actions: bool = True, removed_keys: Sequence[str] = (), verify: bool = True,
                  samples: int = 2000, seed: int = 0, log: Callable[[str], None] | None = print) -> Path:
    """Exports a torch RLModule's inference forward pass to the ONNX file ``out``; returns its path.

    Args:
        module: the RLModule (a ``TorchRLModule``, e.g. RLlib's default PPO module), built for
            the observations RLlib feeds it (a Box; for other spaces the Box that
            FlattenObservations makes of them).
        observation_space, action_space: the environment's spaces (what the Java model's
            connector declares); the observation is flattened like FlattenObservations does
            unless it is a Box.
        normalize_actions: RLlib's ``normalize_actions`` setting (its default is True).
        removed_keys: top-level Dict keys that FlattenObservations was told to drop.
        verify, samples, seed: check the file on ``samples`` observations drawn from
            ``observation_space`` (seeded with ``seed``) against the torch module, RLlib's
            actions and Java's ``OnnxPolicy``; raise :class:`~alpyperl.ExportError` if it differs.
        log: where progress and the summary go (``None``: nowhere).

    The file is written next to ``out`` under a temporary name and renamed only when it passed
    verification, so a failed export leaves no file (and an older ``out`` untouched).
    """
    say = log or (lambda message: None)
    out = Path(out)
    _check_module(module)
    metadata = policy_metadata(observation_space, action_space, normalize_actions=normalize_actions,
                               removed_keys=removed_keys)
    module_shape = tuple(int(d) for d in network_observation_space(module).shape)
    if math.prod(module_shape) != metadata["input_size"]:
        raise ExportError(
            f"the module takes observations of shape {module_shape} ({math.prod(module_shape)} values), but the "
            f"observation space {observation_space} gives {metadata['input_size']} network inputs"
            + ("" if isinstance(observation_space, spaces.Box) else " after RLlib's FlattenObservations")
            + ": is it the environment's observation space?")
    module.eval()
    graph = inference_graph(module, module_shape)
    output_size = _probe_output_size(graph, metadata["input_size"])
    if output_size != metadata["output_size"]:
        raise ExportError(f"the module outputs {output_size} action-distribution inputs, but RLlib's default "
                          f"distribution for the action space {action_space} takes {metadata['output_size']}: a custom "
                          "action distribution or another action space cannot be exported")
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: the folder {out.parent} does not exist")
    partial = out.with_name(out.name + ".partial")
    try:
        say(f"Exporting the policy to {out} (input {INPUT_NAME} [batch, {metadata['input_size']}], "
            f"output {OUTPUT_NAME} [batch, {output_size}])")
        write_onnx(graph, metadata["input_size"], metadata, partial)
        if verify:
            report = verify_export(partial, module, observation_space, action_space,
                                   normalize_actions=normalize_actions, removed_keys=removed_keys, samples=samples,
                                   seed=seed)
            say(report.summary())
        else:
            say("Not verified (verify=False): neither the outputs nor the Java evaluator were checked")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    say(f"Wrote {out}")
    return out


def _check_module(module) -> None:
    from ray.rllib.core.rl_module.torch import TorchRLModule

    if not isinstance(module, TorchRLModule):
        raise ExportError(f"{type(module).__name__} is not a torch RLModule; only torch modules can be exported "
                          "(config.framework('torch'), RLlib's default)")
    if module.is_stateful():
        raise ExportError(f"{type(module).__name__} is stateful (a recurrent network, e.g. use_lstm=True); "
                          "only stateless policies can be exported")
    if not isinstance(network_observation_space(module), spaces.Box):
        raise ExportError(f"the module's observation space is {module.observation_space}, not a Box: without "
                          "RLlib's FlattenObservations connector the default networks cannot read it")


def _probe_output_size(graph, input_size: int) -> int:
    import torch

    with torch.no_grad():
        output = graph(torch.zeros(2, input_size))
    if output.ndim != 2 or output.shape[0] != 2:
        raise ExportError(f"the module's action_dist_inputs have shape {tuple(output.shape)} for a batch of 2 "
                          "observations; expected [batch, outputs]")
    return int(output.shape[1])
