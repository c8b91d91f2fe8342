"""Shared pytest fixtures: the repository, the model folders that Gradle builds, and the opt-in
genuine AnyLogic exports of ALPypeRL 1.x (tests marked ``real_engine``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def built_model(relative: str) -> Path:
    """The model folder ``relative`` (to the repository) as Gradle assembled it; fails if it is not built."""
    folder = REPO_ROOT / relative
    if not (folder / "alpyperl-model.properties").is_file() or not (folder / "model.jar").is_file():
        pytest.fail(f"the model folder {folder} is not built: run `gradle build` first (in {REPO_ROOT})")
    return folder


def copy_of_test_model(test_model: Path, into: Path, model_class: str) -> Path:
    """A copy of the test model folder in ``into``/model whose model class is ``model_class`` (a class of
    ``tests/models``, e.g. ``"SwarmModel"``)."""
    folder = into / "model"
    shutil.copytree(test_model, folder)
    properties = folder / "alpyperl-model.properties"
    properties.write_text(properties.read_text().replace("com.alpyperl.testmodels.FaultyModel",
                                                         f"com.alpyperl.testmodels.{model_class}"))
    return folder


@pytest.fixture(scope="session")
def anylogic_export() -> Path:
    """The stand-in AnyLogic export (TEST DOUBLE engine) that Gradle assembles from tests/anylogic-model."""
    folder = REPO_ROOT / "tests/anylogic-model/build/export/CartPole"
    if not (folder / "CartPole_linux.sh").is_file() or not (folder / "lib/com.anylogic.engine.jar").is_file():
        pytest.fail(f"the stand-in AnyLogic export {folder} is not built: run `gradle build` first (in {REPO_ROOT})")
    return folder


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the repository."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def cartpole_model() -> Path:
    """The built CartPole example model folder."""
    return built_model("examples/cartpole/build/model")


@pytest.fixture(scope="session")
def test_model() -> Path:
    """The built misbehaving test model folder (``tests/models``, class FaultyModel)."""
    return built_model("tests/models/build/model")


# ---- the genuine AnyLogic exports of ALPypeRL 1.x (opt-in: tests marked real_engine) -----------

#: The environment variable that points at ALPypeRL 1.x's ``resources/exported_models`` folder.
EXPORTS_VARIABLE = "ALPYPERL1_EXPORTS"
#: Why real_engine tests are skipped, and how to run them.
HOW_TO_GET_THE_EXPORTS = (
    f"needs the genuine AnyLogic 8.7.12 exports of ALPypeRL 1.x (AnyLogic's real engine): "
    f"git clone https://github.com/MarcEscandell/ALPypeRL (the public repository MarcEscandell/ALPypeRL), then "
    f"set {EXPORTS_VARIABLE}=<the clone>/resources/exported_models and run pytest -m real_engine. "
    f"Never commit the exports or copy them into this repository"
)
#: The ten exports of ALPypeRL 1.x's repository.
ALPYPERL1_EXPORTS = ("cartpole_v0", "cartpole_v0_eval", "cartpole_v0_custom_env", "cartpole_v0_custom_experiment",
                     "cartpole_v1", "cartpole_v1_eval", "cartpole_v2", "cartpole_v2_eval", "cartpole_v3",
                     "cartpole_v3_eval")


def pytest_configure(config):
    config.addinivalue_line("markers",
                            f"real_engine: runs ALPypeRL 1.x's genuine AnyLogic exports; {HOW_TO_GET_THE_EXPORTS}")


def pytest_collection_modifyitems(config, items):
    """Without ALPYPERL1_EXPORTS, every real_engine test is skipped with the message that says how to get them."""
    if os.environ.get(EXPORTS_VARIABLE):
        return
    skip = pytest.mark.skip(reason=f"{EXPORTS_VARIABLE} is not set: this test {HOW_TO_GET_THE_EXPORTS}")
    for item in items:
        if "real_engine" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def alpyperl1_exports() -> Path:
    """The folder ALPYPERL1_EXPORTS names (ALPypeRL 1.x's exported_models); fails if it lacks an export."""
    folder = Path(os.environ.get(EXPORTS_VARIABLE, "")).expanduser().resolve()
    missing = [name for name in ALPYPERL1_EXPORTS if not (folder / name / "model.jar").is_file()]
    if missing:
        pytest.fail(f"{EXPORTS_VARIABLE}={os.environ.get(EXPORTS_VARIABLE)} has no {', '.join(missing)}: it must be "
                    f"ALPypeRL 1.x's resources/exported_models folder. This suite {HOW_TO_GET_THE_EXPORTS}")
    return folder
