"""ALPypeRL 1.x models, unchanged: an export whose lib/model0.jar is 1.x's library runs with alpyperl's
compatibility jar in that jar's place.

AnyLogic is not installed here, so the export is built by Gradle from ``tests/alpyperl1-model`` (a
CartPole written the way AnyLogic generates code for ALPypeRL 1.x's examples: a root agent that
implements ``ALPypeRLClientController`` and embeds an ``ALPypeRLConnector``), the stand-in engine
and ``tests/alpyperl1-library``, a TEST DOUBLE of the 1.x library that only has its marker class:
a model that ran against it would fail at once. The same behaviour is checked on genuine 1.x
exports with AnyLogic's engine in tests/test_real_engine.py (opt-in).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from alpyperl import AnyLogicEnv, BaseAnyLogicEnv, ModelLoadError, SpaceDefinitionError, alpyperl1, cli, create_custom_env

REPO = Path(__file__).resolve().parent.parent
EXPORT = REPO / "tests/alpyperl1-model/build/export/CartPole1x"
SCRIPT = "CartPole1x_linux.sh"
TUPLE_OF_FOUR = gym.spaces.Tuple([gym.spaces.Box(-4.8, 4.8, (), np.float32), gym.spaces.Box(-np.inf, np.inf, (), np.float32),
                                  gym.spaces.Box(-0.41887903, 0.41887903, (), np.float32),
                                  gym.spaces.Box(-np.inf, np.inf, (), np.float32)])


@pytest.fixture(scope="module")
def export() -> Path:
    if not (EXPORT / SCRIPT).is_file():
        pytest.fail(f"the stand-in 1.x export {EXPORT} is not built: run `gradle build` first (in {REPO})")
    return EXPORT


def export_copy(export: Path, tmp_path: Path, experiment: str | None = None) -> Path:
    """A copy of the stand-in 1.x export, optionally running another experiment class."""
    folder = tmp_path / "CartPole1x"
    shutil.copytree(export, folder)
    if experiment is not None:
        script = folder / SCRIPT
        script.write_text(script.read_text().replace("com.acme.cartpole1x.Simulation", experiment))
    return folder


def episode(env, seed, actions):
    observation, _ = env.reset(seed=seed)
    observations, rewards = [np.array(observation)], []
    for action in actions:
        observation, reward, terminated, truncated, _ = env.step(action)
        observations.append(np.array(observation))
        rewards.append(reward)
        if terminated or truncated:
            break
    return np.array(observations), np.array(rewards)


# ---- in-process, unchanged --------------------------------------------------------------------


def test_a_1x_export_runs_with_the_spaces_declared_on_its_connector(export):
    with AnyLogicEnv(model=str(export)) as env:
        assert env.observation_space == TUPLE_OF_FOUR  # 1.x: a list of four spaces is a Tuple
        assert env.action_space == gym.spaces.Discrete(2)
        assert env.model_parameters == ["rlMode", "poleLength", "declareSpaces", "traceActions"]
        observations, rewards = episode(env, seed=1, actions=[1] * 100)
        # Always pushing right: the pole falls, takeAction() says done, the next decision terminates.
        assert 5 < len(rewards) < 100 and np.all(rewards == 1.0)
        assert abs(observations[-1][2]) > 0.2094
    # The 1.x library in the export (a test double) was never used: it lacks every member the model calls.
    with zipfile.ZipFile(export / "lib/model0.jar") as library:
        assert library.namelist().count("com/alpype/ALPypeRLConnector.class") == 1
        assert alpyperl1.COMPAT_MARKER not in library.namelist()


def test_the_action_is_applied_inside_request_action(export, caplog):
    """alpyperl applies the action before requestAction() returns (1.x's EVALUATE semantics); 1.x's
    TRAIN mode applied it only after the event. The model writes, after requestAction() returned,
    the action it got: always the one of this very step."""
    with AnyLogicEnv(model=str(export), env_params={"traceActions": True}) as env, \
            caplog.at_level(logging.INFO, logger="alpyperl.model"):
        env.reset(seed=2)
        for action in [1, 0, 0, 1, 0]:
            caplog.clear()
            env.step(action)
            assert [record.getMessage().split("] ", 1)[1] for record in caplog.records] == \
                [f"after requestAction(): RLAction[{action}]"]


def test_the_episode_seed_seeds_the_connectors_random_generator(export):
    with AnyLogicEnv(model=str(export)) as env:
        policy = [0, 1] * 20
        first, again = episode(env, 7, policy), episode(env, 7, policy)
        np.testing.assert_array_equal(first[0], again[0])
        starts = {tuple(np.array(env.reset(seed=seed)[0])) for seed in range(8)}  # drawn with getRNG()
        assert len(starts) == 8


def test_parameters_of_the_root_agent_are_set_by_name(export):
    with AnyLogicEnv(model=str(export), env_params={"poleLength": 2.0}) as long_pole, AnyLogicEnv(model=str(export)) as default:
        long_run, default_run = episode(long_pole, 3, [1] * 200), episode(default, 3, [1] * 200)
        np.testing.assert_array_equal(long_run[0][0], default_run[0][0])  # the same start...
        assert len(long_run[1]) > len(default_run[1])  # ...but a longer pole falls more slowly


def test_spaces_left_to_python(export, tmp_path):
    folder = export_copy(export, tmp_path, "com.acme.cartpole1x.PythonSpacesSimulation")
    with pytest.raises(SpaceDefinitionError, match="the observation space is defined neither in the model"):
        AnyLogicEnv(model=str(folder))
    box = gym.spaces.Box(-5, 5, (4,), np.float32)
    with AnyLogicEnv(model=str(folder), observation_space=box, action_space=gym.spaces.Discrete(2)) as env:
        observations, _ = episode(env, 1, [1, 1])
        assert observations.shape == (3, 4)

    class CartPoleEnv(BaseAnyLogicEnv):  # ALPypeRL 1.x's way: spaces set before super().__init__
        def __init__(self, env_config=None):
            self.action_space = gym.spaces.Discrete(2)
            self.observation_space = box
            super().__init__(env_config)

    with CartPoleEnv({"model": str(folder)}) as env:
        assert env.observation_space == box and env.action_space == gym.spaces.Discrete(2)
        env.reset(seed=1)
    with create_custom_env(gym.spaces.Discrete(2), box, {"model": str(folder)})() as env:
        assert env.observation_space == box
        env.reset(seed=1)
        env.step(0)


def test_1x_env_config_keys_are_understood_with_a_note(export, monkeypatch):
    monkeypatch.setattr(alpyperl1, "_noted", set())
    config = {"run_exported_model": True, "exported_model_loc": str(export), "show_terminals": False,
              "verbose": False, "checkpoint_dir": "./trained_policies", "env_params": {"poleLength": 0.5}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with AnyLogicEnv(config) as env:
            env.reset(seed=1)
            assert env.env_params == {"poleLength": 0.5}
    notes = [str(warning.message) for warning in caught if "ALPypeRL 1.x's" in str(warning.message)]
    assert notes == [
        "env_config key 'exported_model_loc' is ALPypeRL 1.x's: write 'model' instead (the export's folder)",
        "env_config key 'run_exported_model' is ALPypeRL 1.x's: leave it out: alpyperl always runs the exported "
        "model, inside this process",
        "env_config key 'show_terminals' is ALPypeRL 1.x's: the model's output goes to Python logging (logger "
        "alpyperl.model); model_output='console' prints it on the console",
        "env_config key 'verbose' is ALPypeRL 1.x's: configure Python logging (logger 'alpyperl') instead",
        "env_config key 'checkpoint_dir' is ALPypeRL 1.x's: not needed: the spaces travel in the RLlib checkpoint "
        "and in the exported ONNX file",
    ]
    # 1.x's run_exported_model=False (a model running in AnyLogic) is attach mode; the export's location is not used.
    assert alpyperl1.translate_settings({"run_exported_model": False, "exported_model_loc": str(export)}) \
        == {"attach": True}


# ---- evaluation in the exported application, without Python -----------------------------------


def lean_policy(path: Path) -> Path:
    """An ONNX policy for the 1.x CartPole's observation layout: push towards where the pole leans."""
    from test_evaluation import LEAN, write_policy

    return write_policy(path, weights=LEAN, observation_space=TUPLE_OF_FOUR, action_space=gym.spaces.Discrete(2))


def run_launch_script(folder: Path, **environment) -> subprocess.CompletedProcess:
    """Runs the export's own launch script, as a user runs the exported application."""
    return subprocess.run(["bash", str(folder / SCRIPT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **environment})


def test_upgrade_then_the_exported_application_evaluates_the_policy(export, tmp_path, capfd):
    folder = export_copy(export, tmp_path, "com.acme.cartpole1x.EvalSimulation")
    policy = lean_policy(tmp_path / "lean.onnx")
    assert cli.main(["upgrade-1x", str(folder), "--policy", str(policy)]) == 0
    printed = capfd.readouterr().out
    assert "lib/model0.jar: ALPypeRL 1.x's library kept as lib/model0.jar.alpyperl1-backup" in printed
    assert "policy.onnx: copied from" in printed
    assert "1 episode: mean return" in printed  # the checking episode with the policy
    assert (folder / "lib/model0.jar.alpyperl1-backup").read_bytes() == (export / "lib/model0.jar").read_bytes()
    assert alpyperl1.is_upgraded(folder / "lib/model0.jar") and (folder / "policy.onnx").is_file()

    done = run_launch_script(folder)
    assert "ALPypeRL: evaluation mode: actions from the policy " + str(folder / "policy.onnx") in done.stdout, done.stderr
    # The 1.x model never finishes itself: the policy answered every decision up to the stop time.
    assert done.stdout.strip().splitlines()[-1] == "the run ended at time 10.0 in state FINISHED", done.stdout + done.stderr

    assert cli.main(["upgrade-1x", str(folder)]) == 0  # again: refreshes the jar, keeps the policy
    assert "lib/model0.jar: refreshed alpyperl's compatibility jar" in capfd.readouterr().out
    assert cli.main(["upgrade-1x", str(folder), "--undo"]) == 0
    assert (folder / "lib/model0.jar").read_bytes() == (export / "lib/model0.jar").read_bytes()
    assert not (folder / "lib/model0.jar.alpyperl1-backup").exists()


def test_outside_alpyperl_each_mode_explains_what_is_missing(export, tmp_path):
    train = export_copy(export, tmp_path / "train")
    alpyperl1.upgrade_export(train, log=lambda _: None)
    missing = tmp_path / "no-python-waits.json"
    done = run_launch_script(train, ALPYPERL_ATTACH_FILE=str(missing))
    assert "in state ERROR" in done.stdout
    # TRAIN mode outside alpyperl attaches to a waiting Python (attach mode), and none waits.
    assert "this model is set to train with Python (attach mode), but no Python environment waits for it: there is " \
           f"no connection file {missing}" in done.stderr
    assert "AnyLogicEnv(attach=True)" in done.stderr

    evaluate = export_copy(export, tmp_path / "evaluate", "com.acme.cartpole1x.EvalSimulation")
    alpyperl1.upgrade_export(evaluate, log=lambda _: None)
    done = run_launch_script(evaluate)
    assert "This ALPypeRL 1.x model runs in EVALUATE mode, but has no policy" in done.stderr
    assert "alpyperl upgrade-1x EXPORT --policy policy.onnx" in done.stderr
    policy = lean_policy(tmp_path / "lean.onnx")
    done = run_launch_script(evaluate, ALPYPERL_POLICY=str(policy))  # the variable names it as well
    assert done.stdout.strip().endswith("in state FINISHED"), done.stdout + done.stderr


def test_upgrade_refuses_folders_that_are_no_1x_export(anylogic_export, tmp_path, capsys):
    assert cli.main(["upgrade-1x", str(anylogic_export)]) == 1
    assert "is no ALPypeRL 1.x model: no jar on its classpath holds ALPypeRL 1.x's library" in capsys.readouterr().err
    assert cli.main(["upgrade-1x", str(tmp_path)]) == 1
    assert "is not an AnyLogic export: it has no launch script" in capsys.readouterr().err


def test_info_names_a_1x_export(export, capsys):
    assert cli.main(["info", str(export)]) == 0
    printed = capsys.readouterr().out
    assert "AnyLogic export (CartPole1x_linux.sh) of an ALPypeRL 1.x model" in printed
    assert "actions       Discrete(2)  (defined by the model" in printed
    # the values a run starts with: the experiment's (rlMode's own default is null), read without a run
    assert ("  rlMode         RLMode   TRAIN\n  poleLength     double   0.5\n  declareSpaces  boolean  true\n"
            "  traceActions   boolean  false\n") in printed, printed


def test_info_shows_the_parameter_values_of_the_exports_experiment(export, tmp_path, capsys):
    evaluation = export_copy(export, tmp_path, "com.acme.cartpole1x.EvalSimulation")
    assert cli.main(["info", str(evaluation)]) == 0
    assert "  rlMode         RLMode   EVALUATE\n" in capsys.readouterr().out


def test_train_export_and_run_the_policy_in_java(export, tmp_path):
    """`alpyperl train` on a 1.x model (its Tuple observation is flattened for RLlib's networks), then
    `alpyperl export` and `alpyperl run --policy`, where the launcher evaluates the ONNX policy."""
    def alpyperl(*args):
        done = subprocess.run([sys.executable, "-m", "alpyperl", *map(str, args)], capture_output=True, text=True,
                              timeout=300, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO),
                                                              "HOME": str(tmp_path)})
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        return done.stdout

    trained = alpyperl("train", export, "--runners", "1", "--envs-per-runner", "2", "--batch-size", "256",
                       "--iterations", "2", "--out", "checkpoint")
    assert "iter   2 | steps" in trained and "Checkpoint saved in" in trained
    alpyperl("export", "--checkpoint", "checkpoint", "--out", "policy.onnx")
    ran = alpyperl("run", export, "--policy", "policy.onnx", "--episodes", "3")
    assert ran.count("\nepisode ") == 3 and "3 episodes: mean return" in ran
