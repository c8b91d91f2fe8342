"""Every user error gets a clear, specific exception, nothing hangs, and the environment recovers.

The misbehaving model is ``tests/models`` (class ``FaultyModel``): its parameter ``fault`` picks
what goes wrong and ``faultAtStep`` when (0: while ``reset()`` runs the model to its first
decision; k: during the k-th ``step()``). Without a fault it makes 10 decisions, each rewarded
with 1, and terminates; its observation is ``[step, last action, a draw from the seed]``.
"""

from __future__ import annotations

import shutil

import jpype
import numpy as np
import pytest
from gymnasium import spaces

from alpyperl import (
    AlpyperlError,
    AnyLogicEnv,
    ModelError,
    ModelLoadError,
    ModelTimeoutError,
    ResetNeeded,
    SpaceDefinitionError,
)

TIMEOUT = 1.0  # seconds: the step timeout of the timeout tests, which wait for it
PATIENT = 10.0  # seconds: the step timeout of all other tests, never reached
PARAMETERS = "fault, faultAtStep, maxSteps, terminate, catchErrors, print, printOnOtherThread"
MODEL_CLASS = "com.alpyperl.testmodels.FaultyModel"
DEFAULTS = {"fault": "none", "faultAtStep": 0, "maxSteps": 10, "terminate": True, "catchErrors": False}


@pytest.fixture
def env(test_model):
    environment = AnyLogicEnv(test_model, step_timeout=PATIENT)
    yield environment
    environment.close()


@pytest.fixture
def quick_env(test_model):
    """An environment with a short step timeout, for models that get stuck, on a platform thread
    (a model that loops forever on its caller's thread cannot time out: tests/test_caller_thread.py)."""
    environment = AnyLogicEnv(test_model, step_timeout=TIMEOUT, model_threads="platform")
    yield environment
    environment.close()


def model_copy(test_model, tmp_path, model_class=None, remove=(), descriptor=None):
    """A copy of the test model folder, with another model class, files removed or another descriptor."""
    folder = tmp_path / "model"
    shutil.copytree(test_model, folder)
    properties = folder / "alpyperl-model.properties"
    if model_class is not None:
        properties.write_text(properties.read_text().replace(MODEL_CLASS, model_class))
    if descriptor is not None:
        properties.write_text(descriptor)
    for name in remove:
        (folder / name).unlink()
    return folder


def model_thread(env):
    """The Java thread that currently runs ``env``'s model."""
    name = env._instances.group.model_thread_name(0)
    threads = [t for t in jpype.JClass("java.lang.Thread").getAllStackTraces().keySet() if str(t.getName()) == name]
    assert len(threads) == 1, f"expected one thread named {name}, found {len(threads)}"
    return threads[0]


def start(env, fault="none", at=0, **params):
    """Resets ``env`` with these parameters and returns the first observation."""
    observation, _ = env.reset(seed=11, options={"env_params": {"fault": fault, "faultAtStep": at, **params}})
    return observation


def fail_at(env, fault, at, error_type=ModelError, **params):
    """Runs an episode with ``fault`` at step ``at``: the steps before work, step ``at`` (or, for 0, the
    reset) raises ``error_type``, which is returned."""
    if at == 0:
        with pytest.raises(error_type) as error:
            start(env, fault, at, **params)
        return error.value
    start(env, fault, at, **params)
    for step in range(1, at):
        observation, *_ = env.step(1)
        assert observation[0] == step
    with pytest.raises(error_type) as error:
        env.step(1)
    return error.value


def assert_works_again(env, episode_over=True):
    """After an error: step() refuses until reset() (if the error ended the episode); then a whole
    fault-free episode runs normally."""
    if episode_over:
        with pytest.raises(ResetNeeded, match="call reset"):
            env.step(0)
    observation, info = env.reset(seed=3, options={"env_params": DEFAULTS})
    assert info["seed"] == 3
    assert observation[0] == 0
    for step in range(1, 11):
        action = step % 3
        observation, reward, terminated, truncated, _ = env.step(action)
        assert (observation[0], observation[1], reward) == (step, action, 1.0)
        assert (terminated, truncated) == (step == 10, False)


# ---- actions outside the space --------------------------------------------------------------


@pytest.mark.parametrize("action, problem", [
    (3, "3 is outside 0..2"),
    (-1, "-1 is outside 0..2"),
    (1.5, "not an integer"),
    ("1", "not an integer"),
    (None, "not an integer"),
    (np.array([1, 2]), "not an integer"),
])
def test_bad_discrete_action_is_refused_and_the_episode_goes_on(env, action, problem):
    start(env)
    with pytest.raises(ValueError, match="Discrete\\(3\\)") as error:
        env.step(action)
    assert problem in str(error.value)
    observation, reward, terminated, truncated, _ = env.step(2)
    assert (observation[0], observation[1], reward, terminated, truncated) == (1, 2, 1.0, False, False)


@pytest.mark.parametrize("action, problem", [
    ([0.5], "has shape (1,), not (2,)"),
    (np.zeros((2, 2)), "has shape (2, 2), not (2,)"),
    ([0.5, np.nan], "element 1 is NaN"),
    ([0.5, 1.5], "element 1 is 1.5, outside [-1.0, 1.0]"),
    ([-np.inf, 0.0], "element 0 is -Infinity, outside [-1.0, 1.0]"),
    (["a", "b"], "not an array of numbers"),
])
def test_bad_box_action_is_refused_and_the_episode_goes_on(test_model, tmp_path, action, problem):
    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.PythonSpacesModel")
    env = AnyLogicEnv(folder, observation_space=spaces.Box(-np.inf, np.inf, (3,)),
                      action_space=spaces.Box(-1, 1, (2,)), step_timeout=PATIENT)
    try:
        env.reset(seed=1)
        with pytest.raises(ValueError, match="Box\\(-1.0, 1.0, \\(2,\\)") as error:
            env.step(action)
        assert problem in str(error.value)
        observation, *_ = env.step([0.25, -1.0])
        assert (observation[0], observation[1]) == (1, 0.25)
    finally:
        env.close()


# ---- observations of the wrong size -----------------------------------------------------------


@pytest.mark.parametrize("at", [0, 4, 10])  # the first decision, a later one, the end of the run
def test_observation_of_wrong_length_names_both_sizes(env, at):
    message = str(fail_at(env, "observationSize", at))
    assert "getObservation() of the model returned 4 values" in message
    assert "observation space Box(" in message and "has 3" in message
    assert_works_again(env)


def test_observation_space_in_python_of_other_size_than_the_model_fills(test_model, tmp_path):
    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.PythonSpacesModel")
    env = AnyLogicEnv(folder, observation_space=spaces.Box(-np.inf, np.inf, (5,)),
                      action_space=spaces.Discrete(3), step_timeout=PATIENT)
    try:
        with pytest.raises(ModelError) as error:
            env.reset(seed=0)
        assert "returned 3 values" in str(error.value)
        assert "(5,)" in str(error.value) and "has 5" in str(error.value)
        with pytest.raises(ModelError, match="returned 3 values"):  # says so again: it cannot work
            env.reset(seed=0)
    finally:
        env.close()


# ---- exceptions thrown by model code ------------------------------------------------------------


@pytest.mark.parametrize("fault, at, call, java_class, frame", [
    ("startup", 0, None, "java.lang.IllegalStateException", "FaultyModel.startUp"),
    ("getObservation", 0, "getObservation()", "java.lang.UnsupportedOperationException", "FaultyModel.getObservation"),
    ("getReward", 0, "getReward()", "java.lang.IllegalStateException", "FaultyModel.getReward"),
    ("takeAction", 1, "takeAction()", "java.lang.IllegalArgumentException", "FaultyModel.takeAction"),
    ("takeAction", 3, "takeAction()", "java.lang.IllegalArgumentException", "FaultyModel.takeAction"),
    ("getObservation", 2, "getObservation()", "java.lang.UnsupportedOperationException", "FaultyModel.getObservation"),
    ("hasFinished", 2, "hasFinished()", "java.lang.IllegalStateException", "FaultyModel.hasFinished"),
    ("event", 1, None, "java.lang.ArithmeticException", "FaultyModel.onEvent"),
    ("event", 5, None, "java.lang.ArithmeticException", "FaultyModel.onEvent"),
    ("stackOverflow", 2, None, "java.lang.StackOverflowError", "FaultyModel.recurse"),
    # at the end of the run, after run() has returned
    ("getReward", 10, "getReward()", "java.lang.IllegalStateException", "FaultyModel.getReward"),
    ("hasFinished", 10, "hasFinished()", "java.lang.IllegalStateException", "FaultyModel.hasFinished"),
])
def test_exception_in_model_code_carries_the_java_stack_trace(env, fault, at, call, java_class, frame):
    error = fail_at(env, fault, at)
    message = str(error)
    assert java_class in message
    if call is not None:
        assert f"{call} of the model threw {java_class}" in message
    assert java_class in error.java_stack_trace
    assert f"com.alpyperl.testmodels.{frame}(FaultyModel.java:" in error.java_stack_trace
    assert error.java_stack_trace in message
    assert_works_again(env)


@pytest.mark.parametrize("fault, at, expected", [
    ("getObservation", 0, "getObservation() of the model threw java.lang.UnsupportedOperationException"),
    ("getObservation", 2, "getObservation() of the model threw java.lang.UnsupportedOperationException"),
    ("observationSize", 3, "getObservation() of the model returned 4 values"),
    ("getReward", 1, "getReward() of the model threw java.lang.IllegalStateException"),
    ("takeAction", 2, "takeAction() of the model threw java.lang.IllegalArgumentException"),
])
def test_model_that_catches_the_connectors_errors_still_fails_at_that_step(env, fault, at, expected):
    """A model that wraps requestAction() in try/catch must not hide a broken contract: the error
    is reported by the reset or step during which it happened, not later (or never)."""
    error = fail_at(env, fault, at, catchErrors=True)
    assert expected in str(error)
    assert_works_again(env)


def test_exception_in_the_constructor_of_an_episode(env):
    start(env)
    system = jpype.JClass("java.lang.System")
    system.setProperty("alpyperl.testmodels.throwInConstructor", "true")
    try:
        with pytest.raises(ModelError) as error:
            env.reset(seed=1)
    finally:
        system.clearProperty("alpyperl.testmodels.throwInConstructor")
    assert "the constructor of com.alpyperl.testmodels.FaultyModel threw java.lang.IllegalStateException" in str(error.value)
    assert "com.alpyperl.testmodels.FaultyModel.<init>(FaultyModel.java:" in error.value.java_stack_trace
    assert_works_again(env)


def test_model_whose_constructor_always_throws_cannot_be_opened(test_model, tmp_path):
    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.ThrowingConstructorModel")
    with pytest.raises(ModelError) as error:
        AnyLogicEnv(folder, step_timeout=PATIENT)
    assert "ThrowingConstructorModel cannot be created" in str(error.value)
    assert "com.alpyperl.testmodels.ThrowingConstructorModel.<init>(ThrowingConstructorModel.java:" in \
        error.value.java_stack_trace


def test_model_that_creates_two_connectors(env):
    error = fail_at(env, "twoConnectors", 0)
    assert "the model created a second RLConnector; create exactly one per model instance" in str(error)
    assert "com.alpyperl.testmodels.FaultyModel.startUp(FaultyModel.java:" in error.java_stack_trace
    assert_works_again(env)


def test_model_that_ends_before_its_first_decision(env):
    error = fail_at(env, "endBeforeDecision", 0)
    assert "the model ended its run before its first requestAction()" in str(error)
    assert "no first observation" in str(error)
    assert_works_again(env)


def test_every_reset_reports_a_model_error_again(env):
    """A model that always fails keeps saying so; it never hangs and never half-works."""
    start(env)
    for _ in range(3):
        with pytest.raises(ModelError, match="FaultyModel startup fault"):
            start(env, "startup")
        with pytest.raises(ResetNeeded):
            env.step(0)
    assert_works_again(env)


# ---- models that never reach their next decision ------------------------------------------------


@pytest.mark.parametrize("fault, at, goal, frame", [
    ("neverRequest", 0, "first requestAction()", "FaultyModel.awaitSignal"),
    ("loopForever", 2, "next requestAction()", "FaultyModel.spin"),
    ("sleepForever", 1, "next requestAction()", "FaultyModel.sleepIgnoringInterrupts"),
])
def test_model_stuck_before_its_decision_times_out_showing_where(quick_env, fault, at, goal, frame):
    stuck = None
    if at > 0:
        start(quick_env, fault, at)
        stuck = model_thread(quick_env)
    error = fail_at(quick_env, fault, at, ModelTimeoutError)
    stuck = stuck or model_thread(quick_env)
    message = str(error)
    assert f"did not reach its {goal} within {TIMEOUT} s (step_timeout)" in message
    assert f"Its thread {stuck.getName()} is at:" in message
    assert f"com.alpyperl.testmodels.{frame}(FaultyModel.java:" in message
    assert isinstance(error, TimeoutError)
    assert_works_again(quick_env)
    stuck.join(10_000)
    if fault == "sleepForever" and not java_stops_threads():
        assert stuck.isAlive()  # it ignores interrupts, and Java 20+ cannot stop it: it sleeps on, orphaned
    else:
        assert not stuck.isAlive(), "the stuck model thread survived reset()"
    assert model_thread(quick_env) != stuck


def java_stops_threads() -> bool:
    """Whether this JVM still has Thread.stop() (Java 19 and older), which ends any stuck thread."""
    return jpype.JClass("java.lang.Runtime").version().feature() < 20


def test_close_ends_a_stuck_model_thread(quick_env):
    start(quick_env, "loopForever", 1)
    stuck = model_thread(quick_env)
    with pytest.raises(ModelTimeoutError):
        quick_env.step(0)
    quick_env.close()
    stuck.join(10_000)
    assert not stuck.isAlive(), "the stuck model thread survived close()"


# ---- the episode's life cycle -------------------------------------------------------------------


def test_step_before_the_first_reset(env):
    with pytest.raises(ResetNeeded, match="call reset\\(\\) first"):
        env.step(0)
    assert_works_again(env)


@pytest.mark.parametrize("terminate", [True, False])
def test_step_after_the_episode_ended(env, terminate):
    start(env, maxSteps=2, terminate=terminate)
    env.step(0)
    *_, terminated, truncated, _ = env.step(0)
    assert (terminated, truncated) == (terminate, not terminate)
    with pytest.raises(ResetNeeded, match="the last one has ended"):
        env.step(0)
    assert_works_again(env)


def test_close_then_reset_says_the_environment_is_closed(env):
    start(env)
    env.step(1)
    env.close()
    with pytest.raises(AlpyperlError, match="the environment is closed; create a new AnyLogicEnv"):
        env.reset()
    with pytest.raises(AlpyperlError):
        env.step(1)
    env.close()  # closing twice is harmless


# ---- parameters ---------------------------------------------------------------------------------


def test_unknown_parameter_at_creation_lists_the_valid_ones(test_model):
    with pytest.raises(ModelLoadError) as error:
        AnyLogicEnv(test_model, env_params={"fualt": "event"}, step_timeout=PATIENT)
    assert f"the model has no parameter 'fualt'; its parameters are {PARAMETERS}" in str(error.value)


def test_unknown_parameter_at_reset_lists_the_valid_ones_and_changes_nothing(env):
    start(env, maxSteps=2)
    with pytest.raises(ModelLoadError) as error:
        env.reset(options={"env_params": {"maxSteps": 5, "max_steps": 5}})
    assert f"the model has no parameter 'max_steps'; its parameters are {PARAMETERS}" in str(error.value)
    assert env.env_params["maxSteps"] == 2
    env.reset(seed=0)
    env.step(0)
    *_, terminated, _, _ = env.step(0)
    assert terminated  # still maxSteps=2


@pytest.mark.parametrize("name, value, java_type, shown", [
    ("faultAtStep", "x", "int", '"x"'),
    ("faultAtStep", 1.5, "int", "1.5"),
    ("maxSteps", 2**40, "int", str(2**40)),
    ("terminate", 1, "boolean", "1"),
    ("fault", 3, "String", "3"),
])
def test_parameter_value_of_the_wrong_type(env, name, value, java_type, shown):
    start(env)
    before = env.env_params
    with pytest.raises(ModelLoadError) as error:
        env.reset(options={"env_params": {name: value}})
    message = str(error.value)
    assert f"parameter {name} " in message and f" {java_type}" in message
    assert f"the value {shown} does not fit" in message
    assert env.env_params == before
    # Whether the refused reset left the running episode alone or ended it is not specified here.
    assert_works_again(env, episode_over=False)


# ---- spaces -------------------------------------------------------------------------------------


def test_space_defined_in_model_and_python(test_model):
    with pytest.raises(SpaceDefinitionError) as error:
        AnyLogicEnv(test_model, action_space=spaces.Discrete(3), step_timeout=PATIENT)
    assert "the action space is defined both in the model (Discrete(3)) and in Python (Discrete(3))" in str(error.value)
    with pytest.raises(SpaceDefinitionError, match="observation space is defined both"):
        AnyLogicEnv(test_model, observation_space=spaces.Box(-1, 1, (3,)), step_timeout=PATIENT)


def test_space_defined_nowhere(test_model, tmp_path):
    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.PythonSpacesModel")
    with pytest.raises(SpaceDefinitionError, match="the observation space is defined neither in the model"):
        AnyLogicEnv(folder, action_space=spaces.Discrete(3), step_timeout=PATIENT)
    with pytest.raises(SpaceDefinitionError, match="the action space is defined neither in the model"):
        AnyLogicEnv(folder, observation_space=spaces.Box(-1, 1, (3,)), step_timeout=PATIENT)
    env = AnyLogicEnv(folder, observation_space=spaces.Box(-np.inf, np.inf, (3,)), action_space=spaces.Discrete(3),
                      step_timeout=PATIENT)
    assert_works_again(env)
    env.close()


# ---- missing folders, files and classes ---------------------------------------------------------


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelLoadError, match=f"model folder {tmp_path / 'nowhere'} does not exist"):
        AnyLogicEnv(tmp_path / "nowhere")


def test_model_path_that_is_a_file(test_model):
    with pytest.raises(ModelLoadError, match="is a file; give the model's folder"):
        AnyLogicEnv(test_model / "model.jar")


def test_folder_without_descriptor(test_model, tmp_path):
    folder = model_copy(test_model, tmp_path, remove=["alpyperl-model.properties"])
    with pytest.raises(ModelLoadError, match="is not a model folder: it has no alpyperl-model.properties"):
        AnyLogicEnv(folder)


def test_descriptor_without_model_class(test_model, tmp_path):
    folder = model_copy(test_model, tmp_path, descriptor="name=Broken\nclasspath=model.jar:lib/anylogic-lib.jar\n")
    with pytest.raises(ModelLoadError, match="alpyperl-model.properties must set model.class"):
        AnyLogicEnv(folder)


@pytest.mark.parametrize("jar", ["model.jar", "lib/anylogic-lib.jar"])
def test_missing_jar_is_named_and_the_folder_opens_once_it_is_back(test_model, tmp_path, jar):
    folder = model_copy(test_model, tmp_path, remove=[jar])
    with pytest.raises(ModelLoadError, match=f"the model's classpath names {jar}, which is missing from"):
        AnyLogicEnv(folder)
    shutil.copy(test_model / jar, folder / jar)
    env = AnyLogicEnv(folder, step_timeout=PATIENT)
    assert_works_again(env)
    env.close()


def test_missing_model_class(test_model, tmp_path):
    folder = model_copy(test_model, tmp_path, "com.alpyperl.testmodels.NoSuchModel")
    with pytest.raises(ModelLoadError) as error:
        AnyLogicEnv(folder)
    assert "model class com.alpyperl.testmodels.NoSuchModel was not found" in str(error.value)
    assert "model.jar, lib/anylogic-lib.jar" in str(error.value)


def test_model_class_that_is_no_model(test_model, tmp_path):
    folder = model_copy(test_model, tmp_path, "java.lang.String")
    with pytest.raises(ModelLoadError, match="model class java.lang.String does not implement "
                                             "com.alpyperl.connector.PlainJavaModel"):
        AnyLogicEnv(folder)
