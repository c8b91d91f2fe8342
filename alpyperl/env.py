"""``AnyLogicEnv``: a Gymnasium environment whose dynamics are a Java simulation model.

The model runs in a JVM inside this process (JPype); on Java 24 and newer, by default, on the
calling thread itself (a virtual thread that ``step`` resumes), else on a thread of its own. Each
``step`` is one call into Java. Observations, actions and rewards travel through one float64
buffer shared by Python and Java. An ``AnyLogicEnv`` is a group of one model instance
(:class:`~alpyperl.instances.ModelInstances`), stepped exactly as a vector environment's are.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Mapping
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from . import jvm, render
from .bridge import OUTPUT_WAITING, RUNNING, SEED_LIMIT, TERMINATED, TRUNCATED, JavaException
from .errors import AlpyperlError, ResetNeeded
from .instances import ModelInstances
from .settings import DEBUG_STEP_TIMEOUT, DEFAULT_ATTACH_TIMEOUT, DEFAULT_STEP_TIMEOUT, check_parameters, resolve

__all__ = ["AnyLogicEnv", "DEBUG_STEP_TIMEOUT"]


class AnyLogicEnv(gym.Env):
    """A simulation model as a Gymnasium environment.

    Args:
        model: the model's folder: an AnyLogic export, or an example model built by Gradle
            (``examples/cartpole/build/model``).
        env_params: model parameters by name, applied at every reset (the others keep the
            model's defaults). ``reset(options={"env_params": {...}})`` changes them later.
        observation_space, action_space: the spaces, when the model does not define them
            itself. Defining a space in both places is an error.
        step_timeout: seconds the model may take to reach its next decision before
            :class:`~alpyperl.ModelTimeoutError` is raised.
        jvm_options: options for the embedded JVM (for example ``["-Xmx2g"]``); only the first
            environment of a process starts the JVM, so only its options count.
        debug_port: a TCP port on which a Java debugger (IntelliJ IDEA, Eclipse) can attach to the
            JVM, listening on 127.0.0.1 only (see docs/debugging.md). Like ``jvm_options`` it must
            be given to the first environment of the process.
        debug_suspend: with ``debug_port``: the JVM waits until a debugger attaches.
        render_mode: ``None`` (default: no drawing, and no cost), ``"rgb_array"``: :meth:`render`
            returns the model's picture of its state as an (H, W, 3) uint8 array, for videos
            (``gymnasium.wrappers.RecordVideo``); ``"human"``: each reset and step shows the picture
            in a window (needs a display). The model must implement
            ``com.alpyperl.connector.Drawable``; otherwise the constructor says so.
        render_size: ``(width, height)`` of the frames in pixels (default 600 x 400).
        render_fps: frames per second of videos and of the window (``metadata["render_fps"]``,
            default 30).
        model_output: where what the model prints goes (``System.out``, ``System.err``,
            AnyLogic's ``traceln()``), in whole lines labelled with the instance: ``"log"`` (the
            default: Python logging, logger ``alpyperl.model``), ``"console"`` (unchanged), a
            folder (one file per instance) or ``"off"``/None. See :mod:`alpyperl.output`.
        model_threads: the thread the model runs on. ``"auto"`` (default): ``"caller"`` where the
            JVM can (Java 24 or newer), else ``"platform"``. ``"caller"``: the thread that calls
            ``step()`` runs the model itself, so a step wakes no other thread (fastest; a model
            that loops forever cannot be stopped there: after ``step_timeout`` its stack is
            printed instead of a :class:`~alpyperl.ModelTimeoutError`). ``"platform"``: an OS
            thread of its own, on any Java; a step that outlasts ``step_timeout`` always raises
            :class:`~alpyperl.ModelTimeoutError`. Trajectories are the same either way.
        attach: train a model that runs in AnyLogic itself (its Run button) or in an export started
            by its own launch script, instead of opening ``model``: ``True`` listens on a free port of
            127.0.0.1, a number on that port. The environment prints what to do and waits for the
            model's connector (set to train: ``RLConnector.attachToPython()``; 1.x models: rlMode
            TRAIN) to connect; a step has no timeout (a breakpoint in AnyLogic may hold it). See
            docs/anylogic.md, "Training without exporting".
        attach_timeout: seconds to wait for the model to attach (at creation, and at a reset after
            the model stopped or the connection was lost); default 600.

    The settings may also come as one mapping, as RLlib passes its ``env_config``:
    ``AnyLogicEnv({"model": ..., "env_params": {...}})``.

    ``reset()`` reports the episode's seed in ``info["seed"]`` (also in ``episode_seed``, set
    before the model starts, so it is known when a reset fails); ``reset(seed=that)`` replays it.
    ``settings`` holds the settings this environment was created with.
    """

    metadata = {"render_modes": list(render.RENDER_MODES), "render_fps": 30}

    def __init__(
        self,
        config: Mapping[str, Any] | str | os.PathLike | None = None,
        *,
        model: str | os.PathLike | None = None,
        env_params: Mapping[str, Any] | None = None,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
        step_timeout: float = DEFAULT_STEP_TIMEOUT,
        jvm_options: Sequence[str] = (),
        debug_port: int | None = None,
        debug_suspend: bool = False,
        render_mode: str | None = None,
        render_size: tuple[int, int] = render.DEFAULT_SIZE,
        render_fps: float = 30,
        model_output: str | os.PathLike | None = "log",
        model_threads: str = "auto",
        attach: bool | int = False,
        attach_timeout: float = DEFAULT_ATTACH_TIMEOUT,
    ):
        settings = resolve(config, dict(
            model=model, env_params=env_params, observation_space=observation_space,
            action_space=action_space, step_timeout=step_timeout, jvm_options=jvm_options,
            debug_port=debug_port, debug_suspend=debug_suspend, render_mode=render_mode,
            render_size=render_size, render_fps=render_fps, model_output=model_output,
            model_threads=model_threads, attach=attach, attach_timeout=attach_timeout))
        self.render_mode, self.render_size, fps = render.check_settings(
            settings["render_mode"], settings["render_size"], settings["render_fps"])
        self.metadata = {**self.metadata, "render_fps": fps}
        self._window: render.Window | None = None
        self.settings: dict[str, Any] = settings
        self.episode_seed: int | None = None
        #: The model's folder, or None for a model attached from AnyLogic.
        self.model_path = os.fspath(settings["model"]) if settings["model"] is not None else None
        self.step_timeout = float(settings["step_timeout"])
        self._env_params: dict[str, Any] = dict(settings["env_params"] or {})
        self._closer = None
        self._episode_over = True

        instances = ModelInstances(settings, 1, batched=False)
        self._instances = instances
        self._closer = weakref.finalize(self, instances.close)
        try:
            self.observation_space, self.action_space = instances.observation_space, instances.action_space
            self.model_parameters = instances.parameter_names
            #: The kind of thread the model runs on: "caller" or "platform" (see ``model_threads``).
            self.model_threads = instances.group.model_threads
            instances.set_parameters(self._env_params)
            if self.render_mode is not None:
                self._prepare_rendering()
        except BaseException:
            self.close()
            raise
        # Bound once: the step path touches nothing else.
        self._write_action = instances.write_actions
        self._read_observation = instances.read_observations
        # A Discrete action's place in the row, which the step extension writes a plain integer into.
        action_slot = instances.rows[0, :1] if isinstance(self.action_space, gym.spaces.Discrete) else None
        instances.group.bind_actions(self._write_action, action_slot)
        self._group = instances.group  # its act_and_step, looked up per step (a forked child replaces it)
        self._busy = instances.busy
        self._statuses = instances.statuses
        row = instances.rows[0]
        self._read_reward = functools.partial(row.item, row.size - 1)  # the reward, as a Python float

    def _prepare_rendering(self) -> None:
        """Checks that the model draws and allocates the frame buffer Java writes pixels into; in
        "human" mode opens the window and makes every step show its frame."""
        self._frames = render.Frames(self._instances.group, self.render_size, self.model_path, self.render_mode)
        if self.render_mode == "human":
            self._window = render.Window(f"alpyperl: {os.path.basename(os.path.abspath(self.model_path))}",
                                         self.render_size, self.metadata["render_fps"])
            # Shown after every step by this instance's own step, so that the other modes pay nothing.
            self.step = self._step_and_show

    def __getstate__(self):
        raise TypeError("an AnyLogicEnv cannot be pickled or copied: its model runs in this process's JVM. Pass its "
                        "settings instead (env.settings: AnyLogicEnv(**env.settings) creates an equal one), e.g. to "
                        "another process")

    @property
    def instance_label(self) -> str:
        """The label of the model instance, as its printed lines show it (``CartPole#3``)."""
        return self._instances.output.labels[0]

    @property
    def env_params(self) -> dict[str, Any]:
        """The model parameters applied at each reset (a copy). Setting it replaces them from the
        next reset on (``reset(options={"env_params": ...})`` updates some of them)."""
        return dict(self._env_params)

    @env_params.setter
    def env_params(self, params: Mapping[str, Any]) -> None:
        self._instances.set_parameters(check_parameters(params))
        self._env_params = dict(params)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Starts a new episode (abandoning a running one) and returns ``(observation, info)``.

        ``info["seed"]`` is the episode's seed; ``options={"env_params": {...}}`` updates model
        parameters from this episode on.
        """
        if self._closer is None or not self._closer.alive:
            raise AlpyperlError("the environment is closed; create a new AnyLogicEnv")
        jvm.keep_jvm_signal_handlers()  # in case ray.init() replaced them since the last episode
        super().reset(seed=seed)
        self.episode_seed = None
        if options and "env_params" in options:
            updated = {**self._env_params, **options["env_params"]}
            self._instances.set_parameters(updated)
            self._env_params = updated
        episode_seed = int(seed) % SEED_LIMIT if seed is not None else int(self.np_random.integers(SEED_LIMIT - 1))
        if not self._busy.acquire(False):
            raise self._instances.in_use("reset()")
        try:
            self._episode_over = True
            self.episode_seed = episode_seed
            self._instances.commands[0] = episode_seed
            self._instances.run()
            self._episode_over = self._statuses[0] != RUNNING
        finally:
            self._busy.release()
        if self._window is not None:
            self._window.show(self._draw())
        return self._read_observation(), {"seed": episode_seed, "env_params": dict(self._env_params)}

    def step(self, action):
        """Applies ``action`` and runs the model to its next decision or to the end of the episode."""
        if self._episode_over:
            if self._closer is None or not self._closer.alive:
                raise AlpyperlError("the environment is closed; create a new AnyLogicEnv")
            raise ResetNeeded(
                "step() needs a running episode: the last one has ended (terminated, truncated or failed) "
                "or none was started; call reset() first"
            )
        busy = self._busy
        if not busy.acquire(False):
            raise self._instances.in_use("step()")
        try:
            try:
                flags = self._group.act_and_step(action)  # writes the action, then steps
            except JavaException as error:
                problem = self._instances.failure(error)
                self._episode_over = not isinstance(problem, ValueError)  # a refused action changed nothing
                raise problem from None
            except AlpyperlError:  # an attached model failed, stopped or went away
                self._episode_over = True
                raise
            if not flags:  # the common step: the episode goes on, and the model printed nothing
                return self._read_observation(), self._read_reward(), False, False, {}
            # The episode ended (EPISODES_ENDED), or printed lines wait (OUTPUT_WAITING).
            if flags & OUTPUT_WAITING:
                self._instances.output.drain()
            status = self._statuses.item(0)
            self._episode_over = status != RUNNING
            return (self._read_observation(), self._read_reward(), status == TERMINATED,
                    status == TRUNCATED, {})
        finally:
            busy.release()

    def _step_and_show(self, action):
        """``step()`` in "human" mode: steps, then shows the model's picture in the window."""
        result = AnyLogicEnv.step(self, action)
        self._window.show(self._draw())
        return result

    def render(self):
        """The model's picture of its current state.

        With ``render_mode="rgb_array"``: an (H, W, 3) uint8 RGB array of ``render_size``, a new
        array each call. With ``"human"``: shows it in the window and returns None. The model draws
        while it waits at a decision or after its episode ended (the final state); before the
        first ``reset()`` there is nothing to draw (:class:`~alpyperl.ResetNeeded`).
        """
        return render.render_now(self.render_mode, self._window, self._draw)

    def _draw(self) -> np.ndarray:
        """Has the model draw itself into the shared frame buffer; returns the frame as RGB (a copy)."""
        if self._closer is None or not self._closer.alive:
            raise AlpyperlError("the environment is closed; create a new AnyLogicEnv")
        return self._frames.draw(0)

    def close(self):
        """Ends the episode and the model's thread (and closes the window of render_mode="human").
        The environment cannot be used afterwards."""
        self._episode_over = True
        if self._window is not None:
            self._window.close()
        if self._closer is not None:
            self._closer()

