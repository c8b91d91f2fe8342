"""ALPypeRL 1.x compatibility on the Python side.

Models built with ALPypeRL 1.x run unchanged: their AnyLogic exports carry the 1.x library
(``lib/model0.jar``), which the launcher replaces by alpyperl's compatibility jar when it opens
the export. This module covers the rest:

- 1.x ``env_config`` keys (``exported_model_loc``, ``run_exported_model``, ...) are understood,
  each with a one-line note of what to write instead (:func:`translate_settings`);
- 1.x's environment classes: ``BaseAnyLogicEnv`` (spaces set by a subclass before
  ``super().__init__(env_config)``) and ``create_custom_env``;
- ``alpyperl upgrade-1x EXPORT --policy FILE.onnx`` (:func:`upgrade_export`) puts the
  compatibility jar into the export for good, so that AnyLogic's own launch script runs the
  model with a trained policy: no Python, no policy server, no ports.
"""

from __future__ import annotations

import os
import shutil
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym

from . import launch_script
from .env import AnyLogicEnv
from .errors import ModelLoadError

__all__ = [
    "LIBRARY_MARKER", "COMPAT_MARKER", "COMPAT_JAR", "BACKUP_SUFFIX", "POLICY_FILE", "translate_settings",
    "BaseAnyLogicEnv", "create_custom_env", "library_jars", "is_upgraded", "upgrade_export", "undo_upgrade",
]

#: The class that marks a jar as ALPypeRL 1.x's library (or alpyperl's compatibility jar).
LIBRARY_MARKER = "com/alpype/ALPypeRLConnector.class"
#: A class only alpyperl's compatibility jar has.
COMPAT_MARKER = "com/alpype/ClientControllerModel.class"
#: The compatibility jar in alpyperl's package.
COMPAT_JAR = "alpyperl1-compat.jar"
#: Appended to the name of the 1.x library an upgrade replaces.
BACKUP_SUFFIX = ".alpyperl1-backup"
#: The policy file the compatibility jar reads in EVALUATE mode, in the export's folder.
POLICY_FILE = "policy.onnx"

# ---- 1.x env_config keys ----------------------------------------------------------------------

_DROPPED_KEYS = {
    "show_terminals": "the model's output goes to Python logging (logger alpyperl.model); "
                      "model_output='console' prints it on the console",
    "verbose": "configure Python logging (logger 'alpyperl') instead",
    "checkpoint_dir": "not needed: the spaces travel in the RLlib checkpoint and in the exported ONNX file",
    "server_mode_on": "there is no policy server any more: `alpyperl export` writes an ONNX file that the "
                      "model evaluates itself",
}
_noted: set[str] = set()


def translate_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with ALPypeRL 1.x's env_config keys turned into alpyperl's, noting each once per
    process with what to write instead. ``run_exported_model=False`` (training against a model
    running in AnyLogic) is attach mode: ``attach=True``."""
    settings = dict(config)
    attach = "run_exported_model" in settings and not settings.pop("run_exported_model")
    if "exported_model_loc" in settings:
        location = settings.pop("exported_model_loc")
        if not attach:  # 1.x ignored the export's location when it connected to a model running in AnyLogic
            settings.setdefault("model", location)
        _note("exported_model_loc", "write 'model' instead (the export's folder)")
    if attach:
        settings.setdefault("attach", True)
        _note("run_exported_model", "write attach=True instead: the environment waits for the model that AnyLogic "
                                    "runs (press Run in AnyLogic; see docs/anylogic.md, 'Training without exporting')")
    elif "run_exported_model" in config:
        _note("run_exported_model", "leave it out: alpyperl always runs the exported model, inside this process")
    for key, instead in _DROPPED_KEYS.items():
        if key in settings:
            settings.pop(key)
            _note(key, instead)
    return settings


def _note(key: str, instead: str) -> None:
    if key not in _noted:
        _noted.add(key)
        warnings.warn(f"env_config key '{key}' is ALPypeRL 1.x's: {instead}", stacklevel=4)


# ---- 1.x environment classes --------------------------------------------------------------------


class BaseAnyLogicEnv(AnyLogicEnv):
    """ALPypeRL 1.x's base class of environments whose spaces are defined in Python: a subclass sets
    ``self.action_space`` and ``self.observation_space`` and then calls
    ``super().__init__(env_config)``. New code passes the spaces to :class:`~alpyperl.AnyLogicEnv`."""

    def __init__(self, env_config: Mapping[str, Any] | None = None):
        settings = dict(env_config or {})
        for name in ("observation_space", "action_space"):
            defined = self.__dict__.get(name)
            if defined is not None:
                settings.setdefault(name, defined)
        super().__init__(settings)


def create_custom_env(action_space: gym.Space, observation_space: gym.Space,
                      env_config: Mapping[str, Any] | None = None) -> type:
    """ALPypeRL 1.x's factory of an environment class with spaces defined in Python: the class
    takes ``env_config`` like :class:`~alpyperl.AnyLogicEnv`."""
    class CustomEnv(BaseAnyLogicEnv):
        def __init__(self, config: Mapping[str, Any] | None = None):
            self.action_space = action_space
            self.observation_space = observation_space
            super().__init__(config if config is not None else env_config)

    return CustomEnv


# ---- exports ------------------------------------------------------------------------------------


def library_jars(folder: str | os.PathLike) -> list[Path]:
    """The jars on the classpath of the export in ``folder`` that hold ALPypeRL 1.x's library
    (or alpyperl's compatibility jar in its place): normally ``lib/model0.jar``. Empty for other folders."""
    script = launch_script.find(folder)
    if script is None:
        return []
    command = launch_script.parse(script.name, script.read_text(encoding="utf-8", errors="replace"))
    if command is None:
        return []
    jars = []
    for entry in dict.fromkeys(command.classpath):
        path = Path(folder) / entry
        if path.suffix.lower() == ".jar" and path.is_file() and _holds(path, LIBRARY_MARKER):
            jars.append(path)
    return jars


def _holds(jar: Path, entry: str) -> bool:
    try:
        with zipfile.ZipFile(jar) as archive:
            return entry in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def is_upgraded(jar: Path) -> bool:
    """Whether ``jar`` is alpyperl's compatibility jar (put there by :func:`upgrade_export`)."""
    return _holds(jar, COMPAT_MARKER)


def upgrade_export(folder: str | os.PathLike, policy: str | os.PathLike | None = None,
                   log: Callable[[str], None] = print) -> list[Path]:
    """Upgrades the AnyLogic export of an ALPypeRL 1.x model in ``folder`` in place: each jar
    holding the 1.x library is kept as ``<jar>.alpyperl1-backup`` and replaced by alpyperl's
    compatibility jar (which contains the connector and the ONNX evaluator); with ``policy``, that
    file is copied to ``policy.onnx`` in the folder, where the model reads it in EVALUATE mode.
    Upgrading again refreshes the compatibility jar. Returns the replaced jars; says what it did
    through ``log``."""
    from .jvm import JARS_DIR

    folder = Path(folder)
    jars = _checked_library_jars(folder)
    compat = JARS_DIR / COMPAT_JAR
    if not compat.is_file():
        raise ModelLoadError(f"alpyperl's compatibility jar {compat} is missing; reinstall alpyperl "
                             "(in a source checkout, `gradle build` builds it)")
    if policy is not None and not Path(policy).is_file():
        raise ModelLoadError(f"the policy file {os.path.abspath(policy)} does not exist")
    for jar in jars:
        name = jar.relative_to(folder)
        if is_upgraded(jar):
            shutil.copyfile(compat, jar)
            log(f"{name}: refreshed alpyperl's compatibility jar")
            continue
        backup = jar.with_name(jar.name + BACKUP_SUFFIX)
        jar.replace(backup)
        shutil.copyfile(compat, jar)
        log(f"{name}: ALPypeRL 1.x's library kept as {backup.relative_to(folder)}, replaced by alpyperl's "
            "compatibility jar (the 1.x API over alpyperl's connector and ONNX evaluator)")
    if policy is not None:
        shutil.copyfile(policy, folder / POLICY_FILE)
        log(f"{POLICY_FILE}: copied from {os.path.abspath(policy)}; the model reads it in EVALUATE mode")
    return jars


def undo_upgrade(folder: str | os.PathLike, log: Callable[[str], None] = print) -> list[Path]:
    """Puts the 1.x library back where :func:`upgrade_export` replaced it (``policy.onnx`` stays)."""
    folder = Path(folder)
    restored = []
    for jar in _checked_library_jars(folder):
        backup = jar.with_name(jar.name + BACKUP_SUFFIX)
        if is_upgraded(jar) and backup.is_file():
            backup.replace(jar)
            restored.append(jar)
            log(f"{jar.relative_to(folder)}: ALPypeRL 1.x's library restored")
    if not restored:
        log("nothing to undo: the export has ALPypeRL 1.x's library")
    return restored


def _checked_library_jars(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ModelLoadError(f"the export folder {folder.absolute()} does not exist")
    if launch_script.find(folder) is None:
        raise ModelLoadError(f"{folder.absolute()} is not an AnyLogic export: it has no launch script "
                             "(<Name>_linux.sh, <Name>_mac or <Name>_windows.bat)")
    jars = library_jars(folder)
    if not jars:
        raise ModelLoadError(f"the export {folder.absolute()} is no ALPypeRL 1.x model: no jar on its classpath "
                             f"holds ALPypeRL 1.x's library ({LIBRARY_MARKER}); models built with alpyperl 2's "
                             "connector need no upgrade")
    return jars
