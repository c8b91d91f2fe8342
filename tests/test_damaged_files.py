"""Damaged and hostile files given to the command line (issue 13, items 12 and 13): each is refused
with one line that says which file and why, exit status 1, no traceback, and without reading more of
it than needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}

#: Runs argv[1:] as a child and prints the child's exit status, peak RSS (KiB) and stderr.
MEASURE = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
print(result.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(result.stderr, end="")
"""


def measured(*args) -> tuple[int, int, str]:
    """``python -m alpyperl ARGS``: its exit status, peak RSS in bytes and stderr."""
    out = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "alpyperl", *map(str, args)],
                         capture_output=True, text=True, timeout=180, cwd=REPO, env=ENV)
    first, _, stderr = out.stdout.partition("\n")
    status, peak_kib = map(int, first.split())
    return status, peak_kib * 1024, stderr


def zeros(path: Path, size: int) -> Path:
    """A sparse file of ``size`` zero bytes (no disk used, written at once)."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


# ---- item 12: an ONNX file that cannot be a model ---------------------------------------------------

def test_a_gigabyte_of_zeros_as_policy_is_refused_without_reading_it(cartpole_model, tmp_path):
    policy = zeros(tmp_path / "zeros.onnx", 1 << 30)
    status, peak, stderr = measured("run", cartpole_model, "--policy", policy, "--episodes", 1)
    assert status == 1, stderr
    assert "Traceback" not in stderr
    assert str(policy) in stderr and "not an ONNX model" in stderr, stderr
    assert peak < (1 << 30) // 2, f"peak RSS {peak / 2**20:.0f} MiB for a 1 GiB file that was refused"


def test_a_file_that_starts_like_a_model_is_read_once(cartpole_model, tmp_path):
    policy = zeros(tmp_path / "ir_version_then_zeros.onnx", 1 << 30)
    with open(policy, "r+b") as f:
        f.write(bytes([0x08, 0x08]))  # ir_version 8, then field number 0: refused once read
    status, peak, stderr = measured("run", cartpole_model, "--policy", policy, "--episodes", 1)
    assert status == 1 and str(policy) in stderr and "Traceback" not in stderr, stderr
    assert peak < (3 << 30) // 2, f"peak RSS {peak / 2**20:.0f} MiB: the 1 GiB file was held twice"


def test_read_metadata_refuses_a_gigabyte_of_zeros_by_its_first_bytes(tmp_path):
    from alpyperl.errors import ExportError
    from alpyperl.export.metadata import check_onnx_start

    policy = zeros(tmp_path / "zeros.onnx", 1 << 30)
    script = f"from alpyperl.export import read_metadata\nread_metadata({str(policy)!r})"
    out = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-c", script],
                         capture_output=True, text=True, timeout=180, cwd=REPO, env=ENV)
    status, peak_kib = map(int, out.stdout.partition("\n")[0].split())
    assert status == 1
    assert f"ExportError: {policy}: not an ONNX model: it starts with the bytes 00 00 00 00 00" in out.stdout
    assert peak_kib * 1024 < (1 << 30) // 2
    # any ModelProto field may come first, with its wire type; an empty file is refused too
    for start in (b"\x08\x08", b"\x3a\x00", b"\x88\x00", b"\xa2\x01", b"\xd2\x01"):
        (tmp_path / "ok.onnx").write_bytes(start)
        check_onnx_start(tmp_path / "ok.onnx")
    for start, shown in ((b"", "the file is empty"), (b"\x0a\x01x", "0a 01 78"), (b"\x48\x01", "48 01"),
                         (b"\xa2", "bytes a2,")):
        (tmp_path / "bad.onnx").write_bytes(start)
        with pytest.raises(ExportError, match=shown):
            check_onnx_start(tmp_path / "bad.onnx")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def test_read_metadata_reads_only_the_metadata_of_a_large_model(tmp_path):
    """A 1 GiB graph is skipped, not read (peak RSS far below the file), and the metadata is what onnx reads."""
    import onnx
    from onnx import helper

    from alpyperl.export.metadata import METADATA_KEY, read_metadata

    metadata = {"format_version": 1, "input_size": 4}
    small = helper.make_model(helper.make_graph([helper.make_node("Identity", ["obs"], ["out"])], "g",
                                                [helper.make_tensor_value_info("obs", onnx.TensorProto.FLOAT, [1])],
                                                [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, [1])]))
    helper.set_model_props(small, {"other": "x", METADATA_KEY: json.dumps(metadata)})
    onnx.save(small, tmp_path / "small.onnx")
    assert read_metadata(tmp_path / "small.onnx") == metadata
    assert {p.key: p.value for p in onnx.load(tmp_path / "small.onnx").metadata_props}[METADATA_KEY] == \
        json.dumps(metadata)

    # ir_version 8, a graph (field 7) of 1 GiB, then the metadata entry (field 14), as exporters order them
    large = tmp_path / "large.onnx"
    graph = 1 << 30
    entry = b"\x0a" + _varint(len(METADATA_KEY)) + METADATA_KEY.encode() + b"\x12" + \
        _varint(len(json.dumps(metadata))) + json.dumps(metadata).encode()
    with open(large, "wb") as f:
        f.write(b"\x08\x08\x3a" + _varint(graph))
        f.seek(graph, os.SEEK_CUR)  # sparse: no disk used
        f.write(b"\x72" + _varint(len(entry)) + entry)
    script = (f"import sys\nfrom alpyperl.export import read_metadata\n"
              f"print(read_metadata({str(large)!r}), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-c", script],
                         capture_output=True, text=True, timeout=180, cwd=REPO, env=ENV)
    status, peak_kib = map(int, out.stdout.partition("\n")[0].split())
    assert status == 0, out.stdout
    assert str(metadata) in out.stdout
    assert peak_kib * 1024 < (1 << 30) // 4, f"peak RSS {peak_kib >> 10} MiB for a 1 GiB model"


def test_read_metadata_refuses_a_model_cut_short(tmp_path):
    from alpyperl.errors import ExportError
    from alpyperl.export.metadata import read_metadata

    for data, message in ((b"\x08\x08\x3a\x80\x80\x04", "runs past the end of the file"),
                          (b"\x08", "ends inside a protobuf field"),
                          (b"\x08\x08\x3b", "wire type 3")):
        (tmp_path / "cut.onnx").write_bytes(data)
        with pytest.raises(ExportError, match=message):
            read_metadata(tmp_path / "cut.onnx")


# ---- item 13: damaged recordings and model descriptors -------------------------------------------

HEADER = {"alpyperl_recording": 1, "alpyperl_version": "2.0.0", "model": "MODEL", "observation_space": None,
          "action_space": None, "step_timeout": 10.0, "jvm_options": [], "created": "2026-01-01T00:00:00+0000"}
EPISODE = {"episode": 0, "seed": 3, "env_params": {}, "actions": [[1.0], [0.0]],
           "observations": [[0.1, 0.2, 0.3, 0.4], [0.2, 0.3, 0.4, 0.5], [0.3, 0.4, 0.5, 0.6]], "rewards": [1.0, 1.0],
           "terminated": False, "truncated": False, "abandoned": True, "error": None, "steps": 2, "return": 2.0}


def without(line: dict, field: str) -> dict:
    return {key: value for key, value in line.items() if key != field}


DEEP = "[" * 100_000 + "]" * 100_000

#: (name, header line, episode line (text), the line and field the message must name)
DAMAGES = [
    ("header without model", without(HEADER, "model"), EPISODE, "line 1", "'model' is missing"),
    ("step_timeout a string", {**HEADER, "step_timeout": "10"}, EPISODE, "line 1", "'step_timeout'"),
    ("jvm_options a string", {**HEADER, "jvm_options": "-Xmx1g"}, EPISODE, "line 1", "'jvm_options'"),
    ("space of 4e9 values", {**HEADER, "observation_space": '{"type": "MultiBinary", "n": 4000000000}'}, EPISODE,
     "line 1", "'observation_space'"),
    ("Tuple of too many values", {**HEADER, "observation_space": json.dumps(
        {"type": "Tuple", "spaces": [{"type": "MultiBinary", "n": 1 << 24}] * 2})}, EPISODE,
     "line 1", "'observation_space'"),
    ("space nested deeply", {**HEADER, "action_space": DEEP}, EPISODE, "line 1", "'action_space'"),
    ("space of no type", {**HEADER, "action_space": '{"n": 2}'}, EPISODE, "line 1", "'action_space'"),
    ("Discrete of 10**400", {**HEADER, "action_space": '{"type": "Discrete", "n": 1e400}'}, EPISODE,
     "line 1", "'action_space'"),
    ("header a list", [1, 2], EPISODE, "line 1", "not an object"),
    ("seed 10**400", HEADER, {**EPISODE, "seed": 10**400}, "line 2", "'seed'"),
    ("seed of 5000 digits", HEADER, {**EPISODE, "seed": "DIGITS"}, "line 2", "not JSON alpyperl can read"),
    ("seed a string", HEADER, {**EPISODE, "seed": "3"}, "line 2", "'seed'"),
    ("observations cut short", HEADER, {**EPISODE, "observations": EPISODE["observations"][:1]}, "line 2",
     "'observations'"),
    ("actions no lists", HEADER, {**EPISODE, "actions": [1.0, 0.0]}, "line 2", "'actions'"),
    ("rewards strings", HEADER, {**EPISODE, "rewards": ["1", "1"]}, "line 2", "'rewards'"),
    ("error a number", HEADER, {**EPISODE, "error": 5}, "line 2", "'error'"),
    ("episode without terminated", HEADER, without(EPISODE, "terminated"), "line 2", "'terminated' is missing"),
    ("episode a number", HEADER, 7, "line 2", "not an object"),
    ("actions nested deeply", HEADER, {**EPISODE, "actions": "DEEP"}, "line 2", "nests JSON too deeply"),
    ("bytes that are no UTF-8", HEADER, "\udcff\udcfe", "line 2", "not UTF-8"),
    ("parameter a list", HEADER, {**EPISODE, "env_params": {"poleLength": [1, 2]}}, "line 2",
     "'env_params' must hold numbers, booleans or strings; its parameter 'poleLength' is [1, 2]"),
    ("parameter NaN", HEADER, {**EPISODE, "env_params": {"poleLength": float("nan")}}, "line 2",
     "its parameter 'poleLength' is nan"),
    ("parameter null", HEADER, {**EPISODE, "env_params": {"poleLength": None}}, "line 2",
     "its parameter 'poleLength' is None"),
]


@pytest.mark.parametrize("header, episode, line, field", [damage[1:] for damage in DAMAGES],
                         ids=[damage[0] for damage in DAMAGES])
def test_replaying_a_damaged_recording_says_which_line_and_field(header, episode, line, field, cartpole_model,
                                                                tmp_path):
    header = {**header, "model": str(cartpole_model)} if isinstance(header, dict) and "model" in header else header
    text = episode if isinstance(episode, str) else json.dumps(episode)
    text = text.replace('"DEEP"', DEEP).replace('"DIGITS"', "9" * 5000)
    recording = tmp_path / "damaged.jsonl"
    recording.write_bytes((json.dumps(header) + "\n" + text + "\n").encode("utf-8", "surrogateescape"))
    for args in (["--episode", 0], []):  # replaying one episode, and listing them
        result = subprocess.run([sys.executable, "-m", "alpyperl", "replay", recording, *map(str, args)],
                                capture_output=True, text=True, timeout=120, cwd=REPO, env=ENV)
        assert result.returncode == 1, result.stdout + result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert f"{line} of {recording}" in result.stderr and field in result.stderr, result.stderr


def test_the_undamaged_recording_is_listed(cartpole_model, tmp_path):
    """The base of the damaged recordings above is valid: each test fails for its damage alone."""
    recording = tmp_path / "good.jsonl"
    recording.write_text(json.dumps({**HEADER, "model": str(cartpole_model)}) + "\n" + json.dumps(EPISODE) + "\n")
    result = subprocess.run([sys.executable, "-m", "alpyperl", "replay", recording], capture_output=True, text=True,
                            timeout=120, cwd=REPO, env=ENV)
    assert result.returncode == 0 and "1 episode\n" in result.stdout, result.stderr


def test_a_model_descriptor_of_garbage_is_a_model_load_error(tmp_path):
    from alpyperl.bridge import DESCRIPTOR, read_descriptor
    from alpyperl.errors import ModelLoadError

    (tmp_path / DESCRIPTOR).write_bytes(b"name=x\nmodel.class=\xff\xfe\x00garbage\n")
    with pytest.raises(ModelLoadError, match=f"line 2 of the model descriptor .*{DESCRIPTOR} is not UTF-8"):
        read_descriptor(str(tmp_path))


def test_spaces_too_large_or_malformed_are_refused_before_allocation():
    from alpyperl.errors import SpaceDefinitionError
    from alpyperl.spaces import MAX_FLAT_SIZE, space_from_json

    assert space_from_json(json.dumps({"type": "MultiBinary", "n": MAX_FLAT_SIZE})).n == MAX_FLAT_SIZE
    for description, message in (({"type": "MultiBinary", "n": 4_000_000_000}, "MultiBinary's n must be"),
                                  ({"type": "Box", "shape": [1 << 20, 1 << 20], "low": [], "high": []}, "Box's size"),
                                  ({"type": "MultiBinary", "n": 4e9}, "not 4000000000.0"),
                                  ({"type": "Discrete"}, "KeyError"),
                                  ({"type": "Tuple", "spaces": 3}, "TypeError"),
                                  ({"type": "Cube"}, "unknown space type 'Cube'"),
                                  ({"type": "Discrete", "n": 10**400}, r"Discrete's n must be a whole number \(int64\)")):
        with pytest.raises(SpaceDefinitionError, match=message):
            space_from_json(json.dumps(description))


def test_spaces_given_in_python_too_large_are_refused_naming_them():
    """As for described spaces: refused before the environment allocates its rows (here 32 GB) or Java sees them."""
    import gymnasium as gym

    from alpyperl.errors import SpaceDefinitionError
    from alpyperl.instances import choose_space
    from alpyperl.spaces import MAX_FLAT_SIZE, space_to_json

    assert choose_space("action", None, gym.spaces.MultiBinary(MAX_FLAT_SIZE)).n == MAX_FLAT_SIZE
    huge = gym.spaces.Dict({"a": gym.spaces.MultiBinary(4_000_000_000), "b": gym.spaces.Discrete(2)})
    with pytest.raises(SpaceDefinitionError, match=r"^the observation space Dict\('a': MultiBinary\(4000000000\), "
                                                   r"'b': Discrete\(2\)\) has 4,000,000,001 values in all; alpyperl "
                                                   r"takes spaces of at most 16,777,216 values"):
        choose_space("observation", None, huge)
    with pytest.raises(SpaceDefinitionError, match="has 4,000,000,001 values in all"):
        space_to_json(huge)
