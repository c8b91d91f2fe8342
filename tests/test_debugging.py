"""A Java debugger on the embedded JVM: ``debug_port`` opens a JDWP port on 127.0.0.1 only,
``debug_suspend`` holds the JVM until a debugger attaches, and without them no port is opened.

Every test runs its JVM in a fresh Python process (a JVM starts once per process). The tests talk
JDWP themselves (the handshake, and for ``debug_suspend`` the VM_START event and a Resume
command), so they need no debugger.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import textwrap

import pytest

from alpyperl import AnyLogicEnv, jvm

HANDSHAKE = b"JDWP-Handshake"
TIMEOUT = 60  # seconds for a subprocess to reach its next line; never reached when things work


def free_port() -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """The (address, port) of every TCP socket on which process ``pid`` listens (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in inodes:  # 0A: LISTEN
                    address, port = local.split(":")
                    found.add((_address(address), int(port, 16)))
    return found


def _address(hex_address: str) -> str:
    """An address of /proc/net/tcp (little-endian hex words) as text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(words) == 4 else socket.AF_INET6, words)


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine other than loopback, or None (a UDP 'connect' sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


class Script:
    """A Python script in its own process that prints lines and waits for ours (stdin) between steps."""

    def __init__(self, code: str):
        self.process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.output: list[str] = []

    def read_until(self, prefix: str) -> str:
        """Reads output lines up to the first that starts with ``prefix``; fails if the script ends first."""
        while True:
            line = self.process.stdout.readline()
            if not line:
                self.process.wait(TIMEOUT)
                pytest.fail(f"the script ended (status {self.process.returncode}) before printing {prefix!r}:\n"
                            + "".join(self.output))
            self.output.append(line)
            if line.startswith(prefix):
                return line.rstrip("\n")

    def go_on(self) -> None:
        """Lets the script continue past its next ``input()``."""
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def finish(self) -> str:
        """Waits for the end of the script; returns the rest of its output and checks its status."""
        rest, _ = self.process.communicate(timeout=TIMEOUT)
        self.output.append(rest)
        assert self.process.returncode == 0, "".join(self.output)
        return rest

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def scripts():
    started: list[Script] = []

    def start(code: str) -> Script:
        started.append(Script(code))
        return started[-1]

    yield start
    for script in started:
        script.kill()


def handshake(port: int, host: str = "127.0.0.1") -> socket.socket:
    """Connects to a JDWP agent and performs the handshake (both sides send the same 14 bytes)."""
    connection = socket.create_connection((host, port), timeout=TIMEOUT)
    connection.sendall(HANDSHAKE)
    assert receive(connection, len(HANDSHAKE)) == HANDSHAKE
    return connection


def receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        assert chunk, f"the JDWP agent closed the connection after {data!r}"
        data += chunk
    return data


def test_debug_port_accepts_a_jdwp_handshake_on_loopback_only(cartpole_model, scripts):
    port = free_port()
    script = scripts(f"""
        from alpyperl import AnyLogicEnv
        env = AnyLogicEnv(model={str(cartpole_model)!r}, debug_port={port})
        env.reset(seed=1)
        env.step(0)
        print("ready", flush=True)
        input()
        env.close()
    """)
    logged = script.read_until("alpyperl:")
    assert logged == f"alpyperl: Java debugger listening on 127.0.0.1:{port} (process {script.process.pid})"
    script.read_until("ready")

    assert listening_sockets(script.process.pid) == {("127.0.0.1", port)}
    handshake(port).close()
    other = non_loopback_address()
    if other is not None:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((other, port), timeout=TIMEOUT).close()
    script.go_on()
    script.finish()


def test_without_debug_port_no_socket_is_opened(cartpole_model, scripts):
    script = scripts(f"""
        from alpyperl import AnyLogicEnv
        print("before", flush=True)
        input()
        env = AnyLogicEnv(model={str(cartpole_model)!r})
        env.reset(seed=1)
        env.step(0)
        print("after", flush=True)
        input()
        env.close()
    """)
    script.read_until("before")
    before = listening_sockets(script.process.pid)
    script.go_on()
    script.read_until("after")
    after = listening_sockets(script.process.pid)
    script.go_on()
    rest = script.finish()
    assert before == after == set()
    assert "alpyperl:" not in "".join(script.output) + rest


def test_debug_suspend_holds_the_jvm_until_a_debugger_resumes_it(cartpole_model, scripts):
    port = free_port()
    script = scripts(f"""
        from alpyperl import AnyLogicEnv
        env = AnyLogicEnv(model={str(cartpole_model)!r}, debug_port={port}, debug_suspend=True)
        observation, info = env.reset(seed=1)
        print("model ran", info["seed"], flush=True)
        env.close()
    """)
    logged = script.read_until("alpyperl:")
    assert logged.endswith(f"127.0.0.1:{port} (process {script.process.pid}); the JVM waits until a debugger attaches")
    script.read_until("Listening for transport dt_socket")  # the JDWP agent's own line
    connection = handshake(port)
    # A suspended JVM greets its debugger with a VM_START event under the SUSPEND_ALL policy.
    length, _, flags, command_set, command = struct.unpack(">IIBBB", receive(connection, 11))
    body = receive(connection, length - 11)
    suspend_policy, events, kind = struct.unpack(">BIB", body[:6])
    assert (command_set, command) == (64, 100)  # Event.Composite
    assert (suspend_policy, events, kind) == (2, 1, 90)  # SUSPEND_ALL, one event, VM_START
    # VirtualMachine.Resume (command set 1, command 9): then the model runs.
    connection.sendall(struct.pack(">IIBBB", 11, 1, 0, 1, 9))
    length, packet_id, flags, error_code = struct.unpack(">IIBH", receive(connection, 11))
    assert (packet_id, flags, error_code) == (1, 0x80, 0)
    assert script.read_until("model ran") == "model ran 1"
    connection.close()
    script.finish()


def test_port_in_use_is_a_clear_error_and_the_process_can_go_on(cartpole_model, scripts):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        script = scripts(f"""
            from alpyperl import AnyLogicEnv, DebuggerError
            try:
                AnyLogicEnv(model={str(cartpole_model)!r}, debug_port={port})
            except DebuggerError as error:
                print("DebuggerError:", error, flush=True)
            env = AnyLogicEnv(model={str(cartpole_model)!r})  # the JVM was not started: this one starts it
            print("reset", env.reset(seed=4)[1]["seed"], flush=True)
        """)
        message = script.read_until("DebuggerError:")
        assert f"the Java debugger cannot listen on 127.0.0.1:{port}" in message
        assert "choose another debug_port" in message and "The JVM was not started" in message
        assert script.read_until("reset") == "reset 4"
        script.finish()


def test_asking_for_a_debugger_when_the_jvm_runs_without_one(cartpole_model, scripts):
    port = free_port()
    script = scripts(f"""
        from alpyperl import AnyLogicEnv, DebuggerError
        env = AnyLogicEnv(model={str(cartpole_model)!r})
        try:
            AnyLogicEnv(model={str(cartpole_model)!r}, debug_port={port})
        except DebuggerError as error:
            print("DebuggerError:", error, flush=True)
        print("still works", env.reset(seed=2)[1]["seed"], flush=True)
    """)
    message = script.read_until("DebuggerError:")
    assert f"a Java debugger on 127.0.0.1:{port} was asked for" in message
    assert "already runs without a debugger" in message and "start a new process" in message
    assert script.read_until("still works") == "still works 2"
    script.finish()


def test_later_environments_share_the_debugger_or_are_told_where_it_is(cartpole_model, scripts):
    port = free_port()
    script = scripts(f"""
        from alpyperl import AnyLogicEnv, AnyLogicVectorEnv, DebuggerError
        first = AnyLogicEnv(model={str(cartpole_model)!r}, debug_port={port})
        same = AnyLogicVectorEnv(model={str(cartpole_model)!r}, num_envs=2, debug_port={port})
        print("same port: fine", flush=True)
        try:
            AnyLogicEnv(model={str(cartpole_model)!r}, debug_port={port + 1})
        except DebuggerError as error:
            print("DebuggerError:", error, flush=True)
    """)
    script.read_until("same port: fine")
    message = script.read_until("DebuggerError:")
    assert f"a Java debugger on 127.0.0.1:{port + 1} was asked for" in message
    assert f"already runs with its debugger on 127.0.0.1:{port}" in message
    script.finish()


def test_each_rllib_runner_gets_its_own_port_and_logs_it(cartpole_model, scripts):
    pytest.importorskip("ray.rllib")
    base = free_port() - 2
    script = scripts(f"""
        from ray.rllib.env.env_context import EnvContext
        from alpyperl import rllib
        config = {{"model": {str(cartpole_model)!r}, "debug_port": {base}}}
        first = rllib.make_env(EnvContext(config, worker_index=2))
        second = rllib.make_env(EnvContext(config, worker_index=2))  # same runner: same JVM, same port
        print("ready", flush=True)
        input()
    """)
    logged = script.read_until("alpyperl:")
    assert logged == (f"alpyperl: Java debugger listening on 127.0.0.1:{base + 2} "
                      f"(EnvRunner 2, process {script.process.pid})")
    script.read_until("ready")
    assert listening_sockets(script.process.pid) == {("127.0.0.1", base + 2)}
    handshake(base + 2).close()
    script.go_on()
    script.finish()
    assert sum(line.startswith("alpyperl:") for line in script.output) == 1


@pytest.mark.parametrize("settings, problem", [
    ({"debug_port": 0}, "debug_port must be a TCP port number from 1 to 65535, got 0"),
    ({"debug_port": 70000}, "got 70000"),
    ({"debug_port": "5005"}, "got '5005'"),
    ({"debug_port": True}, "got True"),
    ({"debug_port": 5005, "debug_suspend": "yes"}, "debug_suspend must be True or False"),
    ({"debug_suspend": True}, "debug_suspend=True needs a debug_port"),
])
def test_bad_debug_settings_are_refused_before_the_jvm_starts(cartpole_model, settings, problem):
    with pytest.raises(ValueError) as error:
        AnyLogicEnv(model=cartpole_model, **settings)
    assert problem in str(error.value)


def test_debug_options_are_the_jdwp_agent_on_loopback():
    assert jvm.debug_options(5005) == [
        "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:5005"]
    assert jvm.debug_options(5006, suspend=True)[0].endswith("suspend=y,address=127.0.0.1:5006")
