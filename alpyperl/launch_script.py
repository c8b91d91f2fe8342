"""The JVM options of an AnyLogic export, read from its launch script before the JVM starts.

An AnyLogic "standalone Java application" export runs one line such as
``java -cp model.jar:lib/a.jar -Xmx512m com.acme.model.Simulation $*``. The launcher (Java class
``LaunchScript``) reads the classpath and experiment class from it once the JVM runs; the JVM
options (``-Xmx512m``) are needed before, when this process starts its JVM, so they are read
here. Both readers follow the same rules and are tested on the same scripts
(``tests/launch-scripts``), so they cannot drift apart unnoticed; a script this module cannot read
yields no options, and the launcher then reports what is wrong with it.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import NamedTuple

from . import jvm

#: The endings of launch script names: Linux, macOS, Windows.
__all__ = ["SUFFIXES", "LaunchCommand", "find", "jvm_options", "parse"]

SUFFIXES = ("_linux.sh", "_mac", "_windows.bat")
_CLASSPATH_OPTIONS = {"-cp", "-classpath", "--class-path"}
_OPTIONS_WITH_VALUE = {"-p", "--module-path", "--upgrade-module-path", "--add-modules", "--add-opens",
                       "--add-exports", "--add-reads", "--limit-modules", "--patch-module"}
_JAVA = {"java", "java.exe", "javaw", "javaw.exe"}


class LaunchCommand(NamedTuple):
    """What a launch script's java line says."""

    classpath: list[str]
    jvm_options: list[str]
    experiment_class: str


def find(folder: str | os.PathLike) -> Path | None:
    """The launch script of the export in ``folder`` (this platform's first), or None."""
    own = "_windows.bat" if sys.platform.startswith("win") else "_mac" if sys.platform == "darwin" else "_linux.sh"
    order = [own] + [suffix for suffix in SUFFIXES if suffix != own]
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    for suffix in order:
        for name in names:
            if name.endswith(suffix) and len(name) > len(suffix) and os.path.isfile(os.path.join(folder, name)):
                return Path(folder) / name
    return None


def jvm_options(folder: str | os.PathLike) -> list[str]:
    """The JVM options of the export in ``folder``, without a Java debugger's (see
    :func:`alpyperl.jvm.options_from_file`); [] if it has no launch script or one that cannot be read."""
    script = find(folder)
    if script is None:
        return []
    command = parse(script.name, script.read_text(encoding="utf-8", errors="replace"))
    return jvm.options_from_file(command.jvm_options, f"the launch script {script}") if command is not None else []


def parse(file_name: str, text: str) -> LaunchCommand | None:
    """The java line of the script ``file_name`` (its ending tells the platform), or None if none can be read."""
    windows = file_name.lower().endswith(".bat")
    for line in _logical_lines(text, "^" if windows else "\\"):
        try:
            words = _windows_words(line) if windows else shlex.split(line, comments=True)
        except ValueError:  # unbalanced quotes
            continue
        java = next((i for i, word in enumerate(words) if word.replace("\\", "/").rsplit("/", 1)[-1].lower() in _JAVA), -1)
        if java >= 0 and _CLASSPATH_OPTIONS & set(words[java + 1:]):
            return _command(words[java + 1:], windows)
    return None


def _command(words: list[str], windows: bool) -> LaunchCommand | None:
    classpath, options, main_class = None, [], None
    i = 0
    while i < len(words) and main_class is None:
        word = words[i]
        if word in _CLASSPATH_OPTIONS:
            if i + 1 == len(words):
                return None
            classpath, i = words[i + 1], i + 1
        elif word.startswith("--class-path="):
            classpath = word[len("--class-path="):]
        elif word.startswith("-"):
            options.append(word)
            if word in _OPTIONS_WITH_VALUE and i + 1 < len(words):
                options.append(words[i + 1])
                i += 1
        else:
            main_class = word
        i += 1
    if main_class is None or not all(part.isidentifier() for part in main_class.split(".")):
        return None
    entries: list[str] = []
    for entry in classpath.split(";" if windows else ":"):
        entry = entry.strip().replace("\\", "/") if windows else entry.strip()
        if "$" in entry or (windows and "%" in entry):
            return None
        if entry and entry not in entries:
            entries.append(entry)
    return LaunchCommand(entries, options, main_class) if entries else None


def _logical_lines(text: str, continuation: str) -> list[str]:
    lines, current = [], ""
    for line in text.splitlines():
        if line.endswith(continuation) and not line.endswith(continuation * 2):
            current += line[:-1]
            continue
        lines.append(current + line)
        current = ""
    lines.append(current)
    return lines


def _windows_words(line: str) -> list[str]:
    """The words of a batch file line: double quotes group, ``^`` escapes; ``rem`` and ``::`` lines are comments."""
    line = line.strip().removeprefix("@")
    lower = line.lower()
    if lower.startswith("::") or lower == "rem" or lower.startswith(("rem ", "rem\t")):
        return []
    words, word, in_word, quoted, i = [], [], False, False, 0
    while i < len(line):
        c = line[i]
        if c == '"':
            quoted, in_word = not quoted, True
        elif c == "^" and not quoted and i + 1 < len(line):
            i += 1
            word.append(line[i])
            in_word = True
        elif c.isspace() and not quoted:
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
        else:
            word.append(c)
            in_word = True
        i += 1
    if quoted:
        raise ValueError("unbalanced quotes")
    if in_word:
        words.append("".join(word))
    return words
