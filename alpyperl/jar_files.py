"""alpyperl's jars: which they are, where they are, and the version the build stamped into each.

The package carries three jars in ``alpyperl/jars/`` (see :data:`alpyperl.jvm.JARS_DIR`): the
connector, which a model adds (in AnyLogic: a dependency of the model); ALPypeRL 1.x's API over the
connector, which replaces the 1.x library of a 1.x model; and the launcher, which alpyperl drives
in its JVM. The build writes alpyperl's version into each jar's manifest (``Implementation-Version``);
reading it needs no JVM.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import NamedTuple

from . import jvm

__all__ = ["CONNECTOR", "COMPATIBILITY", "LAUNCHER", "JARS", "PackagedJar", "path", "stamped_version"]

#: The connector jar: what a model adds to run under alpyperl (and to evaluate ONNX policies anywhere).
CONNECTOR = "anylogic-lib.jar"
#: The ALPypeRL 1.x compatibility jar: the connector and the 1.x API (``com.alpype``), for 1.x models only.
COMPATIBILITY = "alpyperl1-compat.jar"
#: The launcher jar: the host alpyperl drives in its JVM, and ``java -jar launcher.jar run``.
LAUNCHER = "launcher.jar"


class PackagedJar(NamedTuple):
    """One of alpyperl's jars: its file name and what it is, for people."""

    name: str
    role: str


#: alpyperl's jars, the connector first.
JARS = (PackagedJar(CONNECTOR, "connector"), PackagedJar(COMPATIBILITY, "1.x compatibility"),
        PackagedJar(LAUNCHER, "launcher"))


def path(name: str) -> Path:
    """Where alpyperl's jar ``name`` (one of :data:`JARS`) is, whether or not it exists."""
    return jvm.JARS_DIR / name


def stamped_version(jar: str | Path) -> str | None:
    """The ``Implementation-Version`` in the manifest of ``jar``; None if it has none.

    Raises OSError if the file cannot be read and ``zipfile.BadZipFile`` if it is no jar.
    """
    with zipfile.ZipFile(jar) as archive:
        try:
            manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8", errors="replace")
        except KeyError:
            return None
    for line in manifest.splitlines():  # (a version never spans the manifest's 72-byte lines)
        key, _, value = line.partition(":")
        if key.strip() == "Implementation-Version" and value.strip():
            return value.strip()
    return None
