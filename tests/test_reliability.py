"""Reliability and security of the process that hosts the JVM (issue 13): signals, a first
environment made in a thread, fork, JVM options that cannot start a JVM, options from files that
would open the JVM to the network, and error messages that quote huge inputs.

Tests that need a fresh JVM, a signal or the end of a process run a small script in a child Python
process. They never rely on timing: a child prints a line when it has reached the state a test
needs (e.g. ``stepping`` once its model thread sleeps inside the step), and only then is it signalled.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from alpyperl import AnyLogicEnv, ModelLoadError, jvm
from alpyperl.recording import EpisodeRecorder

REPO_ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT = 120  # seconds: generous bounds for a child to reach a state or to end; never reached when all is well


class Child:
    """A Python process running ``code`` in ``folder`` (where a crashing JVM would leave its hs_err
    file), in a process group of its own, which is killed whole if the child does not end in time."""

    def __init__(self, code: str, folder: Path):
        self.folder = folder
        self.stderr_path = folder / "child-stderr.txt"
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=folder, env=environment,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                            start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def kill(self) -> None:
        """Kills the child and every process it forked."""
        os.killpg(self.process.pid, signal.SIGKILL)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-3000:]

    def wait_for_line(self, text: str) -> None:
        """Waits until the child prints a line starting with ``text``; fails if it ends first."""
        while True:
            try:
                line = self.lines.get(timeout=CHILD_TIMEOUT)
            except queue.Empty:
                self.kill()
                pytest.fail(f"the child printed no {text!r} within {CHILD_TIMEOUT} s; stderr:\n{self.stderr()}")
            if line is None:
                pytest.fail(f"the child ended (status {self.process.wait()}) before printing {text!r}; "
                            f"stderr:\n{self.stderr()}")
            self.output.append(line)
            if line.startswith(text):
                return

    def status(self) -> int:
        """The child's exit status (negative: the signal that ended it); fails if it does not end in time."""
        try:
            status = self.process.wait(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the child did not end within {CHILD_TIMEOUT} s; stderr:\n{self.stderr()}")
        while (line := self.lines.get(timeout=CHILD_TIMEOUT)) is not None:
            self.output.append(line)
        return status

    def wait_for_stderr(self, text: str) -> str:
        """Waits until the child's standard error holds ``text``; returns it from there on. Fails if
        the child ends first or nothing comes within the child timeout."""
        deadline = time.monotonic() + CHILD_TIMEOUT
        while text not in (written := self.stderr_path.read_text(errors="replace")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the child wrote no {text!r} on stderr; stderr:\n{self.stderr()}")
            time.sleep(0.05)
        return written[written.index(text):]

    def crash_reports(self) -> list[str]:
        return sorted(path.name for path in self.folder.glob("hs_err_pid*.log"))


# ---- signals ------------------------------------------------------------------------------------

IDLE = """
    import time
    from alpyperl import AnyLogicEnv
    env = AnyLogicEnv(model={model!r})
    env.reset(seed=0)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
"""

# The step's model sleeps for ever (ignoring interrupts); a Python thread says "ready" once the
# main thread waits in the step for the model, which runs on that thread's carrier (a virtual
# thread, which Thread.getAllStackTraces() does not list; the waiting carrier it does).
STEPPING = """
    import threading, time
    import jpype
    from alpyperl import AnyLogicEnv
    env = AnyLogicEnv(model={model!r}, step_timeout=3600, env_params={{"fault": "sleepForever", "faultAtStep": 1}})
    env.reset(seed=0)

    def say_when_the_model_sleeps():
        Thread = jpype.JClass("java.lang.Thread")
        while not any("CallerCarrier.runUntil" in str(frame)
                      for stack in Thread.getAllStackTraces().values() for frame in stack):
            time.sleep(0.01)
        print("ready", flush=True)

    threading.Thread(target=say_when_the_model_sleeps, daemon=True).start()
    env.step(1)
"""


# Child-side helpers for tests of signals in a step: a thread that prints "ready" once the step is in the
# state the test needs, and one that ends the fault computeUntilReleased when the test creates a file.
STEP_WATCH = """
import os, threading, time
import jpype


def say_ready_when(state, thread_name="main"):
    \"\"\"Prints "ready" once the Java thread called thread_name (or, if it starts with "not ", any thread
    but that one) is in state: "waits" (it waits in a step for its models, parked) or "computes" (a
    model computes on it: it carries a virtual model thread).\"\"\"
    marks = ("Continuation.run",) if state == "computes" else ("awaitCallerTurn", "runUntil", "stepOnLanes")

    def is_the_thread(name):
        return name != thread_name[4:] if thread_name.startswith("not ") else name == thread_name

    def in_state(stack):
        frames = [str(frame) for frame in stack]
        return (any(mark in frame for mark in marks for frame in frames)
                and (state == "computes" or any("parkNanos" in frame for frame in frames[:3])))

    def watch():
        Thread = jpype.JClass("java.lang.Thread")
        while not any(is_the_thread(str(entry.getKey().getName())) and in_state(entry.getValue())
                      for entry in Thread.getAllStackTraces().entrySet()):
            time.sleep(0.01)
        print("ready", flush=True)

    threading.Thread(target=watch, daemon=True).start()


def release_when_told():
    \"\"\"Ends the fault computeUntilReleased (in this JVM) once the file "release" exists in the working folder.\"\"\"
    def watch():
        while not os.path.exists("release"):
            time.sleep(0.01)
        jpype.JClass("java.lang.System").setProperty("alpyperl.testmodels.release", "true")

    threading.Thread(target=watch, daemon=True).start()
"""

# The step's model computes (a busy loop) for ever on the main thread, its caller.
COMPUTING = STEP_WATCH + """
from alpyperl import AnyLogicEnv
env = AnyLogicEnv(model={model!r}, step_timeout=3600, model_threads="caller",
                  env_params={{"fault": "computeUntilReleased", "faultAtStep": 1}})
env.reset(seed=0)
say_ready_when("computes")
env.step(1)
"""


@pytest.mark.parametrize("when", [IDLE, STEPPING, COMPUTING], ids=["idle", "in a hung step", "in a long step"])
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_termination_signals_end_the_process_as_they_end_any_python_process(test_model, tmp_path, when,
                                                                            signal_number):
    """Not a crash of the JVM (status 134 and an hs_err file) nor the JVM's own exit: the signal's default."""
    child = Child(when.format(model=str(test_model)), tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal_number)
    assert child.status() == -signal_number, child.stderr()
    assert child.crash_reports() == []


def test_sigint_is_a_keyboard_interrupt_between_steps(test_model, tmp_path):
    child = Child(f"""
        import time
        from alpyperl import AnyLogicEnv
        env = AnyLogicEnv(model={str(test_model)!r})
        env.reset(seed=0)
        print("ready", flush=True)
        try:
            while True:
                time.sleep(0.05)
        except KeyboardInterrupt:
            env.step(1)  # the environment goes on
            print("KeyboardInterrupt", flush=True)
    """, tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal.SIGINT)
    assert child.status() == 0, child.stderr()
    assert child.output[-1] == "KeyboardInterrupt"


@pytest.mark.parametrize("threads", ["caller", "platform"])
def test_sigint_in_a_step_whose_model_waits_is_a_keyboard_interrupt_at_once(test_model, tmp_path, threads):
    """Ctrl-C ends the wait for the model (JPype interrupts the waiting thread) long before the step
    timeout of 60 s, and the environment works again after reset()."""
    child = Child(f"""
        import threading, time
        import jpype
        from alpyperl import AnyLogicEnv
        env = AnyLogicEnv(model={str(test_model)!r}, step_timeout=60, model_threads={threads!r},
                          env_params={{"fault": "sleepForever", "faultAtStep": 1}})
        env.reset(seed=0)
        main = threading.main_thread()

        def say_when_the_step_waits():
            Thread = jpype.JClass("java.lang.Thread")
            while not any(frame.getMethodName() == "parkNanos" and any("awaitCallerTurn" in str(f) or "runUntil"
                          in str(f) for f in stack) for stack in Thread.getAllStackTraces().values()
                          for frame in stack):
                time.sleep(0.01)
            print("ready", flush=True)

        threading.Thread(target=say_when_the_step_waits, daemon=True).start()
        start = time.monotonic()
        try:
            env.step(0)
        except KeyboardInterrupt:
            print("KeyboardInterrupt after", round(time.monotonic() - start), "s", flush=True)
        env.reset(seed=1, options={{"env_params": {{"fault": "none"}}}})
        env.step(0)
        env.close()
        print("works again", flush=True)
    """, tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal.SIGINT)
    assert child.status() == 0, child.stderr()
    interrupted, works = child.output[-2:]
    assert interrupted.startswith("KeyboardInterrupt after") and int(interrupted.split()[2]) < 30, child.output
    assert works == "works again"


@pytest.mark.parametrize("threads, num_envs, fault", [
    ("platform", 1, "computeUntilReleased"),
    ("platform", 2, "computeUntilReleased"),
    ("virtual", 2, "computeUntilReleased"),
    ("virtual", 2, "sleepForever"),
], ids=["platform-computes", "platform-vector-computes", "lanes-compute", "lanes-wait"])
def test_sigint_gives_up_at_once_on_models_that_compute_or_wait_on_threads_of_their_own(test_model, tmp_path,
                                                                                         threads, num_envs, fault):
    """Models on platform threads or lanes: whatever they do, Ctrl-C ends the step long before its
    timeout of 60 s (a model that computes, too; in a vector step, every model), and reset() works again."""
    child = Child(STEP_WATCH + f"""
import numpy as np
from alpyperl import AnyLogicEnv, AnyLogicVectorEnv
settings = dict(model={str(test_model)!r}, step_timeout=60, model_threads={threads!r},
                env_params={{"fault": {fault!r}, "faultAtStep": 1}})
env = AnyLogicEnv(**settings) if {num_envs} == 1 else AnyLogicVectorEnv(num_envs={num_envs}, parallelism=1, **settings)
action = 0 if {num_envs} == 1 else np.zeros({num_envs}, dtype=np.int64)
env.reset(seed=0)
assert env.model_threads == {threads!r}, env.model_threads
say_ready_when("waits")
start = time.monotonic()
try:
    env.step(action)
except KeyboardInterrupt:
    print("KeyboardInterrupt after", round(time.monotonic() - start), "s", flush=True)
jpype.JClass("java.lang.System").setProperty("alpyperl.testmodels.release", "true")
env.reset(seed=1, options={{"env_params": {{"fault": "none"}}}})
env.step(action)
env.close()
print("works again", flush=True)
""", tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal.SIGINT)
    assert child.status() == 0, child.stderr()
    interrupted, works = child.output[-2:]
    assert interrupted.startswith("KeyboardInterrupt after") and int(interrupted.split()[2]) < 30, child.output
    assert works == "works again"


@pytest.mark.parametrize("threads", ["caller", "platform"])
def test_sigint_ends_a_step_on_a_thread_other_than_the_one_that_started_the_jvm(test_model, tmp_path, threads):
    """JPype interrupts only the thread that started the JVM; the step of another thread ends at once too."""
    child = Child(STEP_WATCH + f"""
from alpyperl import AnyLogicEnv
env = AnyLogicEnv(model={str(test_model)!r}, step_timeout=60, model_threads={threads!r},
                  env_params={{"fault": "sleepForever", "faultAtStep": 1}})  # the main thread starts the JVM
env.reset(seed=0)
outcome = []
stepped = threading.Event()  # (not Thread.join: a join that KeyboardInterrupt broke may later return early)

def step():
    start = time.monotonic()
    try:
        env.step(0)
    except KeyboardInterrupt:
        outcome.append(f"KeyboardInterrupt in the stepping thread after {{round(time.monotonic() - start)}} s")
    finally:
        stepped.set()

try:
    threading.Thread(target=step).start()
    say_ready_when("waits", thread_name="not main")
    while not stepped.wait(0.05):
        pass
except KeyboardInterrupt:  # Python raises it in its main thread, as always
    stepped.wait()
print(*outcome, sep="\\n", flush=True)
env.reset(seed=1, options={{"env_params": {{"fault": "none"}}}})
env.step(0)
print("works again", flush=True)
""", tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal.SIGINT)
    assert child.status() == 0, child.stderr()
    interrupted, works = child.output[-2:]
    assert interrupted.startswith("KeyboardInterrupt in the stepping thread after"), child.output
    assert int(interrupted.split()[-2]) < 30, child.output
    assert works == "works again"


COMPUTES_ON_CALLER = "alpyperl: Ctrl-C: a model computes on the thread of its caller"


def test_sigint_while_a_model_computes_on_its_callers_thread_says_so_at_once(test_model, tmp_path):
    """It cannot be unwound: the first Ctrl-C prints where it is, and the KeyboardInterrupt comes
    when the model reaches its next requestAction(); the environment works again after reset()."""
    child = Child(STEP_WATCH + f"""
from alpyperl import AnyLogicEnv
env = AnyLogicEnv(model={str(test_model)!r}, step_timeout=60, model_threads="caller",
                  env_params={{"fault": "computeUntilReleased", "faultAtStep": 1}})
env.reset(seed=0)
say_ready_when("computes")
release_when_told()
try:
    env.step(0)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
env.reset(seed=1, options={{"env_params": {{"fault": "none"}}}})
env.step(0)
print("works again", flush=True)
""", tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal.SIGINT)
    report = child.wait_for_stderr(COMPUTES_ON_CALLER)
    (tmp_path / "release").touch()  # only now does the model reach its next requestAction()
    assert child.status() == 0, child.stderr()
    assert child.output[-2:] == ["KeyboardInterrupt", "works again"]
    assert "KeyboardInterrupt comes when it reaches its next requestAction(). Press Ctrl-C again to end the " \
           "process" in report, report
    assert 'Its caller\'s thread is "main".' in report
    assert "\tat com.alpyperl.testmodels.FaultyModel.computeUntilReleased(FaultyModel.java:" in report


def test_a_second_sigint_while_a_model_still_computes_on_its_callers_thread_ends_the_process(test_model, tmp_path):
    """Never a silent hang: status 130 (as Ctrl-C ends a Java program) after the model's stack, no crash."""
    child = Child(COMPUTING.format(model=str(test_model)), tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal.SIGINT)
    child.wait_for_stderr(COMPUTES_ON_CALLER)
    child.process.send_signal(signal.SIGINT)
    assert child.status() == 130, child.stderr()
    ending = child.stderr().split("alpyperl: Ctrl-C again while a model still computes on the thread of its caller: "
                                  "ending the process (status 130).")
    assert len(ending) == 2, child.stderr()
    assert "\tat com.alpyperl.testmodels.FaultyModel.computeUntilReleased(FaultyModel.java:" in ending[1]
    assert child.crash_reports() == []


def test_a_python_sigterm_handler_set_before_the_first_environment_still_runs(test_model, tmp_path):
    code = "import signal, sys\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(7))\n" + textwrap.dedent(
        IDLE.format(model=str(test_model)))
    child = Child(code, tmp_path)
    child.wait_for_line("ready")
    child.process.send_signal(signal.SIGTERM)
    assert child.status() == 7, child.stderr()


# ---- threads and fork ---------------------------------------------------------------------------

def test_process_ends_when_its_first_environment_was_made_in_another_thread(test_model, tmp_path):
    """The thread that started the JVM ended long ago; Python's exit must not wait for it."""
    child = Child(f"""
        import threading
        from alpyperl import AnyLogicEnv

        def first():
            env = AnyLogicEnv(model={str(test_model)!r})
            env.reset(seed=0)
            env.step(1)

        thread = threading.Thread(target=first)
        thread.start()
        thread.join()
        env = AnyLogicEnv(model={str(test_model)!r})
        env.reset(seed=1)
        print("done", flush=True)
    """, tmp_path)
    assert child.status() == 0, child.stderr()
    assert child.output == ["done"]


def test_a_forked_child_is_told_to_use_spawn_or_forkserver_and_exits(test_model, tmp_path):
    child = Child(f"""
        import os, sys
        from alpyperl import AnyLogicEnv, AlpyperlError
        env = AnyLogicEnv(model={str(test_model)!r})
        env.reset(seed=0)
        for touch_the_jvm in (True, False):
            pid = os.fork()
            if pid == 0:
                if touch_the_jvm:
                    try:
                        AnyLogicEnv(model={str(test_model)!r})
                    except AlpyperlError as error:
                        print("AlpyperlError:", error, flush=True)
                sys.exit(0)  # an ordinary exit: Python's atexit handlers run (JPype's shutdown among them)
            print("child status", os.waitpid(pid, 0)[1], flush=True)
        env.step(1)  # the parent's JVM is unharmed
        print("parent done", flush=True)
    """, tmp_path)
    assert child.status() == 0, child.stderr()
    error, first, second, done = child.output
    assert error.startswith("AlpyperlError:") and "forked" in error and "forkserver" in error and "spawn" in error
    assert (first, second, done) == ("child status 0", "child status 0", "parent done")


def test_a_forked_child_that_steps_an_environment_of_its_parent_is_told_why_it_cannot(test_model, tmp_path):
    child = Child(f"""
        import os, sys
        from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, AlpyperlError
        env = AnyLogicEnv(model={str(test_model)!r})
        envs = AnyLogicVectorEnv(model={str(test_model)!r}, num_envs=2)
        env.reset(seed=0)
        envs.reset(seed=0)
        pid = os.fork()
        if pid == 0:
            for call in (lambda: env.step(1), lambda: env.reset(seed=1), lambda: envs.step([1, 1])):
                try:
                    call()
                except AlpyperlError as error:
                    print("AlpyperlError:", str(error)[:60], flush=True)
            os._exit(0)
        print("child status", os.waitpid(pid, 0)[1], flush=True)
        env.step(1)
        envs.step([1, 1])
        print("parent done", flush=True)
    """, tmp_path)
    assert child.status() == 0, child.stderr()
    *errors, status, done = child.output
    assert len(errors) == 3 and all(e.startswith("AlpyperlError: this process (") for e in errors), errors
    assert (status, done) == ("child status 0", "parent done")


# ---- JVM options --------------------------------------------------------------------------------

@pytest.mark.parametrize("options, expected", [
    ("-Xmx1g", "jvm_options must be a list of JVM options, such as ['-Xmx2g'], got '-Xmx1g'"),
    (["-Xmx1g", 2], "jvm_options holds 2, which is no JVM option"),
    (["Xmx1g"], "jvm_options holds 'Xmx1g', which is no JVM option"),
    (["-jar", "-model.jar"], "jvm_options holds '-jar', an option of the java command"),
])
def test_jvm_options_that_are_no_list_of_jvm_options_are_refused(cartpole_model, options, expected):
    with pytest.raises(ValueError) as error:
        AnyLogicEnv(model=cartpole_model, jvm_options=options)
    assert expected in str(error.value)


def test_a_jvm_that_cannot_start_is_a_model_load_error_quoting_java(test_model, tmp_path):
    """A JVM failing inside the process would end it with status 1; the options are tried first."""
    descriptor_folder = tmp_path / "model"
    shutil.copytree(test_model, descriptor_folder)
    with open(descriptor_folder / "alpyperl-model.properties", "a") as descriptor:
        descriptor.write("\njvm.options=-Xmx1k\n")
    child = Child(f"""
        from alpyperl import AnyLogicEnv, ModelLoadError
        for settings in [dict(model={str(test_model)!r}, jvm_options=["-Xmx1k"]),
                         dict(model={str(descriptor_folder)!r}),
                         dict(model={str(test_model)!r}, jvm_options=["-Xnonsense"])]:
            try:
                AnyLogicEnv(**settings)
            except ModelLoadError as error:
                print("ModelLoadError:", error, flush=True)
        env = AnyLogicEnv(model={str(test_model)!r}, jvm_options=["-Xmx256m"])  # the process goes on
        env.reset(seed=0)
        print("done", flush=True)
    """, tmp_path)
    assert child.status() == 0, child.stderr()
    too_small, from_descriptor, unknown, done = child.output
    assert too_small.startswith("ModelLoadError:") and "'-Xmx1k'" in too_small and "Too small maximum heap" in too_small
    assert from_descriptor == too_small
    assert "Unrecognized option: -Xnonsense" in unknown
    assert done == "done"


# ---- options from files must not open the JVM to the network ------------------------------------

@pytest.mark.parametrize("option", [
    "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005",
    "-Xrunjdwp:transport=dt_socket,server=y,address=0.0.0.0:5005",
    "-Xdebug",
    "-agentpath:/usr/lib/jvm/java-17/lib/libjdwp.so=transport=dt_socket,server=y,address=*:5005",
    "-Dcom.sun.management.jmxremote.port=9010",
])
def test_remote_control_options_from_files_are_left_out_with_a_warning(option):
    with pytest.warns(UserWarning, match="the recording x.jsonl: a Java debugger"):
        kept = jvm.options_from_file(["-Xmx1g", option, "-Dkeep=yes"], "the recording x.jsonl")
    assert kept == ["-Xmx1g", "-Dkeep=yes"]


def test_jvm_options_from_files_that_are_no_options_are_a_model_load_error():
    with pytest.raises(ModelLoadError, match="the JVM options of the launch script x.sh holds 'oops'"):
        jvm.options_from_file(["-Xmx1g", "oops"], "the launch script x.sh")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_debugger_in_descriptor(test_model, anylogic_export, folder: Path, jdwp: str) -> tuple[str, str]:
    model = folder / "model"
    shutil.copytree(test_model, model)
    with open(model / "alpyperl-model.properties", "a") as descriptor:
        descriptor.write(f"\njvm.options=-Xmx512m {jdwp}\n")
    return f"AnyLogicEnv(model={str(model)!r})", "alpyperl-model.properties"


def with_debugger_in_launch_script(test_model, anylogic_export, folder: Path, jdwp: str) -> tuple[str, str]:
    export = folder / "export"
    shutil.copytree(anylogic_export, export)
    script = export / "CartPole_linux.sh"
    text = script.read_text()
    assert " -cp " in text
    script.write_text(text.replace(" -cp ", f" {jdwp} -cp ", 1))
    return f"AnyLogicEnv(model={str(export)!r})", "CartPole_linux.sh"


def with_debugger_in_recording(test_model, anylogic_export, folder: Path, jdwp: str) -> tuple[str, str]:
    path = folder / "episodes.jsonl"
    env = EpisodeRecorder(AnyLogicEnv(test_model), str(path))
    env.reset(seed=0)
    env.step(1)
    env.close()
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["jvm_options"] = [jdwp]
    path.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    return f"__import__('alpyperl.recording').recording.replay({str(path)!r}, 0)", "episodes.jsonl"


@pytest.mark.parametrize("make", [with_debugger_in_descriptor, with_debugger_in_launch_script,
                                  with_debugger_in_recording], ids=["descriptor", "launch script", "recording"])
def test_a_debugger_option_from_a_file_opens_no_port(test_model, anylogic_export, tmp_path, make):
    jdwp = f"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:{free_port()}"
    create, file_name = make(test_model, anylogic_export, tmp_path, jdwp)
    child = Child(f"""
        import warnings
        warnings.simplefilter("always")
        import jpype
        from alpyperl import AnyLogicEnv
        {create}
        arguments = jpype.JClass("java.lang.management.ManagementFactory").getRuntimeMXBean().getInputArguments()
        print("jdwp in the JVM's options:", any("jdwp" in str(argument) for argument in arguments), flush=True)
    """, tmp_path)
    assert child.status() == 0, child.stderr()
    assert child.output[-1] == "jdwp in the JVM's options: False"
    stderr = child.stderr()
    assert "alpyperl ignores the JVM options" in stderr and file_name in stderr and "debug_port" in stderr
    assert "Listening for transport" not in stderr


def test_ci_setup_leaves_no_gradle_daemon_running():
    setup = (REPO_ROOT / ".ci" / "setup.sh").read_text()
    runs = [line for line in setup.splitlines() if re.search(r"(^|[;&|!]\s*)gradle\s", line.strip())]
    assert runs and all("--no-daemon" in line for line in runs), runs


# ---- error messages quote huge inputs briefly ---------------------------------------------------

def test_a_huge_string_for_a_double_parameter_is_quoted_briefly(cartpole_model):
    env = AnyLogicEnv(model=cartpole_model)
    try:
        with pytest.raises(ModelLoadError) as error:
            env.reset(options={"env_params": {"poleLength": "7" * 10_000_000}})
        assert "poleLength" in str(error.value) and "(10000000 characters)" in str(error.value)
        assert len(str(error.value)) < 500
        with pytest.raises(ModelLoadError) as error:
            env.reset(options={"env_params": {"x" * 10_000_000: 1.0}})
        assert "(10000000 characters)" in str(error.value) and len(str(error.value)) < 500
    finally:
        env.close()


# ---- pickling -----------------------------------------------------------------------------------

def test_an_environment_cannot_be_pickled_and_says_what_to_pass_instead(test_model):
    import copy
    import pickle

    from alpyperl import AnyLogicEnv, AnyLogicVectorEnv

    for env in (AnyLogicEnv(test_model), AnyLogicVectorEnv(test_model, num_envs=2)):
        try:
            for attempt in (pickle.dumps, copy.deepcopy):
                with pytest.raises(TypeError, match=r"cannot be pickled or copied: its models? runs? in this process's "
                                                    r"JVM\. Pass its settings instead"):
                    attempt(env)
            again = type(env)(**env.settings)  # what the message says works
            again.close()
        finally:
            env.close()


# ---- bad input that used to pass ------------------------------------------------------------------

@pytest.mark.parametrize("vector", [False, True])
@pytest.mark.parametrize("action, problem", [
    (["0.5", "1.0"], "is not an array of numbers"),  # strings numpy would convert
    ([0.5 + 1j, 0.0], "has complex numbers"),  # numpy would drop the imaginary part with a warning
])
def test_box_actions_that_are_no_real_numbers_are_refused(test_model, tmp_path, vector, action, problem):
    from gymnasium import spaces

    from alpyperl import AnyLogicEnv, AnyLogicVectorEnv
    from test_errors import model_copy

    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.PythonSpacesModel")
    settings = dict(observation_space=spaces.Box(-np.inf, np.inf, (3,)), action_space=spaces.Box(-1, 1, (2,)))
    env = AnyLogicVectorEnv(folder, num_envs=2, **settings) if vector else AnyLogicEnv(folder, **settings)
    try:
        env.reset(seed=1)
        with pytest.raises(ValueError, match=problem):
            env.step([action, action] if vector else action)
    finally:
        env.close()


def test_a_fraction_for_an_integer_box_is_refused(test_model, tmp_path):
    from gymnasium import spaces

    from alpyperl import AnyLogicEnv
    from test_errors import model_copy

    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.PythonSpacesModel")
    env = AnyLogicEnv(folder, observation_space=spaces.Box(-np.inf, np.inf, (3,)),
                      action_space=spaces.Box(-5, 5, (2,), dtype=np.int64))
    try:
        env.reset(seed=1)
        with pytest.raises(ValueError, match=r"element 1 is 1.5, not a whole number \(the space's dtype is int64\)"):
            env.step([1, 1.5])
        env.step([1, 2])  # the refused step changed nothing
    finally:
        env.close()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -np.inf])
def test_parameters_that_are_no_finite_numbers_are_refused_naming_them(cartpole_model, value):
    from alpyperl import AnyLogicEnv

    with pytest.raises(ValueError, match=r"env_params\['poleLength'\] is .*: model parameters must be finite numbers"):
        AnyLogicEnv(cartpole_model, env_params={"poleLength": value})
    env = AnyLogicEnv(cartpole_model)
    try:
        with pytest.raises(ValueError, match="must be finite numbers"):
            env.reset(seed=1, options={"env_params": {"poleLength": value}})
        assert env.env_params == {}  # nothing changed
    finally:
        env.close()
