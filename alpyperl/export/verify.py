"""Verifying an exported file against the trained policy: onnxruntime against torch, the
metadata's action rules against RLlib's, and the Java evaluator against Python.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from gymnasium import spaces

from .. import bridge
from ..errors import AlpyperlError, ExportError
from ..spaces import Codec, flat_size
from .graph import action_dist_inputs, network_observation_space
from .metadata import INPUT_NAME, OUTPUT_NAME, deterministic_actions, network_input, read_metadata

__all__ = ["OUTPUT_TOLERANCE", "TIE_MARGIN", "ACTION_TOLERANCE", "Verification", "verify_export"]

#: onnxruntime must match torch within this (absolute for outputs up to 1 in size, relative above).
OUTPUT_TOLERANCE = 1e-5
#: Observations where a categorical's two best logits are closer than this are not compared with Java.
TIE_MARGIN = 1e-4
#: Java's continuous actions must match Python's within this times the value's scale.
ACTION_TOLERANCE = 1e-4


@dataclass
class Verification:
    """What the verification of an exported file found."""

    samples: int
    max_abs_diff: float  # largest |onnxruntime - torch| over all outputs
    java_compared: int  # observations whose actions Java and Python compared
    java_skipped_ties: int  # observations skipped: a categorical's best two logits nearly tie
    java_max_diff: float  # largest |Java - Python| of a continuous action value (0 without any)

    def summary(self) -> str:
        return (f"verified on {self.samples} observations: onnxruntime matches torch (max |diff| "
                f"{self.max_abs_diff:.1e}); Java OnnxPolicy chose the same action for {self.java_compared} "
                f"(skipped {self.java_skipped_ties} near-ties; max continuous |diff| {self.java_max_diff:.1e})")


def verify_export(path: str | os.PathLike, module, observation_space: spaces.Space, action_space: spaces.Space, *,
                  normalize_actions: bool = True, removed_keys: Sequence[str] = (), samples: int = 2000,
                  seed: int = 0) -> Verification:
    """Checks the ONNX file ``path`` against the torch ``module``; raises :class:`~alpyperl.ExportError`.

    1. onnxruntime's outputs on the metadata's network inputs match the module's outputs on
       what RLlib feeds it (its own FlattenObservations code) within :data:`OUTPUT_TOLERANCE`;
    2. the metadata's action rules give RLlib's own deterministic actions (its distributions'
       ``to_deterministic``, then unsquashing and clipping);
    3. Java's ``OnnxPolicy``, loaded from the file in this process's JVM, chooses the same
       actions (near-ties of categoricals skipped and counted).

    Everything is read from the file itself (graph and metadata), so a file with wrong
    metadata fails.
    """
    import onnxruntime

    path = Path(path)
    metadata = read_metadata(path)
    if samples < 1:
        raise ExportError(f"samples must be at least 1, not {samples}")
    flat, module_input = _sample_observations(observation_space, samples, seed, removed_keys,
                                              tuple(network_observation_space(module).shape))
    expected = _torch_outputs(module, module_input)

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    try:
        inputs = network_input(metadata["observation_layout"], flat, metadata["input_size"])
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ExportError(f"the observation_layout in {path}'s metadata is malformed: {error!r}") from error
    try:
        got = session.run([OUTPUT_NAME], {INPUT_NAME: inputs})[0]
    except Exception as error:  # onnxruntime's own exception types
        raise ExportError(f"onnxruntime cannot evaluate the exported graph on a batch of {samples} observations "
                          f"(does it only work at batch size 1?): {error}") from error
    if got.shape != expected.shape:
        raise ExportError(f"onnxruntime's output has shape {got.shape}, torch's {expected.shape}")
    diff = np.abs(got.astype(np.float64) - expected)
    excess = diff - OUTPUT_TOLERANCE * np.maximum(1.0, np.abs(expected))
    if not np.isfinite(got).all() or (excess > 0).any():
        worst = int(np.unravel_index(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf)), excess.shape)[0])
        raise ExportError(
            f"the ONNX graph does not match the torch module: on observation {_observation_text(flat[worst])} "
            f"(sample {worst}) onnxruntime gives {got[worst].tolist()}, torch {expected[worst].tolist()} "
            f"(max |diff| {np.nanmax(diff[worst]):.3g}, allowed {OUTPUT_TOLERANCE:g} x max(1, |value|))")

    try:
        actions = deterministic_actions(metadata["action_layout"], expected)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ExportError(f"the action_layout in {path}'s metadata is malformed: {error!r}") from error
    _check_against_rllib(module, action_space, normalize_actions, expected, actions, metadata, flat)
    java_compared, skipped, java_diff = _check_java(path, metadata, flat, expected, actions)
    return Verification(samples, float(diff.max()), java_compared, skipped, java_diff)


def _sample_observations(space: spaces.Space, count: int, seed: int, removed_keys: Sequence[str],
                         module_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``count`` observations drawn from ``space``: their connector flat rows and what RLlib feeds the
    module (a Box observation as it is, in the module's shape; others through FlattenObservations)."""
    from ray.rllib.utils.numpy import flatten_inputs_to_1d_tensor
    from ray.rllib.utils.spaces.space_utils import get_base_struct_from_space

    space = copy.deepcopy(space)
    space.seed(seed)
    rows = np.zeros((count, flat_size(space)), dtype=np.float64)
    codecs = [Codec(space, row, what="observation") for row in rows]
    struct = get_base_struct_from_space(space)
    if removed_keys:
        struct = {key: value for key, value in struct.items() if key not in set(removed_keys)}
    module_rows = []
    for codec in codecs:
        observation = space.sample()
        codec.write(observation)
        if isinstance(space, spaces.Box):
            module_rows.append(np.asarray(observation, dtype=np.float32).reshape(module_shape))
        else:  # RLlib's FlattenObservations, exactly
            if removed_keys:
                observation = {key: value for key, value in observation.items() if key not in set(removed_keys)}
            module_rows.append(flatten_inputs_to_1d_tensor(observation, struct, batch_axis=False))
    return rows, np.stack(module_rows).astype(np.float32)


def _torch_outputs(module, module_input: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        output = action_dist_inputs(module, {"obs": torch.from_numpy(module_input)})
    return output.numpy().astype(np.float64)


def _check_against_rllib(module, action_space, normalize_actions, outputs, actions, metadata, flat) -> None:
    """The metadata's action rules must give what RLlib's module-to-env pipeline gives (deterministic)."""
    import torch
    import tree
    from ray.rllib.utils.spaces.space_utils import clip_action, get_base_struct_from_space, unsquash_action

    dist = module.get_inference_action_dist_cls().from_logits(torch.from_numpy(outputs.astype(np.float32)))
    sampled = tree.map_structure(lambda t: t.numpy(), dist.to_deterministic().sample())
    struct = get_base_struct_from_space(action_space)
    if normalize_actions:
        sampled = unsquash_action(sampled, struct)
    sampled = clip_action(sampled, struct)
    rllib_flat = np.zeros((len(outputs), flat_size(action_space)), dtype=np.float64)
    _write_unchecked(action_space, sampled, rllib_flat)
    # RLlib's categoricals give 0..n-1 whatever the space's start; the exported policy adds start.
    rllib_flat += _categorical_starts(action_space)
    if actions.shape != rllib_flat.shape:
        raise ExportError(f"the metadata's action layout gives {actions.shape[1]} action values, the action space "
                          f"{action_space} has {rllib_flat.shape[1]}")
    scale = np.maximum(1.0, np.abs(rllib_flat))
    bad = (np.abs(actions - rllib_flat) > 1e-5 * scale).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ExportError(f"the metadata's action rules do not reproduce RLlib's deterministic action: on observation "
                          f"{_observation_text(flat[row])} they give {actions[row].tolist()}, RLlib "
                          f"{rllib_flat[row].tolist()}")


def _categorical_starts(space: spaces.Space) -> np.ndarray:
    """The ``start`` of every Discrete/MultiDiscrete value in the flat action row (0 elsewhere)."""
    if isinstance(space, spaces.Discrete):
        return np.array([float(space.start)])
    if isinstance(space, spaces.MultiDiscrete):
        return space.start.ravel().astype(np.float64)
    if isinstance(space, spaces.Tuple):
        return np.concatenate([_categorical_starts(part) for part in space.spaces] or [np.zeros(0)])
    if isinstance(space, spaces.Dict):
        return np.concatenate([_categorical_starts(part) for part in space.spaces.values()] or [np.zeros(0)])
    return np.zeros(flat_size(space))


def _write_unchecked(space: spaces.Space, value: Any, rows: np.ndarray) -> None:
    """Writes a batch of actions (as RLlib structures them) into flat rows, in the connector's order."""
    at = 0
    if isinstance(space, spaces.Tuple):
        for index, part in enumerate(space.spaces):
            _write_unchecked(part, value[index], rows[:, at:at + flat_size(part)])
            at += flat_size(part)
    elif isinstance(space, spaces.Dict):
        for key, part in space.spaces.items():
            _write_unchecked(part, value[key], rows[:, at:at + flat_size(part)])
            at += flat_size(part)
    else:
        rows[...] = np.asarray(value, dtype=np.float64).reshape(rows.shape)


def _check_java(path: Path, metadata: dict, flat: np.ndarray, outputs: np.ndarray,
                actions: np.ndarray) -> tuple[int, int, float]:
    """Runs ``com.alpyperl.policy.OnnxPolicy`` on every observation; returns (compared, skipped, max diff)."""
    import onnx

    try:
        supported = bridge.onnx_operators()
    except AlpyperlError as error:  # alpyperl's jars lack the evaluator
        raise ExportError(f"{error}; the export cannot be verified in Java") from error
    used = {node.op_type for node in onnx.load(str(path)).graph.node}
    unsupported = sorted(used - supported)
    if unsupported:
        raise ExportError(f"the exported graph uses operators the Java evaluator does not implement: "
                          f"{', '.join(unsupported)} (a network other than RLlib's default MLPs?)")
    try:
        policy = bridge.JavaOnnxPolicy(path)
    except bridge.JavaError as error:
        raise ExportError(f"Java's OnnxPolicy refuses the exported file: {error}") from error

    ties = _near_ties(metadata["action_layout"], outputs)
    scale = _action_scales(metadata["action_layout"], actions)
    compared, max_diff = 0, 0.0
    continuous = _continuous_columns(metadata["action_layout"])
    for row in range(len(flat)):
        if ties[row]:
            continue
        try:
            java_action = policy.act(flat[row])
        except bridge.JavaError as error:
            raise ExportError(f"Java's OnnxPolicy failed on observation {_observation_text(flat[row])}: "
                              f"{error}") from error
        expected = actions[row]
        diff = np.abs(java_action - expected) if java_action.shape == expected.shape else None
        if diff is None or (diff[~continuous] != 0).any() or (diff[continuous] > ACTION_TOLERANCE * scale[row][continuous]).any():
            raise ExportError(f"Java's OnnxPolicy chooses another action than the torch module: on observation "
                              f"{_observation_text(flat[row])} Java gives {java_action.tolist()}, Python "
                              f"{expected.tolist()}")
        if continuous.any():
            max_diff = max(max_diff, float(diff[continuous].max()))
        compared += 1
    return compared, int(ties.sum()), max_diff


def _near_ties(layout: Sequence[dict], outputs: np.ndarray) -> np.ndarray:
    """Per observation: whether some categorical's two best logits differ by less than :data:`TIE_MARGIN`."""
    ties = np.zeros(len(outputs), dtype=bool)
    for entry in layout:
        if entry["kind"] == "categorical" and entry["n"] > 1:
            best_two = np.sort(outputs[:, entry["from"]:entry["from"] + entry["n"]], axis=1)[:, -2:]
            ties |= (best_two[:, 1] - best_two[:, 0]) < TIE_MARGIN
    return ties


def _continuous_columns(layout: Sequence[dict]) -> np.ndarray:
    """Which flat action columns hold continuous (Gaussian) values."""
    return np.array([entry["kind"] == "gaussian" for entry in layout for _ in range(entry.get("size", 1))], dtype=bool)


def _action_scales(layout: Sequence[dict], actions: np.ndarray) -> np.ndarray:
    """The scale of each flat action value for the Java comparison: max(1, |value|, half the bounds' width)."""
    widths = []
    for entry in layout:
        if entry["kind"] == "gaussian":
            width = (np.asarray(entry["high"]) - np.asarray(entry["low"])) / 2.0
            widths.append(np.where(np.isfinite(width) & entry["normalized"], width, 0.0))
        else:
            widths.append(np.zeros(1))
    width = np.concatenate(widths) if widths else np.zeros(0)
    return np.maximum(np.maximum(1.0, np.abs(actions)), width)


def _observation_text(row: np.ndarray) -> str:
    values = ", ".join(f"{value:.6g}" for value in row)
    return f"[{values}]" if len(row) <= 40 else f"[{values[:400]}, ...] ({len(row)} values)"
