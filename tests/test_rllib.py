"""Training with RLlib (new API stack) on the in-process bridge.

One JVM per EnvRunner process with many models in it, distinct reproducible seeds, recovery
from model failures and from killed runners, a cluster of two Ray nodes, clean shutdown, and
an ``alpyperl`` that never imports Ray. The configurations are tiny: these tests check the
plumbing, not learning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import ray
import ray.tune.trainable.trainable as ray_trainable
from ray import cloudpickle
from ray._common.utils import reset_ray_address
from ray.cluster_utils import Cluster
from ray.rllib.algorithms.ppo import PPOConfig

from conftest import copy_of_test_model

from alpyperl import AlpyperlError, ModelLoadError, rllib

# The functions and classes below run inside the EnvRunner processes: ship them by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

REPO = Path(__file__).resolve().parent.parent


# ---- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def results_in_tmp(tmp_path_factory):
    """RLlib makes a log folder per algorithm under ~/ray_results; keep the tests' out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ray_trainable, "DEFAULT_STORAGE_PATH", str(tmp_path_factory.mktemp("ray_results")))
        yield
    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture
def local_ray():
    """Ray on this machine with 2 CPUs, shared by the tests of this module (started on first use)."""
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    return ray


def tiny_config(env: str, env_config: dict, *, runners: int, envs: int, seed: int = 1,
                batch: int = 64) -> PPOConfig:
    """PPO that samples ``batch`` steps per iteration and updates a tiny network once."""
    config = (
        PPOConfig()
        .environment(env, env_config=env_config)
        .env_runners(num_env_runners=runners, num_envs_per_env_runner=envs,
                     rollout_fragment_length=max(1, batch // (runners * envs)))
        .rl_module(model_config={"fcnet_hiddens": [8]})
        .training(train_batch_size_per_learner=batch, minibatch_size=batch, num_epochs=1)
        .debugging(seed=seed)
    )
    return rllib.fault_tolerant(config, restart_delay_s=0.5)


@contextlib.contextmanager
def built(config):
    """The algorithm of ``config``, stopped (runner processes ended) on exit."""
    algo = rllib.build_algo(config)
    try:
        yield algo
    finally:
        algo.stop()


def probe(runner) -> dict:
    """What an EnvRunner process holds: its pid, node, JVM and live model threads."""
    import jpype as runner_jpype

    threads = 0
    if runner_jpype.isJVMStarted():  # platform and virtual model threads alike
        threads = int(runner_jpype.JClass("com.alpyperl.launcher.ModelSession").liveModelThreads())
    return {
        "pid": os.getpid(),
        "node": ray.get_runtime_context().get_node_id(),
        "jvm": runner_jpype.isJVMStarted(),
        "model_threads": threads,
        "environments_created": rllib.envs._created,
        "steps_sampled": runner.num_env_steps_sampled_lifetime,
    }


def probe_runners(algo) -> list[dict]:
    return algo.env_runner_group.foreach_env_runner(probe, local_env_runner=False)


def first_steps(runner) -> list[tuple]:
    """The first sampled steps of every sub-environment: observations, actions, rewards."""
    return [(np.asarray(episode.get_observations()), np.asarray(episode.get_actions()),
             np.asarray(episode.get_rewards()))
            for episode in runner.sample(num_timesteps=24, explore=True)]


def descendants(pid: int) -> set[int]:
    """All processes below ``pid`` in the process tree (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def has_jvm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return "libjvm.so" in maps.read()
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until_gone(pids, seconds: float = 60.0) -> set[int]:
    """Waits (at most ``seconds``) for the processes to end; returns those still running."""
    deadline = time.monotonic() + seconds
    remaining = {pid for pid in pids if alive(pid)}
    while remaining and time.monotonic() < deadline:
        time.sleep(0.2)
        remaining = {pid for pid in remaining if alive(pid)}
    return remaining


# ---- one JVM per runner, many models per JVM ------------------------------------------------


@pytest.mark.parametrize("vectorize_mode", ["sync", "vector_entry_point"])
def test_each_runner_owns_one_jvm_with_all_its_models_and_the_driver_none(local_ray, cartpole_model,
                                                                          vectorize_mode):
    env_name = rllib.register_env()
    driver_environments = rllib.envs._created
    config = tiny_config(env_name, {"model": str(cartpole_model)}, runners=2, envs=4)
    config.env_runners(gym_env_vectorize_mode=vectorize_mode)
    with built(config) as algo:
        result = algo.train()
        runners = probe_runners(algo)
        vector_envs = algo.env_runner_group.foreach_env_runner(lambda runner: type(runner.env.unwrapped).__name__,
                                                               local_env_runner=False)
        jvm_processes = {pid for pid in descendants(os.getpid()) if has_jvm(pid)}

        assert rllib.env_steps(result) >= 64
        assert len(runners) == 2
        pids = {runner["pid"] for runner in runners}
        assert len(pids) == 2 and os.getpid() not in pids
        for runner in runners:
            assert runner["jvm"], runner
            assert runner["model_threads"] == 4, runner  # the 4 sub-environments, in one JVM
            # RLlib made 4 AnyLogicEnvs in a SyncVectorEnv, or asked for one AnyLogicVectorEnv of 4.
            assert runner["environments_created"] == (4 if vectorize_mode == "sync" else 1), runner
            assert runner["steps_sampled"] > 0, runner
        expected = "SyncVectorEnv" if vectorize_mode == "sync" else "AnyLogicVectorEnv"
        assert vector_envs == [expected, expected]
        # Exactly two JVMs below this process: the runners'. The driver created no environment.
        assert jvm_processes == pids
        assert algo.env_runner_group.local_env_runner.env is None
        assert rllib.envs._created == driver_environments
    # algo.stop() ends the runner processes, and with them their JVMs and model threads.
    assert wait_until_gone(pids) == set()


# ---- seeds ----------------------------------------------------------------------------------


def test_same_seed_gives_the_same_first_episodes_and_every_environment_its_own(local_ray, cartpole_model):
    env_name = rllib.register_env()

    def first_sample(seed: int) -> list[list[tuple]]:
        config = tiny_config(env_name, {"model": str(cartpole_model)}, runners=2, envs=2, seed=seed)
        with built(config) as algo:
            return algo.env_runner_group.foreach_env_runner(first_steps, local_env_runner=False)

    first, again, other = first_sample(seed=11), first_sample(seed=11), first_sample(seed=12)

    def flatten(sample):
        return [array for steps in sample for episode in steps for array in episode]

    assert len(flatten(first)) == len(flatten(again)) > 0
    for a, b in zip(flatten(first), flatten(again)):
        np.testing.assert_array_equal(a, b)
    # The four sub-environments (2 runners x 2) start from four different states...
    starts = {tuple(steps[index][0][0]) for steps in first for index in range(2)}
    assert len(starts) == 4
    # ...and another experiment seed gives other ones.
    assert starts.isdisjoint({tuple(steps[index][0][0]) for steps in other for index in range(2)})


def test_derived_seeds_are_distinct_and_reproducible():
    seeds = {rllib.derive_seed(7, worker, instance) for worker in range(4) for instance in range(16)}
    assert len(seeds) == 64
    assert all(0 <= seed < 2**63 for seed in seeds)
    assert rllib.derive_seed(7, 1, 2) == rllib.derive_seed(7, 1, 2) != rllib.derive_seed(8, 1, 2)


# ---- fault tolerance ------------------------------------------------------------------------


class LogCapture(logging.Handler):
    """Keeps the messages (with exception text) that RLlib logs in a runner process."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record):
        self.messages.append(self.format(record))


def capture_logs(runner) -> int:
    runner.captured_logs = LogCapture()
    logging.getLogger("ray.rllib").addHandler(runner.captured_logs)
    return os.getpid()


def test_training_goes_on_when_the_model_throws_in_some_episodes(local_ray, cartpole_model):
    # The CartPole example throws at one of its first 20 steps in a share of its episodes.
    env_config = {"model": str(cartpole_model), "env_params": {"failureRate": 0.3}}
    config = tiny_config(rllib.register_env(), env_config, runners=2, envs=2, batch=200)
    with built(config) as algo:
        algo.env_runner_group.foreach_env_runner(capture_logs, local_env_runner=False)
        results = [algo.train() for _ in range(2)]
        logs = algo.env_runner_group.foreach_env_runner(lambda runner: runner.captured_logs.messages,
                                                        local_env_runner=False)
        runners = probe_runners(algo)

    failures = results[-1]["env_runners"]["num_env_step_failures"]
    assert failures >= 1
    # Sampling went on after the failures: full batches, and episodes that ended normally (a
    # failed episode ends before its step 20; random actions keep the pole up for about 22 steps).
    assert rllib.env_steps(results[-1]) >= 2 * 200
    assert results[-1]["env_runners"]["num_episodes_lifetime"] >= 10
    # Each failure made its runner re-create its environments (4 more model instances each time).
    assert sum(runner["environments_created"] for runner in runners) > 4
    # The log shows the model's Java stack trace.
    logged = "\n".join(message for messages in logs for message in messages)
    assert "CartPole failed on purpose at step" in logged
    assert "at com.alpyperl.examples.cartpole.CartPole.run" in logged


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_runner_process_is_replaced_and_training_goes_on(local_ray, cartpole_model, signal_number):
    """SIGTERM (what Ray and `kill` send) ends a runner and its JVM as it ends any Python process: no JVM crash report."""
    env_name = rllib.register_env()
    with built(tiny_config(env_name, {"model": str(cartpole_model)}, runners=2, envs=1)) as algo:
        algo.train()
        victim = probe_runners(algo)[0]["pid"]
        victim_folder = Path(os.readlink(f"/proc/{victim}/cwd"))  # where a crashing JVM writes hs_err_pid<pid>.log
        os.kill(victim, signal_number)
        assert wait_until_gone([victim], seconds=30) == set()
        assert not (victim_folder / f"hs_err_pid{victim}.log").exists()

        for _ in range(30):  # Ray restarts the actor in a new process: a few iterations at most
            result = algo.train()
            runners = probe_runners(algo)
            if result["fault_tolerance"]["num_remote_worker_restarts"] >= 1 and len(runners) == 2:
                break
        after = algo.train()

    assert result["fault_tolerance"]["num_remote_worker_restarts"] >= 1
    assert len(runners) == 2 and victim not in {runner["pid"] for runner in runners}
    assert all(runner["jvm"] and runner["model_threads"] == 1 for runner in runners)
    assert rllib.env_steps(after) > rllib.env_steps(result)


# ---- many machines --------------------------------------------------------------------------


@pytest.fixture
def two_node_cluster(cartpole_model, tmp_path):
    """A Ray cluster of two nodes on this machine, one CPU each (the module's Ray is stopped first).

    The job's runtime environment ships a project folder holding a copy of the CartPole model to
    every node (Ray's working_dir), the way docs/training.md describes.
    """
    if ray.is_initialized():
        ray.shutdown()
    project = tmp_path / "project"
    shutil.copytree(cartpole_model, project / "models" / "cartpole")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    # Cluster() makes itself the machine's default Ray for ray.init(); undo that at once, so that
    # other Ray programs on this machine start their own instance instead of joining this one.
    reset_ray_address()
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False, runtime_env={"working_dir": str(project)})
    cluster.wait_for_nodes()
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_runners_on_two_nodes_each_own_a_jvm_and_a_missing_model_is_named(two_node_cluster):
    env_name = rllib.register_env()
    # A path relative to the working_dir that Ray unpacked on each node.
    with built(tiny_config(env_name, {"model": "models/cartpole"}, runners=2, envs=2)) as algo:
        algo.train()
        runners = probe_runners(algo)
    nodes = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    assert len(nodes) == 2
    assert {runner["node"] for runner in runners} == nodes  # one CPU per node: one runner on each
    assert all(runner["jvm"] and runner["model_threads"] == 2 and runner["steps_sampled"] > 0
               for runner in runners)

    missing = "models/no-such-model"
    with pytest.raises(ModelLoadError) as error:
        rllib.build_algo(tiny_config(env_name, {"model": missing}, runners=2, envs=1))
    message = str(error.value)
    assert missing in message and "missing on 2 of 2 Ray node(s)" in message
    assert all(f"node id {node[:8]}" in message for node in nodes)


def with_unknown_class(test_model: Path, folder: Path) -> Path:
    """A copy of the test model folder whose descriptor names a class that is not there."""
    folder.mkdir()
    (folder / "alpyperl-model.properties").write_text(
        (test_model / "alpyperl-model.properties").read_text().replace(
            "model.class=com.alpyperl.testmodels.FaultyModel", "model.class=com.alpyperl.testmodels.NoSuchModel"))
    for name in ("model.jar", "lib"):
        (folder / name).symlink_to(test_model / name)
    return folder


def test_a_model_that_fails_to_load_on_the_runners_is_reported_with_the_node(local_ray, test_model, tmp_path):
    broken = with_unknown_class(test_model, tmp_path / "broken-model")
    env_name = rllib.register_env()
    with pytest.raises(ModelLoadError) as error:
        rllib.build_algo(tiny_config(env_name, {"model": str(broken)}, runners=1, envs=1))
    message = str(error.value)
    assert "com.alpyperl.testmodels.NoSuchModel" in message and "on node" in message


def test_a_multi_agent_model_in_single_agent_training_says_how_to_train_it(local_ray, test_model, tmp_path):
    """RLlib's runners refuse the model and RLlib then fails with an unrelated IndexError: build_algo says why."""
    swarm = copy_of_test_model(test_model, tmp_path, "SwarmModel")
    with pytest.raises(AlpyperlError) as error:
        rllib.build_algo(tiny_config(rllib.register_env(), {"model": str(swarm)}, runners=1, envs=1))
    message = str(error.value)
    assert "the EnvRunners could not create the environment" in message and "has several deciding agents" in message
    assert "rllib.register_multi_agent_env()" in message and "IndexError" not in message


def test_a_runner_names_the_missing_folder_only_when_the_folder_is_missing(test_model, tmp_path):
    """make_env, as a runner calls it: a model that is there but refused is not blamed on the node's files."""
    from alpyperl.rllib.envs import make_env

    broken = with_unknown_class(test_model, tmp_path / "broken-model")
    with pytest.raises(ModelLoadError) as refused:
        make_env({"model": str(broken)})
    assert "com.alpyperl.testmodels.NoSuchModel" in str(refused.value)
    assert "(on Ray node " in str(refused.value) and "needs the model folder" not in str(refused.value)
    with pytest.raises(ModelLoadError) as missing:
        make_env({"model": str(tmp_path / "nowhere")})
    assert "every node that runs EnvRunners needs the model folder at this path" in str(missing.value)


# ---- shutdown -------------------------------------------------------------------------------


def read_lines_until(process, prefix: str, seconds: float) -> list[str]:
    """Lines of ``process``'s stdout up to the first starting with ``prefix`` (at most ``seconds``)."""
    lines: "queue.Queue[str | None]" = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if line.startswith(prefix):
            break
    return seen


def test_ctrl_c_during_training_ends_every_runner_and_jvm(tmp_path):
    command = [sys.executable, "-u", str(REPO / "examples" / "cartpole" / "train.py"), "--quick",
               "--max-iterations", "100000", "--target-return", "1000", "--num-env-runners", "2",
               "--envs-per-runner", "2", "--checkpoint-dir", str(tmp_path / "checkpoint")]
    environment = {**os.environ, "HOME": str(tmp_path)}  # RLlib's ~/ray_results goes to tmp_path
    errors = tmp_path / "stderr.txt"
    with open(errors, "w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=tmp_path,
                                   env=environment, start_new_session=True)
    try:
        output = read_lines_until(process, "iter   1 ", seconds=300)
        assert output and output[-1].startswith("iter   1 "), "".join(output) + errors.read_text()
        tree = descendants(process.pid)
        assert len({pid for pid in tree if has_jvm(pid)}) == 2  # the two runners' JVMs

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        process.wait(timeout=120)
        output.extend(process.stdout.readlines() if not process.stdout.closed else [])
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, "".join(output) + errors.read_text()
    assert wait_until_gone(tree | {process.pid}) == set()


# ---- the example scripts --------------------------------------------------------------------


def run_example(script: str, arguments: list[str], home: Path) -> subprocess.CompletedProcess:
    """Runs an example training script in a subprocess whose ~/ray_results is under ``home``."""
    return subprocess.run([sys.executable, str(REPO / "examples" / script), *arguments], capture_output=True,
                          text=True, timeout=600, cwd=home, env={**os.environ, "HOME": str(home)})


def test_main_job_trains_to_475_and_the_policy_scores_475_in_java(tmp_path):
    """The README's main job, whole: train, checkpoint, TensorBoard logs, ONNX export, Java evaluation."""
    done = run_example("cartpole/train.py", ["--checkpoint-dir", str(tmp_path / "ckpt")], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    iterations = [line.split("|")[0].strip() for line in lines if line.startswith("iter ")]
    assert iterations[:2] == ["iter   1", "iter   2"]
    assert "Reached a mean return of" in done.stdout, done.stdout
    assert "Checkpoint saved in" in done.stdout and any((tmp_path / "ckpt").iterdir())
    assert list((tmp_path / "ray_results").glob("*/events.out.tfevents.*")), done.stdout
    assert (tmp_path / "cartpole.onnx").is_file()
    assert len([line for line in lines if line.startswith("episode ")]) == 20
    summary = next(line for line in lines if line.startswith("20 episodes: mean return "))
    assert float(summary.split()[4]) >= 475.0, done.stdout
    assert [noise for noise in RAY_NOISE if noise in done.stdout + done.stderr] == []


#: The start of each warning of Ray and RLlib 2.60 that a user cannot act on (alpyperl/rllib/quiet.py).
RAY_NOISE = (
    "Token authentication is enabled for this Ray cluster",
    "on the new API stack! This is the new default behavior",
    "DeprecationWarning: `RLModule(config=[RLModuleConfig object])` has been deprecated",
    "Install gputil for GPU system monitoring",
)


def test_training_prints_no_warning_a_user_cannot_act_on(tmp_path):
    """The smallest training of the example (one runner with one model, one iteration): the driver's
    and the runner's output (Ray forwards it) hold none of the noise."""
    done = run_example("cartpole/train.py", ["--quick", "--max-iterations", "1", "--num-env-runners", "1",
                                             "--envs-per-runner", "1", "--skip-evaluation", "--checkpoint-dir",
                                             str(tmp_path / "ckpt")], tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "iter   1 |" in done.stdout and "Checkpoint saved in" in done.stdout, output
    assert [noise for noise in RAY_NOISE if noise in output] == [], output


@pytest.mark.parametrize("script, arguments, status", [
    ("examples/cartpole/train.py", ["--help"], 0),
    ("examples/inventory/train.py", ["--help"], 0),
    ("examples/jobshop/train.py", ["--help"], 0),
    ("examples/jobshop/train.py", ["--num-env-runners", "-1"], 2),
    ("examples/maintenance/train.py", ["--help"], 0),
    ("examples/maintenance/train.py", ["--minutes", "0"], 2),
    ("examples/cartpole/train.py", ["--max-iterations", "0"], 2),
    ("examples/cartpole/evaluate.py", ["policy.onnx", "--episodes", "0"], 2),
    ("examples/cartpole/evaluate.py", ["no/such/policy.onnx"], 1),
    ("alpyperl", ["train", "--help"], 0),
    ("alpyperl", ["export", "--help"], 0),
])
def test_help_and_a_wrong_command_line_import_neither_ray_nor_torch(script, arguments, status):
    """The scripts read their command line before they import Ray or torch (seconds of imports), and
    exit with 2 for a wrong command line, 1 for a failure (here a missing policy file)."""
    code = """
import runpy, sys
script, sys.argv = sys.argv[1], sys.argv[1:]
try:
    if script == "alpyperl":
        runpy.run_module("alpyperl", run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(script, run_name="__main__")
except SystemExit as exit:
    print("status", exit.code, "loaded", sorted({name.split(".")[0] for name in sys.modules} & {"ray", "torch"}))
"""
    done = subprocess.run([sys.executable, "-c", code, script, *arguments], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.stdout.strip().splitlines()[-1] == f"status {status} loaded []", done.stdout + done.stderr


def test_inventory_train_script_trains_and_compares_with_base_stock(tmp_path):
    done = run_example("inventory/train.py", ["--quick", "--iterations", "1", "--num-env-runners", "1",
                                              "--envs-per-runner", "2"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "iter   1 |" in done.stdout
    assert "base-stock heuristic" in done.stdout and "the learned policy costs" in done.stdout


# ---- any Gymnasium framework ----------------------------------------------------------------


def test_alpyperl_does_not_import_ray():
    code = ("import sys, alpyperl, alpyperl.env, alpyperl.spaces, alpyperl.jvm; "
            "loaded = sorted(name for name in sys.modules if name == 'ray' or name.startswith('ray.')); "
            "print(loaded); sys.exit(1 if loaded else 0)")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    # Importing alpyperl starts no JVM either.
    started = subprocess.run([sys.executable, "-c", "import alpyperl, jpype; print(jpype.isJVMStarted())"],
                             capture_output=True, text=True, timeout=120)
    assert started.stdout.strip() == "False", started.stdout + started.stderr
