"""Gymnasium spaces <-> the connector's spaces, and their flat layout.

Values cross between Python and Java as a flat row of float64 numbers: one for ``Discrete``,
every element of a ``Box`` in row-major order, one per entry of ``MultiDiscrete`` and
``MultiBinary``, and the parts of a ``Tuple`` or ``Dict`` one after another in their order.
A :class:`Codec` writes actions into that row (checking them against the space) and reads
observations out of it.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

import numpy as np
from gymnasium import spaces

from .errors import SpaceDefinitionError

# ---- JSON form (the connector's Space.toJson / Space.fromJson) ---------------------------------


def space_to_json(space: spaces.Space) -> str:
    """The JSON form of a Gymnasium space, as the connector reads it."""
    return json.dumps(_describe(space))


def space_from_json(text: str) -> spaces.Space:
    """The Gymnasium space of a connector space's JSON form."""
    return _build(json.loads(text))


def _describe(space: spaces.Space) -> dict:
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "low": np.asarray(space.low, dtype=np.float64).ravel().tolist(),
            "high": np.asarray(space.high, dtype=np.float64).ravel().tolist(),
            "dtype": str(space.dtype),
        }
    if isinstance(space, spaces.MultiDiscrete):
        if space.nvec.ndim != 1:
            raise SpaceDefinitionError(f"{space}: only one-dimensional MultiDiscrete spaces are supported")
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(), "start": space.start.tolist()}
    if isinstance(space, spaces.MultiBinary):
        if len(space.shape) != 1:
            raise SpaceDefinitionError(f"{space}: only one-dimensional MultiBinary spaces are supported")
        return {"type": "MultiBinary", "n": int(space.shape[0])}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [_describe(part) for part in space.spaces]}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": [[key, _describe(part)] for key, part in space.spaces.items()]}
    raise SpaceDefinitionError(
        f"{space} is not supported; use Discrete, Box, MultiDiscrete, MultiBinary, Tuple or Dict"
    )


def _build(description: dict) -> spaces.Space:
    kind = description["type"]
    if kind == "Discrete":
        return spaces.Discrete(description["n"], start=description.get("start", 0))
    if kind == "Box":
        dtype = np.dtype(description.get("dtype", "float32"))
        shape = tuple(description["shape"])
        low = np.asarray(description["low"], dtype=np.float64).reshape(shape).astype(dtype)
        high = np.asarray(description["high"], dtype=np.float64).reshape(shape).astype(dtype)
        return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(description["nvec"], start=description.get("start"))
    if kind == "MultiBinary":
        return spaces.MultiBinary(description["n"])
    if kind == "Tuple":
        return spaces.Tuple([_build(part) for part in description["spaces"]])
    if kind == "Dict":
        return spaces.Dict([(key, _build(part)) for key, part in description["spaces"]])
    raise SpaceDefinitionError(f"unknown space type {kind!r} from the model")


def flat_size(space: spaces.Space) -> int:
    """How many float64 values a value of ``space`` takes in the flat layout."""
    if isinstance(space, spaces.Discrete):
        return 1
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        return int(math.prod(space.shape))
    if isinstance(space, spaces.Tuple):
        return sum(flat_size(part) for part in space.spaces)
    if isinstance(space, spaces.Dict):
        return sum(flat_size(part) for part in space.spaces.values())
    raise SpaceDefinitionError(f"{space} is not supported")


# ---- Codec: checked writes of actions, reads of observations ------------------------------------

Encoder = Callable[[Any, np.ndarray], None]
Decoder = Callable[[np.ndarray], Any]


class Codec:
    """Writes values of ``space`` into a flat float64 view and reads them back.

    ``encode(value, out)`` checks ``value`` against the space and raises ``ValueError`` naming
    the space and what is wrong (outside bounds, wrong shape, NaN, not an integer). ``decode(row)``
    returns a new value of the space (a copy; the row may be overwritten afterwards).
    """

    def __init__(self, space: spaces.Space, what: str = "action"):
        self.space = space
        self.size = flat_size(space)
        self.encode: Encoder = _encoder(space, what, space)
        self.decode: Decoder = _decoder(space)


def _fail(what: str, value: Any, problem: str, space: spaces.Space, root: spaces.Space) -> None:
    where = f" (part of the {root})" if space is not root else ""
    raise ValueError(f"{what} {_short(value)} {problem}: the {what} space is {space}{where}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _encoder(space: spaces.Space, what: str, root: spaces.Space) -> Encoder:
    if isinstance(space, spaces.Discrete):
        return _discrete_encoder(space, what, root)
    if isinstance(space, spaces.Box):
        return _box_encoder(space, what, root)
    if isinstance(space, (spaces.MultiDiscrete, spaces.MultiBinary)):
        return _integer_array_encoder(space, what, root)
    if isinstance(space, spaces.Tuple):
        return _tuple_encoder(space, what, root)
    if isinstance(space, spaces.Dict):
        return _dict_encoder(space, what, root)
    raise SpaceDefinitionError(f"{space} is not supported")


def _discrete_encoder(space: spaces.Discrete, what: str, root: spaces.Space) -> Encoder:
    low = int(space.start)
    high = low + int(space.n)

    def encode(value: Any, out: np.ndarray) -> None:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            number = int(value)
        elif isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iu":
            number = int(value.reshape(()))
        else:
            _fail(what, value, "is not an integer", space, root)
        if not low <= number < high:
            _fail(what, value, "is outside the space", space, root)
        out[0] = number

    return encode


def _box_encoder(space: spaces.Box, what: str, root: spaces.Space) -> Encoder:
    shape = space.shape
    low = np.asarray(space.low, dtype=np.float64)
    high = np.asarray(space.high, dtype=np.float64)

    def encode(value: Any, out: np.ndarray) -> None:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            _fail(what, value, "is not an array of numbers", space, root)
        if array.shape != shape:
            if array.size != low.size or array.squeeze().shape != tuple(d for d in shape if d != 1):
                _fail(what, value, f"has shape {array.shape}, not {shape}", space, root)
            array = array.reshape(shape)
        if np.isnan(array).any():
            _fail(what, value, "contains NaN", space, root)
        if (array < low).any() or (array > high).any():
            _fail(what, value, "is outside the bounds", space, root)
        out[:] = array.ravel()

    return encode


def _integer_array_encoder(space: spaces.Space, what: str, root: spaces.Space) -> Encoder:
    if isinstance(space, spaces.MultiDiscrete):
        low = space.start.astype(np.int64)
        high = low + space.nvec.astype(np.int64) - 1
    else:
        low = np.zeros(space.shape, dtype=np.int64)
        high = np.ones(space.shape, dtype=np.int64)
    shape = low.shape

    def encode(value: Any, out: np.ndarray) -> None:
        array = np.asarray(value)
        if array.dtype.kind not in "iub":
            _fail(what, value, "is not an array of integers", space, root)
        if array.shape != shape:
            _fail(what, value, f"has shape {array.shape}, not {shape}", space, root)
        if (array < low).any() or (array > high).any():
            _fail(what, value, "is outside the space", space, root)
        out[:] = array

    return encode


def _tuple_encoder(space: spaces.Tuple, what: str, root: spaces.Space) -> Encoder:
    parts = [(_encoder(part, what, root), flat_size(part)) for part in space.spaces]

    def encode(value: Any, out: np.ndarray) -> None:
        if not isinstance(value, (tuple, list)) or len(value) != len(parts):
            _fail(what, value, f"is not a tuple of {len(parts)} parts", space, root)
        at = 0
        for (encode_part, size), item in zip(parts, value):
            encode_part(item, out[at : at + size])
            at += size

    return encode


def _dict_encoder(space: spaces.Dict, what: str, root: spaces.Space) -> Encoder:
    parts = [(key, _encoder(part, what, root), flat_size(part)) for key, part in space.spaces.items()]
    keys = set(space.spaces)

    def encode(value: Any, out: np.ndarray) -> None:
        if not hasattr(value, "keys") or set(value.keys()) != keys:
            _fail(what, value, f"does not have exactly the keys {sorted(keys)}", space, root)
        at = 0
        for key, encode_part, size in parts:
            encode_part(value[key], out[at : at + size])
            at += size

    return encode


def _decoder(space: spaces.Space) -> Decoder:
    if isinstance(space, spaces.Discrete):
        return lambda row: np.int64(row[0])
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        shape, dtype = space.shape, space.dtype
        return lambda row: row.reshape(shape).astype(dtype)
    if isinstance(space, spaces.Tuple):
        parts = _sliced_decoders(list(space.spaces))
        return lambda row: tuple(decode(row[start:stop]) for decode, start, stop in parts)
    if isinstance(space, spaces.Dict):
        keys = list(space.spaces)
        parts = _sliced_decoders(list(space.spaces.values()))
        return lambda row: {key: decode(row[start:stop]) for key, (decode, start, stop) in zip(keys, parts)}
    raise SpaceDefinitionError(f"{space} is not supported")


def _sliced_decoders(parts: list[spaces.Space]) -> list[tuple[Decoder, int, int]]:
    out = []
    at = 0
    for part in parts:
        size = flat_size(part)
        out.append((_decoder(part), at, at + size))
        at += size
    return out
