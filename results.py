"""What a run gives back, where the article only prints: the best network seen (it saves the last), the history, the progress bar."""

import copy
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from torch import nn
from tqdm import tqdm

from exact_optimum import greedy_walk, transition_table
from speed import copy_weights, weights_of


class BestNetwork:
    """A copy of the policy network as it was when its greedy walk from the start was the shortest so far.

    The learner oscillates, and the network after the last optimize step may loop (README, Deviations).
    The walk is taken on the environment's transition table: exact, since the grid is deterministic.
    """

    def __init__(self, policy_dqn: nn.Module, env: gym.Env):
        self.dqn = copy.deepcopy(policy_dqn)
        self.episode = None  # 1-based number of the episode after which the copy was taken
        self.path_length = None  # steps its greedy walk takes from start to goal
        self._policy_weights, self._weights = weights_of(policy_dqn), weights_of(self.dqn)
        self._next_states, self._rewards = transition_table(env)

    def state_dict(self) -> dict | None:
        """The kept network's weights, or None if no greedy walk has reached the goal yet."""
        return None if self.episode is None else self.dqn.state_dict()

    def keep_if_shortest(self, greedy_actions: list[int], episode: int) -> float:
        """Copy the policy network if its greedy walk is as short as the shortest so far (the latest wins
        a tie); return the walk's length, inf if it does not reach the goal."""
        path = greedy_walk(greedy_actions, self._next_states, self._rewards)
        if path is None:
            return float("inf")
        if self.path_length is None or len(path) - 1 <= self.path_length:
            copy_weights(self._policy_weights, self._weights)
            self.episode, self.path_length = episode, len(path) - 1
        return len(path) - 1


@dataclass
class TrainingResult:
    """What train() learned and how: the network to save and the history of every episode played."""

    policy_state: dict | None  # state_dict of the network to save; None if none walked to the goal
    saved_episode: int | None  # 1-based number of the episode after which that network was taken
    saved_path_length: int | None  # steps its greedy walk takes from start to goal
    last_policy_state: dict  # state_dict of the network after the last episode, which the article saves
    rewards_per_episode: np.ndarray  # per episode played: 1 if it reached the goal (the article's list)
    steps_per_episode: np.ndarray  # per episode played: its steps, exploration included
    epsilon_history: np.ndarray  # per learning episode: epsilon after its decay (the article's list)
    loss_history: np.ndarray  # per learning episode: the loss of its optimize step
    walk_lengths: np.ndarray  # per learning episode: the greedy walk's steps after it, inf if it fails

    def __post_init__(self):
        for name in ("rewards_per_episode", "steps_per_episode", "epsilon_history", "loss_history", "walk_lengths"):
            setattr(self, name, np.asarray(getattr(self, name)))

    @property
    def first_goal_episode(self) -> int | None:
        """The episode in which the goal was first reached: learning starts right after it."""
        goals = np.flatnonzero(self.rewards_per_episode == 1)
        return int(goals[0]) + 1 if len(goals) else None

    def per_episode(self, history: np.ndarray, before_learning: float = np.nan) -> np.ndarray:
        """A per-learning-episode history stretched over every episode played: the episodes before
        learning starts, which learned nothing, get ``before_learning``."""
        exploring = len(self.rewards_per_episode) - len(history)
        return np.concatenate([np.full(exploring, before_learning), history])


class TrainingFailed(Exception):
    """Training ended without any network that walks to the goal; ``result`` holds its history."""

    def __init__(self, result: TrainingResult):
        played = len(result.rewards_per_episode)
        never = "" if result.first_goal_episode else " (the goal was never reached)"
        super().__init__(f"no network walked from start to goal in {played} episodes{never}")
        self.result = result


class TrainingInterrupted(Exception):
    """Ctrl-C during training; says how far training got."""


class TrainingProgress(tqdm):
    """A progress bar over the learning episodes, with epsilon and the goals reached so far; before the
    goal is first reached, it counts the episodes explored. Ctrl-C inside becomes TrainingInterrupted."""

    def __init__(self, episodes: int):
        super().__init__(total=episodes, desc="Training", unit="episode")
        self.episodes, self.learned = episodes, 0  # tqdm stops counting when it is disabled

    def show(self, epsilon_history: list, rewards_per_episode: list) -> None:
        learned = len(epsilon_history)
        if learned > self.learned:
            self.update(learned - self.learned)
            self.learned = learned
            if learned % 100 == 0:
                self.set_postfix(epsilon=f"{epsilon_history[-1]:.2f}", goals=sum(rewards_per_episode), refresh=False)
        elif len(rewards_per_episode) % 100 == 0:
            self.set_postfix_str(f"exploring: {len(rewards_per_episode)} episodes, no goal yet")

    def __exit__(self, kind, error, traceback):
        super().__exit__(kind, error, traceback)
        if kind is KeyboardInterrupt:
            raise TrainingInterrupted(f"training interrupted after {self.learned} of {self.episodes} learning episodes") from None


@dataclass
class TestResult:
    success_rate: float  # percentage of test episodes that reached the goal
    path: list[int] = field(default_factory=list)  # states of the first test episode
    actions: list[int] = field(default_factory=list)  # actions of the first test episode
    q_values: np.ndarray | None = None  # the tested network's Q-values, one row per state

    @property
    def path_length(self) -> int:
        return len(self.actions)
