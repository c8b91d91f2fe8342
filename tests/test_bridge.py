"""The one interface between Python and Java: its constants agree with Java's, and no module but
bridge.py (and jvm.py, which starts the JVM) talks to JPype."""

from __future__ import annotations

import ast
from pathlib import Path

import jpype

from alpyperl import AnyLogicEnv, bridge

PACKAGE = Path(bridge.__file__).parent


def test_the_protocol_constants_are_javas(cartpole_model):
    AnyLogicEnv(cartpole_model).close()  # the JVM runs
    session = jpype.JClass("com.alpyperl.launcher.ModelSession")
    group = jpype.JClass("com.alpyperl.launcher.ModelSessionGroup")
    assert (bridge.RUNNING, bridge.TERMINATED, bridge.TRUNCATED) == (
        int(session.RUNNING), int(session.TERMINATED), int(session.TRUNCATED))
    assert bridge.STEP == int(group.STEP)
    assert (bridge.EPISODES_ENDED, bridge.OUTPUT_WAITING) == (int(group.EPISODES_ENDED), int(group.OUTPUT_WAITING))
    assert bridge.SEED_LIMIT - 1 == int(jpype.JClass("java.lang.Long").MAX_VALUE)


def test_only_the_bridge_and_the_jvm_module_import_jpype():
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name == "jpype" or name.startswith("jpype.") for name in names):
                importers.add(path.relative_to(PACKAGE).as_posix())
    assert importers == {"bridge.py", "jvm.py"}
