"""The article's CliffWalking under any Gymnasium, its landmarks, one place seeding everything."""

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
GRID_ROWS, GRID_COLUMNS = 4, 12  # state = row * GRID_COLUMNS + column, row 0 at the top
MAX_SEED = 2**32 - 1  # numpy's limit


def grid_cell(state: int) -> tuple[int, int]:
    """The (row, column) of a state, as the pictures number them."""
    row, column = divmod(int(state), GRID_COLUMNS)
    return row, column


SLIPPERY_ID = "CliffWalkingSlippery-v1"  # each move goes the intended way or to either side of it


class MissingEnvironment(Exception):
    """The installed Gymnasium does not register the environment asked for (command_line.py: one
    line, exit 2)."""


def environment_id(slippery: bool = False) -> str:
    """The CliffWalking the installed Gymnasium registers: v1 from Gymnasium 1.2 on, v0 before; with
    ``slippery``, CliffWalkingSlippery-v1, which only Gymnasium 1.2 and later have."""
    if slippery:
        if SLIPPERY_ID not in gym.registry:
            raise MissingEnvironment(
                f"--slippery needs Gymnasium 1.2 or later, which registers {SLIPPERY_ID};"
                f" this is Gymnasium {gym.__version__}"
            )
        return SLIPPERY_ID
    return "CliffWalking-v1" if "CliffWalking-v1" in gym.registry else "CliffWalking-v0"


def make_env(
    render_mode: str | None = None,
    max_episode_steps: int | None = None,
    slippery: bool = False,
    seed: int | None = None,
) -> gym.Env:
    """The CliffWalking asked for; with ``seed``, its random numbers (the slips) seeded."""
    env = gym.make(
        environment_id(slippery), render_mode=render_mode, max_episode_steps=max_episode_steps
    )
    if seed is not None:
        env.reset(seed=seed)
    return env


def seed_everything(seed: int | None, env: gym.Env) -> int:
    """Seed python, numpy, torch and the environment, so that one seed gives one run; with None,
    draw a seed first. Returns the seed used, so that the run can be repeated."""
    if seed is None:
        seed = random.SystemRandom().randrange(MAX_SEED + 1)
    random.seed(seed)  # epsilon draws and replay-memory samples
    np.random.seed(seed)
    torch.manual_seed(seed)  # network initialisation
    env.reset(seed=seed)
    env.action_space.seed(seed)  # random actions
    return seed
