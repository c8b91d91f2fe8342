"""Damaged and hostile files given to the command line (issue 13, items 12 and 13): each is refused
with one line that says which file and why, exit status 1, no traceback, and without reading more of
it than needed."""

from __future__ import annotations

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
    assert status == 1 and f"ExportError: {policy}: not an ONNX model: it starts with the bytes 00 00 00 00 00" in out.stdout
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
