"""Life cycle of environments in one process: threads, abandoned episodes, several environments.

Uses the test model ``tests/models`` (class ``FaultyModel``, see ``test_errors.py``) and CartPole.
Model threads are found by name: the launcher names them ``alpyperl-model-<model>#<n>``.
"""

from __future__ import annotations

import gc
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor

import jpype
import numpy as np
import pytest

from alpyperl import AnyLogicEnv, ModelError, ModelTimeoutError

TIMEOUT = 1.0  # seconds: the step timeout of environments whose model gets stuck
JOIN_MILLIS = 10_000  # how long a finished model thread may take to end (it normally takes microseconds)


def java_threads():
    return list(jpype.JClass("java.lang.Thread").getAllStackTraces().keySet())


def model_threads():
    """The live model threads of all environments in this process."""
    return [t for t in java_threads() if str(t.getName()).startswith("alpyperl-model-")]


def thread_of(env):
    """The Java thread that currently runs ``env``'s model (``model_threads="platform"``: virtual
    threads do not show in ``Thread.getAllStackTraces()``).

    A thread that replaces a stuck one has the same name, and the stuck one may take a moment to
    end, so the newest thread of that name is the current one.
    """
    name = env._instances.group.model_thread_name(0)
    threads = [t for t in model_threads() if str(t.getName()) == name]
    assert threads, f"no thread named {name}"
    return max(threads, key=lambda thread: thread.getId())


def jvm_thread_count():
    return jpype.JClass("java.lang.management.ManagementFactory").getThreadMXBean().getThreadCount()


def assert_threads_end(threads):
    for thread in threads:
        thread.join(JOIN_MILLIS)
    alive = [str(t.getName()) for t in threads if t.isAlive()]
    assert not alive, f"model threads still alive: {alive}"


def model_counters(env):
    """FaultyModel's static counters (runs started, runs whose finally block ran) in ``env``'s class loader."""
    loader = thread_of(env).getContextClassLoader()
    model = jpype.JClass("com.alpyperl.testmodels.FaultyModel", loader=loader)
    return lambda: (model.RUNS_STARTED.get(), model.RUNS_CLEANED_UP.get())


def trajectory(env, seed, actions, params=None):
    """Observations, rewards and flags of one episode driven by ``actions`` (stops when it ends)."""
    observation, _ = env.reset(seed=seed, options={"env_params": params} if params else None)
    steps = [observation.tolist()]
    for action in actions:
        observation, reward, terminated, truncated, _ = env.step(action)
        steps.append((observation.tolist(), reward, terminated, truncated))
        if terminated or truncated:
            break
    return steps


# ---- threads ------------------------------------------------------------------------------------


def test_ten_thousand_resets_leave_the_thread_count_flat(test_model):
    env = AnyLogicEnv(test_model, step_timeout=10.0, model_threads="platform")
    try:
        env.reset(seed=0)
        before_total, before_ids = jvm_thread_count(), {t.getId() for t in java_threads()}
        for episode in range(10_000):
            env.reset(seed=episode)
            for _ in range(episode % 4):  # abandon episodes at different decisions
                env.step(episode % 3)
        env.step(1)
        new_threads = [str(t.getName()) for t in java_threads() if t.getId() not in before_ids]
        assert not new_threads
        assert jvm_thread_count() <= before_total
    finally:
        env.close()


def test_hundred_environments_closed_leave_no_model_thread(test_model, cartpole_model):
    threads = []
    for index in range(100):
        env = AnyLogicEnv(cartpole_model if index % 2 else test_model, step_timeout=10.0, model_threads="platform")
        threads.append(thread_of(env))
        if index % 3:
            env.reset(seed=index)
            env.step(1)
        env.close()
    assert_threads_end(threads)


def test_environments_dropped_without_close_end_their_threads(test_model):
    envs = [AnyLogicEnv(test_model, step_timeout=10.0, model_threads="platform") for _ in range(20)]
    for env in envs:
        env.reset(seed=1)
    threads = [thread_of(env) for env in envs]
    del env, envs
    gc.collect()
    assert_threads_end(threads)


def test_model_threads_stuck_in_model_code_end_after_reset(test_model):
    """reset() interrupts a stuck model thread, and stops it where Java still can (before Java 20):
    a loop that heeds interrupts ends on any Java, a sleep that ignores them only on old Java."""
    stoppable = jpype.JClass("java.lang.Runtime").version().feature() < 20
    env = AnyLogicEnv(test_model, step_timeout=TIMEOUT, model_threads="platform")
    try:
        stuck = []
        for fault in ("loopForever", "sleepForever") if stoppable else ("loopForever",):
            env.reset(seed=0, options={"env_params": {"fault": fault, "faultAtStep": 1}})
            stuck.append(thread_of(env))
            with pytest.raises(ModelTimeoutError):
                env.step(0)
        env.reset(seed=0, options={"env_params": {"fault": "none"}})
        env.step(0)
        assert_threads_end(stuck)
        assert thread_of(env).isAlive()
    finally:
        env.close()


# ---- abandoned episodes -------------------------------------------------------------------------


def test_reset_and_close_mid_episode_run_the_models_finally_blocks(test_model, tmp_path):
    folder = tmp_path / "model"  # a folder of its own: its own class loader, so its own counters
    shutil.copytree(test_model, folder)
    env = AnyLogicEnv(folder, step_timeout=10.0, model_threads="platform")
    try:
        env.reset(seed=0)
        counters = model_counters(env)
        assert counters() == (1, 0)
        thread = thread_of(env)
        for episode in range(1, 6):
            env.reset(seed=episode)
            env.step(1)
            assert counters() == (episode + 1, episode)
        assert thread_of(env) == thread  # one thread runs every episode
        env.close()
        assert counters() == (6, 6)
        assert_threads_end([thread])
    finally:
        env.close()


def test_model_that_swallows_the_end_of_its_episode_is_still_reset(test_model):
    env = AnyLogicEnv(test_model, env_params={"fault": "swallowAbandon"}, step_timeout=10.0, model_threads="platform")
    try:
        thread = thread_of(env)
        for episode in range(5):
            observation, _ = env.reset(seed=episode)
            assert observation[0] == 0
            for step in (1, 2):
                observation, reward, terminated, truncated, _ = env.step(step)
                assert (observation[0], observation[1], reward, terminated, truncated) == (step, step, 1.0, False, False)
        assert thread_of(env) == thread
    finally:
        env.close()
    assert_threads_end([thread])


# ---- several environments in one process --------------------------------------------------------


def test_environments_share_the_jvm(test_model):
    first = AnyLogicEnv(test_model, step_timeout=10.0, model_threads="platform")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = AnyLogicEnv(test_model, step_timeout=10.0, jvm_options=["-Dalpyperl.test.unused=1"],
                             model_threads="platform")
    try:
        assert any("already runs" in str(w.message) for w in caught), [str(w.message) for w in caught]
        assert jpype.JClass("java.lang.System").getProperty("alpyperl.test.unused") is None
        assert thread_of(first) != thread_of(second)
    finally:
        first.close()
        second.close()


def test_interleaved_environments_do_not_interfere(test_model, cartpole_model):
    rng = np.random.default_rng(5)
    actions = rng.integers(0, 2, size=40).tolist()
    setups = [
        (test_model, {"maxSteps": 12}),
        (test_model, {"maxSteps": 30, "terminate": False}),
        (cartpole_model, {"poleLength": 0.7}),
        (cartpole_model, {"poleLength": 0.3}),
    ]
    alone = []
    for model, params in setups:
        env = AnyLogicEnv(model, env_params=params, step_timeout=10.0)
        alone.append([trajectory(env, seed, actions) for seed in (1, 2)])
        env.close()

    envs = [AnyLogicEnv(model, env_params=params, step_timeout=10.0) for model, params in setups]
    try:
        together = [[] for _ in envs]
        for seed in (1, 2):
            runs = [[env.reset(seed=seed)[0].tolist()] for env in envs]
            for action in actions:  # one step of every unfinished environment in turn
                for env, run in zip(envs, runs):
                    if len(run) == 1 or not (run[-1][2] or run[-1][3]):
                        observation, reward, terminated, truncated, _ = env.step(action)
                        run.append((observation.tolist(), reward, terminated, truncated))
            for collected, run in zip(together, runs):
                collected.append(run)
        assert together == alone
    finally:
        for env in envs:
            env.close()


def test_environments_in_parallel_threads_match_sequential_runs(test_model, cartpole_model):
    actions = np.random.default_rng(9).integers(0, 2, size=300).tolist()
    models = [test_model, cartpole_model, test_model, cartpole_model]
    params = [{"maxSteps": 300}, {}, {"maxSteps": 250, "terminate": False}, {"poleLength": 0.9}]

    def episodes(index):
        env = AnyLogicEnv(models[index], env_params=params[index], step_timeout=10.0)
        try:
            return [trajectory(env, seed, actions) for seed in range(index, index + 5)]
        finally:
            env.close()

    sequential = [episodes(index) for index in range(4)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(episodes, range(4)))
    assert parallel == sequential


def test_failing_environment_does_not_disturb_others(test_model):
    actions = [2, 0, 1, 1, 2, 0, 1, 2, 0]
    healthy = AnyLogicEnv(test_model, env_params={"maxSteps": 9}, step_timeout=10.0, model_threads="platform")
    failing = AnyLogicEnv(test_model, step_timeout=TIMEOUT, model_threads="platform")
    try:
        expected = trajectory(healthy, 4, actions)
        observation, _ = healthy.reset(seed=4)
        got = [observation.tolist()]
        threads = [thread_of(healthy)]
        faults = [("event", 1, ModelError), ("loopForever", 1, ModelTimeoutError), ("takeAction", 1, ModelError)]
        for index, action in enumerate(actions):
            if index < len(faults):
                fault, at, error = faults[index]
                failing.reset(seed=0, options={"env_params": {"fault": fault, "faultAtStep": at}})
                threads.append(thread_of(failing))
                with pytest.raises(error):
                    failing.step(0)
            observation, reward, terminated, truncated, _ = healthy.step(action)
            got.append((observation.tolist(), reward, terminated, truncated))
        assert got == expected
        assert got[-1][2]  # terminated after its 9 steps
    finally:
        healthy.close()
        failing.close()
    assert_threads_end(threads)
