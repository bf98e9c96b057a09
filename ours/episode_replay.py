"""Plays a tested policy's episode, and shows it the caller's way (window, text, frames)."""

import os
import sys
import time
from typing import NamedTuple

import numpy as np

from ours.environment import CLIFF_REWARD


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
    test's rules (it ends at the goal, after a fall or after ``result.step_limit`` steps).

    Greedy play where moves do not slip is the same every time; where they do, ``result.seed``
    makes it slip the same way every time, so that ``show_episode`` can show it again."""
    environment, greedy_actions = result.environment, result.greedy_actions
    env = environment.make()
    state = env.reset(seed=result.seed)[0]
    path, actions = [state], []
    while True:
        action = greedy_actions[state]
        state, reward, _, _, _ = env.step(action)
        path.append(state)
        actions.append(action)
        if state in environment.goal_states:
            ending = "goal reached"
        elif reward == CLIFF_REWARD:
            ending = "fell into the cliff: goal not reached"
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
    the same way again. The window holds the last frame for ``hold_seconds``; closing it, Esc or q
    end the replay.
    """
    if render_mode == "rgb_array" and not has_display():
        # Frames need no window; with no driver set, SDL probes for a display and prints an error
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    if render_mode == "human":
        print(
            "The first test episode plays in a window, which closes a second after the end"
            " (q or Esc: sooner)",
            flush=True,
        )
    env = environment.make(render_mode=render_mode)
    frames = []
    captions = step_captions(episode, environment)
    try:
        env.reset(seed=reset_seed)
        for caption, action in zip(captions, [None, *episode.actions]):
            if action is not None:
                env.step(action)  # in "human" mode this draws the frame
            if render_mode == "ansi":
                print(f"{caption}\n{env.render()}")
            elif render_mode == "rgb_array":
                frames.append(env.render())
            elif render_mode == "human" and _window_closed():
                return frames
        if render_mode == "human":
            _hold_last_frame(hold_seconds)
    finally:
        env.close()  # closes the window, also on Ctrl-C
        if render_mode == "human":
            _close_window()
    return frames


def _window_closed() -> bool:
    """Whether the user closed the window or pressed Esc or q since the last look."""
    import pygame  # Gymnasium draws its window with pygame

    return any(
        event.type == pygame.QUIT or event.key in (pygame.K_ESCAPE, pygame.K_q)
        for event in pygame.event.get((pygame.QUIT, pygame.KEYDOWN))
    )


def _close_window() -> None:
    """Close pygame's window: CliffWalking's ``close`` does it from Gymnasium 1.0 on, not 0.29."""
    import pygame

    pygame.display.quit()


def _hold_last_frame(seconds: float) -> None:
    """Keep the last frame (the agent on the goal) on screen, unless the user closes the window
    first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not _window_closed():
        time.sleep(0.02)
