"""alpyperl's build backend: setuptools, with the jars built first, so that no wheel or sdist lacks them.

The package carries three jars in ``alpyperl/jars/`` (the connector, the ALPypeRL 1.x compatibility
jar, the launcher) that Gradle builds from the Java sources in this tree (``gradle pythonJars``,
part of ``gradle build``). Before setuptools builds a wheel, an sdist or an editable install,
:func:`ensure_jars` builds them when they are missing or older than their sources, and stops the
build with the reason when they cannot be built (no Gradle, no Java, or Gradle failed). An sdist
carries both the jars and their sources, so a wheel is built from it without Gradle.

pyproject.toml names this module (``build-backend``, with ``backend-path``); it never ships in the
wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import build_meta as _setuptools

# The hooks that need no jars, as setuptools has them.
from setuptools.build_meta import (  # noqa: F401
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

__all__ = [
    "JARS", "SOURCES", "JarBuildError", "ensure_jars", "stale_jars", "build_wheel", "build_sdist", "build_editable",
    "get_requires_for_build_editable", "get_requires_for_build_sdist", "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable", "prepare_metadata_for_build_wheel",
]

ROOT = Path(__file__).resolve().parent.parent
#: The jars the package carries, in alpyperl/jars/.
JARS = ("anylogic-lib.jar", "alpyperl1-compat.jar", "launcher.jar")
#: What the jars are built from (files, or folders searched for every file in them), relative to the root.
SOURCES = ("anylogic-lib/src/main", "anylogic-lib/build.gradle", "anylogic-lib/alpyperl1-compat/src/main",
           "anylogic-lib/alpyperl1-compat/build.gradle", "launcher/src/main", "launcher/build.gradle",
           "build.gradle", "settings.gradle", "alpyperl/VERSION")
#: The Gradle task that builds the three jars and copies them into alpyperl/jars/ (no tests, no examples).
GRADLE_TASK = "pythonJars"


class JarBuildError(RuntimeError):
    """The jars are missing or stale and cannot be built here; the message says why and what to do."""


def stale_jars(root: Path = ROOT) -> list[str]:
    """The jars in ``root``/alpyperl/jars that are missing or older than a file of :data:`SOURCES`,
    each with the reason (e.g. ``"launcher.jar is missing"``); [] when all are there and current."""
    jars = root / "alpyperl" / "jars"
    newest_source = max((_newest(root / source) for source in SOURCES), default=0.0)
    stale = []
    for name in JARS:
        jar = jars / name
        if not jar.is_file():
            stale.append(f"{name} is missing")
        elif jar.stat().st_mtime < newest_source:
            stale.append(f"{name} is older than its sources")
    return stale


def _newest(path: Path) -> float:
    """The latest modification time of ``path`` or of any file under it; 0 if it does not exist."""
    if path.is_file():
        return path.stat().st_mtime
    times = [file.stat().st_mtime for file in path.rglob("*") if file.is_file()] if path.is_dir() else []
    return max(times, default=0.0)


def ensure_jars(root: Path = ROOT, gradle: str | None = None) -> None:
    """Builds the jars with Gradle (``gradle`` names its command, default: ``gradlew`` in ``root``
    or ``gradle`` on PATH) unless they are all there and newer than their sources.

    Raises :class:`JarBuildError` when they cannot be built: no Java sources (a copy of the tree
    without them), no Gradle or no Java, or Gradle failed (its output is in the message).
    """
    stale = stale_jars(root)
    if not stale:
        return
    why = f"alpyperl's jars need building ({', '.join(stale)}, in {root / 'alpyperl' / 'jars'})"
    if not (root / "settings.gradle").is_file():
        raise JarBuildError(f"{why}, and this source tree has no settings.gradle to build them with: build from a "
                            "clone of the repository, or from an sdist of alpyperl (it carries the jars)")
    command = gradle or _find_gradle(root)
    if command is None:
        raise JarBuildError(f"{why}: building them needs Gradle (4.4 or newer) and a JDK 11 or newer, and no `gradle` "
                            "command is on PATH. Install both (Debian: apt-get install gradle openjdk-17-jdk-headless) "
                            "and build again")
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise JarBuildError(f"{why}: building them needs a JDK 11 or newer, and neither JAVA_HOME is set nor a `java` "
                            "command on PATH. Install one (Debian: apt-get install openjdk-17-jdk-headless) or set "
                            "JAVA_HOME, and build again")
    print(f"alpyperl: building the jars with Gradle ({', '.join(stale)}): {command} {GRADLE_TASK}", flush=True)
    try:
        result = subprocess.run([command, GRADLE_TASK, "-q", "--no-daemon"], cwd=root, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    except OSError as error:
        raise JarBuildError(f"{why}: running {command} failed: {error}") from None
    if result.returncode != 0:
        raise JarBuildError(f"{why}: `{command} {GRADLE_TASK}` failed (status {result.returncode}); its output "
                            f"ends with:\n{result.stdout[-4000:]}")
    still = stale_jars(root)
    if any(entry.endswith("missing") for entry in still):
        raise JarBuildError(f"{why}: `{command} {GRADLE_TASK}` succeeded, yet {', '.join(still)}")
    for name in JARS:  # Gradle leaves a jar alone whose inputs did not change: it is current all the same
        os.utime(root / "alpyperl" / "jars" / name)


def _find_gradle(root: Path) -> str | None:
    wrapper = root / ("gradlew.bat" if os.name == "nt" else "gradlew")
    return str(wrapper) if wrapper.is_file() else shutil.which("gradle")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 517: the wheel, with the jars built first when they are missing or stale."""
    ensure_jars()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    """PEP 517: the sdist (sources and built jars), with the jars built first when they are missing or stale."""
    ensure_jars()
    return _setuptools.build_sdist(sdist_directory, config_settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: an editable install, with the jars built first when they are missing or stale."""
    ensure_jars()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
