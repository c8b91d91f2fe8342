"""The JVM embedded in this Python process: started once, on first use, and never restarted.

The first environment decides the JVM's options; environments created later share the JVM and
their options are ignored with a warning if they differ (JPype cannot restart a JVM).
"""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from pathlib import Path
from typing import Sequence

import jpype
import jpype.imports  # noqa: F401  (enables `import java.lang` style access for users)

from .errors import JavaNotFoundError

JARS_DIR = Path(__file__).resolve().parent / "jars"
REQUIRED_JARS = ("anylogic-lib.jar", "launcher.jar")
DEFAULT_OPTIONS = ("-Djava.awt.headless=true",)

_lock = threading.Lock()
_started_options: tuple[str, ...] | None = None


def jar_paths() -> list[str]:
    """The jars alpyperl puts on the JVM's classpath (connector and launcher)."""
    missing = [name for name in REQUIRED_JARS if not (JARS_DIR / name).is_file()]
    if missing:
        raise JavaNotFoundError(
            f"alpyperl's jars {', '.join(missing)} are missing from {JARS_DIR}. "
            "In a source checkout, build them with `gradle build` (it copies them there)."
        )
    return [str(JARS_DIR / name) for name in REQUIRED_JARS]


# Where a JDK or JRE keeps its JVM library, relative to JAVA_HOME (Linux, macOS, Windows; Java 8 layouts too).
_JVM_LIBRARIES = ("lib/server/libjvm.so", "jre/lib/amd64/server/libjvm.so", "lib/server/libjvm.dylib",
                  "bin/server/jvm.dll", "jre/bin/server/jvm.dll")


def find_jvm_library() -> str:
    """The path of the JVM library: from JAVA_HOME when it is set, else the system's default Java."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        for relative in _JVM_LIBRARIES:
            candidate = Path(java_home) / relative
            if candidate.is_file():
                return str(candidate)
        raise JavaNotFoundError(
            f"JAVA_HOME={java_home} holds no JVM library (looked for {', '.join(_JVM_LIBRARIES)}). "
            "Point JAVA_HOME at a JDK or JRE 11 or newer, or unset it to use the system's default Java."
        )
    try:
        return jpype.getDefaultJVMPath()
    except jpype.JVMNotFoundException as error:
        raise JavaNotFoundError(
            "alpyperl needs Java 11 or newer to run models, but JAVA_HOME is not set and no default Java was "
            "found. Install a JDK (for example `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME to one."
        ) from error


def start_jvm(options: Sequence[str] = ()) -> None:
    """Starts the JVM with ``options`` unless it runs already (then warns if the options differ)."""
    global _started_options
    wanted = tuple(DEFAULT_OPTIONS) + tuple(options)
    with _lock:
        if jpype.isJVMStarted():
            if _started_options is not None and set(wanted) - set(_started_options):
                warnings.warn(
                    f"The JVM of this process already runs with options {list(_started_options)}; "
                    f"the options {sorted(set(wanted) - set(_started_options))} are ignored "
                    "(a JVM cannot be restarted: start a new process to change them).",
                    stacklevel=3,
                )
            return
        jvm = find_jvm_library()
        try:
            # interrupt=False: Ctrl-C reaches Python as KeyboardInterrupt instead of halting the process.
            jpype.startJVM(jvm, *wanted, classpath=jar_paths(), convertStrings=False, interrupt=False)
        except OSError as error:
            raise JavaNotFoundError(f"the JVM at {jvm} could not be started: {error}") from error
        _started_options = wanted


def is_running() -> bool:
    """Whether this process's JVM is up (it is never restarted once shut down)."""
    return jpype.isJVMStarted()


def java_executable() -> str:
    """The `java` command of the Java that alpyperl uses: JAVA_HOME's when set, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        for name in ("java", "java.exe"):
            candidate = Path(java_home) / "bin" / name
            if candidate.is_file():
                return str(candidate)
        raise JavaNotFoundError(f"JAVA_HOME={java_home} has no bin/java; point JAVA_HOME at a JDK or JRE 11 or newer.")
    found = shutil.which("java")
    if found is None:
        raise JavaNotFoundError("no `java` command on PATH; install a JDK (for example "
                                "`apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME to one.")
    return found
