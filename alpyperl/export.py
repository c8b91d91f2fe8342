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

import argparse
import copy
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from gymnasium import spaces

from .errors import AlpyperlError, ExportError
from .spaces import Codec, _describe, flat_size

#: Version of the metadata format (``format_version``); the Java side refuses other versions.
FORMAT_VERSION = 1
#: The ``metadata_props`` key that holds the metadata JSON.
METADATA_KEY = "alpyperl.policy"
INPUT_NAME = "obs"
OUTPUT_NAME = "action_dist_inputs"

#: onnxruntime must match torch within this (absolute for outputs up to 1 in size, relative above).
OUTPUT_TOLERANCE = 1e-5
#: Observations where a categorical's two best logits are closer than this are not compared with Java.
TIE_MARGIN = 1e-4
#: Java's continuous actions must match Python's within this times the value's scale.
ACTION_TOLERANCE = 1e-4

#: Env-to-module connector pieces that do not change observations (batching, tensors, time rank).
_NEUTRAL_ENV_TO_MODULE = {
    "AddObservationsFromEpisodesToBatch", "AddTimeDimToBatchAndZeroPad", "AddStatesFromEpisodesToBatch",
    "BatchIndividualItems", "NumpyToTensor",
}
#: Module-to-env connector pieces whose effect on the deterministic action the metadata describes.
_KNOWN_MODULE_TO_ENV = {
    "GetActions", "TensorToNumpy", "UnBatchToIndividualItems", "RemoveSingleTsTimeRankFromBatch",
    "NormalizeAndClipActions", "ListifyDataForVectorEnv",
}


# ---- layouts --------------------------------------------------------------------------------


class _Leaf:
    """A non-composite part of a space and where its values start in the connector's flat row.

    An object (not a tuple), so that ``tree.flatten`` treats it as one leaf.
    """

    def __init__(self, space: spaces.Space, at: int, path: str):
        self.space, self.at, self.path = space, at, path


def _leaves(space: spaces.Space, removed_keys: Sequence[str] = ()) -> list[_Leaf]:
    """The leaves of ``space`` in RLlib's order (dm-tree's: dict keys sorted), each with its
    offset in the connector's flat order (the space's own order). ``removed_keys`` are top-level
    Dict keys that RLlib's FlattenObservations drops."""
    import tree  # dm-tree, RLlib's dependency: the exact order RLlib flattens structures in

    def struct(part: spaces.Space, at: int, path: str):
        if isinstance(part, spaces.Tuple):
            items = []
            for index, sub in enumerate(part.spaces):
                items.append(struct(sub, at, f"{path}[{index}]"))
                at += flat_size(sub)
            return tuple(items)
        if isinstance(part, spaces.Dict):
            items = {}
            for key, sub in part.spaces.items():
                items[key] = struct(sub, at, f"{path}[{key!r}]")
                at += flat_size(sub)
            return items
        return _Leaf(part, at, path or "the space")

    root = struct(space, 0, "")
    if removed_keys:
        if not isinstance(root, dict):
            raise ExportError(f"FlattenObservations removes the keys {list(removed_keys)}, but the observation "
                              f"space {space} is not a Dict")
        root = {key: value for key, value in root.items() if key not in set(removed_keys)}
    return tree.flatten(root)


def observation_layout(space: spaces.Space, removed_keys: Sequence[str] = ()) -> tuple[list[dict], int]:
    """How the network input is built from the connector's flat observation: (layout, input size).

    A Box observation is copied as it is. Any other space needs RLlib's FlattenObservations
    connector, and the layout reproduces what that connector feeds the module: its leaves in
    RLlib's order (Dict keys sorted), Box and MultiBinary values copied (row-major), Discrete
    and every MultiDiscrete entry one-hot.
    """
    layout: list[dict] = []
    size = 0
    leaves = [_Leaf(space, 0, "the space")] if isinstance(space, spaces.Box) else _leaves(space, removed_keys)
    for leaf in leaves:
        part = leaf.space
        if isinstance(part, (spaces.Box, spaces.MultiBinary)):
            count = flat_size(part)
            if layout and "size" in layout[-1] and layout[-1]["from"] + layout[-1]["size"] == leaf.at:
                layout[-1]["size"] += count  # continues the previous copy
            else:
                layout.append({"from": leaf.at, "size": count})
            size += count
        elif isinstance(part, (spaces.Discrete, spaces.MultiDiscrete)):
            counts = [int(part.n)] if isinstance(part, spaces.Discrete) else [int(n) for n in part.nvec.ravel()]
            starts = np.atleast_1d(np.asarray(part.start)).ravel()
            if (starts != 0).any():
                raise ExportError(
                    f"the observation part {leaf.path} ({part}) has a start other than 0: RLlib's FlattenObservations "
                    "one-hot encodes the raw value and ignores the start, so such a policy cannot be reproduced; "
                    "define the space with start=0")
            for index, count in enumerate(counts):
                layout.append({"from": leaf.at + index, "one_hot": count, "start": 0})
                size += count
        else:
            raise ExportError(f"the observation part {leaf.path} ({part}) is not supported")
    return layout, size


def action_layout(space: spaces.Space, normalize_actions: bool = True) -> tuple[list[dict], int]:
    """How the network output becomes the connector's flat action: (layout, output size).

    One entry per action part in the connector's flat order; ``from`` follows RLlib's output
    order (its distributions' inputs side by side, leaves in dm-tree order: Dict keys sorted).
    Discrete: one categorical; MultiDiscrete: one categorical per entry; Box: one diagonal
    Gaussian (mean, then log-std), ``normalized`` when RLlib unsquashes it (``normalize_actions``
    and finite float bounds).
    """
    leaves = _leaves(space)
    offsets: dict[int, int] = {}  # id(leaf) -> its first output
    at = 0
    for leaf in leaves:  # RLlib's order
        offsets[id(leaf)] = at
        at += _output_size(leaf)
    layout: list[dict] = []
    for leaf in sorted(leaves, key=lambda leaf: leaf.at):  # the connector's order
        part, start = leaf.space, offsets[id(leaf)]
        if isinstance(part, spaces.Discrete):
            layout.append({"kind": "categorical", "from": start, "n": int(part.n), "start": int(part.start)})
        elif isinstance(part, spaces.MultiDiscrete):
            for n, first in zip(part.nvec.ravel(), part.start.ravel()):
                layout.append({"kind": "categorical", "from": start, "n": int(n), "start": int(first)})
                start += int(n)
        else:  # Box: checked by _output_size
            low = np.asarray(part.low, dtype=np.float64).ravel()
            high = np.asarray(part.high, dtype=np.float64).ravel()
            normalized = bool(normalize_actions and np.isfinite(low).all() and np.isfinite(high).all())
            layout.append({"kind": "gaussian", "from": start, "size": int(low.size), "low": low.tolist(),
                           "high": high.tolist(), "normalized": normalized})
    return layout, at


def _output_size(leaf: _Leaf) -> int:
    """How many network outputs RLlib's default distribution of this action part takes."""
    part = leaf.space
    if isinstance(part, spaces.Discrete):
        return int(part.n)
    if isinstance(part, spaces.MultiDiscrete):
        if part.nvec.ndim != 1:
            raise ExportError(f"the action part {leaf.path} ({part}) is a multi-dimensional MultiDiscrete; "
                              "only one-dimensional ones are supported")
        return int(part.nvec.sum())
    if isinstance(part, spaces.Box):
        if not np.issubdtype(part.dtype, np.floating):
            raise ExportError(f"the action part {leaf.path} ({part}) is an integer Box, which RLlib does not "
                              "support; use MultiDiscrete")
        return 2 * flat_size(part)
    raise ExportError(
        f"the action part {leaf.path} ({part}) is not supported: RLlib's default catalog has no categorical or "
        "diagonal-Gaussian distribution for it (supported: Discrete, MultiDiscrete, float Box, and Tuple/Dict of them)")


def policy_metadata(observation_space: spaces.Space, action_space: spaces.Space, *,
                    normalize_actions: bool = True, removed_keys: Sequence[str] = ()) -> dict:
    """The metadata (format version 1) that the Java ``OnnxPolicy`` reads; see docs/training.md."""
    obs_layout, input_size = observation_layout(observation_space, removed_keys)
    act_layout, output_size = action_layout(action_space, normalize_actions)
    return {
        "format_version": FORMAT_VERSION,
        "observation_space": _describe(observation_space),
        "action_space": _describe(action_space),
        "input": INPUT_NAME,
        "input_size": input_size,
        "output": OUTPUT_NAME,
        "output_size": output_size,
        "observation_layout": obs_layout,
        "action_layout": act_layout,
    }


def network_input(layout: Sequence[dict], flat: np.ndarray, input_size: int) -> np.ndarray:
    """The network input for a batch of flat observations (``[n, obs size]``), by the metadata's rules."""
    flat = np.asarray(flat, dtype=np.float64)
    out = np.zeros((flat.shape[0], input_size), dtype=np.float32)
    at = 0
    for entry in layout:
        begin = entry["from"]
        if "one_hot" in entry:
            n = entry["one_hot"]
            index = flat[:, begin].astype(np.int64) - entry["start"]
            if ((index < 0) | (index >= n)).any():
                raise ValueError(f"a one-hot value at {begin} is outside 0..{n - 1} (after start {entry['start']})")
            out[np.arange(len(flat)), at + index] = 1.0
            at += n
        else:
            out[:, at:at + entry["size"]] = flat[:, begin:begin + entry["size"]]
            at += entry["size"]
    if at != input_size:
        raise ValueError(f"the observation layout fills {at} inputs, not {input_size}")
    return out


def deterministic_actions(layout: Sequence[dict], outputs: np.ndarray) -> np.ndarray:
    """The flat actions (``[n, action size]``, float64) for a batch of network outputs, by the
    metadata's rules: ``start + argmax`` (ties: lowest index) per categorical; per Gaussian the
    mean, unsquashed from [-1, 1] to the bounds when ``normalized``, then clipped to the bounds."""
    outputs = np.asarray(outputs, dtype=np.float64)
    columns = []
    for entry in layout:
        begin = entry["from"]
        if entry["kind"] == "categorical":
            logits = outputs[:, begin:begin + entry["n"]]
            columns.append((entry["start"] + logits.argmax(axis=1))[:, None].astype(np.float64))
        else:
            low, high = np.asarray(entry["low"], np.float64), np.asarray(entry["high"], np.float64)
            action = outputs[:, begin:begin + entry["size"]]
            if entry["normalized"]:
                action = low + (action + 1.0) * (high - low) / 2.0
            columns.append(np.clip(action, low, high))
    return np.concatenate(columns, axis=1) if columns else np.zeros((len(outputs), 0))


# ---- the exported graph ---------------------------------------------------------------------


def _inference_graph(module, observation_shape: tuple[int, ...]):
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
            return self.module.forward_inference({"obs": obs})["action_dist_inputs"]

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


def _write_onnx(graph, input_size: int, metadata: dict, path: Path) -> None:
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


# ---- export ---------------------------------------------------------------------------------


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
    module_shape = tuple(int(d) for d in module.observation_space.shape)
    if math.prod(module_shape) != metadata["input_size"]:
        raise ExportError(
            f"the module takes observations of shape {module_shape} ({math.prod(module_shape)} values), but the "
            f"observation space {observation_space} gives {metadata['input_size']} network inputs"
            + ("" if isinstance(observation_space, spaces.Box) else " after RLlib's FlattenObservations")
            + ": is it the environment's observation space?")
    module.eval()
    graph = _inference_graph(module, module_shape)
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
        _write_onnx(graph, metadata["input_size"], metadata, partial)
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
    if not isinstance(module.observation_space, spaces.Box):
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


# ---- verification ---------------------------------------------------------------------------


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
                                              tuple(module.observation_space.shape))
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


def read_metadata(path: str | os.PathLike) -> dict:
    """The ``alpyperl.policy`` metadata of an exported ONNX file."""
    import onnx

    props = {prop.key: prop.value for prop in onnx.load(str(path)).metadata_props}
    if METADATA_KEY not in props:
        raise ExportError(f"{path} has no {METADATA_KEY!r} metadata: it was not written by alpyperl's export")
    return json.loads(props[METADATA_KEY])


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
        output = module.forward_inference({"obs": torch.from_numpy(module_input)})["action_dist_inputs"]
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
    import jpype

    from . import jvm

    jvm.start_jvm()
    onnx_model = jpype.JClass("com.alpyperl.policy.OnnxModel")
    try:
        policy_class = jpype.JClass("com.alpyperl.policy.OnnxPolicy")
    except TypeError as error:  # JPype: class not found
        raise ExportError("the Java class com.alpyperl.policy.OnnxPolicy is missing from alpyperl's jars "
                          "(rebuild them with `gradle build`); the export cannot be verified in Java") from error
    import onnx

    used = {node.op_type for node in onnx.load(str(path)).graph.node}
    unsupported = sorted(used - {str(name) for name in onnx_model.supportedOperators()})
    if unsupported:
        raise ExportError(f"the exported graph uses operators the Java evaluator does not implement: "
                          f"{', '.join(unsupported)} (a network other than RLlib's default MLPs?)")
    paths = jpype.JClass("java.nio.file.Paths")
    try:
        policy = policy_class.load(paths.get(str(path)))
    except jpype.JException as error:
        raise ExportError(f"Java's OnnxPolicy refuses the exported file: {error}") from error

    ties = _near_ties(metadata["action_layout"], outputs)
    scale = _action_scales(metadata["action_layout"], actions)
    double_array = jpype.JArray(jpype.JDouble)
    compared, max_diff = 0, 0.0
    continuous = _continuous_columns(metadata["action_layout"])
    for row in range(len(flat)):
        if ties[row]:
            continue
        try:
            java_action = np.asarray(policy.act(double_array(flat[row])), dtype=np.float64)
        except jpype.JException as error:
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


# ---- checkpoints ----------------------------------------------------------------------------


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


def _module_dir(root: Path, module_id: str) -> Path:
    if not root.is_dir():
        raise ExportError(f"the checkpoint folder {root} does not exist")
    modules = root / "learner_group" / "learner" / "rl_module"
    if not modules.is_dir():
        raise ExportError(f"{root} is not an RLlib (new API stack) algorithm checkpoint: {modules} is missing "
                          "(save one with algo.save(folder))")
    module_dir = modules / module_id
    if not module_dir.is_dir():
        found = sorted(entry.name for entry in modules.iterdir() if entry.is_dir())
        raise ExportError(f"the checkpoint has no RLModule {module_id!r}; it has {found} (choose one with --module-id)")
    return module_dir


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
        if observation_space is None:
            settings["observation_space"] = pipeline.input_observation_space
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


# ---- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``alpyperl export``: exports an RLlib checkpoint's policy to ONNX; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="alpyperl export",
        description="Export a trained RLlib policy (checkpoint) to an ONNX file that the Java model runs "
                    "without Python, and verify it against the torch policy and the Java evaluator.")
    parser.add_argument("--checkpoint", required=True, type=Path, help="the RLlib checkpoint folder (algo.save)")
    parser.add_argument("--out", required=True, type=Path, help="the ONNX file to write, e.g. policy.onnx")
    parser.add_argument("--module-id", default="default_policy", help="the RLModule to export (default: default_policy)")
    parser.add_argument("--no-verify", action="store_true", help="skip the verification (not recommended)")
    parser.add_argument("--samples", type=int, default=2000, help="observations to verify on (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the verification's observations (default 0)")
    parser.add_argument("--observation-space-json", default=None,
                        help="the environment's observation space as the connector's JSON (only for checkpoints "
                             "without it)")
    args = parser.parse_args(argv)
    observation_space = None
    if args.observation_space_json is not None:
        from .spaces import space_from_json

        try:
            observation_space = space_from_json(args.observation_space_json)
        except (ValueError, KeyError, TypeError) as error:
            parser.error(f"--observation-space-json is not a space's JSON form ({error!r}); e.g. "
                         '\'{"type": "Box", "shape": [4], "low": [-1, -1, -1, -1], "high": [1, 1, 1, 1]}\'')
    start = time.perf_counter()
    try:
        export_checkpoint(args.checkpoint, args.out, module_id=args.module_id, observation_space=observation_space,
                          verify=not args.no_verify, samples=args.samples, seed=args.seed)
    except AlpyperlError as error:  # ExportError, or a space the connector cannot describe
        print(f"alpyperl export: error: {error}", file=sys.stderr)
        return 1
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
