"""Space conversion (Gymnasium <-> the connector's JSON) and the checked flat layout of values."""

import json

import numpy as np
import pytest
from gymnasium import spaces

from alpyperl import jvm
from alpyperl.errors import SpaceDefinitionError
from alpyperl.spaces import (Codec, crosses_in_float32, flat_size, observation_part, observation_reader, space_from_json,
                            space_to_json)

ALL_KINDS = [
    spaces.Discrete(3),
    spaces.Discrete(4, start=-2),
    spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32),
    spaces.Box(0.0, 5.0, shape=(), dtype=np.float64),
    spaces.Box(low=np.array([[0, -np.inf], [1, 2]], dtype=np.float32), high=np.array([[1, np.inf], [3, 4]], dtype=np.float32)),
    spaces.MultiDiscrete([3, 5, 2]),
    spaces.MultiDiscrete([3, 4], start=[1, -1]),
    spaces.MultiBinary(4),
    spaces.Tuple([spaces.Discrete(2), spaces.Box(-2, 2, shape=(2,), dtype=np.float32)]),
    spaces.Dict({"stock": spaces.Box(0, 100, shape=(2,), dtype=np.float32), "day": spaces.Discrete(7),
                 "nested": spaces.Tuple([spaces.MultiBinary(2), spaces.Dict({"z": spaces.Discrete(2)})])}),
]


@pytest.mark.parametrize("space", ALL_KINDS, ids=str)
def test_json_round_trip(space):
    assert space_from_json(space_to_json(space)) == space


@pytest.mark.parametrize("space", ALL_KINDS, ids=str)
def test_java_reads_and_writes_the_same_space(space):
    jvm.start_jvm()
    import jpype

    java_space = jpype.JClass("com.alpyperl.connector.Space").fromJson(space_to_json(space))
    assert java_space.flatSize() == flat_size(space)
    assert space_from_json(str(java_space.toJson())) == space


@pytest.mark.parametrize("space", ALL_KINDS, ids=str)
def test_values_survive_the_flat_layout(space):
    codec = Codec(space, np.zeros(flat_size(space)))
    for seed in range(20):
        space.seed(seed)
        value = space.sample()
        codec.write(value)
        decoded = codec.read()
        assert space.contains(decoded)
        assert_same(decoded, value)


def assert_same(a, b):
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        np.testing.assert_array_equal(a, b)


def test_dict_order_is_the_space_order():
    space = spaces.Dict([("b", spaces.Discrete(5)), ("a", spaces.Box(0, 9, shape=(2,), dtype=np.float32))])
    row = np.zeros(3)
    Codec(space, row).write({"a": np.array([1.0, 2.0], dtype=np.float32), "b": 4})
    assert row.tolist() == [4.0, 1.0, 2.0]
    assert [key for key, _ in json.loads(space_to_json(space))["spaces"]] == ["b", "a"]


@pytest.mark.parametrize(
    "space, action, problem",
    [
        (spaces.Discrete(2), 2, "outside"),
        (spaces.Discrete(2), -1, "outside"),
        (spaces.Discrete(2), 1.0, "not an integer"),
        (spaces.Discrete(2), "1", "not an integer"),
        (spaces.Discrete(3, start=1), 0, "outside"),
        (spaces.Box(-1, 1, shape=(2,), dtype=np.float32), [0.5, 1.5], "outside the bounds"),
        (spaces.Box(-1, 1, shape=(2,), dtype=np.float32), [0.5, 0.5, 0.5], "shape (3,)"),
        (spaces.Box(-1, 1, shape=(2,), dtype=np.float32), [0.5, np.nan], "NaN"),
        (spaces.Box(-1, 1, shape=(2,), dtype=np.float32), "no", "not an array of numbers"),
        (spaces.MultiDiscrete([3, 2]), [1, 2], "outside"),
        (spaces.MultiDiscrete([3, 2]), [1.0, 1.0], "not an array of integers"),
        (spaces.MultiDiscrete([3, 2]), [1], "shape (1,)"),
        (spaces.MultiBinary(3), [0, 1, 2], "outside"),
        (spaces.Tuple([spaces.Discrete(2), spaces.Discrete(2)]), (1,), "tuple of 2 parts"),
        (spaces.Dict({"a": spaces.Discrete(2)}), {"b": 1}, "keys ['a']"),
    ],
)
def test_bad_actions_are_refused_naming_the_space(space, action, problem):
    with pytest.raises(ValueError) as error:
        Codec(space, np.zeros(flat_size(space))).write(action)
    assert problem in str(error.value)
    assert str(space) in str(error.value)


def test_bad_part_of_a_nested_action_names_part_and_whole():
    space = spaces.Dict({"order": spaces.Discrete(3), "speed": spaces.Box(0, 1, shape=(1,), dtype=np.float32)})
    with pytest.raises(ValueError) as error:
        Codec(space, np.zeros(2)).write({"order": 5, "speed": [0.5]})
    assert "Discrete(3)" in str(error.value) and "part of the Dict" in str(error.value)


def test_integer_scalars_of_any_kind_are_discrete_actions():
    row = np.zeros(1)
    codec = Codec(spaces.Discrete(5), row)
    for action in [3, np.int64(3), np.int32(3), np.array(3), np.array([3])]:
        row[0] = 0
        codec.write(action)
        assert row[0] == 3


@pytest.mark.parametrize("space", [spaces.Text(5), spaces.MultiDiscrete([[2, 3], [4, 5]])], ids=str)
def test_unsupported_spaces_are_refused(space):
    with pytest.raises(SpaceDefinitionError):
        space_to_json(space)


# ---- observations in the rows shared with Java -------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (), (2, 2)], ids=str)
@pytest.mark.parametrize("batch", [None, 4])
def test_a_float32_box_observation_lies_in_the_first_half_of_its_part_and_is_read_as_a_copy(shape, batch):
    space = spaces.Box(-np.inf, np.inf, shape, np.float32)
    size = flat_size(space)
    rows = np.zeros((batch or 1, 1 + size + 1))  # [action | observation | reward], as the launcher's rows
    part = rows[:, 1:-1] if batch else rows[0, 1:-1]
    assert crosses_in_float32(space)
    lies = observation_part(part, space)
    values = np.random.default_rng(0).normal(size=lies.shape).astype(np.float32)
    lies[...] = values
    assert np.shares_memory(lies, rows) and lies.dtype == np.float32
    assert rows.view(np.float32)[:, 2:2 + size].tolist() == values.reshape(batch or 1, size).tolist()  # bytes 8..
    read = observation_reader(space, part)
    observation = read()
    assert observation.dtype == np.float32 and observation.shape == ((batch,) if batch else ()) + shape
    assert np.array_equal(observation.reshape(-1), values.reshape(-1))
    rows[:] = 0
    assert np.array_equal(observation.reshape(-1), values.reshape(-1))  # a copy: the rows change afterwards
    assert not read().any()


@pytest.mark.parametrize("space", [spaces.Box(-1.0, 1.0, (3,), np.float64), spaces.Box(0, 9, (3,), np.int64),
                                   spaces.MultiDiscrete([3, 5, 2]),
                                   spaces.Dict({"a": spaces.Box(-1, 1, (2,), np.float32), "b": spaces.Discrete(3)})],
                         ids=str)
def test_other_observations_lie_in_their_float64_values(space):
    part = np.zeros(flat_size(space))
    assert not crosses_in_float32(space) and observation_part(part, space) is part
    Codec(space, part, "observation").write(space.sample())
    assert_same(observation_reader(space, part)(), Codec(space, part, "observation").read())


def test_java_writes_an_observation_where_python_reads_it_in_float32_and_in_float64(test_model, tmp_path):
    """FaultyModel's observation is [step, last action, a random double]: a Box of float64 gets the
    double itself, a Box of float32 the same double rounded to float32 (the launcher's SharedRow
    writes floats where spaces.observation_part reads them)."""
    from conftest import copy_of_test_model

    from alpyperl import AnyLogicEnv, AnyLogicVectorEnv

    folder = copy_of_test_model(test_model, tmp_path, "PythonSpacesModel")
    episodes = {}
    for dtype in (np.float64, np.float32):
        space = spaces.Box(-np.inf, np.inf, (3,), dtype)
        with AnyLogicEnv(folder, observation_space=space, action_space=spaces.Discrete(3)) as env:
            first, _ = env.reset(seed=5)
            episodes[dtype] = [first] + [env.step(action)[0] for action in (2, 1)]
        envs = AnyLogicVectorEnv(folder, num_envs=2, observation_space=space, action_space=spaces.Discrete(3))
        try:
            batch, _ = envs.reset(seed=[5, 6])
            assert batch.dtype == dtype and np.array_equal(batch[0], episodes[dtype][0])
        finally:
            envs.close()
    doubles, floats = episodes[np.float64], episodes[np.float32]
    assert [list(o[:2]) for o in doubles] == [[0, 0], [1, 2], [2, 1]]
    assert all(o.dtype == np.float32 for o in floats) and all(o.dtype == np.float64 for o in doubles)
    assert all(np.array_equal(f, d.astype(np.float32)) for f, d in zip(floats, doubles))
    assert doubles[0][2] != np.float64(np.float32(doubles[0][2]))  # the double has more than float32's precision
