"""Gymnasium spaces <-> the connector's spaces, and their flat layout.

Values cross between Python and Java as a flat row of float64 numbers: one for ``Discrete``,
every element of a ``Box`` in row-major order, one per entry of ``MultiDiscrete`` and
``MultiBinary``, and the parts of a ``Tuple`` or ``Dict`` one after another in their order.
A :class:`Codec` writes actions into that row (checking them against the space) and reads
observations out of it.
"""

from __future__ import annotations

import functools
import json
import math
import reprlib
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np
from gymnasium import spaces

from .errors import SpaceDefinitionError

__all__ = ["MAX_FLAT_SIZE", "check_flat_size", "space_to_json", "space_from_json", "describe", "flat_size", "Codec",
           "flatten", "unflatten", "crosses_in_float32", "observation_part", "observation_reader"]

# ---- JSON form (the connector's Space.toJson / Space.fromJson) ---------------------------------

#: The most values a space may take in the flat layout (128 MiB as float64): a larger space, given in
#: Python or described in JSON, is refused before numpy or the JVM try to allocate it.
MAX_FLAT_SIZE = 1 << 24


def check_flat_size(space: spaces.Space, what: str = "the space") -> None:
    """Raises :class:`SpaceDefinitionError` if ``space`` (``what``, in the message) takes more than
    :data:`MAX_FLAT_SIZE` values in the flat layout; does nothing for a space alpyperl does not support
    (:func:`describe` says why)."""
    try:
        size = flat_size(space)
    except SpaceDefinitionError:
        return
    if size > MAX_FLAT_SIZE:
        raise SpaceDefinitionError(f"{what} {space} has {size:,} values in all; alpyperl takes spaces of at most "
                                   f"{MAX_FLAT_SIZE:,} values (each crosses to Java as a float64 of a shared row "
                                   "per step): use a smaller space")


def space_to_json(space: spaces.Space) -> str:
    """The JSON form of a Gymnasium space, as the connector reads it; :class:`SpaceDefinitionError` if
    alpyperl does not support the space or it is larger than :data:`MAX_FLAT_SIZE` values."""
    check_flat_size(space)
    return json.dumps(describe(space))


def space_from_json(text: str) -> spaces.Space:
    """The Gymnasium space of a connector space's JSON form.

    Raises :class:`SpaceDefinitionError` if the text is no space's description, or describes a space of
    more than :data:`MAX_FLAT_SIZE` values (refused before numpy or the JVM allocate anything for it).
    """
    try:
        space = _build(json.loads(text))
    except json.JSONDecodeError as error:
        raise SpaceDefinitionError(f"a space's description is not JSON ({error.msg})") from None
    except ValueError as error:  # a number of more than 4300 digits
        raise SpaceDefinitionError(f"a space's description is not JSON alpyperl can read ({error})") from None
    except RecursionError:
        raise SpaceDefinitionError("a space's description nests too deeply") from None
    check_flat_size(space, "the described space")
    return space


def describe(space: spaces.Space) -> dict:
    """The connector's description of a space (what :func:`space_to_json` writes), as a dict."""
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
        return {"type": "Tuple", "spaces": [describe(part) for part in space.spaces]}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": [[key, describe(part)] for key, part in space.spaces.items()]}
    raise SpaceDefinitionError(
        f"{space} is not supported; use Discrete, Box, MultiDiscrete, MultiBinary, Tuple or Dict"
    )


def _build(description: Any) -> spaces.Space:
    """The space of a description; :class:`SpaceDefinitionError` if it is malformed or too large."""
    if not isinstance(description, dict) or "type" not in description:
        raise SpaceDefinitionError(f"a space's description must be an object with a 'type', not {short_repr(description)}")
    kind = description["type"]
    try:
        if kind == "Discrete":
            return spaces.Discrete(_integer(description["n"], "Discrete's n"),
                                   start=_integer(description.get("start", 0), "Discrete's start"))
        if kind == "Box":
            dtype = np.dtype(description.get("dtype", "float32"))
            shape = tuple(_count(dim, "a Box's dimension") for dim in description["shape"])
            _count(math.prod(shape), "a Box's size")
            low = np.asarray(description["low"], dtype=np.float64).reshape(shape).astype(dtype)
            high = np.asarray(description["high"], dtype=np.float64).reshape(shape).astype(dtype)
            return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
        if kind == "MultiDiscrete":
            return spaces.MultiDiscrete(description["nvec"], start=description.get("start"))
        if kind == "MultiBinary":
            return spaces.MultiBinary(_count(description["n"], "MultiBinary's n"))
        if kind == "Tuple":
            return spaces.Tuple([_build(part) for part in description["spaces"]])
        if kind == "Dict":
            return spaces.Dict([(key, _build(part)) for key, part in description["spaces"]])
    except SpaceDefinitionError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError, AssertionError) as error:  # Gymnasium checks by assert
        raise SpaceDefinitionError(f"the {kind} space {short_repr(description)} is malformed "
                                   f"({type(error).__name__}: {short_repr(str(error))})") from None
    raise SpaceDefinitionError(f"unknown space type {short_repr(kind)}")


def _count(value: Any, what: str) -> int:
    """``value`` if it is a whole number from 0 to MAX_FLAT_SIZE; SpaceDefinitionError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FLAT_SIZE:
        raise SpaceDefinitionError(f"{what} must be a whole number from 0 to {MAX_FLAT_SIZE:,}, not {short_repr(value)}")
    return value


def _integer(value: Any, what: str) -> int:
    """``value`` if it is a whole number that fits int64; SpaceDefinitionError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise SpaceDefinitionError(f"{what} must be a whole number (int64), not {short_repr(value)}")
    return value


def short_repr(value: Any) -> str:
    """A value as an error message shows it: shortened, and never failing (reprlib.repr of a 5000-digit
    int raises)."""
    try:
        return reprlib.repr(value)
    except ValueError:
        return f"a {type(value).__name__} too long to show"


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

Writer = Callable[[Any], None]
Reader = Callable[[], Any]


def flatten(space: spaces.Space, value: Any) -> list[float]:
    """``value`` of ``space`` as the flat list of numbers in which it crosses to Java (its
    structure is checked, its values are not)."""
    row = np.zeros(flat_size(space), dtype=np.float64)
    Codec(space, row, "value", check_values=False).write(value)
    return row.tolist()


def unflatten(space: spaces.Space, flat: Any) -> Any:
    """The value of ``space`` that :func:`flatten` turned into ``flat``."""
    row = np.asarray(flat, dtype=np.float64)
    if row.shape != (flat_size(space),):
        raise ValueError(f"{row.size} numbers cannot be a value of {space}, which needs {flat_size(space)}")
    return Codec(space, row).read()


# ---- observations in the rows shared with Java ------------------------------------------------


def crosses_in_float32(space: spaces.Space) -> bool:
    """Whether an observation of ``space`` crosses from Java in float32 rather than in float64: a
    Box of float32 (Gymnasium's default), which Python then copies as it is instead of converting it
    at every step. The launcher's ``SharedRow`` follows the same rule."""
    return isinstance(space, spaces.Box) and space.dtype == np.float32


def observation_part(part: np.ndarray, space: spaces.Space) -> np.ndarray:
    """Where an observation of ``space`` lies in ``part``, the observation's float64 values of a row
    (or a batch of rows): ``part`` itself, or, for an observation that crosses in float32, the first
    half of its bytes seen as float32 values (a view)."""
    if not crosses_in_float32(space):
        return part
    return part.view(np.float32)[..., : part.shape[-1]]


def observation_reader(space: spaces.Space, part: np.ndarray) -> Reader:
    """What reads an observation of ``space`` (a batch of them for a batch of rows) from ``part``, the
    observation's float64 values of the rows shared with Java; each read returns a new value."""
    if crosses_in_float32(space):
        return _shaped(observation_part(part, space), space.shape).copy  # a bound C method: the step path
    return Codec(space, part, "observation").read


class Codec:
    """Reads and writes values of ``space`` in flat float64 rows: one row (shape ``(size,)``) for
    an environment, or a batch of rows (shape ``(n, size)``) for a vector environment, where values
    are batched as Gymnasium batches them. Rows are numpy views, e.g. of the buffer shared with
    Java; everything is bound to them once, so a read or a write costs little.

    ``write(value)`` checks ``value`` against the space and raises ``ValueError`` naming the space
    and what is wrong (outside the bounds, wrong shape, NaN, not an integer). With
    ``check_values=False`` it checks only structure, types and shapes, and leaves bounds, NaN and
    ranges to the reader of the rows (the launcher checks the actions of a vector step in Java,
    where that costs next to nothing). ``read()`` returns a new value (a copy: the rows may
    change afterwards).
    """

    def __init__(self, space: spaces.Space, rows: np.ndarray, what: str = "action", check_values: bool = True):
        size = flat_size(space)
        if rows.ndim not in (1, 2) or rows.shape[-1] != size or rows.dtype != np.float64:
            raise ValueError(f"{space} needs float64 rows of {size} values, got {rows.shape} {rows.dtype}")
        self.space = space
        self.write: Writer = _writer(space, rows, _Check(what, space, check_values))
        self.read: Reader = _reader(space, rows)


class _Check:
    """What a writer checks and how its errors name things: the value's kind, the root space,
    and whether values (bounds, NaN, ranges) are checked or only structure and shapes."""

    def __init__(self, what: str, root: spaces.Space, values: bool):
        self.what, self.root, self.values = what, root, values


def _fail(check: _Check, value: Any, problem: str, space: spaces.Space) -> None:
    where = f" (part of the {check.root})" if space is not check.root else ""
    raise ValueError(f"{check.what} {_short(value)} {problem}: the {check.what} space is {space}{where}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _shaped(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``rows`` seen with each row in ``shape``: a view, so that it follows the rows' contents."""
    view = rows.reshape(rows.shape[:-1] + tuple(shape))
    if not np.shares_memory(view, rows):
        raise AssertionError("a reshaped row must be a view")
    return view


def _writer(space: spaces.Space, rows: np.ndarray, check: _Check) -> Writer:
    if isinstance(space, spaces.Discrete):
        return _discrete_writer(space, rows, check)
    if isinstance(space, spaces.Box):
        return _box_writer(space, rows, check)
    if isinstance(space, (spaces.MultiDiscrete, spaces.MultiBinary)):
        return _integer_array_writer(space, rows, check)
    if isinstance(space, spaces.Tuple):
        return _tuple_writer(space, rows, check)
    if isinstance(space, spaces.Dict):
        return _dict_writer(space, rows, check)
    raise SpaceDefinitionError(f"{space} is not supported")


def _discrete_writer(space: spaces.Discrete, rows: np.ndarray, check: _Check) -> Writer:
    low = int(space.start)
    high = low + int(space.n)
    if rows.ndim == 2:
        return _integer_array_writer(space, rows, check, low, high - 1)

    def write(value: Any) -> None:
        if type(value) is int:
            number = value
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            number = int(value)
        elif isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iu":
            number = int(value.reshape(()))
        else:
            _fail(check, value, "is not an integer", space)
        if check.values and not low <= number < high:
            _fail(check, value, "is outside the space", space)
        rows[0] = number

    return write


def _box_writer(space: spaces.Box, rows: np.ndarray, check: _Check) -> Writer:
    batch = rows.shape[:-1]
    shape = batch + space.shape
    low = np.asarray(space.low, dtype=np.float64)
    high = np.asarray(space.high, dtype=np.float64)
    target = _shaped(rows, space.shape)

    def write(value: Any) -> None:
        try:
            given = np.asarray(value)
        except (TypeError, ValueError):  # e.g. ragged nested lists
            _fail(check, value, "is not an array of numbers", space)
        if given.dtype.kind == "c":  # never silently dropped imaginary parts
            _fail(check, value, "has complex numbers", space)
        if given.dtype.kind not in "biuf":  # strings such as "1.5" are not numbers either
            _fail(check, value, "is not an array of numbers", space)
        array = given.astype(np.float64, copy=False)
        if array.shape != shape:
            # Accept only shapes that differ by length-1 axes, e.g. (1,) for a scalar Box.
            if array.size != target.size or array.squeeze().shape != tuple(d for d in shape if d != 1):
                _fail(check, value, f"has shape {array.shape}, not {shape}", space)
            array = array.reshape(shape)
        if check.values:
            if np.isnan(array).any():
                _fail(check, value, "contains NaN", space)
            if (array < low).any() or (array > high).any():
                _fail(check, value, "is outside the bounds", space)
        target[...] = array

    return write


def _integer_array_writer(space: spaces.Space, rows: np.ndarray, check: _Check,
                          low: Any = None, high: Any = None) -> Writer:
    """Writes integer values: MultiDiscrete and MultiBinary entries, or a batch of Discrete values."""
    if isinstance(space, spaces.MultiDiscrete):
        low = space.start.astype(np.int64)
        high = low + space.nvec.astype(np.int64) - 1
    elif isinstance(space, spaces.MultiBinary):
        low, high = 0, 1
    shape = rows.shape[:-1] + space.shape
    target = _shaped(rows, space.shape)

    def write(value: Any) -> None:
        array = np.asarray(value)
        if array.dtype.kind not in "iub":
            _fail(check, value, "is not an array of integers", space)
        if array.shape != shape:
            _fail(check, value, f"has shape {array.shape}, not {shape}", space)
        if check.values and ((array < low).any() or (array > high).any()):
            _fail(check, value, "is outside the space", space)
        target[...] = array

    return write


def _tuple_writer(space: spaces.Tuple, rows: np.ndarray, check: _Check) -> Writer:
    parts = [_writer(part, part_rows, check) for part, part_rows in zip(space.spaces, _split(rows, space.spaces))]

    def write(value: Any) -> None:
        if not isinstance(value, (tuple, list)) or len(value) != len(parts):
            _fail(check, value, f"is not a tuple of {len(parts)} parts", space)
        for write_part, item in zip(parts, value):
            write_part(item)

    return write


def _dict_writer(space: spaces.Dict, rows: np.ndarray, check: _Check) -> Writer:
    split = _split(rows, space.spaces.values())
    parts = [(key, _writer(part, part_rows, check)) for (key, part), part_rows in zip(space.spaces.items(), split)]
    keys = set(space.spaces)

    def write(value: Any) -> None:
        if not isinstance(value, Mapping) or set(value.keys()) != keys:
            _fail(check, value, f"does not have exactly the keys {sorted(keys)}", space)
        for key, write_part in parts:
            write_part(value[key])

    return write


def _reader(space: spaces.Space, rows: np.ndarray) -> Reader:
    if isinstance(space, spaces.Discrete):
        if rows.ndim == 1:
            return lambda: np.int64(rows[0])
        column = rows[:, 0]
        return lambda: column.astype(np.int64)
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        # A partial of the C method: no Python frame per read (the step path reads one per step).
        return functools.partial(_shaped(rows, space.shape).astype, space.dtype)
    if isinstance(space, spaces.Tuple):
        parts = [_reader(part, part_rows) for part, part_rows in zip(space.spaces, _split(rows, space.spaces))]
        return lambda: tuple(read() for read in parts)
    if isinstance(space, spaces.Dict):
        split = _split(rows, space.spaces.values())
        items = [(key, _reader(part, part_rows)) for (key, part), part_rows in zip(space.spaces.items(), split)]
        return lambda: {key: read() for key, read in items}
    raise SpaceDefinitionError(f"{space} is not supported")


def _split(rows: np.ndarray, parts) -> list[np.ndarray]:
    """Views of ``rows``, one per part, in order (along the last axis)."""
    views = []
    at = 0
    for part in parts:
        size = flat_size(part)
        views.append(rows[..., at : at + size])
        at += size
    return views
