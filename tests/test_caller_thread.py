"""Models that run on the caller's thread (``model_threads="caller"``, the default on Java 24+):
the thread that calls ``step()`` runs the model itself, as a virtual thread it carries.

The launcher's JUnit tests cover a model pinned to its caller's thread and a blocked model in a
group (VirtualModelThreadsTest, run on this Java by tests/test_vector_env.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
import time

import jpype
import numpy as np
import pytest

from alpyperl import AlpyperlError, AnyLogicEnv, AnyLogicVectorEnv, ModelTimeoutError

TIMEOUT = 0.5


def live_model_threads() -> int:
    return int(jpype.JClass("com.alpyperl.launcher.ModelSession").liveModelThreads())


def platform_model_threads() -> list[str]:
    names = [str(t.getName()) for t in jpype.JClass("java.lang.Thread").getAllStackTraces().keySet()]
    return [name for name in names if name.startswith("alpyperl-model-")]


def trajectory(env, seed: int, actions) -> list:
    observation, _ = env.reset(seed=seed)
    steps = [observation]
    for action in actions:
        observation, reward, terminated, truncated, _ = env.step(action)
        steps.append((observation, reward, terminated, truncated))
        if terminated or truncated:
            observation, _ = env.reset()
            steps.append(observation)
    return steps


def test_the_default_runs_the_model_on_the_callers_thread(cartpole_model):
    env = AnyLogicEnv(cartpole_model)
    env.close()
    before = live_model_threads()
    env = AnyLogicEnv(cartpole_model)
    try:
        assert env.model_threads == "caller"
        env.reset(seed=1)
        env.step(0)
        assert live_model_threads() == before + 1
        assert not [name for name in platform_model_threads() if env.instance_label in name], \
            "a model on its caller's thread needs no OS thread of its own"
    finally:
        env.close()
    assert live_model_threads() == before


def test_trajectories_are_the_same_on_the_callers_thread_and_on_a_thread_of_its_own(cartpole_model):
    actions = np.random.default_rng(3).integers(0, 2, size=300)
    runs = []
    for threads in ("caller", "platform"):
        env = AnyLogicEnv(cartpole_model, model_threads=threads)
        try:
            runs.append(trajectory(env, 11, actions))
        finally:
            env.close()
    assert len(runs[0]) == len(runs[1]) > 300
    for ours, theirs in zip(*runs):
        np.testing.assert_equal(ours, theirs)


def test_environments_dropped_without_close_end_their_model_threads(cartpole_model):
    import gc

    AnyLogicEnv(cartpole_model).close()  # the JVM runs
    before = live_model_threads()
    for _ in range(20):
        env = AnyLogicEnv(cartpole_model)
        env.reset(seed=1)
        env.step(1)
        del env
    gc.collect()
    assert live_model_threads() == before


def test_two_python_threads_each_stepping_their_own_environment(cartpole_model):
    actions = np.random.default_rng(5).integers(0, 2, size=400)
    alone = []
    for seed in (1, 2):
        env = AnyLogicEnv(cartpole_model)
        alone.append(trajectory(env, seed, actions))
        env.close()
    envs = [AnyLogicEnv(cartpole_model) for _ in range(2)]
    results = [None, None]

    def play(index):
        results[index] = trajectory(envs[index], index + 1, actions)

    threads = [threading.Thread(target=play, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for env in envs:
        env.close()
    for got, expected in zip(results, alone):
        for ours, theirs in zip(got, expected):
            np.testing.assert_equal(ours, theirs)


@pytest.mark.parametrize("fault, at", [("neverRequest", 0), ("sleepForever", 1)])
def test_a_model_that_waits_forever_times_out_and_the_next_reset_works(test_model, fault, at):
    env = AnyLogicEnv(test_model, step_timeout=TIMEOUT)
    try:
        assert env.model_threads == "caller"
        with pytest.raises(ModelTimeoutError, match=r"did not reach its (first|next) requestAction\(\) within 0.5 s"):
            env.reset(seed=1, options={"env_params": {"fault": fault, "faultAtStep": at}})
            env.step(0)
        env.reset(seed=2, options={"env_params": {"fault": "none"}})
        _, _, terminated, truncated, _ = env.step(0)
        assert not terminated and not truncated
    finally:
        env.close()


def test_a_vector_step_whose_models_all_wait_forever_times_out(test_model):
    envs = AnyLogicVectorEnv(test_model, num_envs=4, step_timeout=TIMEOUT,
                             env_params={"fault": "sleepForever", "faultAtStep": 1})
    try:
        assert envs.model_threads == "caller"
        envs.reset(seed=1)
        with pytest.raises(ModelTimeoutError, match=r"\[environment 0\]"):
            envs.step(np.zeros(4, dtype=np.int64))
    finally:
        envs.close()


LOOPING = """
import sys
from alpyperl import AnyLogicEnv
env = AnyLogicEnv(sys.argv[1], step_timeout=0.5, env_params={"fault": "loopForever", "faultAtStep": 1})
env.reset(seed=1)
print("stepping", flush=True)
env.step(0)
"""


def test_a_model_that_loops_forever_on_its_callers_thread_is_reported_with_its_stack(test_model):
    """It cannot be stopped there: after step_timeout the watchdog prints where it is and what to do."""
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LOOPING), str(test_model)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "stepping\n"
        report = []
        for line in child.stderr:  # the watchdog's report, then the model's stack
            report.append(line)
            if "com.alpyperl.testmodels.FaultyModel.spin(" in line:
                break
    finally:
        child.kill()
        child.wait(timeout=60)
    text = "".join(report)
    assert re.search(r"alpyperl: a model has run for [\d.]+ s \(step_timeout 0.5 s\) without reaching its next "
                     r"requestAction\(\)", text), text
    assert 'run the model with model_threads="platform" to have such a step raise ModelTimeoutError' in text
    assert "is at:\n\tat com.alpyperl.testmodels.FaultyModel.spin(FaultyModel.java:" in text


@pytest.mark.parametrize("vector", [False, True])
def test_a_second_thread_is_refused_while_one_steps_and_actions_never_mix(test_model, vector):
    params = {"fault": "sleepForever", "faultAtStep": 1}
    # The first thread's step waits in the model for the whole step timeout: time enough to be refused.
    env = (AnyLogicVectorEnv(test_model, num_envs=2, step_timeout=5.0, env_params=params) if vector
           else AnyLogicEnv(test_model, step_timeout=5.0, env_params=params))
    action = np.zeros(2, dtype=np.int64) if vector else 0
    outcome = []

    def step_into_the_sleeping_model():
        try:
            env.step(action)
        except ModelTimeoutError as error:
            outcome.append(error)

    try:
        env.reset(seed=1)
        stepping = threading.Thread(target=step_into_the_sleeping_model)
        stepping.start()
        deadline = time.monotonic() + 60
        while not env._instances.busy.locked():  # the other thread is inside step()
            assert time.monotonic() < deadline and stepping.is_alive()
            time.sleep(0.001)
        for call in (lambda: env.step(action), lambda: env.reset(seed=2)):
            with pytest.raises(AlpyperlError, match=r"(step|reset)\(\) was called while another thread is inside "
                                                    r"reset\(\) or step\(\) of this environment"):
                call()
        stepping.join()
        assert len(outcome) == 1  # the first thread's step ran on, undisturbed, into the model's timeout
    finally:
        env.close()
