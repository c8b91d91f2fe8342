"""The installable package: wheel and sdist carry the jars, one version everywhere, the connector
version warning, and the ``alpyperl jar`` and ``alpyperl doctor`` commands."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import tomllib
import warnings
import zipfile
from pathlib import Path

import pytest

import alpyperl
from alpyperl import AnyLogicEnv, ConnectorVersionWarning, jar_files, jvm

REPO = Path(__file__).resolve().parents[1]
JARS = ("anylogic-lib.jar", "alpyperl1-compat.jar", "launcher.jar")
#: The compiled step extension in a wheel for this Python.
DIRECT_STEP = f"alpyperl/_direct_step{sysconfig.get_config_var('EXT_SUFFIX')}"
#: What a fresh clone does not have (.gitignore): build outputs, the jars, caches.
NOT_IN_A_CLONE = shutil.ignore_patterns("build", ".gradle", "jars", "__pycache__", ".venv", "*.egg-info", ".git",
                                        ".pytest_cache", "results", "logs")


def alpyperl_command(*args, env=None) -> subprocess.CompletedProcess:
    """``python -m alpyperl ARGS`` with this checkout's alpyperl, in a fresh process."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "alpyperl", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env=env)


def build_backend():
    """The build backend module of pyproject.toml (build_helper/alpyperl_build.py)."""
    spec = importlib.util.spec_from_file_location("alpyperl_build", REPO / "build_helper" / "alpyperl_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh_copy(target: Path) -> Path:
    """The source tree as a fresh clone has it (no jars, no build outputs): the files git tracks or
    would track, or, outside a git checkout, the tree without what .gitignore names."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True) if shutil.which("git") else None
    if listed is None or listed.returncode != 0:
        shutil.copytree(REPO, target, ignore=NOT_IN_A_CLONE)
        return target
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # (a file deleted but not yet committed is listed too)
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def pip_wheel(source: Path, out: Path, path: str | None = None) -> subprocess.CompletedProcess:
    """``pip wheel`` of ``source`` (a folder or an sdist) into ``out``, offline, with this Python's setuptools."""
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-cache-dir", "-w", str(out), str(source)], capture_output=True, text=True,
                          env=env, timeout=900)


# ---- wheel and sdist --------------------------------------------------------------------------


def test_a_wheel_built_from_a_fresh_clone_carries_the_jars_and_its_sdist_builds_without_gradle(tmp_path):
    tree = fresh_copy(tmp_path / "src")
    assert not (tree / "alpyperl" / "jars").exists() and (tree / "settings.gradle").is_file()

    built = pip_wheel(tree, tmp_path / "wheels")
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp_path / "wheels").glob("alpyperl-*.whl"))
    assert wheel.name.startswith(f"alpyperl-{alpyperl.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        # The step called straight through JNI, compiled for this Python (its source stays in the sdist).
        assert DIRECT_STEP in names and "alpyperl/_direct_step.c" not in names
        for jar in JARS:
            assert f"alpyperl/jars/{jar}" in names
            (tmp_path / jar).write_bytes(archive.read(f"alpyperl/jars/{jar}"))
            assert jar_files.stamped_version(tmp_path / jar) == alpyperl.__version__
        for module in ("alpyperl/__init__.py", "alpyperl/VERSION", "alpyperl/cli/doctor.py", "alpyperl/cli/jar.py",
                       "alpyperl/rllib/__init__.py", "alpyperl/export/__init__.py"):
            assert module in names
        assert not any(name.startswith(("build_helper/", "tests/", "launcher/")) for name in names)
        metadata = archive.read(f"alpyperl-{alpyperl.__version__}.dist-info/METADATA").decode()
        assert f"\nVersion: {alpyperl.__version__}\n" in metadata
        assert "alpyperl = alpyperl.cli:main" in archive.read(
            f"alpyperl-{alpyperl.__version__}.dist-info/entry_points.txt").decode()

    # The sdist carries the jars and their sources; a wheel is built from it where there is no Gradle and no Java.
    made = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'build_helper'); "
                           "import alpyperl_build; print(alpyperl_build.build_sdist(sys.argv[1]))",
                           str(tmp_path / "sdist")], cwd=tree, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    sdist = tmp_path / "sdist" / made.stdout.split()[-1]
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in ("settings.gradle", "build.gradle", "build_helper/alpyperl_build.py", "alpyperl/VERSION",
                   "alpyperl/_direct_step.c",
                   *(f"alpyperl/jars/{jar}" for jar in JARS)):
        assert needed in names
    jar_sources = {path.relative_to(tree).as_posix() for folder in ("anylogic-lib/src/main", "launcher/src/main",
                                                                    "anylogic-lib/alpyperl1-compat/src/main")
                   for path in (tree / folder).rglob("*.java")}
    assert len(jar_sources) > 50 and jar_sources <= names, sorted(jar_sources - names)[:5]
    no_tools = tmp_path / "no-tools"
    no_tools.mkdir()
    from_sdist = pip_wheel(sdist, tmp_path / "from-sdist", path=str(no_tools))
    assert from_sdist.returncode == 0, from_sdist.stdout + from_sdist.stderr
    with zipfile.ZipFile(next((tmp_path / "from-sdist").glob("alpyperl-*.whl"))) as archive:
        assert {f"alpyperl/jars/{jar}" for jar in JARS} <= set(archive.namelist())
        # Without a C compiler the optional extension is left out (steps go through JPype); the build succeeds.
        assert DIRECT_STEP not in archive.namelist()


def make_tree(root: Path, jars: bool) -> Path:
    """A minimal source tree for the build backend: one source file, settings.gradle, and the jars or not."""
    (root / "launcher/src/main").mkdir(parents=True)
    (root / "launcher/src/main/Source.java").write_text("class Source {}\n")
    (root / "settings.gradle").write_text("")
    if jars:
        (root / "alpyperl/jars").mkdir(parents=True)
        for jar in JARS:
            (root / "alpyperl/jars" / jar).write_bytes(b"PK")
    return root


def test_the_build_stops_with_the_reason_when_the_jars_are_missing_and_there_is_no_gradle(tmp_path, monkeypatch):
    backend = build_backend()
    tree = make_tree(tmp_path, jars=False)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(backend.JarBuildError) as error:
        backend.ensure_jars(tree)
    message = str(error.value)
    assert "anylogic-lib.jar is missing" in message and "launcher.jar is missing" in message
    assert "no `gradle` command is on PATH" in message and "apt-get install gradle" in message


def test_the_build_stops_with_gradles_output_when_gradle_fails(tmp_path):
    backend = build_backend()
    tree = make_tree(tmp_path / "tree", jars=False)
    failing = tmp_path / "gradle"
    failing.write_text("#!/bin/sh\necho 'Could not compile launcher: no space left'\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(backend.JarBuildError) as error:
        backend.ensure_jars(tree, gradle=str(failing))
    assert "failed (status 3)" in str(error.value) and "no space left" in str(error.value)


def test_jars_older_than_their_sources_are_stale_and_current_ones_are_left_alone(tmp_path):
    backend = build_backend()
    tree = make_tree(tmp_path, jars=True)
    past = time.time() - 100
    for jar in JARS:
        os.utime(tree / "alpyperl/jars" / jar, (past, past))
    assert backend.stale_jars(tree) == [f"{jar} is older than its sources" for jar in JARS]
    for source in (tree / "launcher/src/main/Source.java", tree / "settings.gradle"):
        os.utime(source, (past - 100, past - 100))
    assert backend.stale_jars(tree) == []
    backend.ensure_jars(tree, gradle=str(tmp_path / "no-such-gradle"))  # current jars: Gradle is not needed


def test_the_version_is_kept_in_one_file_and_stamped_into_the_jars():
    version = (REPO / "alpyperl" / "VERSION").read_text().strip()
    assert alpyperl.__version__ == version and re.fullmatch(r"2\.\d+\.\d+(\.dev\d+|a\d+|b\d+|rc\d+)?", version)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"file": "alpyperl/VERSION"}
    assert "rootProject.file('alpyperl/VERSION')" in (REPO / "build.gradle").read_text()
    for jar in JARS:
        assert jar_files.stamped_version(jvm.JARS_DIR / jar) == version, jar
    assert alpyperl_command("--version").stdout.strip() == f"alpyperl {version}"


def test_the_pyproject_extras_name_what_the_code_needs():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["rllib"] == ["ray[rllib]==2.60.0"]
    assert {"onnx", "onnxruntime"} <= set(extras["export"])
    assert any(requirement.startswith("moviepy") for requirement in extras["video"])


# ---- the connector a model folder carries -----------------------------------------------------


def restamped_model(source: Path, target: Path, version: str | None) -> Path:
    """A copy of the model folder ``source`` whose connector jar says ``version`` (None: no version at all)."""
    shutil.copytree(source, target)
    jar = target / "lib" / "anylogic-lib.jar"
    original = jar.read_bytes()
    jar.unlink()
    with zipfile.ZipFile(source / "lib" / "anylogic-lib.jar") as old, zipfile.ZipFile(jar, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "META-INF/MANIFEST.MF":
                line = b"" if version is None else f"Implementation-Version: {version}\r\n".encode()
                data = re.sub(rb"Implementation-Version: [^\r\n]*\r?\n", line, data)
            new.writestr(item, data)
    assert jar.read_bytes() != original
    return target


def test_a_model_carrying_an_older_connector_is_warned_about_once(cartpole_model, tmp_path):
    model = restamped_model(cartpole_model, tmp_path / "old-model", "1.9.0")
    with pytest.warns(ConnectorVersionWarning) as caught:
        env = AnyLogicEnv(model)
        env.reset(seed=0)
    env.close()
    message = str(caught[0].message)
    assert f"carries connector 1.9.0 (lib{os.sep}anylogic-lib.jar)" in message
    assert f"its own connector, {alpyperl.__version__}" in message and "alpyperl jar --copy" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConnectorVersionWarning)
        AnyLogicEnv(model).close()  # once per folder and process


def test_a_model_carrying_an_unstamped_connector_is_warned_about(cartpole_model, tmp_path):
    model = restamped_model(cartpole_model, tmp_path / "unstamped-model", None)
    with pytest.warns(ConnectorVersionWarning, match="a connector without a stamped version"):
        AnyLogicEnv(model).close()


def test_a_model_carrying_this_connector_gets_no_warning(cartpole_model, tmp_path):
    model = shutil.copytree(cartpole_model, tmp_path / "current-model")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConnectorVersionWarning)
        AnyLogicEnv(model).close()


def test_the_java_command_line_warns_about_an_older_connector_too(cartpole_model, tmp_path):
    model = restamped_model(cartpole_model, tmp_path / "old-model", "1.9.0")
    result = subprocess.run([jvm.java_executable(), "-jar", str(jvm.JARS_DIR / "launcher.jar"), "info", "--model",
                             str(model)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "warning: the model folder" in result.stderr and "carries connector 1.9.0" in result.stderr
    assert "action space:      Discrete(2)" in result.stdout


# ---- alpyperl jar -----------------------------------------------------------------------------


def test_jar_prints_the_connector_and_the_compatibility_jar():
    result = alpyperl_command("jar")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(jvm.JARS_DIR / "anylogic-lib.jar"),
                                          str(jvm.JARS_DIR / "alpyperl1-compat.jar")]


@pytest.mark.parametrize("options, copied", [((), "anylogic-lib.jar"), (("--1x",), "alpyperl1-compat.jar")])
def test_jar_copy_puts_the_jar_into_a_folder(tmp_path, options, copied):
    (tmp_path / copied).write_bytes(b"an older jar")
    result = alpyperl_command("jar", "--copy", tmp_path, *options)
    assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == [copied]
    assert (tmp_path / copied).read_bytes() == (jvm.JARS_DIR / copied).read_bytes()
    assert f"of alpyperl {alpyperl.__version__} to {tmp_path / copied}" in result.stdout


def test_jar_refuses_a_missing_folder_and_1x_without_copy(tmp_path):
    missing = alpyperl_command("jar", "--copy", tmp_path / "no-such-folder")
    assert missing.returncode == 1 and "does not exist; create it first" in missing.stderr
    assert not (tmp_path / "no-such-folder").exists()
    usage = alpyperl_command("jar", "--1x")
    assert usage.returncode == 2 and "--1x goes with --copy DIR" in usage.stderr


def test_jar_says_what_to_do_when_the_jars_are_missing(monkeypatch, tmp_path, capsys):
    from alpyperl.cli import main

    monkeypatch.setattr(jvm, "JARS_DIR", tmp_path)
    assert main(["jar"]) == 1
    error = capsys.readouterr().err
    assert f"anylogic-lib.jar and alpyperl1-compat.jar are missing from {tmp_path}" in error
    assert "Reinstall it from a wheel" in error


# ---- alpyperl doctor --------------------------------------------------------------------------


def test_doctor_reports_java_jars_and_versions():
    result = alpyperl_command("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    import jpype
    jvm.start_jvm()
    java_version = str(jpype.JClass("java.lang.System").getProperty("java.version"))
    assert f"runs models   Java {java_version} in " in out
    assert "chosen as     " in out and "JVM library   " in out
    virtual = int(java_version.split(".")[0]) >= 24
    assert ("virtual threads available" in out) == virtual and ("platform threads only" in out) != virtual
    for jar in JARS:
        assert re.search(rf"{re.escape(jar)} +{re.escape(alpyperl.__version__)}\n", out), jar
    for distribution in ("JPype1", "gymnasium", "numpy", "ray", "torch", "onnx", "onnxruntime", "stable-baselines3",
                         "sb3-contrib"):
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            assert re.search(rf"\n  {distribution} +not installed; needed for ", out), distribution
        else:
            assert re.search(rf"\n  {distribution} +{re.escape(version)} ", out), distribution
    assert out.rstrip().endswith("no problems found")


def test_doctor_names_a_java_home_without_java_and_fails(tmp_path):
    result = alpyperl_command("doctor", env={"JAVA_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "runs models   none found (JAVA_HOME is set)" in result.stdout
    assert f"1 problem found:\n  - JAVA_HOME={tmp_path} holds no JVM library" in result.stdout


def test_doctor_names_jars_from_another_build(cartpole_model, monkeypatch, tmp_path, capsys):
    from alpyperl.cli import main

    jvm.start_jvm()  # (the JVM runs on the real jars; the jars looked at are the copies below)
    for jar in JARS:
        shutil.copy2(jvm.JARS_DIR / jar, tmp_path / jar)
    (tmp_path / "launcher.jar").unlink()
    old = restamped_model(cartpole_model, tmp_path / "model", "1.9.0")
    shutil.copy2(old / "lib" / "anylogic-lib.jar", tmp_path / "anylogic-lib.jar")
    monkeypatch.setattr(jvm, "JARS_DIR", tmp_path)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"connector +anylogic-lib\.jar +1\.9\.0\n", out)
    assert re.search(r"launcher +launcher\.jar +missing\n", out)
    assert "2 problems found:" in out
    assert f"{tmp_path / 'anylogic-lib.jar'} is from alpyperl 1.9.0, but this is alpyperl {alpyperl.__version__}" in out
    assert f"launcher.jar is missing from {tmp_path}: reinstall alpyperl from a wheel" in out
