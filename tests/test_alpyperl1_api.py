"""The binary contract with ALPypeRL 1.x's exports: every member of the ``com.alpype`` API that
their generated code references (``tests/alpyperl1/references-from-exports.txt``, read from the
bytecode of the ten genuine exports) resolves against alpyperl's compatibility jar.

The JVM resolves those references when the export's classes first run, so a missing or changed
member would only show as a NoSuchMethodError in the middle of an episode. Here each one is
resolved the way the JVM links it (``tests/alpyperl1/resolve_members.py``, in a JVM of its own):
against the compatibility jar and the stand-in AnyLogic engine (a TEST DOUBLE, built by Gradle)
in CI, and against the real AnyLogic 8.7.12 engine in ``test_real_engine.py``
(``check_references``, shared by both).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
REFERENCES = TESTS / "alpyperl1" / "references-from-exports.txt"
RESOLVER = TESTS / "alpyperl1" / "resolve_members.py"
COMPAT_JAR = REPO / "alpyperl" / "jars" / "alpyperl1-compat.jar"
CONNECTOR_JAR = REPO / "alpyperl" / "jars" / "anylogic-lib.jar"


def resolve(jars: list[Path]) -> dict:
    """``{"checked": N, "unresolved": [{"member", "why"}, ...]}`` for the reference list against ``jars``."""
    for jar in jars:
        assert jar.is_file(), f"{jar} is missing: run `gradle build` first (in {REPO})"
    done = subprocess.run([sys.executable, str(RESOLVER), str(REFERENCES), *map(str, jars)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_references(engine_jars: list[Path]) -> None:
    """Fails with the list of members of the reference list that do not resolve against the
    compatibility jar and ``engine_jars``, each with why."""
    result = resolve([COMPAT_JAR, *engine_jars])
    assert result["checked"] == 46, result  # the whole list was read
    unresolved = "\n".join(f"  {entry['member']}\n      {entry['why']}" for entry in result["unresolved"])
    assert not result["unresolved"], (
        f"{len(result['unresolved'])} of {result['checked']} members that ALPypeRL 1.x exports reference do not "
        f"resolve against {COMPAT_JAR.name} + {', '.join(jar.name for jar in engine_jars)}:\n{unresolved}")


def test_every_member_that_1x_exports_reference_resolves_against_the_stand_in_engine(anylogic_export):
    check_references([anylogic_export / "lib" / "com.anylogic.engine.jar"])


def test_the_check_reports_members_that_do_not_resolve(anylogic_export):
    # The connector jar alone has no com.alpype classes: every reference must be reported, each with its cause.
    result = resolve([CONNECTOR_JAR, anylogic_export / "lib" / "com.anylogic.engine.jar"])
    assert len(result["unresolved"]) == result["checked"] == 46
    assert all("ClassNotFoundException: com.alpype." in entry["why"] for entry in result["unresolved"])
