"""The metadata of an exported policy file: how the Java evaluator turns the connector's flat
observation into the network's input, and the network's output into an action (docs/training.md).
"""

from __future__ import annotations

import io
import json
import os
from typing import Sequence

import numpy as np
from gymnasium import spaces

from ..errors import ExportError
from ..spaces import describe, flat_size

__all__ = [
    "FORMAT_VERSION",
    "METADATA_KEY",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "observation_layout",
    "action_layout",
    "policy_metadata",
    "network_input",
    "deterministic_actions",
    "read_metadata",
]

#: Version of the metadata format (``format_version``); the Java side refuses other versions.
FORMAT_VERSION = 1
#: The ``metadata_props`` key that holds the metadata JSON.
METADATA_KEY = "alpyperl.policy"
INPUT_NAME = "obs"
OUTPUT_NAME = "action_dist_inputs"


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
        "observation_space": describe(observation_space),
        "action_space": describe(action_space),
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


#: Each field of an ONNX ModelProto (onnx.proto) with its protobuf wire type (0 varint, 2 length-delimited).
#: Protobuf writes fields in any order, so any of them may come first; exporters start with ir_version (0x08).
_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}


def check_onnx_start(path: str | os.PathLike) -> None:
    """Raises :class:`ExportError` unless the file starts with the key of an ONNX ModelProto field:
    a cheap check (five bytes) before a large file that cannot be a model is read whole. The Java
    evaluator makes the same check (``OnnxParser.checkStart``)."""
    with open(path, "rb") as file:
        head = file.read(5)
    key = 0
    for i, byte in enumerate(head):
        key |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            if _MODEL_FIELDS.get(key >> 3) == key & 7:
                return
            break
    if not head:
        raise ExportError(f"{path}: not an ONNX model: the file is empty")
    raise ExportError(f"{path}: not an ONNX model: it starts with the bytes {head.hex(' ')}, which are not the key "
                      "of any ONNX ModelProto field (an exported model starts with 08, the key of ir_version)")


def read_metadata(path: str | os.PathLike) -> dict:
    """The ``alpyperl.policy`` metadata of an exported ONNX file; :class:`ExportError` if the file is
    no ONNX model (refused by its first bytes, before it is read) or has no such metadata.

    Only the metadata is read: the file's top-level protobuf fields are walked key by key, and the
    others (above all the graph with its weights) are skipped without being read.
    """
    check_onnx_start(path)
    props = {}
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        while file.tell() < size:
            field, wire_type = _split_key(_read_varint(file, path))
            if wire_type == 0:
                _read_varint(file, path)
            elif wire_type in (1, 5):  # fixed64, fixed32
                _skip(file, 8 if wire_type == 1 else 4, size, path)
            elif wire_type == 2:
                length = _read_varint(file, path)
                if field == _METADATA_PROPS:
                    key, value = _string_entry(_read_exactly(file, length, size, path), path)
                    props[key] = value
                else:
                    _skip(file, length, size, path)
            else:
                raise ExportError(f"{path}: not an ONNX model: its field {field} at byte {file.tell()} has the "
                                  f"protobuf wire type {wire_type}, which no ModelProto field has")
    if METADATA_KEY not in props:
        raise ExportError(f"{path} has no {METADATA_KEY!r} metadata: it was not written by alpyperl's export")
    try:
        return json.loads(props[METADATA_KEY])
    except ValueError as error:
        raise ExportError(f"{path}: its {METADATA_KEY!r} metadata is not JSON ({error})") from None


#: ModelProto's field ``repeated StringStringEntryProto metadata_props = 14`` (onnx.proto).
_METADATA_PROPS = 14


def _split_key(key: int) -> tuple[int, int]:
    """(field number, wire type) of a protobuf key."""
    return key >> 3, key & 7


def _read_varint(file, path) -> int:
    """A protobuf varint read from ``file``; :class:`ExportError` if the file ends inside it."""
    value = shift = 0
    while True:
        byte = file.read(1)
        if not byte:
            raise ExportError(f"{path}: not a whole ONNX model: the file ends inside a protobuf field")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
        if shift > 63:
            raise ExportError(f"{path}: not an ONNX model: a protobuf number at byte {file.tell()} is longer "
                              "than 10 bytes")


def _skip(file, length: int, size: int, path) -> None:
    """Skips ``length`` bytes without reading them; :class:`ExportError` if the file is shorter."""
    if file.tell() + length > size:
        raise ExportError(f"{path}: not a whole ONNX model: a field of {length:,} bytes runs past the end of the file")
    file.seek(length, os.SEEK_CUR)


def _read_exactly(file, length: int, size: int, path) -> bytes:
    """The next ``length`` bytes; :class:`ExportError` if the file (of ``size`` bytes) is shorter."""
    if file.tell() + length > size:
        raise ExportError(f"{path}: not a whole ONNX model: a field of {length:,} bytes runs past the end of the file")
    return file.read(length)


def _string_entry(data: bytes, path) -> tuple[str, str]:
    """The key and value of a serialized ``StringStringEntryProto`` (fields 1 and 2, both strings)."""
    entry, strings = io.BytesIO(data), {1: "", 2: ""}
    while entry.tell() < len(data):
        field, wire_type = _split_key(_read_varint(entry, path))
        if wire_type != 2:
            raise ExportError(f"{path}: not an ONNX model: a metadata entry's field {field} is not a string")
        text = _read_exactly(entry, _read_varint(entry, path), len(data), path)
        if field in strings:
            try:
                strings[field] = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ExportError(f"{path}: not an ONNX model: a metadata entry is not UTF-8 text") from None
    return strings[1], strings[2]
