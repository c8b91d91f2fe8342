"""AnyLogic exports: ``AnyLogicEnv(model="path/to/export")`` on an export in AnyLogic's exact layout.

AnyLogic is not installed here, so the export is built by Gradle from ``tests/anylogic-model`` (a
CartPole written the way AnyLogic generates code: root agent ``Main``, experiment ``Simulation``,
a cyclic event calling ``connector.requestAction()``) and ``tests/anylogic-engine``, a TEST
DOUBLE of AnyLogic's engine jar with the API of AnyLogic 8.7.12 and the behaviour measured on it
(anylogic-api.md, "Real engine behaviour"). The launcher does not know it talks to a stand-in.
The root's parameter ``fault`` makes the model misbehave for the error tests (see ``Main``'s class
comment).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import jpype
import numpy as np
import pytest

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, ModelError, ModelLoadError, ResetNeeded, launch_script

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "tests" / "launch-scripts"
PARAMETERS = ["poleLength", "actionNoise", "fault", "faultTime"]


def balance(observation) -> int:
    """A controller that keeps the pole up for the whole run: push towards where the pole falls."""
    return int(observation[2] + 0.5 * observation[3] > 0)


def run_episode(env, seed, policy=balance, limit=1000, **params):
    """Resets ``env`` with ``seed`` (and parameters) and runs ``policy`` to the end: the trajectory."""
    observation, info = env.reset(seed=seed, options={"env_params": params} if params else None)
    observations, rewards = [observation], []
    for _ in range(limit):
        observation, reward, terminated, truncated, _ = env.step(policy(observation))
        observations.append(observation)
        rewards.append(reward)
        if terminated or truncated:
            return np.array(observations), np.array(rewards), terminated, truncated
    raise AssertionError(f"the episode did not end within {limit} steps")


def export_copy(anylogic_export, tmp_path, experiment=None, remove=(), script_text=None) -> Path:
    """A copy of the export, running another experiment class, without some files or with other launch scripts."""
    folder = tmp_path / "CartPole"
    shutil.copytree(anylogic_export, folder)
    for script in [folder / "CartPole_linux.sh", folder / "CartPole_mac", folder / "CartPole_windows.bat"]:
        if experiment is not None:
            script.write_text(script.read_text().replace("com.acme.cartpole.Simulation", experiment))
        if script_text is not None:
            script.write_text(script_text)
    for name in remove:
        (folder / name).unlink()
    return folder


@pytest.fixture
def env(anylogic_export):
    environment = AnyLogicEnv(model=str(anylogic_export))
    yield environment
    environment.close()


# ---- episodes ----------------------------------------------------------------------------------


def test_an_export_opens_with_the_same_call_as_the_examples(env):
    assert env.observation_space.shape == (4,) and env.action_space.n == 2  # defined in the model's Main
    assert env.model_parameters == PARAMETERS  # the root agent's parameters, in AnyLogic's order
    observation, info = env.reset(seed=5)
    assert info["seed"] == 5
    assert env.observation_space.contains(observation)
    assert np.all(np.abs(observation) <= 0.05)  # drawn with uniform(-0.05, 0.05) in On startup


def test_termination_when_the_model_finishes_and_truncation_at_the_stop_time(env, anylogic_export, tmp_path):
    # Always pushing right: the pole falls, the model says it has finished (and calls finishSimulation()).
    observations, rewards, terminated, truncated = run_episode(env, seed=1, policy=lambda o: 1)
    assert (terminated, truncated) == (True, False)
    assert abs(observations[-1][2]) > 12 * 2 * np.pi / 360
    assert np.all(rewards == 1.0)
    # Balancing: the engine reaches the experiment's stop time 10. As on AnyLogic's engine, the cyclic
    # event (first at 0, every 0.02) also occurs at the stop time (at 9.999999999999876 by the drift of
    # adding 0.02 each time): 501 decisions, so 501 steps after reset's first observation.
    observations, rewards, terminated, truncated = run_episode(env, seed=1)
    assert (terminated, truncated, len(rewards)) == (False, True, 501)
    # Another experiment of the model (stop time 1), named in the launch script: 50 decisions, since by
    # the drift the 51st occurrence would be at 1.0000000000000004, after the stop time.
    with AnyLogicEnv(model=str(export_copy(anylogic_export, tmp_path, "com.acme.cartpole.ShortSimulation"))) as short:
        observations, rewards, terminated, truncated = run_episode(short, seed=1)
        assert (terminated, truncated, len(rewards)) == (False, True, 50)


def test_the_same_seed_replays_the_trajectory_with_both_random_generators(env):
    # actionNoise flips pushes with connector.getRandom(); the start state comes from the engine's uniform().
    first = run_episode(env, seed=21, actionNoise=0.3)
    again = run_episode(env, seed=21, actionNoise=0.3)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # The experiment fixes the engine's seed (1); the launcher re-seeds it from each episode's seed.
    starts = {tuple(env.reset(seed=seed)[0]) for seed in range(10)}
    assert len(starts) == 10
    # The connector's generator is seeded too: with the same start state, the flips differ between seeds.
    noisy = [run_episode(env, seed=seed, actionNoise=0.5, policy=lambda o: 1)[0][:, 1] for seed in (21, 21, 22)]
    np.testing.assert_array_equal(noisy[0], noisy[1])
    assert not np.array_equal(noisy[0][:5], noisy[2][:5])


def test_parameters_are_set_by_name_on_the_root_agent(anylogic_export):
    with AnyLogicEnv(model=str(anylogic_export), env_params={"poleLength": 2.0}) as long_pole, \
            AnyLogicEnv(model=str(anylogic_export)) as default:
        a = run_episode(long_pole, seed=3, policy=lambda o: 1)
        b = run_episode(default, seed=3, policy=lambda o: 1)
        np.testing.assert_array_equal(a[0][0], b[0][0])  # the same start...
        assert len(a[1]) > len(b[1])  # ...but a longer pole falls more slowly
        c = run_episode(default, seed=3, policy=lambda o: 1, poleLength=2)  # an int for a double parameter
        np.testing.assert_array_equal(a[0], c[0])


def test_a_model_that_pauses_itself_runs_on(env):
    observations, rewards, terminated, truncated = run_episode(env, seed=1, fault="pause", faultTime=0.1)
    assert (terminated, truncated, len(rewards)) == (False, True, 501)


def test_a_reset_or_close_in_mid_episode_stops_the_engine_quietly(anylogic_export, capfd):
    environment = AnyLogicEnv(model=str(anylogic_export))
    for seed in range(3):
        observation, _ = environment.reset(seed=seed)
        for _ in range(5):
            observation, *_ = environment.step(balance(observation))
    expected = run_episode(environment, seed=2)
    environment.reset(seed=2)
    environment.step(0)
    environment.close()
    output = capfd.readouterr()
    assert "Exception" not in output.err + output.out and "Abandoned" not in output.err + output.out
    with AnyLogicEnv(model=str(anylogic_export)) as fresh:
        np.testing.assert_array_equal(run_episode(fresh, seed=2)[0], expected[0])


def test_several_instances_run_at_once_in_one_jvm_each_on_its_own_thread(anylogic_export):
    seeds = [31, 32, 33, 34]
    sequential = []
    with AnyLogicEnv(model=str(anylogic_export)) as single:
        for seed in seeds:
            sequential.append(run_episode(single, seed, actionNoise=0.2)[0])

    environments = [AnyLogicEnv(model=str(anylogic_export), env_params={"actionNoise": 0.2}) for _ in seeds]
    results: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(seeds))

    def play(index):
        start.wait()
        results[index] = run_episode(environments[index], seeds[index])[0]

    threads = [threading.Thread(target=play, args=(index,)) for index in range(len(seeds))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    threads_in_use = {environment._instances.group.model_thread_name(0) for environment in environments}
    for environment in environments:
        environment.close()
    assert len(threads_in_use) == len(seeds)
    for index, expected in enumerate(sequential):
        np.testing.assert_array_equal(results[index], expected)

    # The vector env steps all instances in one call; each replays its AnyLogicEnv trajectory.
    vector = AnyLogicVectorEnv(model=str(anylogic_export), num_envs=2, env_params={"actionNoise": 0.2})
    try:
        observations, _ = vector.reset(seed=31)  # sub-environment i gets seed 31 + i
        for step in range(20):
            observations, *_ = vector.step(np.array([balance(o) for o in observations]))
            np.testing.assert_array_equal(observations, [sequential[0][step + 1], sequential[1][step + 1]])
    finally:
        vector.close()


# ---- errors ------------------------------------------------------------------------------------


def test_an_exception_in_an_event_reaches_python_with_the_models_stack_trace(env):
    env.reset(seed=1, options={"env_params": {"fault": "event", "faultTime": 0.1}})
    for _ in range(4):
        env.step(1)
    with pytest.raises(ModelError) as error:
        env.step(1)
    message = str(error.value)
    assert "an exception in model code stopped the AnyLogic engine (state ERROR) at model time 0.1" in message
    assert "during the run (in an event" in message
    assert "java.lang.IllegalStateException: the pole broke at time 0.1" in message
    trace = error.value.java_stack_trace
    # As AnyLogic's engine prints it: the heading, the exception's message, its line and its trace.
    assert trace.startswith("Exception during discrete event execution:\nthe pole broke at time 0.1\n"
                            "java.lang.IllegalStateException: the pole broke at time 0.1\n")
    assert "at com.acme.cartpole.Main.executeActionOf(Main.java:" in trace
    with pytest.raises(ResetNeeded):
        env.step(0)
    assert run_episode(env, seed=1, fault="none")[3]  # works again after reset


def test_an_error_in_an_event_is_reported_like_an_exception(env):
    env.reset(seed=1, options={"env_params": {"fault": "error", "faultTime": 0.04}})
    env.step(1)
    with pytest.raises(ModelError) as error:
        env.step(1)
    message = str(error.value)
    assert ("an exception in model code stopped the AnyLogic engine (state ERROR) at model time 0.04 during the run"
            in message)
    assert "java.lang.AssertionError: the cart left its rails at time 0.04" in message
    assert "at com.acme.cartpole.Main.executeActionOf(Main.java:" in error.value.java_stack_trace


def test_an_exception_at_startup_is_a_start_up_failure(env):
    # AnyLogic's engine catches it, prints it and returns true from start() with state ERROR.
    with pytest.raises(ModelError) as error:
        env.reset(seed=1, options={"env_params": {"fault": "startup"}})
    message = str(error.value)
    assert ("an exception in model code stopped the AnyLogic engine (state ERROR) at model time 0.0 while the model "
            "started up (in the On startup code of Main or of an agent it contains") in message
    assert "during the run" not in message
    assert "java.lang.IllegalArgumentException: the track is missing" in message
    assert error.value.java_stack_trace.startswith("Error during model startup:\n"
                                                   "java.lang.IllegalArgumentException: the track is missing\n")
    assert "at com.acme.cartpole.Main.onStartup(Main.java:" in error.value.java_stack_trace
    assert run_episode(env, seed=1, fault="none")[3]


def test_an_exception_in_an_initial_value_is_a_failure_to_create_the_agents(env):
    # AnyLogic's engine lets it escape start() and prints nothing: the launcher reports it.
    with pytest.raises(ModelError) as error:
        env.reset(seed=1, options={"env_params": {"fault": "initialValue"}})
    message = str(error.value)
    assert ("The model CartPole failed: an exception in model code stopped the creation of the model's agents, before "
            "any On startup code (in the initial value of a variable of Main or of an agent it contains") in message
    assert "java.lang.IllegalStateException: the track cannot be measured" in message
    trace = error.value.java_stack_trace
    assert "Caused by: java.lang.IllegalStateException: the track cannot be measured" in trace
    assert "at com.acme.cartpole.Main.measureTrack(Main.java:" in trace
    assert "at com.acme.cartpole.Main.setupPlainVariables_Main_xjal(Main.java:" in trace
    assert run_episode(env, seed=1, fault="none")[3]


def test_parameter_on_change_code_does_not_run_on_a_half_built_agent(anylogic_export, caplog):
    # Main's On change code for poleLength uses a variable that exists only once the agent is created.
    # The launcher sets parameters as AnyLogic's own run flow does (callOnChange false), so this runs:
    caplog.set_level(logging.INFO, logger="alpyperl.model")
    with AnyLogicEnv(model=str(anylogic_export), env_params={"poleLength": 2.0, "fault": "trace"}) as env:
        env.reset(seed=1)
        assert any(record.getMessage().endswith("] On startup: pole length 2.0") for record in caplog.records)
    # ... where a launcher that set them with callOnChange true before engine.start(root) would fail.
    jars = [anylogic_export / "model.jar", anylogic_export / "lib" / "com.anylogic.engine.jar"]
    loader = jpype.JClass("java.net.URLClassLoader")([jpype.JClass("java.io.File")(str(jar)).toURI().toURL()
                                                       for jar in jars])
    Class = jpype.JClass("java.lang.Class")
    experiment = Class.forName("com.acme.cartpole.Simulation", True, loader).getConstructor().newInstance()
    engine = Class.forName("com.anylogic.engine.Engine", True, loader).getConstructor().newInstance()
    experiment.setupRootParameters(experiment.createRoot(engine), False)  # fine: no On change code
    with pytest.raises(jpype.JException, match="NullPointerException"):
        experiment.setupRootParameters(experiment.createRoot(engine), True)


def test_a_hand_written_root_agent_is_refused_before_the_engine_ends_the_process(anylogic_export, tmp_path):
    """AnyLogic's engine (and the stand-in) refuse a root that AnyLogic did not generate and then call
    System.exit; the launcher refuses it first. In a process of its own, which must end normally."""
    folder = export_copy(anylogic_export, tmp_path, "com.acme.cartpole.HandWrittenSimulation")
    code = ("import jpype; from alpyperl import AnyLogicEnv, ModelLoadError\n"
            f"env = AnyLogicEnv(model={str(folder)!r})\n"
            "try:\n"
            "    env.reset(seed=1)\n"
            "except ModelLoadError as error:\n"
            "    print('refused:', error)\n"
            "threads = jpype.JClass('java.lang.Thread').getAllStackTraces().keySet()\n"
            "print('engine exit thread:', any(str(t.getName()) == 'AnyLogic engine exit' for t in threads))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr  # 255 if the engine had ended the process
    assert ("refused: the root agent HandWrittenMain of CartPole was not generated by AnyLogic: its class "
            "com.acme.cartpole.HandWrittenMain declares no serialVersionUID") in done.stdout
    assert ("The AnyLogic engine only runs models that AnyLogic generated: it refuses any other root agent (\"Invalid "
            "start location for AnyLogic Runtime\") and then ends the whole process with System.exit") in done.stdout
    assert "Export the model from AnyLogic" in done.stdout
    assert "engine exit thread: False" in done.stdout  # runFast() was never called
    assert "Invalid start location" not in done.stderr
    assert "ended this process" not in done.stderr  # a normal end of the interpreter is not reported


# ---- System.exit: the embedded JVM ends the Python process, so the launcher says who did it ---------


MODEL_EXITS = """
import sys
from alpyperl import AnyLogicEnv
env = AnyLogicEnv(model=sys.argv[1], env_params={"fault": "exit", "faultTime": 0.04})
print("model thread:", env._instances.group.model_thread_name(0), flush=True)
env.reset(seed=1)
env.step(0)
env.step(0)  # the event at time 0.04 calls System.exit(3)
print("the process went on", flush=True)
"""


def test_a_system_exit_in_model_code_names_the_thread_and_its_stack(anylogic_export):
    done = subprocess.run([sys.executable, "-c", MODEL_EXITS, str(anylogic_export)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the process went on" not in done.stdout
    thread = done.stdout.split("model thread: ", 1)[1].splitlines()[0]
    assert (f'alpyperl: the model\'s Java code ended this process: System.exit(...) was called on thread "{thread}". '
            "Its stack:\n\tat java.lang.System.exit(") in done.stderr
    assert "\n\tat com.acme.cartpole.Main.executeActionOf(Main.java:" in done.stderr
    assert "the AnyLogic engine ends the process" not in done.stderr  # the model called it, not the engine


ENGINE_EXITS = """
import sys, time
import jpype
from alpyperl import AnyLogicEnv
AnyLogicEnv(model=sys.argv[1])  # opens the model folder: from now on its classes are watched
folder = jpype.JClass("com.alpyperl.launcher.runtime.ModelFolder").open(sys.argv[1])
get_loader = folder.getClass().getDeclaredMethod("classLoader")
get_loader.setAccessible(True)
Class = jpype.JClass("java.lang.Class")
loader = get_loader.invoke(folder)
# Driving the engine directly, without the launcher's check, on a root AnyLogic did not generate:
experiment = Class.forName("com.acme.cartpole.HandWrittenSimulation", True, loader).getConstructor().newInstance()
engine = Class.forName("com.anylogic.engine.Engine", True, loader).getConstructor().newInstance()
engine.setExperiment(experiment)
engine.start(experiment.createRoot(engine))
print("runFast:", engine.runFast(), engine.getState(), flush=True)
while True:
    time.sleep(1)  # until the engine ends the process
"""


def test_a_system_exit_by_the_anylogic_engine_says_to_export_the_model_from_anylogic(anylogic_export, tmp_path):
    folder = export_copy(anylogic_export, tmp_path)
    done = subprocess.run([sys.executable, "-c", ENGINE_EXITS, str(folder)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 255, done.stdout + done.stderr
    assert "runFast: True FINISHED" in done.stdout
    assert "Invalid start location for AnyLogic Runtime" in done.stderr
    assert ('alpyperl: the model\'s Java code ended this process: System.exit(...) was called on thread '
            '"AnyLogic engine exit". Its stack:\n') in done.stderr
    assert "\tat com.anylogic.engine.Engine." in done.stderr
    assert ("alpyperl: the AnyLogic engine ends the process this way when it refuses a model that AnyLogic did not "
            "generate") in done.stderr
    assert "only models exported by AnyLogic can run, so export the model from AnyLogic" in done.stderr


def test_on_destroy_runs_when_the_episode_ends_and_leaves_no_events(anylogic_export, caplog, capfd):
    caplog.set_level(logging.INFO, logger="alpyperl.model")
    with AnyLogicEnv(model=str(anylogic_export), env_params={"fault": "trace"}) as env:
        run_episode(env, seed=1)  # truncated at the stop time
        observation, _ = env.reset(seed=2)  # abandons this episode at its first decision
        env.step(balance(observation))
    lines = [record.getMessage().split("] ", 1)[1] for record in caplog.records if record.name == "alpyperl.model"]
    assert lines.count("On destroy at time 10.0") == 1
    assert "On destroy at time 0.02" in lines  # the abandoned episode, stopped at close()
    output = capfd.readouterr()
    assert "INTERNAL ERROR" not in output.out + output.err + "\n".join(lines)


def test_an_engine_error_without_a_printed_exception_is_reported(env):
    env.reset(seed=1, options={"env_params": {"fault": "silentEvent", "faultTime": 0.04}})
    env.step(1)
    with pytest.raises(ModelError) as error:
        env.step(1)
    assert ("the AnyLogic engine stopped with state ERROR at model time 0.04 during the run (in an event, a "
            "function or other model code), and the model thread printed no exception") in str(error.value)
    assert "AnyLogic reports the cause on System.err" in str(error.value)


def test_a_model_that_finishes_before_its_first_decision(env):
    with pytest.raises(ModelError) as error:
        env.reset(seed=1, options={"env_params": {"fault": "finishAtStartup"}})
    message = str(error.value)
    assert "the model ended its run before its first requestAction()" in message
    assert "the AnyLogic engine was FINISHED at model time 0.0 (the experiment's stop time is 10.0)" in message
    assert "call connector.requestAction() in an event that occurs before the run finishes" in message


def test_a_root_agent_that_does_not_implement_the_contract(anylogic_export, tmp_path):
    folder = export_copy(anylogic_export, tmp_path, "com.acme.cartpole.PlainSimulation")
    with pytest.raises(ModelLoadError) as error:
        AnyLogicEnv(model=str(folder))
    assert ("the root agent PlainMain of CartPole does not implement com.alpyperl.connector.RLModel. In AnyLogic, "
            "open the root agent's properties, Advanced Java, and enter com.alpyperl.connector.RLModel in the "
            "Implements field") in str(error.value)


def test_unknown_parameters_and_values_of_the_wrong_type(anylogic_export, env):
    with pytest.raises(ModelLoadError) as error:
        AnyLogicEnv(model=str(anylogic_export), env_params={"polelength": 1.0})
    assert ("the root agent Main of CartPole has no parameter 'polelength'; its parameters are poleLength, "
            "actionNoise, fault, faultTime") in str(error.value)
    assert "add a parameter 'polelength' to Main in AnyLogic" in str(error.value)
    with pytest.raises(ModelLoadError, match="parameter poleLength has type double; the value \"long\" does not fit"):
        env.reset(options={"env_params": {"poleLength": "long"}})
    assert run_episode(env, seed=1)[3]


def test_launch_scripts_that_cannot_be_parsed(anylogic_export, tmp_path):
    folder = export_copy(anylogic_export, tmp_path, script_text="#!/bin/bash\n./CartPole\n")
    with pytest.raises(ModelLoadError) as error:
        AnyLogicEnv(model=str(folder))
    assert "cannot read the launch script CartPole_linux.sh: it has no java command with a classpath" in str(error.value)
    assert "expected a line of the form `java -cp <classpath> [JVM options] <experiment class> $*`" in str(error.value)


def test_an_export_without_its_engine_or_experiment(anylogic_export, tmp_path):
    no_engine = export_copy(anylogic_export, tmp_path / "a", remove=["lib/com.anylogic.engine.jar"])
    with pytest.raises(ModelLoadError, match=r"names lib/com.anylogic.engine.jar, which is missing from .* \(the classpath is in CartPole_linux.sh\)"):
        AnyLogicEnv(model=str(no_engine))
    other = export_copy(anylogic_export, tmp_path / "b", "com.acme.cartpole.Main")
    with pytest.raises(ModelLoadError, match="runs com.acme.cartpole.Main, which is not a simulation experiment"):
        AnyLogicEnv(model=str(other))
    missing = export_copy(anylogic_export, tmp_path / "c", "com.acme.cartpole.Simulation2")
    with pytest.raises(ModelLoadError, match="runs com.acme.cartpole.Simulation2, which is not in model.jar"):
        AnyLogicEnv(model=str(missing))
    only_custom = export_copy(anylogic_export, tmp_path / "d", "com.acme.cartpole.custom.OnlyCustomExperiment")
    with pytest.raises(ModelLoadError, match="runs the experiment com.acme.cartpole.custom.OnlyCustomExperiment, and "
                                             "the model has no simulation experiment, which alpyperl needs"):
        AnyLogicEnv(model=str(only_custom))


def test_an_export_launched_with_a_custom_experiment_runs_with_its_simulation(anylogic_export, tmp_path):
    """ALPypeRL 1.x's custom-experiment exports: the launch script runs a custom experiment, whose
    run() is code of its own; alpyperl builds each episode with the model's Simulation experiment."""
    folder = export_copy(anylogic_export, tmp_path, "com.acme.cartpole.CustomExperiment")
    with AnyLogicEnv(model=str(folder)) as custom, AnyLogicEnv(model=str(anylogic_export)) as simulation:
        np.testing.assert_array_equal(run_episode(custom, seed=4)[0], run_episode(simulation, seed=4)[0])


# ---- launch scripts: Python reads the JVM options like the launcher --------------------------


@pytest.mark.parametrize("name", sorted(json.loads((SCRIPTS / "expected.json").read_text())))
def test_the_python_reader_agrees_with_the_launcher_on_every_script(name):
    expected = json.loads((SCRIPTS / "expected.json").read_text())[name]
    command = launch_script.parse(name, (SCRIPTS / name).read_text())
    if "error" in expected:
        assert command is None  # the launcher reports what is wrong
    else:
        assert command == (expected["classpath"], expected["jvm_options"], expected["experiment_class"])


def test_the_jvm_starts_with_the_options_of_the_launch_script(anylogic_export):
    code = ("from alpyperl import AnyLogicEnv; import jpype; import sys\n"
            f"env = AnyLogicEnv(model={str(anylogic_export)!r})\n"
            "System = jpype.JClass('java.lang.System'); Runtime = jpype.JClass('java.lang.Runtime')\n"
            "print(System.getProperty('com.acme.cartpole.export'), Runtime.getRuntime().maxMemory() // 2**20)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    system, max_memory = done.stdout.split()
    assert system == "linux" and 400 < int(max_memory) <= 512  # -Xmx512m -Dcom.acme.cartpole.export=linux


# ---- training ----------------------------------------------------------------------------------


# Runs in a process of its own: a Ray driver installs its own handler for SIGSEGV, which the JVM of
# this test process relies on (a Java StackOverflowError in a later test would then crash pytest).
TRAIN = """
import json, sys
import ray
import ray.tune.trainable.trainable as ray_trainable
from ray.rllib.algorithms.ppo import PPOConfig
from alpyperl import rllib

ray_trainable.DEFAULT_STORAGE_PATH = sys.argv[2]  # RLlib's log folder, out of $HOME
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
config = (
    PPOConfig()
    .environment(rllib.register_env(), env_config={"model": sys.argv[1]})
    .env_runners(num_env_runners=1, num_envs_per_env_runner=2, rollout_fragment_length=64)
    .rl_module(model_config={"fcnet_hiddens": [16]})
    .training(train_batch_size_per_learner=128, minibatch_size=64, num_epochs=2)
    .debugging(seed=3)
)
algo = rllib.build_algo(config)
results = [algo.train() for _ in range(3)]
algo.save(sys.argv[3])
algo.stop()
print(json.dumps({"steps": rllib.env_steps(results[-1]),
                  "returns": [r["env_runners"].get("episode_return_mean") for r in results],
                  "progress": [rllib.progress_line(r) for r in results]}))
"""


def test_ppo_trains_on_the_export_and_its_policy_runs_in_java(anylogic_export, tmp_path):
    """A few PPO iterations with RLlib (one EnvRunner process with two instances of the export),
    then the checkpoint exported to ONNX and evaluated by the launcher, like the examples."""
    checkpoint = tmp_path / "checkpoint"
    done = subprocess.run([sys.executable, "-c", TRAIN, str(anylogic_export), str(tmp_path / "ray_results"),
                           str(checkpoint)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["steps"] >= 3 * 128
    returns = [value for value in result["returns"] if value is not None]
    assert returns and all(value >= 8 for value in returns)  # CartPole episodes last at least ~8 steps

    from alpyperl.export import export_checkpoint  # verifies the file against torch and the Java evaluator

    policy = export_checkpoint(checkpoint, tmp_path / "policy.onnx", samples=500, log=lambda *_: None)
    launcher = REPO / "alpyperl" / "jars" / "launcher.jar"
    run = subprocess.run(["java", "-jar", str(launcher), "run", "--model", str(anylogic_export), "--policy", str(policy),
                          "--episodes", "3"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("\nepisode ") == 3 and "3 episodes: mean return" in run.stdout, run.stdout


def test_info_shows_the_parameters_as_the_experiment_sets_them(anylogic_export, capsys):
    """``alpyperl info`` reads an export's parameter values from a root the experiment set up, before
    it starts: the values each episode starts with (the stand-in's Simulation sets all four)."""
    from alpyperl import cli

    assert cli.main(["info", str(anylogic_export)]) == 0
    printed = capsys.readouterr().out
    assert ("parameters    (set with env_params={...} or --param NAME=VALUE)\n"
            "  poleLength   double   0.5\n  actionNoise  double   0.0\n  fault        String   'none'\n"
            "  faultTime    double   0.1\n") in printed, printed


# ---- evaluation in the exported application, without alpyperl -------------------------------------


def run_exported_application(export: Path, **environment) -> subprocess.CompletedProcess:
    """Runs the export's own launch script, as a user would run the exported application."""
    return subprocess.run(["bash", str(export / "CartPole_linux.sh")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **environment})


def test_the_exported_application_answers_its_decisions_from_a_policy_file(anylogic_export, tmp_path):
    import gymnasium as gym
    from test_evaluation import CARTPOLE_SPACE, LEAN, write_policy

    policy = write_policy(tmp_path / "lean.onnx", weights=LEAN, observation_space=CARTPOLE_SPACE,
                          action_space=gym.spaces.Discrete(2))
    done = run_exported_application(anylogic_export, ALPYPERL_POLICY=str(policy))
    assert f"ALPypeRL: evaluation mode: actions from the policy {policy} (the environment variable ALPYPERL_POLICY" \
        in done.stdout
    # The policy kept the pole up for a while (the model finishes the run when it falls).
    ended = done.stdout.strip().splitlines()[-1]
    assert ended.startswith("the run ended at time ") and ended.endswith(" in state FINISHED"), done.stdout
    assert float(ended.split()[5]) > 0.2


def test_the_exported_application_without_a_policy_explains_both_modes(anylogic_export):
    done = run_exported_application(anylogic_export)  # (the script's status is that of its last line, a cd)
    output = done.stdout + done.stderr
    assert "in state ERROR" in done.stdout
    assert "Nobody answers requestAction(): this model runs neither under alpyperl training nor with a policy" in output
    assert "usePolicy(\"policy.onnx\")" in output
