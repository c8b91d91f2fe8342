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
    assert bridge.KEEP == int(group.KEEP)
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


def _thrown(java_class: str, message: str) -> jpype.JException:
    """A Java exception of ``java_class`` as a failed call hands it to Python (made through its
    (String) constructor, which the launcher may keep package-private)."""
    constructor = jpype.JClass(java_class).class_.getDeclaredConstructor(jpype.JClass("java.lang.String"))
    constructor.setAccessible(True)
    try:
        raise constructor.newInstance(message)
    except jpype.JException as error:
        return error


def test_launcher_exceptions_become_the_python_exception_of_the_same_meaning(cartpole_model):
    from alpyperl.errors import AlpyperlError, ModelError, ModelLoadError, ModelTimeoutError

    AnyLogicEnv(cartpole_model).close()  # the JVM runs
    expected = {
        "com.alpyperl.launcher.StepTimeoutException": ModelTimeoutError,
        "com.alpyperl.launcher.runtime.ModelLoadException": ModelLoadError,
        "com.alpyperl.launcher.ActionOutsideSpaceException": ValueError,
        "com.alpyperl.launcher.StepInterruptedException": KeyboardInterrupt,
        "com.alpyperl.connector.ModelException": ModelError,
        "java.lang.IllegalStateException": AlpyperlError,
    }
    for java_class, python_class in expected.items():
        problem = bridge.translate(_thrown(java_class, "what went wrong"))
        assert type(problem) is python_class, java_class
        assert "what went wrong" in str(problem)
    unknown = str(bridge.translate(_thrown("java.lang.IllegalStateException", "x")))
    assert unknown.startswith("java.lang.IllegalStateException: x")


def test_a_model_error_carries_the_stack_of_what_model_code_threw(cartpole_model):
    AnyLogicEnv(cartpole_model).close()  # the JVM runs
    cause = jpype.JClass("java.lang.ArithmeticException")("/ by zero")
    try:
        raise jpype.JClass("com.alpyperl.connector.ModelException")("The model failed", cause)
    except jpype.JException as error:
        problem = bridge.translate(error)
    assert problem.java_stack_trace.startswith("java.lang.ArithmeticException: / by zero")
    assert "Java stack trace of the model" in str(problem)
