"""What model code prints, per instance: the ``model_output`` setting.

The test model ``FaultyModel`` (tests/models) prints when its parameter ``print`` is set, every
line starting with that text: ``<p> starts`` (in pieces) when its run starts, ``<p> decision <k>``
(in pieces, System.out) and ``<p> warning <k>`` (System.err) after its k-th decision, and
``<p> ends`` without a newline when its run ends. With ``printOnOtherThread`` a thread it starts
prints ``<p> not a model thread``. The stand-in AnyLogic model writes with ``traceln()`` when its
``fault`` is ``"trace"``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, ModelError, output, process

LOGGER = "alpyperl.model"
pytestmark = pytest.mark.filterwarnings("ignore:The JVM of this process already runs with options")


def printing(tag, steps=2, **params):
    return {"print": tag, "maxSteps": steps, **params}


def logged(caplog, label):
    """The (level, text) of each line logged for the instance ``label``, in order."""
    prefix = f"[{label}] "
    found = []
    for record in caplog.records:
        if record.name == LOGGER and record.getMessage().startswith(prefix):
            assert record.model_instance == label
            assert record.model_stream == ("stdout" if record.levelno == logging.INFO else "stderr")
            found.append((record.levelname, record.getMessage()[len(prefix):]))
    return found


def episode(tag, steps):
    """The lines of a whole episode of FaultyModel printing with ``tag``, as logged."""
    lines = [("INFO", f"{tag} starts")]
    for k in range(1, steps + 1):
        lines += [("INFO", f"{tag} decision {k}"), ("WARNING", f"{tag} warning {k}")]
    return lines + [("INFO", f"{tag} ends")]


@pytest.fixture(autouse=True)
def outside_rllib(monkeypatch):
    monkeypatch.setattr(process, "_runner_index", None)


# ---- "log", the default ---------------------------------------------------------------------


def test_two_instances_printing_at_once_log_whole_lines_under_their_own_labels(test_model, caplog, capfd):
    envs = AnyLogicVectorEnv(test_model, num_envs=2, env_params=printing("same text", steps=3))
    try:
        first, second = envs.instance_labels
        assert first != second and first.startswith("FaultyModel#") and second.startswith("FaultyModel#")
        envs.reset(seed=1)
        for _ in range(3):
            envs.step([0, 1])  # both models run concurrently during each step
        assert logged(caplog, first) == episode("same text", 3)
        assert logged(caplog, second) == episode("same text", 3)
    finally:
        envs.close()
    out, err = capfd.readouterr()
    assert "same text" not in out + err  # logged, not printed as well


def test_lines_are_logged_after_the_call_that_printed_them(test_model, caplog):
    env = AnyLogicEnv(test_model, env_params=printing("a", steps=3))
    try:
        label = env.instance_label
        env.reset(seed=1)
        assert logged(caplog, label) == [("INFO", "a starts")]
        env.step(0)
        assert logged(caplog, label)[1:] == [("INFO", "a decision 1"), ("WARNING", "a warning 1")]
    finally:
        env.close()


def test_the_partial_last_line_is_logged_when_the_episode_ends(test_model, caplog):
    env = AnyLogicEnv(test_model, env_params=printing("a", steps=2))
    try:
        env.reset(seed=1)
        env.step(0)
        *_, terminated, _, _ = env.step(0)
        assert terminated
        assert logged(caplog, env.instance_label) == episode("a", 2)  # before close()
    finally:
        env.close()


def test_an_abandoned_episode_and_close_complete_the_partial_line(test_model, caplog):
    env = AnyLogicEnv(test_model, env_params=printing("a", steps=5))
    label = env.instance_label
    env.reset(seed=1)
    env.step(0)
    env.reset(seed=2)  # abandons the running episode: its run ends and prints "a ends"
    assert logged(caplog, label)[3:] == [("INFO", "a ends"), ("INFO", "a starts")]
    env.close()  # ends the second episode: "a ends" again, logged by close()
    assert logged(caplog, label)[5:] == [("INFO", "a ends")]


def test_a_thread_the_model_starts_prints_unchanged(test_model, caplog, capfd):
    env = AnyLogicEnv(test_model, env_params=printing("a", printOnOtherThread=True))
    try:
        env.reset(seed=1)
    finally:
        env.close()
    out, _ = capfd.readouterr()
    assert out == "a not a model thread\n"
    assert ("INFO", "a starts") in logged(caplog, env.instance_label)
    assert not any("not a model thread" in record.getMessage() for record in caplog.records)


def test_without_any_logging_configuration_lines_go_to_stderr(test_model, repo_root):
    script = textwrap.dedent(f"""
        from alpyperl import AnyLogicEnv
        env = AnyLogicEnv({str(test_model)!r}, env_params={{"print": "a", "maxSteps": 1}})
        env.reset(seed=1)
        env.step(0)
        print("label", env.instance_label)
        env.close()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    label = result.stdout.split("label ", 1)[1].strip()
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert lines == [f"[{label}] a starts", f"[{label}] a decision 1", f"[{label}] a warning 1", f"[{label}] a ends"]


def test_the_logger_level_chooses_what_is_logged(test_model, caplog):
    logging.getLogger(LOGGER).setLevel(logging.WARNING)
    try:
        env = AnyLogicEnv(test_model, env_params=printing("a", steps=1))
        env.reset(seed=1)
        env.step(0)
        env.close()
    finally:
        logging.getLogger(LOGGER).setLevel(logging.INFO)
    assert logged(caplog, env.instance_label) == [("WARNING", "a warning 1")]


# ---- the other destinations --------------------------------------------------------------------


def test_a_folder_gets_one_file_per_instance(test_model, tmp_path, caplog, capfd):
    folder = tmp_path / "output" / "models"  # created when missing
    envs = AnyLogicVectorEnv(test_model, num_envs=2, model_output=folder, env_params=printing("f", steps=2))
    envs.reset(seed=1)
    envs.step([0, 0])
    envs.step([0, 0])
    envs.close()
    files = sorted(os.listdir(folder))
    assert files == sorted(f"{label}-pid{os.getpid()}.log" for label in envs.instance_labels)
    for name in files:
        assert (folder / name).read_text().splitlines() == [text for _, text in episode("f", 2)]
    assert logged(caplog, envs.instance_labels[0]) == []
    out, err = capfd.readouterr()
    assert "f starts" not in out + err


def test_console_passes_the_output_through_unchanged(test_model, caplog, capfd):
    env = AnyLogicEnv(test_model, model_output="console", env_params=printing("c", steps=1))
    env.reset(seed=1)
    env.step(0)
    env.close()
    out, err = capfd.readouterr()
    assert out == "c starts\nc decision 1\nc ends"
    assert err == "c warning 1\n"
    assert logged(caplog, env.instance_label) == []


@pytest.mark.parametrize("setting", ["off", None])
def test_off_prints_nothing(test_model, caplog, capfd, setting):
    env = AnyLogicEnv(test_model, model_output=setting, env_params=printing("o", steps=1))
    env.reset(seed=1)
    env.step(0)
    env.close()
    out, err = capfd.readouterr()
    assert "o starts" not in out + err
    assert logged(caplog, env.instance_label) == []


# ---- AnyLogic: traceln() and engine errors -------------------------------------------------------


def test_anylogic_traceln_is_logged_per_instance(anylogic_export, caplog):
    env = AnyLogicEnv(anylogic_export, env_params={"fault": "trace"})
    try:
        env.reset(seed=1)
        env.step(0)
        assert logged(caplog, env.instance_label) == [
            ("INFO", "On startup: pole length 0.5"), ("INFO", "decision 1"), ("INFO", "decision 2")]
    finally:
        env.close()


@pytest.mark.parametrize("setting", ["log", "off"])
def test_an_engine_error_still_carries_the_models_stack_trace(anylogic_export, caplog, setting):
    env = AnyLogicEnv(anylogic_export, model_output=setting, env_params={"fault": "event", "faultTime": 0.05})
    try:
        env.reset(seed=1)
        with pytest.raises(ModelError) as error:
            for _ in range(10):
                env.step(0)
        assert "java.lang.IllegalStateException: the pole broke at time" in error.value.java_stack_trace
        assert "at com.acme.cartpole.Main.executeActionOf" in error.value.java_stack_trace
        lines = logged(caplog, env.instance_label)
        if setting == "log":  # the engine's report, on System.err of the model thread, is logged too
            assert ("WARNING", "Exception during discrete event execution:") in lines
        else:
            assert lines == []
    finally:
        env.close()


def test_lines_printed_before_a_model_error_are_logged_before_it_is_raised(test_model, caplog):
    env = AnyLogicEnv(test_model, env_params=printing("e", steps=5, fault="takeAction", faultAtStep=2))
    try:
        env.reset(seed=1)
        env.step(0)
        with pytest.raises(ModelError, match="takeAction fault at step 2"):
            env.step(0)
        assert logged(caplog, env.instance_label) == [
            ("INFO", "e starts"), ("INFO", "e decision 1"), ("WARNING", "e warning 1")]
    finally:
        env.close()


# ---- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", [42, True, "", b"folder", ["log"]])
def test_a_bad_setting_is_refused_with_the_choices(test_model, setting):
    with pytest.raises(ValueError, match=r"model_output must be 'log' \(Python logging, the default\), 'console' "
                                         r"\(printed as it is\), 'off' / None, or the path of a folder .*got "):
        AnyLogicEnv(test_model, model_output=setting)


def test_a_bare_word_that_is_no_keyword_is_refused_as_a_typo_not_made_a_folder(test_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for typo in ("bogus", "lgo"):
        with pytest.raises(ValueError, match=rf"model_output='{typo}' is neither 'log', 'console' nor 'off', and no "
                                             rf"folder of that name exists; .* give its path: '\./{typo}'"):
            AnyLogicEnv(test_model, model_output=typo)
        assert not (tmp_path / typo).exists()
    (tmp_path / "existing").mkdir()
    env = AnyLogicEnv(test_model, model_output="existing")  # an existing folder needs no path form
    env.close()
    env = AnyLogicEnv(test_model, model_output="./new-folder")
    env.close()
    assert (tmp_path / "new-folder").is_dir()


def test_a_file_is_no_folder(test_model, tmp_path):
    file = tmp_path / "output.txt"
    file.write_text("")
    with pytest.raises(ValueError, match=r"model_output='.*output.txt' is a file; give a folder"):
        AnyLogicVectorEnv({"model": test_model, "num_envs": 1, "model_output": str(file)})


def test_a_folder_that_cannot_be_created_is_refused(test_model, tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(ValueError, match="cannot create the folder for the model's output"):
        AnyLogicEnv(test_model, model_output=tmp_path / "taken" / "inside")


def test_keywords_are_understood_in_any_case(test_model, capfd):
    env = AnyLogicEnv({"model": test_model, "model_output": " Console ", "env_params": printing("k", steps=1)})
    assert env.settings["model_output"] == "console"
    env.reset(seed=1)
    env.close()
    assert capfd.readouterr().out.startswith("k starts\n")


# ---- RLlib -------------------------------------------------------------------------------------------


def test_an_env_runners_instances_carry_its_index(test_model, tmp_path, caplog):
    pytest.importorskip("ray")
    from ray.rllib.env.env_context import EnvContext

    from alpyperl import rllib

    config = {"model": str(test_model), "env_params": printing("r", steps=1)}
    env = rllib.make_env(EnvContext(config, worker_index=2))
    try:
        label = env.unwrapped.instance_label
        assert label.startswith("runner 2, FaultyModel#")
        env.reset(seed=1)
        assert logged(caplog, label) == [("INFO", "r starts")]
    finally:
        env.close()
    files = rllib.make_env(EnvContext({**config, "model_output": str(tmp_path)}, worker_index=3))
    try:
        name = os.path.basename(files.unwrapped._instances.output.paths[0])
        assert name.startswith("FaultyModel#") and name.endswith(f"-runner3-pid{os.getpid()}.log")
    finally:
        files.close()
