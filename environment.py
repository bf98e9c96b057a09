"""The article's CliffWalking environment under any Gymnasium, its landmarks, and one place that seeds all randomness."""

import random

import gymnasium as gym
import numpy as np
import torch

START_STATE = 36  # bottom-left cell: row 3 * 12 columns + column 0
GOAL_STATE = 47  # bottom-right cell
CLIFF_REWARD = -100  # what the environment pays for a step into the cliff
OPTIMAL_PATH_LENGTH = 13  # up, 11 times right, down
STANDABLE_STATES = np.arange(37)  # the agent never stands on the cliff (37-46) or the goal (47)
ACTION_NAMES = ("up", "right", "down", "left")  # the environment's action numbers 0-3


def environment_id() -> str:
    """The CliffWalking the installed Gymnasium registers: v1 from Gymnasium 1.2 on, v0 before."""
    return "CliffWalking-v1" if "CliffWalking-v1" in gym.registry else "CliffWalking-v0"


def make_env(render_mode: str | None = None, max_episode_steps: int | None = None) -> gym.Env:
    return gym.make(environment_id(), render_mode=render_mode, max_episode_steps=max_episode_steps)


def seed_everything(seed: int | None, env: gym.Env) -> None:
    """Seed python, numpy, torch and the environment, so that one seed gives one run; None seeds nothing."""
    if seed is None:
        return
    random.seed(seed)  # epsilon draws and replay-memory samples
    np.random.seed(seed)
    torch.manual_seed(seed)  # network initialisation
    env.reset(seed=seed)
    env.action_space.seed(seed)  # random actions
