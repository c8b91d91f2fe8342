"""ALPypeRL 1.x's genuine AnyLogic exports, on AnyLogic's real engine (8.7.12), unchanged.

Opt-in: every test here is marked ``real_engine`` and runs only when the environment variable
ALPYPERL1_EXPORTS names ALPypeRL 1.x's ``resources/exported_models`` folder; otherwise each one
is skipped with a message that says how to get it (tests/conftest.py). The exports are AnyLogic's
own code and engine: they are only ever read from there or copied into ``tmp_path``, never into
this repository. Subprocesses run with ``cwd=tmp_path``: a 1.x export's logback configuration
writes ``logs/modelLog.txt`` into the working directory.

The models: a CartPole in four variants (v0 Discrete(2) actions, v1 a Box, v2 a Tuple of two
Boxes, v3 a Box and a Discrete), each also as ``*_eval`` (RL mode EVALUATE), plus a custom
experiment and a model that leaves its spaces to Python. Their observation is a Tuple of four
scalar Boxes (1.x makes a Tuple of a list of spaces); their root agent has the parameters
rlMode, cartMass, poleMass and poleLength.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, ModelError, ResetNeeded, SpaceDefinitionError, launch_script
from conftest import ALPYPERL1_EXPORTS
from test_alpyperl1_api import COMPAT_JAR, check_references, resolve

pytestmark = pytest.mark.real_engine

REPO = Path(__file__).resolve().parent.parent
PARAMETERS = ["rlMode", "cartMass", "poleMass", "poleLength"]
THETA_LIMIT = 24 * math.pi / 180  # twice the 12 degrees at which the pole counts as fallen
OBSERVATIONS = spaces.Tuple([spaces.Box(-4.8, 4.8, (), np.float32), spaces.Box(-np.inf, np.inf, (), np.float32),
                             spaces.Box(-THETA_LIMIT, THETA_LIMIT, (), np.float32),
                             spaces.Box(-np.inf, np.inf, (), np.float32)])
ACTIONS = {
    "v0": spaces.Discrete(2),
    "v1": spaces.Box(-1.0, 1.0, (), np.float32),
    "v2": spaces.Tuple([spaces.Box(-1.0, 0.0, (), np.float32), spaces.Box(0.0, 1.0, (), np.float32)]),
    "v3": spaces.Tuple([spaces.Box(-1.0, 0.0, (), np.float32), spaces.Discrete(2)]),
}
#: cartpole_v0_custom_env defines no spaces: Python gives them.
PYTHON_SPACES = {"observation_space": spaces.Box(-np.inf, np.inf, (4,), np.float32), "action_space": spaces.Discrete(2)}
#: The parameters the examples' Simulation experiments set (1.x's own training scripts pass the same).
DEFAULTS = {"cartMass": 1.0, "poleMass": 0.1, "poleLength": 0.5}


def export(folder: Path, name: str) -> str:
    return str(folder / name)


def run_episode(env, seed, policy, limit=5000, **params):
    """Resets ``env`` with ``seed`` (and parameters) and runs ``policy`` to the end of the episode:
    (observations as rows of 4 floats, rewards, terminated, truncated)."""
    observation, _ = env.reset(seed=seed, options={"env_params": params} if params else None)
    observations, rewards = [np.asarray(observation, dtype=np.float32).ravel()], []
    for _ in range(limit):
        observation, reward, terminated, truncated, _ = env.step(policy(observation))
        observations.append(np.asarray(observation, dtype=np.float32).ravel())
        rewards.append(reward)
        if terminated or truncated:
            return np.array(observations), np.array(rewards), terminated, truncated
    raise AssertionError(f"the episode did not end within {limit} steps")


def random_policy(space, seed):
    """Uniformly random actions from ``space``, reproducible from ``seed``."""
    space.seed(seed)
    return lambda observation: space.sample()


def assert_same_episode(a, b):
    for one, other in zip(a, b):
        np.testing.assert_array_equal(one, other)


def extreme_action(space, high: bool):
    """The lowest or highest action of a Box, Discrete or Tuple of them."""
    if isinstance(space, spaces.Discrete):
        return int(space.start + (space.n - 1 if high else 0))
    if isinstance(space, spaces.Box):
        return (space.high if high else space.low).copy()
    return tuple(extreme_action(part, high) for part in space.spaces)


@pytest.fixture(scope="module")
def cartpole_v0(alpyperl1_exports):
    environment = AnyLogicEnv(model=export(alpyperl1_exports, "cartpole_v0"))
    yield environment
    environment.close()


# ---- every export, spaces, parameters, 1.x's boxing of actions --------------------------------


@pytest.mark.parametrize("name", ALPYPERL1_EXPORTS)
def test_every_export_opens_and_runs_episodes_with_random_actions(alpyperl1_exports, name):
    variant = name.split("_")[1]
    python_spaces = PYTHON_SPACES if name == "cartpole_v0_custom_env" else {}
    with AnyLogicEnv(model=export(alpyperl1_exports, name), **python_spaces) as env:
        assert env.observation_space == python_spaces.get("observation_space", OBSERVATIONS)
        assert env.action_space == python_spaces.get("action_space", ACTIONS[variant])
        assert env.model_parameters == PARAMETERS
        policy = random_policy(env.action_space, seed=5)
        lengths = []
        for seed in range(5):
            # v1, v2 and v3 read Box actions as Double and Discrete ones as Integer (1.x's RLAction):
            # an action boxed otherwise throws in the model's takeAction, which arrives as a ModelError.
            try:
                observations, rewards, terminated, truncated = run_episode(env, seed, policy)
            except ModelError as error:
                pytest.fail(f"{name}: episode {seed} failed with random actions from {env.action_space}: {error}")
            assert terminated and not truncated  # random pushes let the pole fall; the model says it has finished
            assert np.isfinite(observations).all() and np.isfinite(rewards).all()
            lengths.append(len(rewards))
        assert len(set(lengths)) > 1, lengths  # the seeds and the actions matter


@pytest.mark.parametrize("name", ["cartpole_v1", "cartpole_v2", "cartpole_v3"])
def test_box_and_tuple_actions_reach_the_model(alpyperl1_exports, name):
    """The lowest and the highest action move the cart differently: the values arrive, not only their types."""
    with AnyLogicEnv(model=export(alpyperl1_exports, name)) as env:
        low, high = (extreme_action(env.action_space, high) for high in (False, True))
        pushed_low = run_episode(env, seed=2, policy=lambda o: low)
        pushed_high = run_episode(env, seed=2, policy=lambda o: high)
    np.testing.assert_array_equal(pushed_low[0][0], pushed_high[0][0])  # the same start...
    assert pushed_low[0][1][1] < pushed_high[0][1][1]  # ...then the cart's velocity follows the push


# ---- seeds and parameters ---------------------------------------------------------------------


def test_the_same_seed_replays_an_episode_exactly(cartpole_v0):
    first = run_episode(cartpole_v0, seed=11, policy=random_policy(cartpole_v0.action_space, 3))
    again = run_episode(cartpole_v0, seed=11, policy=random_policy(cartpole_v0.action_space, 3))
    assert_same_episode(first, again)
    assert len(first[1]) > 1
    starts = {tuple(run_episode(cartpole_v0, seed, lambda o: 0)[0][0]) for seed in range(10)}
    assert len(starts) == 10  # each seed its own start state


def test_consecutive_seeds_give_independent_start_states(cartpole_v0):
    """The model draws each of the 4 start values with uniform(-0.05, 0.05, getRNG()): over seeds
    0..39 (what vector environments use: seed + i) each must spread like that (std 0.029)."""
    starts = np.array([np.asarray(cartpole_v0.reset(seed=seed)[0], dtype=np.float64) for seed in range(40)])
    assert np.all(np.abs(starts) <= 0.05)
    spread = starts.std(axis=0)
    assert np.all(spread > 0.015), f"std of x, x_dot, theta, theta_dot over seeds 0..39: {spread}"


def test_parameters_change_the_dynamics(cartpole_v0):
    push = lambda observation: 1  # noqa: E731
    default = run_episode(cartpole_v0, seed=4, policy=push)
    assert_same_episode(run_episode(cartpole_v0, seed=4, policy=push, **DEFAULTS), default)
    long_pole = run_episode(cartpole_v0, seed=4, policy=push, poleLength=2.0)
    heavy_cart = run_episode(cartpole_v0, seed=4, policy=push, **{**DEFAULTS, "cartMass": 5.0})
    heavy_pole = run_episode(cartpole_v0, seed=4, policy=push, **{**DEFAULTS, "poleMass": 1.0})
    for changed in (long_pole, heavy_cart, heavy_pole):
        np.testing.assert_array_equal(changed[0][0], default[0][0])  # the same start state
        assert not np.array_equal(changed[0][1], default[0][1])  # but other dynamics from the first step
    assert len(long_pole[1]) > len(default[1])  # a longer pole falls more slowly
    assert len(heavy_cart[1]) > len(default[1])  # a heavier cart is pushed away from under the pole more slowly
    _, info = cartpole_v0.reset(seed=4, options={"env_params": DEFAULTS})
    assert info["env_params"] == DEFAULTS


def test_the_custom_experiment_export_runs_its_simulation(cartpole_v0, alpyperl1_exports):
    """Its launch script runs CustomExperiment (1.x's custom-experiment example); alpyperl runs the
    Simulation next to it, with the same model as cartpole_v0."""
    folder = alpyperl1_exports / "cartpole_v0_custom_experiment"
    assert "cartpole_v0.CustomExperiment $*" in next(folder.glob("*_linux.sh")).read_text()
    with AnyLogicEnv(model=str(folder)) as env:
        assert (env.observation_space, env.action_space) == (OBSERVATIONS, ACTIONS["v0"])
        custom = run_episode(env, seed=8, policy=random_policy(env.action_space, 8))
    assert_same_episode(custom, run_episode(cartpole_v0, seed=8, policy=random_policy(cartpole_v0.action_space, 8)))


@pytest.mark.parametrize("name, mode", [("cartpole_v1", "TRAIN"), ("cartpole_v1_eval", "EVALUATE")])
def test_info_shows_the_parameter_values_the_experiment_gives_the_root(alpyperl1_exports, name, mode, tmp_path):
    """Read from a root that the export's Simulation set up, before Engine.start(): each episode's
    values (with the root's own defaults alone, the examples' physics would be 0)."""
    printed = alpyperl_command("info", alpyperl1_exports / name, cwd=tmp_path)
    assert (f"  rlMode      RLMode   {mode}\n  cartMass    double   1.0\n  poleMass    double   0.1\n"
            "  poleLength  double   0.5\n") in printed, printed


def test_an_export_without_spaces_takes_them_from_python(cartpole_v0, alpyperl1_exports):
    folder = export(alpyperl1_exports, "cartpole_v0_custom_env")
    with pytest.raises(SpaceDefinitionError) as error:
        AnyLogicEnv(model=folder)
    assert "the observation space is defined neither in the model" in str(error.value)
    assert "pass observation_space=... to AnyLogicEnv" in str(error.value)
    with AnyLogicEnv(model=folder, **PYTHON_SPACES) as env:
        from_python = run_episode(env, seed=9, policy=lambda o: int(o[2] > 0))
    assert_same_episode(from_python, run_episode(cartpole_v0, seed=9, policy=lambda o: int(o[2] > 0)))


# ---- many instances ------------------------------------------------------------------------------


def test_the_vector_env_replays_separate_environments(alpyperl1_exports):
    model = export(alpyperl1_exports, "cartpole_v0")
    steps, seeds = 60, [100, 101, 102, 103]
    actions = np.random.default_rng(0).integers(0, 2, size=(steps, len(seeds)))
    vector = AnyLogicVectorEnv(model=model, num_envs=len(seeds))
    try:
        observations, infos = vector.reset(seed=seeds[0])  # instance i gets seed 100 + i
        assert list(infos["seed"]) == seeds
        rows = [np.stack(observations, axis=1)]
        rewards, ended = [], []
        for step in range(steps):
            observations, reward, terminated, truncated, _ = vector.step(actions[step])
            rows.append(np.stack(observations, axis=1))
            rewards.append(reward)
            ended.append(terminated | truncated)
    finally:
        vector.close()
    rows, rewards, ended = np.array(rows), np.array(rewards), np.array(ended)
    with AnyLogicEnv(model=model) as single:
        for i, seed in enumerate(seeds):
            assert ended[:, i].any(), f"instance {i} did not finish within {steps} random steps"
            length = int(np.argmax(ended[:, i])) + 1  # up to its first episode's end (then it autoresets)
            policy = iter(actions[:, i])
            expected_observations, expected_rewards, terminated, _ = run_episode(single, seed, lambda o: next(policy))
            assert terminated and len(expected_rewards) == length
            np.testing.assert_array_equal(rows[:length + 1, i], expected_observations)
            np.testing.assert_array_equal(rewards[:length, i], expected_rewards)


# ---- the binary contract --------------------------------------------------------------------------


def test_every_member_that_1x_exports_reference_resolves_against_the_real_engine(alpyperl1_exports):
    """As test_alpyperl1_api does with the stand-in engine. The real engine cannot be linked on its
    own (its Agent refers to com.querydsl, for example), so its libraries from the export's
    classpath come along: every jar but model.jar and the 1.x library, none of which has com.alpype."""
    folder = alpyperl1_exports / "cartpole_v0"
    command = launch_script.parse("CartPole_v0_linux.sh", (folder / "CartPole_v0_linux.sh").read_text())
    libraries = [folder / entry for entry in dict.fromkeys(command.classpath)
                 if entry.endswith(".jar") and entry not in ("model.jar", "lib/model0.jar")]
    assert folder / "lib" / "com.anylogic.engine.jar" in libraries
    with_1x_classes = [jar for jar in libraries if any(entry.startswith("com/alpype/")
                                                       for entry in zipfile.ZipFile(jar).namelist())]
    assert not with_1x_classes
    check_references(libraries)
    # The same check accepts ALPypeRL 1.x's own library (a check that fails everything would prove nothing).
    assert resolve([folder / "lib" / "model0.jar", *libraries])["unresolved"] == []


# ---- errors ---------------------------------------------------------------------------------------


def test_a_model_exception_on_the_real_engine_names_the_call_and_carries_the_java_trace(cartpole_v0):
    """With all masses and the length 0 the physics produce NaN; the chart in the model's
    presentation then refuses it ("Invalid value: NaN") in the next takeAction()."""
    zero = {"cartMass": 0, "poleMass": 0, "poleLength": 0}
    observation, _ = cartpole_v0.reset(seed=1, options={"env_params": zero})
    assert np.isfinite(np.asarray(observation, dtype=np.float64)).all()
    observation, *_ = cartpole_v0.step(0)
    assert np.isnan(np.asarray(observation, dtype=np.float64)).any()  # the model's own NaN, passed on as it is
    with pytest.raises(ModelError) as error:
        cartpole_v0.step(0)
    assert "takeAction() of the model threw java.lang.RuntimeException: Invalid value: NaN" in str(error.value)
    trace = error.value.java_stack_trace
    assert "Caused by: java.lang.RuntimeException: Invalid value: NaN" in trace
    assert "at com.anylogic.engine.analysis.DataSet.add(" in trace
    assert "at com.alpyperl.examples.cartpole_v0.Main.takeAction(Main.java:" in trace
    assert trace in str(error.value)  # the message carries the trace
    with pytest.raises(ResetNeeded):
        cartpole_v0.step(0)
    observations, rewards, terminated, _ = run_episode(cartpole_v0, seed=1, policy=lambda o: 1, **DEFAULTS)
    assert terminated and np.isfinite(observations).all() and len(rewards) > 5


# ---- the command line: training, ONNX export, evaluation ------------------------------------------


def alpyperl_command(*args, cwd, timeout=300) -> str:
    """Runs ``python -m alpyperl ARGS`` in ``cwd``; its output, after checking that it succeeded."""
    done = subprocess.run([sys.executable, "-m", "alpyperl", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"alpyperl {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def mean_return(output: str) -> float:
    """The mean return in the summary of ``alpyperl run`` ("... mean return X ...")."""
    found = re.search(r"mean return (-?[0-9.]+(?:e[-+]?\d+)?)", output)
    assert found, output
    return float(found.group(1))


# PPO in a process of its own (Ray; a Ray driver replaces the JVM's signal handlers), then the
# checkpoint exported to ONNX (verified against torch, onnxruntime and the Java evaluator).
TRAIN = """
import json, sys
import ray
import ray.tune.trainable.trainable as ray_trainable
from ray.rllib.algorithms.ppo import PPOConfig
from alpyperl import rllib
from alpyperl.export import export_checkpoint

model, storage, checkpoint, policy, target, iterations = sys.argv[1:5] + [float(sys.argv[5]), int(sys.argv[6])]
ray_trainable.DEFAULT_STORAGE_PATH = storage  # RLlib's log folder, out of $HOME
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
config = (
    PPOConfig()
    .environment(rllib.register_env(), env_config={"model": model})
    .env_runners(num_env_runners=2, num_envs_per_env_runner=2, num_cpus_per_env_runner=1)
    .rl_module(model_config={"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"})
    .training(train_batch_size_per_learner=1000, minibatch_size=250, num_epochs=10, lr=3e-4)
    .debugging(seed=0)
)
algo = rllib.build_algo(config)
progress = []
for _ in range(iterations):
    result = algo.train()
    progress.append(rllib.progress_line(result))
    if rllib.episode_return(result) >= target:
        break
algo.save(checkpoint)
algo.stop()
ray.shutdown()
export_checkpoint(checkpoint, policy, samples=500, log=None)
print(json.dumps({"return": rllib.episode_return(result), "progress": progress}))
"""


def test_ppo_learns_on_the_genuine_export_and_its_onnx_policy_runs_without_python(alpyperl1_exports, tmp_path):
    model = export(alpyperl1_exports, "cartpole_v0")
    random_return = mean_return(alpyperl_command("run", model, "--episodes", 100, "--seed", 1000, cwd=tmp_path))
    assert 10 < random_return < 40  # random pushes keep the pole up for about 20 steps
    target = 10 * random_return
    policy = tmp_path / "cartpole_v0.onnx"
    done = subprocess.run([sys.executable, "-c", TRAIN, model, tmp_path / "ray_results", tmp_path / "checkpoint",
                           policy, str(target), "40"], cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    trained = json.loads(done.stdout.strip().splitlines()[-1])
    progress = "\n".join(trained["progress"])
    assert trained["return"] >= target, f"PPO did not reach {target:.0f} (10x random) in 40 iterations:\n{progress}"
    assert policy.is_file()
    # The policy runs in Java, in this process's JVM, through alpyperl's launcher.
    evaluated = alpyperl_command("run", model, "--policy", policy, "--episodes", 10, "--seed", 2000, cwd=tmp_path)
    assert evaluated.count("\nepisode ") == 10, evaluated
    assert mean_return(evaluated) >= target, f"random {random_return}, trained {trained['return']}:\n{evaluated}"


# ---- upgrade-1x and AnyLogic's own launch script --------------------------------------------------


class LaunchedExport:
    """An export run by its own launch script (AnyLogic's launcher and web UI) in a process group
    of its own, with its output collected; ``kill()`` ends the group (the java process outlives bash)."""

    def __init__(self, folder: Path, script: str):
        self.process = subprocess.Popen(["bash", str(folder / script)], cwd=folder, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self.port_found = threading.Event()
        self.port = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            found = re.search(r"url: http://localhost:(\d+)", line)
            if found and self.port is None:
                self.port = int(found.group(1))
                self.port_found.set()

    def get(self, path: str):
        with urllib.request.urlopen(f"http://localhost:{self.port}/uuid/{path}", timeout=10) as response:
            return json.loads(response.read())

    def command(self, command: str, parameters: str = ""):
        request = urllib.request.Request(f"http://localhost:{self.port}/uuid/command?cmd={command}"
                                         f"&parameters={parameters}", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def configuration(self, within: float = 60.0) -> dict:
        """The UI's configuration, once its server answers (it prints its address a little earlier)."""
        deadline = time.monotonic() + within
        # (The address line may still be on its way through the reader thread.)
        assert self.port_found.wait(within), "no web UI address in the output:\n" + "\n".join(self.lines)
        while True:
            try:
                return self.get("configuration")
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.2)

    def close(self):
        """The UI's close command; the application may exit before it answers."""
        try:
            self.command("close")
        except (urllib.error.URLError, ConnectionError):
            pass

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def test_an_upgraded_1x_export_runs_its_policy_under_anylogics_own_launcher(alpyperl1_exports, tmp_path):
    from test_evaluation import write_policy

    copy = tmp_path / "cartpole_v0_eval"
    shutil.copytree(alpyperl1_exports / "cartpole_v0_eval", copy)
    library = (copy / "lib" / "model0.jar").read_bytes()
    # A linear policy for the model's own observation layout: push right when theta + theta_dot / 2 > 0.
    policy = write_policy(tmp_path / "lean.onnx", weights=np.array([[0, 0, 0, 0], [0, 0, 1, 0.5]]),
                          observation_space=OBSERVATIONS, action_space=ACTIONS["v0"])
    upgraded = alpyperl_command("upgrade-1x", copy, "--policy", policy, cwd=tmp_path)
    assert "kept as lib/model0.jar.alpyperl1-backup" in upgraded and "1 episode: mean return" in upgraded
    assert (copy / "lib" / "model0.jar.alpyperl1-backup").read_bytes() == library
    assert (copy / "lib" / "model0.jar").read_bytes() == COMPAT_JAR.read_bytes()
    assert (copy / "policy.onnx").read_bytes() == policy.read_bytes()
    assert "of an ALPypeRL 1.x model" in alpyperl_command("info", copy, cwd=tmp_path)

    launched = LaunchedExport(copy, "CartPole_v0_linux.sh")
    try:
        assert launched.port_found.wait(120), "no web UI address in the output:\n" + "\n".join(launched.lines)
        assert launched.configuration()["version"].startswith("8.7.12")
        launched.command("setspeed", "Infinity")  # virtual time: the run goes on to its stop time 2000
        console, last = [], None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            frames = launched.get("frames?fullFrame=true&time=1")["frames"]
            console += [update["text"] for frame in frames for update in frame["consoleUpdate"]]
            last = frames[-1] if frames else last
            if last is not None and last["time"] >= 2000:
                break
            time.sleep(0.5)
        shown = "\n".join(console + ["-- output --"] + launched.lines)
        assert last is not None and last["time"] == 2000 and last["state"] == "FINISHED", f"last frame {last}:\n{shown}"
        evaluation = (f"ALPypeRL: evaluation mode: actions from the policy {copy / 'policy.onnx'} "
                      "(usePolicy(), the most likely action)")
        assert evaluation in console and evaluation in launched.lines, shown
        assert not [line for line in console + launched.lines if "Exception" in line or "ERROR" in line], shown
        launched.close()
        launched.process.wait(timeout=60)  # the UI's close ends the application
        assert launched.process.returncode == 0
    finally:
        launched.kill()

    alpyperl_command("upgrade-1x", copy, "--undo", cwd=tmp_path)
    assert (copy / "lib" / "model0.jar").read_bytes() == library
    assert not (copy / "lib" / "model0.jar.alpyperl1-backup").exists()


# ---- hand-written root agents: AnyLogic's engine refuses them and ends the process -----------------

HAND_WRITTEN_MAIN = """
package hand;

import com.alpyperl.connector.*;
import com.anylogic.engine.*;

/** A root agent written by hand, not by AnyLogic. */
public class Main extends Agent implements RLModel {
    %s
    public Main(Engine engine, Agent owner, AgentList<?> collection) { super(engine, owner, collection); }
    public double[] getObservation() { return new double[] {0}; }
    public void takeAction(RLAction action) { }
    public double getReward() { return 0; }
    public boolean hasFinished() { return false; }
    public Space getObservationSpace() { return Spaces.box(0, 1); }
    public Space getActionSpace() { return Spaces.discrete(2); }
}
"""
HAND_WRITTEN_SIMULATION = """
package hand;

import com.anylogic.engine.*;

public class Simulation extends ExperimentSimulation<Main> {
    public Main createRoot(Engine engine) { return new Main(engine, null, null); }
    public void setupRootParameters(Main root, boolean callOnChange) { }
}
"""
RESET = """
import time
from alpyperl import AnyLogicEnv
env = AnyLogicEnv(model="export")
try:
    env.reset(seed=1)
except Exception as error:
    print(type(error).__name__, error, flush=True)
time.sleep(5)  # AnyLogic's engine ends the process 0.1 to 1 s after it refused a root
print("the process is still alive", flush=True)
"""


def hand_written_export(exports: Path, folder: Path, serial_version_uid: bool) -> Path:
    """A copy of cartpole_v0 whose model.jar holds a hand-written root agent and experiment, compiled
    here against the export's real engine (javac of the JDK on PATH)."""
    export = folder / "export"
    shutil.copytree(exports / "cartpole_v0", export)
    sources = folder / "src" / "hand"
    sources.mkdir(parents=True)
    (sources / "Main.java").write_text(HAND_WRITTEN_MAIN % ("private static final long serialVersionUID = 1L;"
                                                            if serial_version_uid else ""))
    (sources / "Simulation.java").write_text(HAND_WRITTEN_SIMULATION)
    libraries = [str(jar) for jar in sorted((export / "lib").rglob("*.jar"))] + [str(REPO / "alpyperl/jars/anylogic-lib.jar")]
    classes = folder / "classes"
    javac = shutil.which("javac")
    assert javac, "these tests compile a hand-written model: they need a JDK's javac on PATH"
    subprocess.run([javac, "--release", "11", "-cp", os.pathsep.join(libraries), "-d", str(classes),
                    *map(str, sources.glob("*.java"))], check=True, capture_output=True, timeout=120)
    (export / "model.jar").unlink()
    with zipfile.ZipFile(export / "model.jar", "w") as jar:
        for compiled in classes.rglob("*.class"):
            jar.write(compiled, compiled.relative_to(classes).as_posix())
    script = export / "CartPole_v0_linux.sh"
    script.write_text(script.read_text().replace("com.alpyperl.examples.cartpole_v0.Simulation", "hand.Simulation"))
    return export


def test_a_hand_written_root_is_refused_before_the_engine_could_end_the_process(alpyperl1_exports, tmp_path):
    hand_written_export(alpyperl1_exports, tmp_path, serial_version_uid=False)
    done = subprocess.run([sys.executable, "-c", RESET], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ModelLoadError the root agent Main of CartPole_v0 was not generated by AnyLogic" in done.stdout
    assert "Export the model from AnyLogic" in done.stdout
    assert "the process is still alive" in done.stdout
    assert "Invalid start location for AnyLogic Runtime" not in (done.stdout + done.stderr).splitlines()  # never ran


def test_when_the_real_engine_ends_the_process_the_user_sees_why(alpyperl1_exports, tmp_path):
    """A hand-written root that declares a serialVersionUID passes alpyperl's check but not AnyLogic's:
    the engine runs no event, says "Invalid start location", and one of its threads calls System.exit."""
    hand_written_export(alpyperl1_exports, tmp_path, serial_version_uid=True)
    done = subprocess.run([sys.executable, "-c", RESET], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 255, output  # System.exit(-1)
    assert "the process is still alive" not in output
    assert "Invalid start location for AnyLogic Runtime" in output.splitlines()  # the engine's own line
    # The episode's error says what the engine did and what that means...
    assert "ModelError" in done.stdout and "the AnyLogic engine ran no event and reports model time Infinity" in done.stdout
    assert "it runs only models that AnyLogic generated, and it ends the whole process in a moment" in done.stdout
    # ...and before the process ends, alpyperl names the thread that ended it, its stack and why.
    assert "alpyperl: the model's Java code ended this process: System.exit(...) was called on thread" in done.stderr
    assert "at com.anylogic.engine." in done.stderr
    assert "the AnyLogic engine ends the process this way when it refuses a model that AnyLogic did not generate" \
        in done.stderr


# ---- attach mode: the genuine export started by its own launch script attaches to Python ---------------

ATTACHED_TRAINING = """
import json, os, sys
import ray
import ray.tune.trainable.trainable as ray_trainable
from ray.rllib.algorithms.ppo import PPOConfig
from alpyperl import rllib

ray_trainable.DEFAULT_STORAGE_PATH = sys.argv[1]
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
config = (
    PPOConfig()
    .environment(rllib.register_env(), env_config={"attach": True, "attach_timeout": 120, "env_params": %r})
    .env_runners(num_env_runners=0, num_envs_per_env_runner=1, rollout_fragment_length=200)
    .rl_module(model_config={"fcnet_hiddens": [16]})
    .training(train_batch_size_per_learner=200, minibatch_size=100, num_epochs=2)
    .debugging(seed=0)
)
algo = rllib.build_algo(config)
sampled = [algo.train()["env_runners"]["num_env_steps_sampled_lifetime"] for _ in range(3)]
algo.stop()
ray.shutdown()
print(json.dumps({"sampled": sampled}))
""" % (DEFAULTS,)


def launch_when_python_waits(folder: Path, attach_file: Path) -> dict:
    """Starts the export's own launch script (AnyLogic's launcher: the run starts by itself) once a
    Python environment waits for it, from a thread; the LaunchedExport is in the returned dict."""
    launched = {}

    def launch():
        deadline = time.monotonic() + 300
        while not attach_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        launched["export"] = LaunchedExport(folder, "CartPole_v0_linux.sh")

    thread = threading.Thread(target=launch, daemon=True)
    thread.start()
    launched["thread"] = thread
    return launched


def test_the_export_started_by_its_own_launch_script_attaches_and_replays_in_process_episodes(
        alpyperl1_exports, tmp_path, monkeypatch):
    copy = tmp_path / "cartpole_v0"
    shutil.copytree(alpyperl1_exports / "cartpole_v0", copy)
    alpyperl_command("upgrade-1x", copy, cwd=tmp_path)  # the compatibility jar: rlMode TRAIN attaches
    attach_file = tmp_path / "attach.json"
    monkeypatch.setenv("ALPYPERL_ATTACH_FILE", str(attach_file))
    launched = launch_when_python_waits(copy, attach_file)
    env = AnyLogicEnv(attach=True, attach_timeout=180, env_params=DEFAULTS)
    try:
        assert (env.observation_space, env.action_space, env.model_parameters) == (OBSERVATIONS, ACTIONS["v0"],
                                                                                   PARAMETERS)
        attached = [run_episode(env, seed, random_policy(ACTIONS["v0"], seed)) for seed in (11, 12, 11)]
        assert_same_episode(attached[0], attached[2])  # a seed replays an episode inside the running experiment
        assert len(attached[0][1]) != len(attached[1][1]) or not np.array_equal(attached[0][0], attached[1][0])
        with AnyLogicEnv(export(alpyperl1_exports, "cartpole_v0"), env_params=DEFAULTS) as local:
            assert_same_episode(attached[0], run_episode(local, 11, random_policy(ACTIONS["v0"], 11)))
    finally:
        env.close()
        launched["thread"].join(10)
    export_run = launched["export"]
    try:
        deadline = time.monotonic() + 30
        while not any("Python closed the environment; the run ends." in line for line in export_run.lines):
            assert time.monotonic() < deadline, "\n".join(export_run.lines)
            time.sleep(0.2)
        assert any("ALPypeRL: attached to Python on 127.0.0.1:" in line for line in export_run.lines)
        assert export_run.configuration()["version"].startswith("8.7.12")  # AnyLogic's UI still answers
    finally:
        export_run.kill()


def test_rllib_trains_on_the_export_started_by_its_own_launch_script(alpyperl1_exports, tmp_path, monkeypatch):
    copy = tmp_path / "cartpole_v0"
    shutil.copytree(alpyperl1_exports / "cartpole_v0", copy)
    alpyperl_command("upgrade-1x", copy, cwd=tmp_path)
    attach_file = tmp_path / "attach.json"
    monkeypatch.setenv("ALPYPERL_ATTACH_FILE", str(attach_file))
    launched = launch_when_python_waits(copy, attach_file)
    try:
        done = subprocess.run([sys.executable, "-c", ATTACHED_TRAINING, tmp_path / "ray_results"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=900, env=os.environ)
        assert done.returncode == 0, done.stderr[-4000:]
        assert json.loads(done.stdout.strip().splitlines()[-1])["sampled"] == [200, 400, 600]
    finally:
        launched["thread"].join(10)
        if "export" in launched:
            launched["export"].kill()
