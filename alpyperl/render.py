"""Seeing the model: checking the render settings, a window for ``render_mode="human"``, and
writing frames to a video file.

The frames themselves are drawn by the Java model (``com.alpyperl.connector.Drawable``) into a
buffer shared with Java (:class:`Frames`); see :meth:`alpyperl.AnyLogicEnv.render`.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from .errors import AlpyperlError, ModelLoadError, ResetNeeded

__all__ = [
    "RENDER_MODES", "DEFAULT_SIZE", "MAX_SIDE", "check_settings", "render_now", "Frames", "Window", "ppm", "VideoFile",
]

RENDER_MODES = ("rgb_array", "human")
#: Frame size (width, height) in pixels when none is given: that of Gymnasium's CartPole-v1.
DEFAULT_SIZE = (600, 400)
#: The largest width or height accepted (a frame of 8192 x 8192 pixels is 200 MB).
MAX_SIDE = 8192


def check_settings(render_mode: Any, render_size: Any, render_fps: Any) -> tuple[str | None, tuple[int, int], float]:
    """The render settings of an environment, checked: ``(render_mode, (width, height), fps)``."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be one of {list(RENDER_MODES)} or None, got {render_mode!r}")
    try:
        width, height = render_size
        valid = all(isinstance(side, (int, np.integer)) and not isinstance(side, bool) and 1 <= side <= MAX_SIDE
                    for side in (width, height))
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(f"render_size must be (width, height) in whole pixels from 1 to {MAX_SIDE}, "
                         f"got {render_size!r}")
    if isinstance(render_fps, bool) or not isinstance(render_fps, (int, float)) or not render_fps > 0:
        raise ValueError(f"render_fps must be a positive number of frames per second, got {render_fps!r}")
    return render_mode, (int(width), int(height)), float(render_fps)


def render_now(render_mode: str | None, window: Window | None, draw: Callable[[], np.ndarray]) -> np.ndarray | None:
    """What an environment's ``render()`` gives: the frame ``draw`` makes with ``render_mode="rgb_array"``;
    None after showing it in ``window`` with ``"human"``; None, with a warning, without a render_mode."""
    if render_mode is None:
        gym.logger.warn("render() returns nothing because the environment has no render_mode: create it with "
                        "render_mode='rgb_array' (frames as arrays) or 'human' (a window)")
        return None
    frame = draw()
    if window is not None:
        window.show(frame)
        return None
    return frame


class Frames:
    """The pictures that the model instances of a group (:class:`~alpyperl.bridge.ModelGroup`)
    draw of their state, one instance at a time, as (H, W, 3) uint8 RGB arrays of ``size``.

    Refuses a model that does not draw itself (:class:`~alpyperl.ModelLoadError`, saying how to
    make it draw), so that an environment with a ``render_mode`` fails when it is made.
    """

    def __init__(self, group, size: tuple[int, int], model_path: str, render_mode: str):
        if not group.model_draws():
            raise ModelLoadError(
                f"render_mode={render_mode!r} needs a model that draws itself, and the model in {model_path} does "
                "not: its model class (the root agent of an AnyLogic model) must implement "
                "com.alpyperl.connector.Drawable, whose drawFrame(Graphics2D g, int width, int height) draws the "
                "model's state (see docs/debugging.md, 'Seeing the model'). Without it, leave render_mode unset"
            )
        self._group = group
        self.size = size
        width, height = size
        self._bytes = np.zeros(width * height * 3, dtype=np.uint8)  # B, G, R per pixel, row by row
        self._buffer = group.frame_buffer(self._bytes)

    def draw(self, index: int) -> np.ndarray:
        """Instance ``index``'s picture of its current state (a new array); :class:`~alpyperl.ResetNeeded`
        if it has no model to draw."""
        width, height = self.size
        if not self._group.render(index, self._buffer, width, height):
            raise ResetNeeded(
                "render() has no model to draw: no episode has been started, or the last reset() or step() "
                "failed before the model was ready (a timeout, or an error while creating the model); "
                "call reset() first"
            )
        bgr = self._bytes.reshape(height, width, 3)
        frame = np.empty_like(bgr)  # a new array per frame, so that frames never share memory
        frame[..., 0], frame[..., 1], frame[..., 2] = bgr[..., 2], bgr[..., 1], bgr[..., 0]
        return frame


# ---- render_mode="human" ---------------------------------------------------------------------


class Window:
    """A window that shows frames as they come, at most ``fps`` per second (tkinter, in the
    standard library). Raises :class:`~alpyperl.AlpyperlError` when there is no display.

    Closing the window by hand only stops the showing; the environment goes on.
    """

    def __init__(self, title: str, size: tuple[int, int], fps: float):
        try:
            import tkinter
        except ImportError:
            raise AlpyperlError("render_mode='human' needs tkinter (Python's standard GUI toolkit), which this "
                                "Python lacks; install it (e.g. apt-get install python3-tk) or use "
                                "render_mode='rgb_array'") from None
        try:
            self._root = tkinter.Tk()
        except tkinter.TclError as error:
            raise AlpyperlError(
                f"render_mode='human' needs a display, and there is none ({error}). Use render_mode='rgb_array' "
                "and write a video instead (gymnasium.wrappers.RecordVideo, or `alpyperl run MODEL --render "
                "video.mp4`), or run where a display is available (DISPLAY set, or X forwarding with ssh -X)"
            ) from None
        self._root.title(title)
        self._root.protocol("WM_DELETE_WINDOW", self.close)
        self._label = tkinter.Label(self._root, width=size[0], height=size[1])
        self._label.pack()
        self._tkinter = tkinter
        self._period = 1.0 / fps
        self._last = 0.0
        self._image = None

    @property
    def is_open(self) -> bool:
        return self._root is not None

    def show(self, frame: np.ndarray) -> None:
        """Shows an (H, W, 3) uint8 RGB frame, waiting so that frames follow at most ``fps`` per second."""
        if self._root is None:
            return
        self._image = self._tkinter.PhotoImage(data=ppm(frame), format="PPM")  # kept: Tk does not hold it
        self._label.configure(image=self._image, width=frame.shape[1], height=frame.shape[0])
        wait = self._last + self._period - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        self._last = time.perf_counter()
        try:
            self._root.update()
        except self._tkinter.TclError:  # destroyed meanwhile
            self._root = None

    def close(self) -> None:
        if self._root is not None:
            root, self._root = self._root, None
            try:
                root.destroy()
            except self._tkinter.TclError:
                pass


def ppm(frame: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 RGB frame as a binary PPM image (a format Tk reads without extra libraries)."""
    height, width, _ = frame.shape
    return f"P6 {width} {height} 255\n".encode("ascii") + np.ascontiguousarray(frame, dtype=np.uint8).tobytes()


# ---- videos ----------------------------------------------------------------------------------


class VideoFile:
    """Writes frames to a video file (MP4, H.264) as they come, so no episode is kept in memory.

    Uses imageio-ffmpeg, which brings its own ffmpeg (``pip install 'alpyperl[video]'``, the same
    packages ``gymnasium.wrappers.RecordVideo`` needs). All frames must have one size; an odd
    width or height is rounded up to an even one by ffmpeg.
    """

    def __init__(self, path: str | os.PathLike, fps: float):
        try:
            import imageio_ffmpeg
        except ImportError:
            raise AlpyperlError("writing videos needs imageio-ffmpeg and moviepy: pip install 'alpyperl[video]'") \
                from None
        self.path = os.fspath(path)
        self.fps = fps
        self.frames = 0
        self._imageio_ffmpeg = imageio_ffmpeg
        self._writer = None
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise AlpyperlError(f"cannot write the video {self.path}: the folder {folder} does not exist")

    def add(self, frame: np.ndarray) -> None:
        """Appends one (H, W, 3) uint8 RGB frame."""
        if self._writer is None:
            height, width, _ = frame.shape
            self._size = (width, height)
            self._writer = self._imageio_ffmpeg.write_frames(
                self.path, self._size, fps=self.fps, macro_block_size=2, ffmpeg_log_level="error")
            self._writer.send(None)  # starts ffmpeg
        elif (frame.shape[1], frame.shape[0]) != self._size:
            raise ValueError(f"all frames of a video must have one size: {self._size[0]} x {self._size[1]} "
                             f"pixels, got {frame.shape[1]} x {frame.shape[0]}")
        self._writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
        self.frames += 1

    def close(self) -> None:
        """Finishes the file. A video without frames is not written."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()

    def __enter__(self) -> "VideoFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
