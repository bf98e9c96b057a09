"""Plays a tested policy's episode, and shows it the caller's way (window, text, frames).

The window and the test episode's GIF (ours/pictures.py) show the same frames: the environment's
own ``rgb_array`` picture of each step, captioned above ("step 7 of 13: right").
"""

import functools
import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ours.environment import CLIFF_REWARD

CAPTION_HEIGHT = 40  # pixels above each frame of the window and the GIF, for its caption
TEXT_FRAMES = 14  # grids the text replay prints at most: the optimal walk's, start and 13 steps


class Episode(NamedTuple):
    """One episode: the states visited (from the start), the actions taken, and how it ended."""

    path: list[int]
    actions: list[int]
    ending: str  # "goal reached", or why not

    @property
    def reached_goal(self) -> bool:
        return self.ending == "goal reached"


def play_episode(result) -> Episode:
    """The episode a run shows for a ``TestResult``: its greedy policy from the start, under the
    test's rules (it ends at the goal, after a fall, where the environment ends it, as in a
    FrozenLake hole, or after ``result.step_limit`` steps).

    Greedy play where moves do not slip is the same every time; where they do, ``result.seed``
    makes it slip the same way every time, so that ``show_episode`` can show it again."""
    environment, greedy_actions = result.environment, result.greedy_actions
    env = environment.make()
    state = env.reset(seed=result.seed)[0]
    path, actions = [state], []
    while True:
        action = greedy_actions[state]
        state, reward, terminated, _, _ = env.step(action)
        path.append(state)
        actions.append(action)
        if state in environment.goal_states:
            ending = "goal reached"
        elif reward == CLIFF_REWARD:
            ending = "fell into the cliff: goal not reached"
        elif terminated:
            ending = "fell into a hole: goal not reached"  # FrozenLake ends an episode there
        elif len(actions) == result.step_limit:
            ending = f"goal not reached in the test's {result.step_limit} steps"
        else:
            continue
        env.close()
        return Episode(path, actions, ending)


def has_display() -> bool:
    """Whether a pygame window would be visible (on Linux, an X11 or Wayland display is set)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def step_captions(episode: Episode, environment) -> list[str]:
    """What each frame of an episode shows: "start", then "step 3 of 13: right" per action, and
    how the episode ended after the last one. Where moves slip an action is what the agent chose
    ("chose right"): the frame shows where it went."""
    chose = "chose " if environment.slippery else ""
    actions, names = episode.actions, environment.action_names
    captions = ["start"] + [
        f"step {step} of {len(actions)}: {chose}{names[action]}"
        for step, action in enumerate(actions, 1)
    ]
    captions[-1] += f", {episode.ending}"
    return captions


def show_episode(
    episode: Episode, render_mode: str, environment, reset_seed: int, hold_seconds: float = 1.0
) -> list[np.ndarray]:
    """Replay an episode's actions in an environment that renders it: in a pygame window ("human"),
    as text printed here ("ansi"), or as frames returned ("rgb_array").

    Greedy play where moves do not slip repeats itself, so the episode shows exactly what every
    test episode did; where they slip, the episode's own ``reset_seed`` makes the same actions slip
    the same way again. The window shows the GIF's captioned frames at the environment's pace and
    holds the last for ``hold_seconds``; closing it, Esc or q end the replay, and the terminal says
    at which step. The text shows ``TEXT_FRAMES`` grids at most, the first and the last steps.
    """
    if render_mode == "human":
        return _show_in_window(episode, environment, reset_seed, hold_seconds)
    if render_mode == "rgb_array" and not has_display():
        # Frames need no window; with no driver set, SDL probes for a display and prints an error
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = environment.make(render_mode=render_mode)
    frames = []
    captions = step_captions(episode, environment)
    shown = _text_frames(len(captions))
    try:
        env.reset(seed=reset_seed)
        for index, (caption, action) in enumerate(zip(captions, [None, *episode.actions])):
            if action is not None:
                env.step(action)
            if render_mode == "rgb_array":
                frames.append(env.render())
            elif index in shown:
                print(f"{caption}\n{env.render().rstrip()}\n")
            elif index - 1 in shown:
                last = index + len(captions) - len(shown) - 1
                print(f"... steps {index} to {last} left out ...\n")
    finally:
        env.close()
    return frames


def _text_frames(count: int) -> set[int]:
    """Which of ``count`` frames the text replay prints: all up to TEXT_FRAMES, else the first
    and the last TEXT_FRAMES / 2: a walk that loops for 51 steps would print 300 lines."""
    if count <= TEXT_FRAMES:
        return set(range(count))
    half = TEXT_FRAMES // 2
    return {*range(half), *range(count - half, count)}


def captioned_frame(frame: np.ndarray, caption: str) -> Image.Image:
    """An environment's ``rgb_array`` frame with ``caption`` in a white strip above it."""
    height, width, _ = frame.shape
    image = Image.new("RGB", (width, height + CAPTION_HEIGHT), "white")
    image.paste(Image.fromarray(frame), (0, CAPTION_HEIGHT))
    ImageDraw.Draw(image).text(
        (width / 2, CAPTION_HEIGHT / 2), caption, fill="black", font=caption_font(16), anchor="mm"
    )
    return image


@functools.cache
def caption_font(size: int) -> ImageFont.FreeTypeFont:
    """matplotlib's font, so that the captions match the pictures; loaded once. Found without
    importing matplotlib (0.3 s), which a run with --no-plots does not need."""
    (package,) = importlib.util.find_spec("matplotlib").submodule_search_locations
    return ImageFont.truetype(
        str(Path(package, "mpl-data", "fonts", "ttf", "DejaVuSans.ttf")), size
    )


def _show_in_window(episode: Episode, environment, reset_seed: int, hold_seconds: float) -> list:
    """The episode in a pygame window of its own: the GIF's captioned frames, one per step at the
    environment's frame rate (CliffWalking's 4 a second), the last held ``hold_seconds``."""
    print("The first test episode plays in a window (q or Esc closes it)", flush=True)
    frames = show_episode(episode, "rgb_array", environment, reset_seed)
    captions = step_captions(episode, environment)
    images = [captioned_frame(frame, caption) for frame, caption in zip(frames, captions)]
    import pygame  # Gymnasium draws its frames with pygame; the window is pygame's too

    pygame.display.init()
    try:
        pygame.display.set_caption(f"{environment.name}: the first test episode")
        window = pygame.display.set_mode(images[0].size)
        clock, fps = pygame.time.Clock(), environment.unwrapped.metadata["render_fps"]
        clock.tick()  # the first frame's time starts now
        for step, image in enumerate(images):
            window.blit(pygame.image.frombytes(image.tobytes(), image.size, "RGB"), (0, 0))
            pygame.display.flip()
            if _window_closed():
                steps = len(episode.actions)
                where = f"at step {step} of {steps}" if step else f"before step 1 of {steps}"
                print(f"Window closed {where} (the lines below are about the whole episode)")
                return []
            clock.tick(fps)  # waits until the frame has shown 1 / fps seconds
        _hold_last_frame(hold_seconds)
    finally:
        _close_window()  # also on Ctrl-C
    return []


def _window_closed() -> bool:
    """Whether the user closed the window or pressed Esc or q since the last look."""
    import pygame  # Gymnasium draws its window with pygame

    return any(
        event.type == pygame.QUIT or event.key in (pygame.K_ESCAPE, pygame.K_q)
        for event in pygame.event.get((pygame.QUIT, pygame.KEYDOWN))
    )


def _close_window() -> None:
    """Close pygame's window."""
    import pygame

    pygame.display.quit()


def _hold_last_frame(seconds: float) -> None:
    """Keep the last frame (the agent on the goal) on screen, unless the user closes the window
    first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not _window_closed():
        time.sleep(0.02)
