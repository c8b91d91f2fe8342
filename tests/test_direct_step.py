"""The step called straight through JNI (``alpyperl._direct_step``), next to JPype's call of the
same Java method: same results, same errors, a thread the JVM does not know yet, a stale handle.

The whole suite steps through the direct call (setup builds it); these tests pin what differs
from JPype's path and check that the JPype path, still used where the extension is not built,
gives the same.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, ModelError, bridge

PATIENT = 10.0
FAULTY = {"fault": "takeAction", "faultAtStep": 3, "maxSteps": 10, "terminate": True, "catchErrors": False}


@pytest.fixture(params=["direct", "jpype"])
def path(request, monkeypatch):
    """Which call the environments made in the test step through."""
    monkeypatch.setattr(bridge, "DIRECT_STEP", request.param == "direct")
    return request.param


def uses_direct_step(env) -> bool:
    """Whether ``env`` steps through the extension (its step is a DirectStep's method)."""
    return type(getattr(env._instances.group.step_all, "__self__", None)).__name__ == "DirectStep"


def test_the_extension_is_built_here_and_environments_use_it(cartpole_model):
    from alpyperl._direct_step import DirectStep  # noqa: F401 - .ci/setup.sh builds it (pip install -e .)

    env = AnyLogicEnv(cartpole_model)
    try:
        assert uses_direct_step(env)
    finally:
        env.close()


def episode(env, seed):
    """An episode of the balancing policy: the observations, rewards and ends."""
    observation, _ = env.reset(seed=seed)
    trajectory = [observation.tolist()]
    for _ in range(600):
        action = int(observation[2] + 0.5 * observation[3] > 0)
        observation, reward, terminated, truncated, _ = env.step(action)
        trajectory.append((observation.tolist(), reward, terminated, truncated))
        if terminated or truncated:
            return trajectory
    raise AssertionError("the episode did not end")


def test_direct_and_jpype_steps_give_the_same_episodes(cartpole_model, monkeypatch):
    monkeypatch.setattr(bridge, "DIRECT_STEP", True)
    direct = AnyLogicEnv(cartpole_model)
    monkeypatch.setattr(bridge, "DIRECT_STEP", False)
    through_jpype = AnyLogicEnv(cartpole_model)
    try:
        assert uses_direct_step(direct) and not uses_direct_step(through_jpype)
        for seed in (1, 2):
            assert episode(direct, seed) == episode(through_jpype, seed)
    finally:
        direct.close()
        through_jpype.close()


def test_a_model_exception_is_the_same_error_on_both_paths(test_model, path):
    env = AnyLogicEnv(test_model, step_timeout=PATIENT)
    try:
        assert uses_direct_step(env) == (path == "direct")
        env.reset(seed=11, options={"env_params": FAULTY})
        env.step(1)
        env.step(1)
        with pytest.raises(ModelError) as error:
            env.step(1)
        assert "takeAction() of the model threw java.lang.IllegalArgumentException" in str(error.value)
        assert "com.alpyperl.testmodels.FaultyModel.takeAction(FaultyModel.java:" in error.value.java_stack_trace
        env.reset(seed=3, options={"env_params": {**FAULTY, "fault": "none"}})  # and the environment recovers
        assert env.step(2)[1] == 1.0
    finally:
        env.close()


def test_a_refused_action_is_the_same_error_on_both_paths(cartpole_model, path):
    env = AnyLogicEnv(cartpole_model)
    try:
        env.reset(seed=1)
        with pytest.raises(ValueError, match=r"the action is not in the action space Discrete\(2\): 5 is outside 0..1"):
            env.step(5)
        assert env.step(1)[1] == 1.0  # a refused action changed nothing
    finally:
        env.close()


def test_a_thread_that_never_called_java_steps_through_jpype_first(cartpole_model):
    """The extension finds the JVM's view of the calling thread; a thread the JVM does not know yet
    is handed to JPype (which attaches it), and its later steps go straight through."""
    env = AnyLogicEnv(cartpole_model)
    results = {}

    def steps():
        try:
            results["steps"] = [env.step(1)[1] for _ in range(3)]
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            results["error"] = error

    try:
        env.reset(seed=4)
        thread = threading.Thread(target=steps)
        thread.start()
        thread.join(30)
        assert results == {"steps": [1.0, 1.0, 1.0]}
    finally:
        env.close()


def test_a_closed_groups_step_never_steps_the_group_that_took_its_handle(cartpole_model):
    first = AnyLogicEnv(cartpole_model)
    stale_step = first._instances.group.step_all
    first.close()
    second = AnyLogicEnv(cartpole_model)  # takes the freed slot, with a newer generation
    try:
        second.reset(seed=5)
        with pytest.raises(bridge.JavaException, match="the environment is closed"):
            stale_step()
        after_the_stale_call = second.step(1)[0]
        second.reset(seed=5)
        np.testing.assert_array_equal(after_the_stale_call, second.step(1)[0])  # the first step of the episode
    finally:
        second.close()


def test_a_vector_environment_steps_through_the_direct_call(cartpole_model):
    vector = AnyLogicVectorEnv(cartpole_model, num_envs=3)
    try:
        assert uses_direct_step(vector)
        observations, _ = vector.reset(seed=7)
        observations, rewards, terminated, truncated, _ = vector.step(np.array([0, 1, 0]))
        assert observations.shape == (3, 4) and rewards.tolist() == [1.0, 1.0, 1.0]
    finally:
        vector.close()


#: Actions of every type a Discrete(2) action may come as, in the order the test steps them.
ACTIONS_OF_EVERY_TYPE = [1, np.int64(0), np.int32(1), np.intp(1), np.uint8(0), np.array(1), np.array([0]), 1]
#: Actions that are refused, and how (pairs: True and 1.0 would be one key of a dict).
REFUSED_ACTIONS = [
    (True, "action True is not an integer"),
    (1.0, "action 1.0 is not an integer"),
    ("1", "action '1' is not an integer"),
    (-1, "-1 is outside 0..1"),
    (2**40, "1099511627776 is outside 0..1"),
    (2**70, "is outside 0..1"),
]


def test_actions_of_every_type_step_alike_on_both_paths(cartpole_model, monkeypatch):
    """The step extension writes a plain integer (int, numpy int64/int32) into the row itself and
    leaves every other action to Python's writer: the episodes and the refusals are those of JPype's path."""
    runs = {}
    for direct in (True, False):
        monkeypatch.setattr(bridge, "DIRECT_STEP", direct)
        env = AnyLogicEnv(cartpole_model)
        try:
            assert uses_direct_step(env) == direct
            env.reset(seed=3)
            observations = [env.step(action)[0].tolist() for action in ACTIONS_OF_EVERY_TYPE]
            refusals = []
            for action, _ in REFUSED_ACTIONS:
                with pytest.raises(ValueError) as refused:
                    env.step(action)
                refusals.append(str(refused.value))
            observations.append(env.step(0)[0].tolist())  # refused actions changed nothing
            runs[direct] = observations, refusals
        finally:
            env.close()
    assert runs[True] == runs[False]
    for (action, expected), message in zip(REFUSED_ACTIONS, runs[True][1]):
        assert expected in message, (action, message)


def test_the_step_extension_writes_plain_integers_without_calling_python(cartpole_model, monkeypatch):
    monkeypatch.setattr(bridge, "DIRECT_STEP", True)
    env = AnyLogicEnv(cartpole_model)
    written = []

    def write_action(action):
        written.append(action)
        env._instances.write_actions(action)

    try:
        group = env._instances.group
        group.bind_actions(write_action, env._instances.rows[0, :1])
        env.reset(seed=6)
        for action in (1, np.int64(0), np.int32(1)):
            env.step(action)
        assert written == []
        env.step(np.array(1))  # anything else is written by Python
        assert len(written) == 1
        group.bind_actions(write_action, None)  # no slot (a space other than Discrete): Python writes every action
        env.step(1)
        assert len(written) == 2
    finally:
        env.close()
