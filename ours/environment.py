"""The environment a run plays, described once: what to make, its grid and landmarks, the exact Q*.

An agent's ``environment`` (``CliffWalkingDQN.environment``) is an ``Environment``, built once per
id, arguments, reward rule and discount factor (``describe``), and handed down: the best-network
keeper, the results, the reports, the pictures and q_learning.py read it. What it knows of the
grid it reads from Gymnasium (``env.unwrapped``: the shape, the start, the table ``P``), and its
landmarks from the table and the agent's reward rule, so the same description serves the other
toy-text environments.
"""

import functools
import random

import gymnasium as gym
import numpy as np
import torch

from ours.exact_optimum import (
    Outcomes,
    best_return_within,
    deterministic_moves,
    greedy_walk,
    outcome_table,
    return_within,
    value_iteration,
)

GOAL_STATE = 47  # the article's 47: the bottom-right cell
CLIFF_REWARD = -100  # the article's -100: what the environment pays for a step into the cliff
MAX_SEED = 2**32 - 1  # numpy's limit
SLIPPERY_ID = "CliffWalkingSlippery-v1"  # each move goes the intended way or to either side of it
ACTION_NAMES = {  # each family's action numbers, in words
    "CliffWalking": ("up", "right", "down", "left"),
    "FrozenLake": ("left", "down", "right", "up"),
    "Taxi": ("south", "north", "east", "west", "pickup", "dropoff"),
}


class MissingEnvironment(Exception):
    """The installed Gymnasium does not register the environment asked for (command_line.py: one
    line, exit 2)."""


def cliff_walking_id(slippery: bool = False) -> str:
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


class Environment:
    """An environment, with the reward rule and the discount factor of the agent that plays it.

    :param env_id: the Gymnasium id, as ``gym.make`` takes it
    :param kwargs: what ``gym.make`` gets besides (``map_name``, ``is_slippery``)
    :param process_episode: the agent's reward rule: ``(reward, new_state) -> [terminated, reward]``
    :param discount_factor: gamma, for Q*
    """

    def __init__(self, env_id: str, kwargs: dict, process_episode, discount_factor: float):
        self.env_id, self.kwargs = env_id, dict(kwargs)
        self.process_episode, self.discount_factor = process_episode, discount_factor
        self.unwrapped = gym.make(env_id, **self.kwargs).unwrapped  # its table and landmarks

    def make(
        self, render_mode: str | None = None, max_episode_steps: int | None = None, seed=None
    ) -> gym.Env:
        """``gym.make`` of this environment; with ``seed``, its random numbers (slips) seeded."""
        env = gym.make(
            self.env_id, render_mode=render_mode, max_episode_steps=max_episode_steps, **self.kwargs
        )
        if seed is not None:
            env.reset(seed=seed)
        return env

    @property
    def name(self) -> str:
        """The id without its version: "CliffWalking", "CliffWalkingSlippery", "FrozenLake"."""
        return self.env_id.split("-")[0]

    @property
    def file_stem(self) -> str:
        """What the files of a run on it are named after: "cliff_walking" (both grids), as the
        article's cliff_walking_dql.pt; "frozen_lake_4x4_slippery", "frozen_lake_8x8", "taxi"."""
        if self.name.startswith("CliffWalking"):
            return "cliff_walking"
        if self.name.startswith("FrozenLake"):
            rows = self.shape[0]
            return f"frozen_lake_{rows}x{rows}" + ("_slippery" if self.slippery else "")
        return self.name.lower()

    @property
    def slippery(self) -> bool:
        """Whether a move may go another way than the one chosen: the one word for it here."""
        return bool(self.kwargs.get("is_slippery", False)) or self.env_id == SLIPPERY_ID

    @property
    def action_names(self) -> tuple[str, ...]:
        return next(names for family, names in ACTION_NAMES.items() if self.name.startswith(family))

    @property
    def starts(self) -> np.ndarray:
        """How likely each state is to start an episode (Gymnasium's ``initial_state_distrib``):
        one start on the grids, 300 in Taxi."""
        return np.asarray(self.unwrapped.initial_state_distrib, dtype=float)

    @functools.cached_property
    def start_state(self) -> int:
        """Where an episode starts, the first if several may: the article's 36."""
        return int(np.flatnonzero(self.starts)[0])

    @property
    def shape(self) -> tuple[int, int] | None:
        """(rows, columns) of the grid whose cells are the states, row by row (CliffWalking's 4 x 12
        from Gymnasium's ``shape``, FrozenLake's map); None where the states are not a grid's cells
        (Taxi's encode the taxi, the passenger and the destination)."""
        if hasattr(self.unwrapped, "shape"):
            return tuple(self.unwrapped.shape)
        if hasattr(self.unwrapped, "nrow"):
            return self.unwrapped.nrow, self.unwrapped.ncol
        return None

    @property
    def horizon(self) -> int | None:
        """The registry's step limit, within which its objective counts (FrozenLake 100 or 200, Taxi
        200); None for CliffWalking, which has none."""
        return gym.registry[self.env_id].max_episode_steps

    @property
    def reward_threshold(self) -> float | None:
        """What the registry calls solved: FrozenLake's 0.70 and 0.85, Taxi's 8."""
        return gym.registry[self.env_id].reward_threshold

    @property
    def measure(self) -> str:
        """How the best network is picked, and a network's quality said: "walk", the greedy walk's
        steps from the one start (the cliff); "value", the greedy policy's exact discounted value
        from the start, where moves slip (the slippery cliff); "objective", the registry's objective
        within its step limit, exactly (FrozenLake's chance of reaching the goal, Taxi's mean
        return)."""
        if self.horizon is not None:
            return "objective"
        return "value" if self.slippery else "walk"

    @property
    def ceiling(self) -> float | None:
        """The most a measure can be: V* for "value", the best return within the limit for
        "objective"; None for "walk" (shorter is better)."""
        if self.measure == "walk":
            return None
        return self.v_star if self.measure == "value" else self.best_objective

    def objective(self, greedy_actions) -> float:
        """The registry's objective for the greedy policy ``greedy_actions``, exactly: the expected
        sum of the environment's rewards within ``horizon`` steps from the start distribution
        (``return_within``). Cached by the actions, which it depends on alone."""
        key = bytes(np.asarray(greedy_actions, dtype=np.uint8))
        if key not in self._objectives:
            if len(self._objectives) > 100_000:
                self._objectives.clear()
            self._objectives[key] = return_within(
                self.outcomes, self.starts, np.asarray(greedy_actions), self.horizon
            )
        return self._objectives[key]

    @functools.cached_property
    def _objectives(self) -> dict:
        return {}

    @functools.cached_property
    def best_objective(self) -> float:
        """The most any policy can get of the objective, acting differently as the steps run out."""
        return best_return_within(self.outcomes, self.starts, self.horizon)

    def grid_cell(self, state: int) -> tuple[int, int]:
        """The (row, column) of a state, row 0 at the top."""
        row, column = divmod(int(state), self.shape[1])
        return row, column

    @functools.cached_property
    def outcomes(self) -> Outcomes:
        """Every outcome of every move, read from the table ``P``, under the reward rule."""
        return outcome_table(self.unwrapped, self.process_episode)

    @functools.cached_property
    def moves(self) -> tuple[list, list, list]:
        """Next state, episode end and win of every move, where each move has one outcome."""
        return deterministic_moves(self.outcomes)

    @functools.cached_property
    def goal_states(self) -> frozenset[int]:
        """Where an episode is won: the states a move ends in with a reward (the article's 47)."""
        outcomes = self.outcomes
        won = outcomes.terminated & (outcomes.rewards > 0) & (outcomes.probabilities > 0)
        return frozenset(outcomes.next_states[won].tolist())

    @functools.cached_property
    def standable_states(self) -> np.ndarray:
        """The states the agent can stand on, from a start, before its episode ends: the cells the
        pictures colour and the comparisons with Q* count (the cliff's 37: not the cliff, nor the
        goal)."""
        outcomes, reached = self.outcomes, set(np.flatnonzero(self.starts).tolist())
        frontier = list(reached)
        while frontier:
            state = frontier.pop()
            going_on = ~outcomes.terminated[state] & (outcomes.probabilities[state] > 0)
            for following in outcomes.next_states[state][going_on].tolist():
                if following not in reached:
                    reached.add(following)
                    frontier.append(following)
        return np.array(sorted(reached))

    @functools.cached_property
    def shortest_path_length(self) -> int:
        """The fewest steps from a start to a goal, on the luckiest outcomes, from the start that
        needs the most (the cliff's 13; Taxi's 18)."""
        outcomes = self.outcomes
        possible = outcomes.probabilities > 0
        wins = (possible & outcomes.terminated & (outcomes.rewards > 0)).any(axis=(1, 2))
        steps = np.where(wins, 1.0, np.inf)  # per state, the fewest steps to a goal
        going_on = possible & ~outcomes.terminated
        for _ in range(len(steps)):
            following = np.where(going_on, steps[outcomes.next_states] + 1, np.inf)
            shorter = np.minimum(steps, following.min(axis=(1, 2)))
            if np.array_equal(shorter, steps):
                break
            steps = shorter
        fewest = steps[np.flatnonzero(self.starts)].max()
        if np.isinf(fewest):
            raise ValueError(f"{self.env_id}: no way from a start to a goal")
        return int(fewest)

    @functools.cached_property
    def q_star(self) -> np.ndarray:
        """The exact Q*(s, a), one row per state: value iteration on the table, under the reward
        rule, with the discount factor."""
        return value_iteration(self.outcomes, self.discount_factor)

    @property
    def v_star(self) -> float:
        """V*(start): the most any policy is worth from the start."""
        return float(self.q_star[self.start_state].max())

    @functools.cached_property
    def optimal_path_length(self) -> int | None:
        """Steps of the optimal walk from the start (the article's 13); None where moves slip or
        episodes start in many places."""
        if self.slippery or np.count_nonzero(self.starts) > 1:
            return None
        return len(greedy_walk(self.q_star.argmax(axis=1).tolist(), self)) - 1


_DESCRIBED: dict = {}


def describe(env_id: str, kwargs: dict, process_episode, discount_factor: float) -> Environment:
    """The ``Environment`` for these, built once: the same id, arguments, reward rule and discount
    factor give the same description, and so Q* is computed once a run."""
    rule = getattr(process_episode, "__func__", process_episode)  # the method, not the agent
    key = (env_id, tuple(sorted(kwargs.items())), rule, discount_factor)
    if key not in _DESCRIBED:
        _DESCRIBED[key] = Environment(env_id, kwargs, process_episode, discount_factor)
    return _DESCRIBED[key]


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
