"""Plays a tested policy's episode, and shows it the caller's way (window, text, frames)."""

import os
import sys
import time
from typing import NamedTuple

import numpy as np

from ours.environment import ACTION_NAMES, CLIFF_REWARD, GOAL_STATE, make_env


class Episode(NamedTuple):
    """One episode: the states visited (from the start), the actions taken, and how it ended."""

    path: list[int]
    actions: list[int]
    ending: str  # "goal reached", or why not

    @property
    def reached_goal(self) -> bool:
        return self.ending == "goal reached"


def play_episode(
    greedy_actions: list[int], *, slippery: bool, reset_seed: int | None, step_limit: int
) -> Episode:
    """One episode of the greedy policy that takes ``greedy_actions[s]`` in state s, under the
    test's rules: it ends at the goal, after a fall or after ``step_limit`` steps.

    Greedy play on the plain grid is the same every time; on the slippery grid ``reset_seed`` makes
    it slip the same way every time, so that ``show_episode`` can show it again."""
    env = make_env(slippery=slippery)
    state = env.reset(seed=reset_seed)[0]
    path, actions = [state], []
    while True:
        action = greedy_actions[state]
        state, reward, _, _, _ = env.step(action)
        path.append(state)
        actions.append(action)
        if state == GOAL_STATE:
            ending = "goal reached"
        elif reward == CLIFF_REWARD:
            ending = "fell into the cliff: goal not reached"
        elif len(actions) == step_limit:
            ending = f"goal not reached in the test's {step_limit} steps"
        else:
            continue
        env.close()
        return Episode(path, actions, ending)


def has_display() -> bool:
    """Whether a pygame window would be visible (on Linux, an X11 or Wayland display is set)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def step_captions(actions: list[int], slippery: bool = False, ending: str = "") -> list[str]:
    """What each frame of a replayed episode shows: "start", then "step 3 of 13: right" per action,
    and ``ending`` (how the episode ended) after the last one. On the slippery grid an action is
    what the agent chose ("chose right"): the frame shows where it went."""
    chose = "chose " if slippery else ""
    captions = ["start"] + [
        f"step {step} of {len(actions)}: {chose}{ACTION_NAMES[action]}"
        for step, action in enumerate(actions, 1)
    ]
    if ending:
        captions[-1] += f", {ending}"
    return captions


def show_episode(
    actions: list[int],
    render_mode: str,
    hold_seconds: float = 1.0,
    *,
    slippery: bool = False,
    reset_seed: int | None = None,
    ending: str = "",
) -> list[np.ndarray]:
    """Replay an episode's actions in an environment that renders it: in a pygame window ("human"),
    as text printed here ("ansi"), or as frames returned ("rgb_array").

    Greedy play on a deterministic grid repeats itself, so replaying the first test episode shows
    exactly what every test episode did. On the slippery grid, the episode's own ``reset_seed``
    makes the same actions slip the same way again. The window holds the last frame for
    ``hold_seconds``; closing it, Esc or q end the replay. ``ending`` closes the last caption of the
    text.
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
    env = make_env(render_mode=render_mode, slippery=slippery)
    frames = []
    captions = step_captions(actions, slippery, ending)
    try:
        env.reset(seed=reset_seed)
        for caption, action in zip(captions, [None, *actions]):
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
