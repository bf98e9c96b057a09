"""Shows a test episode the caller's way (a window, text or frames), where the article always opens a window for every episode."""

import os
import sys

import numpy as np

from environment import ACTION_NAMES, make_env


def has_display() -> bool:
    """Whether a pygame window would be visible (on Linux, an X11 or Wayland display is set)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show_episode(actions: list[int], render_mode: str) -> list[np.ndarray]:
    """Replay an episode's actions in an environment that renders it: in a pygame window ("human"),
    as text printed here ("ansi"), or as frames returned ("rgb_array").

    Greedy play on a deterministic grid repeats itself, so replaying the first test episode shows
    exactly what every test episode did. Closing the window ends the replay.
    """
    if render_mode == "rgb_array" and not has_display():
        # Frames need no window; without a driver chosen, SDL probes for a display and prints an error
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = make_env(render_mode=render_mode)
    frames = []
    try:
        env.reset()
        for step, action in enumerate([None, *actions]):
            if action is not None:
                env.step(action)  # in "human" mode this draws the frame
            if render_mode == "ansi":
                print(f"{'start' if step == 0 else f'step {step}: {ACTION_NAMES[action]}'}\n{env.render()}")
            elif render_mode == "rgb_array":
                frames.append(env.render())
            elif render_mode == "human" and _window_closed():
                break
    finally:
        env.close()  # closes the window, also on Ctrl-C
    return frames


def _window_closed() -> bool:
    import pygame  # Gymnasium draws its window with pygame

    return bool(pygame.event.get(pygame.QUIT))
