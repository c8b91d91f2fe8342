"""Shared pytest fixtures: the repository and the model folders that Gradle builds."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def built_model(relative: str) -> Path:
    """The model folder ``relative`` (to the repository) as Gradle assembled it; fails if it is not built."""
    folder = REPO_ROOT / relative
    if not (folder / "alpyperl-model.properties").is_file() or not (folder / "model.jar").is_file():
        pytest.fail(f"the model folder {folder} is not built: run `gradle build` first (in {REPO_ROOT})")
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
