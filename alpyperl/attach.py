"""Attach mode: a model that runs in AnyLogic itself (its Run button) or in an export started by its
own launch script connects to this process, which drives it exactly as an in-process model.

:class:`AttachedModel` has the role of :class:`~alpyperl.bridge.ModelGroup` (describe, configure,
reset and step the one instance, output, close), so :class:`~alpyperl.AnyLogicEnv` keeps its one
step path; no JVM runs in this process. It listens on 127.0.0.1 only, and writes a connection file
readable only by the user (port and a random token, Jupyter-kernel style) where the model's
connector finds it (:func:`connection_file`); the model proves that it read the token, and so
does this side. A decision is one message each way, in the connector's flat float64 layout (the
messages: ``anylogic-lib``'s ``AttachProtocol``; ``tests/test_attach.py`` checks the constants).
"""

from __future__ import annotations

import hmac
import json
import os
import queue
import secrets
import socket
import struct
import sys
import threading
import time
from hashlib import sha256

import numpy as np

from .bridge import EPISODES_ENDED, RUNNING, STEP, write_then_step
from .errors import AlpyperlError, ModelError, ModelLoadError
from .settings import DEBUG_STEP_TIMEOUT, DEFAULT_ATTACH_TIMEOUT
from .spaces import flat_size, observation_part, space_from_json

__all__ = ["AttachedModel", "connection_file", "DEFAULT_ATTACH_TIMEOUT", "FILE_VARIABLE"]

#: The environment variable naming the connection file (the model reads it too, or ``-Dalpyperl.attach.file``).
FILE_VARIABLE = "ALPYPERL_ATTACH_FILE"

# ---- the protocol (anylogic-lib's AttachProtocol) ---------------------------------------------
VERSION = 1
CHALLENGE, HELLO, WELCOME, REFUSED, CONFIGURE, RESET, STEP_MESSAGE, CLOSE = 1, 2, 3, 4, 5, 6, 7, 8
DECISION_RUNNING, DECISION_TERMINATED, DECISION_TRUNCATED, MODEL_ERROR, ACTION_REFUSED, STOPPED = 10, 11, 12, 13, 14, 15
NONCE_BYTES = 32
MAX_TEXT_BYTES = 1 << 20
MAX_VALUES = 8 << 20
_LIMITS = {
    CHALLENGE: 4 + NONCE_BYTES, HELLO: 2 * NONCE_BYTES + MAX_TEXT_BYTES, WELCOME: NONCE_BYTES, REFUSED: MAX_TEXT_BYTES,
    CONFIGURE: MAX_TEXT_BYTES, RESET: 8 + MAX_TEXT_BYTES, STEP_MESSAGE: 8 * MAX_VALUES, CLOSE: 0,
    DECISION_RUNNING: 8 * MAX_VALUES, DECISION_TERMINATED: 8 * MAX_VALUES, DECISION_TRUNCATED: 8 * MAX_VALUES,
    MODEL_ERROR: MAX_TEXT_BYTES, ACTION_REFUSED: MAX_TEXT_BYTES, STOPPED: MAX_TEXT_BYTES,
}
_HEADER = struct.Struct("<ii")
#: Seconds a connected model may take to greet.
_GREETING_TIMEOUT = 10.0
_TO_DO = ("press Run in AnyLogic (the model's connector set to train: RLConnector.attachToPython(), "
          "-Dalpyperl.attach=true, or rlMode TRAIN for an ALPypeRL 1.x model)")


def connection_file() -> str:
    """Where the waiting environment writes its port and token: ``$ALPYPERL_ATTACH_FILE``, else
    ``~/.alpyperl/attach.json`` (the connector looks in the same places)."""
    return os.environ.get(FILE_VARIABLE) or os.path.join(os.path.expanduser("~"), ".alpyperl", "attach.json")


class ProtocolError(AlpyperlError):
    """A message that breaks the attach protocol."""


class _ModelGone(ModelError):
    """The attached model stopped or the connection to it was lost (the connection has been dropped)."""


class _Channel:
    """One connection's messages: reads into one buffer that grows only as far as a kind's limit allows."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._buffer = bytearray(1 << 16)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0

    def read(self) -> tuple[int, memoryview]:
        """The next message's kind and payload (valid until the next read). EOFError when the peer
        closed; ProtocolError for an unknown kind or a length above its limit, before allocating it."""
        self._ensure(8)
        kind, length = _HEADER.unpack_from(self._buffer, self._start)
        limit = _LIMITS.get(kind)
        if limit is None:
            raise ProtocolError(f"a message of unknown kind {kind} came")
        if not 0 <= length <= limit:
            raise ProtocolError(f"a message of kind {kind} claims {length} bytes, more than the {limit} it may have")
        self._ensure(8 + length)
        payload = self._view[self._start + 8:self._start + 8 + length]
        self._start += 8 + length
        return kind, payload

    def _ensure(self, count: int) -> None:
        if self._end - self._start >= count:
            return
        if self._start + count > len(self._buffer):  # make room: move what is buffered to the front
            pending = self._end - self._start
            if count > len(self._buffer):
                grown = bytearray(count)
                grown[:pending] = self._view[self._start:self._end]
                self._buffer, self._view = grown, memoryview(grown)
            else:
                self._buffer[:pending] = self._buffer[self._start:self._end]
            self._start, self._end = 0, pending
        while self._end - self._start < count:
            received = self.sock.recv_into(self._view[self._end:])
            if received == 0:
                raise EOFError("the connection was closed")
            self._end += received

    def send(self, kind: int, payload: bytes = b"") -> None:
        self.sock.sendall(_HEADER.pack(kind, len(payload)) + payload)

    def text(self, payload: memoryview) -> str:
        return bytes(payload).decode("utf-8", errors="replace")


def _proof(token: bytes, role: bytes, nonce: bytes) -> bytes:
    return hmac.new(token, role + bytes(nonce), sha256).digest()


def _refuse(conn: socket.socket, text: str) -> None:
    try:
        conn.settimeout(1.0)
        payload = text.encode()
        conn.sendall(_HEADER.pack(REFUSED, len(payload)) + payload)
    except OSError:
        pass
    finally:
        conn.close()


def _greet(conn: socket.socket, token: bytes, file: str) -> tuple[_Channel, dict] | None:
    """The greeting with a connected model: its channel and description, or None after refusing it
    (it does not know the token, or does not greet within the greeting timeout)."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.settimeout(_GREETING_TIMEOUT)
    channel = _Channel(conn)
    nonce = secrets.token_bytes(NONCE_BYTES)
    try:
        channel.send(CHALLENGE, struct.pack("<i", VERSION) + nonce)
        kind, payload = channel.read()
        if kind != HELLO or len(payload) < 2 * NONCE_BYTES:
            _refuse(conn, f"expected the model's greeting, got a message of kind {kind}")
            return None
        if not hmac.compare_digest(bytes(payload[:NONCE_BYTES]), _proof(token, b"model", nonce)):
            _refuse(conn, f"the model's proof does not match this environment's token: it read another connection "
                          f"file than {file} (a stale one?); press Run again")
            return None
        description = json.loads(channel.text(payload[2 * NONCE_BYTES:]))
        channel.send(WELCOME, _proof(token, b"python", payload[NONCE_BYTES:2 * NONCE_BYTES]))
    except (OSError, EOFError, ProtocolError, ValueError):
        conn.close()
        return None
    conn.settimeout(DEBUG_STEP_TIMEOUT)  # a breakpoint in AnyLogic holds a decision: no timeout
    return channel, description


class _Listener:
    """The loopback socket models connect to, its connection file, and a thread that takes
    connections: while no model is attached it greets them (:func:`_greet`) and hands the first
    that proves it read the file to the environment (``arrived``: the channel and the model's
    description); while one is attached it refuses them with a message."""

    def __init__(self, port: int):
        self.file = connection_file()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._sock.bind(("127.0.0.1", port))
        except OSError as error:
            self._sock.close()
            raise AlpyperlError(f"attach={port}: cannot listen on 127.0.0.1:{port}: {error.strerror or error}; "
                                "choose another port, or attach=True for any free one") from None
        self._sock.listen(4)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.token = secrets.token_bytes(NONCE_BYTES)
        #: Set while no model is attached: from the moment the file tells models where to connect.
        self.accepting = threading.Event()
        self.accepting.set()
        self.arrived: "queue.Queue[tuple[_Channel, dict]]" = queue.Queue()
        self._closed = False
        try:
            self._write_file()
        except BaseException:
            self._sock.close()
            raise
        self._thread = threading.Thread(target=self._take_connections, name="alpyperl attach listener", daemon=True)
        self._thread.start()

    def _write_file(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.file))
        os.makedirs(folder, mode=0o700, exist_ok=True)
        owner = _waiting_process(self.file)
        if owner == os.getpid():
            raise AlpyperlError(
                f"an environment of this process already waits for a model through the connection file {self.file}: "
                "attach mode trains one model, so one environment (in RLlib: num_env_runners=0 or 1 and "
                "num_envs_per_env_runner=1); close the other environment first")
        if owner is not None:
            raise AlpyperlError(
                f"another environment (process {owner}) already waits for a model through the connection file "
                f"{self.file}; one attached environment at a time: close that one first (or, to run two, give each "
                f"its own file with the environment variable {FILE_VARIABLE} for Python and the model)")
        content = json.dumps({"port": self.port, "token": self.token.hex(), "pid": os.getpid(), "version": VERSION})
        temporary = f"{self.file}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # a file left by a crashed run keeps its mode through O_CREAT
            os.write(descriptor, content.encode())
        finally:
            os.close(descriptor)
        os.replace(temporary, self.file)

    def _take_connections(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.accepting.is_set():
                greeted = _greet(conn, self.token, self.file)
                if greeted is not None:
                    self.accepting.clear()
                    self.arrived.put(greeted)
            else:
                _refuse(conn, "this Python environment is already attached to a model (one model per environment); "
                              "stop the other run first, or start another AnyLogicEnv(attach=True) with its own "
                              f"connection file ({FILE_VARIABLE})")

    def close(self) -> None:
        self._closed = True
        self._sock.close()
        self._thread.join(timeout=2)
        while not self.arrived.empty():
            self.arrived.get_nowait()[0].sock.close()
        try:
            with open(self.file, encoding="utf-8") as file:
                mine = json.load(file).get("token") == self.token.hex()
            if mine:
                os.remove(self.file)
        except (OSError, ValueError):
            pass


def _waiting_process(file: str) -> int | None:
    """The id of another live process whose environment wrote ``file``, or None (no file, or a stale one)."""
    try:
        with open(file, encoding="utf-8") as opened:
            pid = int(json.load(opened).get("pid"))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    if pid == os.getpid() or os.name == "nt":
        return pid if pid == os.getpid() else None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


class AttachedModel:
    """The one model instance of an ``AnyLogicEnv(attach=...)``: a model running in AnyLogic that
    connected to this process. The role and calls of :class:`~alpyperl.bridge.ModelGroup`:
    ``commands``/``statuses`` as there; :meth:`step_all` resets (command = seed) or steps (command
    = :data:`~alpyperl.bridge.STEP`) with one message each way, and raises alpyperl's exceptions
    itself (ModelError when the model failed, was stopped or the connection was lost; ValueError
    for a refused action). A reset after a loss waits for the model to connect again.

    An environment may also be given one that attached already (``attach=model``), which then
    belongs to it: ``alpyperl run --attach`` first asks the model what it is (:meth:`describe`).
    """

    size = 1
    parallelism = 1
    #: There is no model thread in this process: the model runs in AnyLogic's JVM.
    model_threads = "attached"

    def __init__(self, port: int, timeout: float, *, timeout_setting: str = "attach_timeout=SECONDS"):
        """``timeout_setting`` is how the user gives the wait a longer time (named when none attached)."""
        shared = np.full(2, STEP, dtype=np.int64)
        self.commands, self.statuses = shared[:1], shared[1:]
        self._timeout = float(timeout)
        self._timeout_setting = timeout_setting
        self._channel: _Channel | None = None
        self._description: dict | None = None
        self._configure_message = b""
        self._parameters = b"{}"
        self._listener = _Listener(port)
        #: The address models connect to.
        self.address = f"127.0.0.1:{self._listener.port}"
        try:
            self._wait_for_model()
        except BaseException:
            self._listener.close()
            raise

    # ---- connecting ----------------------------------------------------------------------------

    def _wait_for_model(self) -> None:
        """Waits (up to the attach timeout) for a model that proves it read the connection file."""
        print(f"alpyperl: waiting for the model on {self.address}: {_TO_DO}; waiting up to {self._timeout:g} s "
              f"(connection file {self._listener.file})", file=sys.stderr, flush=True)
        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModelLoadError(
                    f"no model attached within {self._timeout:g} s on {self.address}: {_TO_DO} while the "
                    f"environment waits, or give it longer with {self._timeout_setting}. The model finds this "
                    f"environment through the connection file {self._listener.file}")
            try:
                self._channel, description = self._listener.arrived.get(timeout=min(remaining, 0.5))
                break
            except queue.Empty:
                continue
        if self._description is not None and _spaces(description) != _spaces(self._description):
            self._drop(CLOSE)
            raise ModelLoadError(
                f"the model that attached now ({description.get('model')}) describes other spaces or parameters than "
                f"the one this environment was created with ({self._description.get('model')}); create a new "
                "AnyLogicEnv(attach=True) for another model")
        if self._description is None:
            self._description = description
        elif self._configure_message:
            self._channel.send(CONFIGURE, self._configure_message)
        print(f"alpyperl: the model {description.get('model')} attached on {self.address}", file=sys.stderr, flush=True)

    def _drop(self, farewell: int | None = None) -> None:
        """Ends the connection (telling the model with ``farewell`` if given)."""
        channel, self._channel = self._channel, None
        if channel is None:
            return
        self._listener.accepting.set()  # the next model that connects is greeted and waits for a reset
        if farewell is not None:
            try:
                channel.sock.settimeout(1.0)
                channel.send(farewell)
            except OSError:
                pass
        channel.sock.close()

    # ---- the calls of bridge.ModelGroup ----------------------------------------------------------

    def describe(self, timeout: float) -> dict:
        """The model's own spaces (JSON or None) and parameter names, as it described itself."""
        return dict(self._description)

    def configure(self, observation_json: str, action_json: str, timeout: float, rows: np.ndarray) -> None:
        """Tells the model the agreed spaces; ``rows`` (one row, ``[action | observation | reward]``) is shared."""
        self._rows = rows
        self._actions = flat_size(space_from_json(action_json))
        # The model sends the observation and the reward as doubles; the observation goes where the
        # row keeps it (in float32 for a Box of float32, as in-process).
        self._observation = observation_part(rows[0, self._actions:-1], space_from_json(observation_json))
        self._reward = rows[0, -1:]
        # One STEP message per step, its header written once: the action is copied in, then sent.
        self._step_message = np.zeros(1 + self._actions, dtype="<f8")
        self._step_message.view("<i4")[:2] = (STEP_MESSAGE, 8 * self._actions)
        self._step_action = self._step_message[1:]
        self._step_bytes = memoryview(self._step_message).cast("B")  # the same memory, as the bytes to send
        self._configure_message = json.dumps({"observation_space": json.loads(observation_json),
                                              "action_space": json.loads(action_json)}).encode()
        self._channel.send(CONFIGURE, self._configure_message)

    def set_parameters(self, parameters: str) -> None:
        """Model parameters (a JSON object), sent with each reset; names the model lacks are refused here."""
        names = self._description.get("parameters")
        unknown = [name for name in json.loads(parameters) if names is not None and name not in names]
        if unknown:
            raise ModelLoadError(f"the root agent {self._description.get('model')} of the attached model has no "
                                 f"parameter {unknown[0]!r}; its parameters are {', '.join(names) or 'none'}")
        self._parameters = parameters.encode()

    def labels(self) -> list[str]:
        return ["AnyLogic"]

    def set_output(self, index: int, destination: str, path: str | None) -> None:
        """What the model prints stays in AnyLogic's console: nothing to route."""

    def take_output(self) -> str:
        return ""

    def model_draws(self) -> bool:
        return False

    def bind_actions(self, write_action, action_slot) -> None:
        """Sets up ``act_and_step(action)``: writes the action with ``write_action``, then steps
        (as :meth:`~alpyperl.bridge.ModelGroup.bind_actions`)."""
        self.act_and_step = write_then_step(write_action, self.step_all)

    def step_all(self) -> int:
        """Resets (the command is a seed) or steps the model: one message out, one back. A reset
        that finds the model gone (stopped in AnyLogic, or the connection lost since the last step)
        waits for it to attach again, once."""
        command = int(self.commands[0])
        self.commands[0] = STEP
        if command == STEP:
            if self._channel is None:
                raise ModelError("no model is attached (the connection ended); call reset(), which waits for the "
                                 "model to connect again")
            np.copyto(self._step_action, self._rows[0, :self._actions])
            return self._exchange(self._step_bytes, command)
        reset = _HEADER.pack(RESET, 8 + len(self._parameters)) + struct.pack("<q", command) + self._parameters
        while True:
            if self._channel is None:
                self._wait_for_model()
            try:
                return self._exchange(reset, command)
            except _ModelGone:
                continue  # it went away (stopped in AnyLogic between episodes): wait for it again

    def _exchange(self, message, command: int) -> int:
        """Sends ``message`` and reads the model's answer into the shared row and status."""
        try:
            self._channel.sock.sendall(message)
            while True:
                kind, payload = self._channel.read()
                if DECISION_RUNNING <= kind <= DECISION_TRUNCATED:
                    if len(payload) != 8 * (self._observation.size + 1):
                        raise ProtocolError(f"the model sent {len(payload) // 8} values of observation and reward, "
                                            f"expected {self._observation.size + 1}")
                    values = np.frombuffer(payload, dtype="<f8")
                    self._observation[:] = values[:-1]
                    self._reward[0] = values[-1]
                    status = kind - DECISION_RUNNING
                    self.statuses[0] = status
                    return EPISODES_ENDED if status != RUNNING or command != STEP else 0
                if kind == ACTION_REFUSED:
                    raise ValueError(self._channel.text(payload))
                if kind == MODEL_ERROR:
                    raise ModelError(f"the model attached on {self.address} failed: {self._channel.text(payload)}")
                if kind == STOPPED:
                    self._drop()
                    raise _ModelGone(f"{self._channel_text(payload)} during the episode. Press Run in AnyLogic again "
                                     "and call reset(), which waits for the model to attach again")
                raise ProtocolError(f"the model sent a message of kind {kind} where a decision was expected")
        except (EOFError, ConnectionError, socket.timeout, ProtocolError) as error:
            self._drop()
            reason = ("AnyLogic was closed, the model's run ended, or the connection dropped"
                      if not isinstance(error, ProtocolError) else f"it sent a malformed message: {error}")
            raise _ModelGone(f"the connection to the model attached on {self.address} was lost: {reason}. Call "
                             "reset(), which waits for the model to attach again (press Run in AnyLogic)") from None
        except (ValueError, ModelError):
            raise  # the model's answer was read whole: the conversation goes on
        except BaseException:
            # Interrupted (Ctrl-C) between a message and its answer: the answer would come as that of the next
            # call, so the run ends here; reset() waits for Run to be pressed again.
            self._drop(CLOSE)
            raise

    @staticmethod
    def _channel_text(payload: memoryview) -> str:
        return bytes(payload).decode("utf-8", errors="replace")

    def close(self) -> None:
        """Tells the model the environment closed (its run ends), stops listening, removes the connection file."""
        self._drop(CLOSE)
        self._listener.close()


def _spaces(description: dict) -> tuple:
    return (json.dumps(description.get("observation_space"), sort_keys=True),
            json.dumps(description.get("action_space"), sort_keys=True), description.get("parameters"))

