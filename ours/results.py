"""What a run returns (the article prints): best network, not the last; history; progress bar."""

import copy
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from torch import nn
from tqdm import tqdm

from ours.environment import GOAL_STATE, START_STATE
from ours.exact_optimum import (
    greedy_walk,
    outcome_table,
    policy_values,
    transition_table,
    value_iteration,
)
from ours.speed import copy_weights, weights_of


class QValueRecorder:
    """Every state's Q-values after the optimize steps of a run, for the learning animation (README,
    Watch it learn): after every step until ``2 * kept`` are held, then after every 2nd step (every
    4th, ...), so that a long run holds at most ``2 * kept`` arrays, spread evenly over it.

    The arrays are kept, not copied: the caller hands over a new array each time (``q_values_of``
    makes one after each optimize step, and nothing writes into it): recording is a list append.
    """

    def __init__(self, kept: int = 2000):
        self.steps = []  # the recorded optimize steps, numbered from 0 as in epsilon_history
        self.q_values = []  # the Q-values after each, one array of shape (states, actions)
        self.history = {"recorded_steps": self.steps, "recorded_q_values": self.q_values}
        self._kept, self._step, self._every = kept, 0, 1

    def record(self, q_values: np.ndarray) -> None:
        if self._step % self._every == 0:
            self.steps.append(self._step)
            self.q_values.append(q_values)
            if len(self.steps) == 2 * self._kept:
                # every other one goes, in place, since history shares the lists
                del self.steps[1::2], self.q_values[1::2]
                self._every *= 2
        self._step += 1


class BestNetwork:
    """A copy of the policy network from when its greedy walk from the start was the shortest yet.

    The learner oscillates, and the network after the last optimize step may loop (README,
    Deviations). The walk is taken on the environment's transition table: exact, since the grid is
    deterministic.
    """

    def __init__(self, policy_dqn: nn.Module, env: gym.Env):
        self.dqn = copy.deepcopy(policy_dqn)
        self.episode = None  # 1-based number of the episode after which the copy was taken
        self.path_length = None  # steps its greedy walk takes from start to goal
        self._policy_weights, self._weights = weights_of(policy_dqn), weights_of(self.dqn)
        self._recorder = QValueRecorder()
        # per optimize step, for TrainingResult, the training picture and the learning animation
        self.history = {"walk_lengths": [], **self._recorder.history}
        self._table(env)

    def _table(self, env: gym.Env) -> None:
        self._next_states, self._rewards = transition_table(env)

    def state_dict(self) -> dict | None:
        """The kept network's weights, or None if no greedy walk has reached the goal yet."""
        return None if self.episode is None else self.dqn.state_dict()

    def keep_if_best(self, greedy_actions: list[int], episode: int, q_values: np.ndarray) -> None:
        """Copy the policy network if its greedy walk is as short as the shortest so far (the latest
        wins a tie); record the walk's length, inf if it does not reach the goal, and the
        Q-values."""
        self._recorder.record(q_values)
        path = greedy_walk(greedy_actions, self._next_states, self._rewards)
        self.history["walk_lengths"].append(float("inf") if path is None else len(path) - 1)
        if path is not None and (self.path_length is None or len(path) - 1 <= self.path_length):
            self._keep(episode)
            self.path_length = len(path) - 1

    def _keep(self, episode: int) -> None:
        copy_weights(self._policy_weights, self._weights)
        self.episode = episode


class MostValuableNetwork(BestNetwork):
    """On the slippery grid: a copy of the policy network as it was when its greedy policy was worth
    the most from the start, exactly, over every outcome of every move (docs/slippery.md).

    A greedy walk there goes a different way each time, so it cannot rank the networks; the expected
    discounted return under the article's rewards can, and V*(start) is its ceiling.
    """

    def __init__(
        self, policy_dqn: nn.Module, env: gym.Env, discount_factor: float, process_episode
    ):
        self._discount_factor, self._process_episode = discount_factor, process_episode
        super().__init__(policy_dqn, env)
        self.start_value = None  # the kept network's value from the start
        self.history = {
            "walk_lengths": [],
            "start_values": [],
            "v_star": self.v_star,
            **self._recorder.history,
        }

    def _table(self, env: gym.Env) -> None:
        self._outcomes = outcome_table(env, self._process_episode)
        self.v_star = float(
            value_iteration(self._outcomes, self._discount_factor)[START_STATE].max()
        )

    def keep_if_best(self, greedy_actions: list[int], episode: int, q_values: np.ndarray) -> None:
        """Copy the policy network if its greedy policy is worth at least as much from the start as
        the best so far and more than nothing (the latest wins a tie); record that value and the
        Q-values."""
        self._recorder.record(q_values)
        value = float(
            policy_values(self._outcomes, self._discount_factor, greedy_actions)[START_STATE]
        )
        self.history["start_values"].append(value)
        if value > 0 and (self.start_value is None or value >= self.start_value):
            self._keep(episode)
            self.start_value = value


def best_network_keeper(
    policy_dqn: nn.Module, env: gym.Env, slippery: bool, discount_factor: float, process_episode
) -> BestNetwork:
    """What keeps the best network: the shortest greedy walk, or on the slippery grid the most
    valuable policy."""
    if slippery:
        return MostValuableNetwork(policy_dqn, env, discount_factor, process_episode)
    return BestNetwork(policy_dqn, env)


@dataclass(repr=False)
class TrainingResult:
    """What train() learned and how: the network to save and the history of every episode played."""

    # state_dict of the best network seen; None if none walked to the goal
    policy_state: dict | None
    saved_episode: int | None  # 1-based number of the episode after which that network was taken
    saved_path_length: int | None  # steps its greedy walk takes from start to goal
    last_policy_state: dict  # state_dict of the network after the last episode (the article's)
    rewards_per_episode: np.ndarray  # per episode played: 1 if it reached the goal (the article's)
    steps_per_episode: np.ndarray  # per episode played: its steps, exploration included
    epsilon_history: np.ndarray  # per learning episode: epsilon after its decay (the article's)
    loss_history: np.ndarray  # per learning episode: the loss of its optimize step
    walk_lengths: np.ndarray  # per learning episode: the greedy walk's steps after it, inf if none
    # slippery grid (where walk_lengths is empty): per learning episode, the greedy policy's exact
    # value from the start, and the ceiling of that value, V*(start)
    start_values: np.ndarray = ()
    v_star: float | None = None
    # for the learning animation: the optimize steps recorded (0-based, as in epsilon_history) and
    # every state's Q-values after each of them, one array of shape (states, actions) per step
    recorded_steps: np.ndarray = ()
    recorded_q_values: np.ndarray = ()
    # the network to save is the last one (the article's rule), not the best
    save_last: bool = False
    model_file: str | None = None  # where train() saved it; None if it saved nothing

    def __post_init__(self):
        for name in (
            "rewards_per_episode",
            "steps_per_episode",
            "epsilon_history",
            "loss_history",
            "walk_lengths",
            "start_values",
            "recorded_steps",
            "recorded_q_values",
        ):
            setattr(
                self,
                name,
                np.asarray(getattr(self, name), dtype=float if name == "start_values" else None),
            )

    @property
    def state_to_save(self) -> dict | None:
        """The last network with ``save_last``, else the best one (None if no network walked)."""
        return self.last_policy_state if self.save_last else self.policy_state

    @property
    def last_episode(self) -> int:
        return len(self.rewards_per_episode)

    def __repr__(self) -> str:
        """A few lines on what the run did; the histories are attributes, too long to print."""
        first_goal = self.first_goal_episode
        played = (
            f"{self.last_episode} episodes played, the goal first reached in episode {first_goal},"
            f" {len(self.epsilon_history)} learned"
            if first_goal
            else f"{self.last_episode} episodes played, the goal never reached"
        )
        where = f"saved to {self.model_file}" if self.model_file else "not saved"
        if self.saved_episode:
            network = f"the best network, of episode {self.saved_episode}, {self._measure()}"
        else:
            network = "no network walked from start to goal"
        if self.save_last:
            network = f"the last network, of episode {self.last_episode}; {network}"
        history = "start_values" if self.v_star else "walk_lengths"
        return (
            f"TrainingResult({played};\n  {where}: {network};\n  histories: rewards_per_episode,"
            f" steps_per_episode, epsilon_history, loss_history, {history})"
        )

    def _measure(self) -> str:
        if self.v_star is None:
            return f"its greedy walk {self.saved_path_length} steps"
        value = self.saved_start_value
        return f"its greedy policy worth {value:.4g} from the start (V* {self.v_star:.4g})"

    @property
    def saved_start_value(self) -> float | None:
        """Slippery grid: the saved network's exact value from the start."""
        if self.v_star is None or self.saved_episode is None:
            return None
        return float(self.per_episode(self.start_values)[self.saved_episode - 1])

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
    """A progress bar over the learning episodes with epsilon and the goals reached so far, written
    before the bar so that an 80-column terminal shows them; before the goal is first reached, it
    counts the episodes explored. Ctrl-C inside becomes TrainingInterrupted.

    The figures are read from the run's lists whenever the bar is drawn, so they are never stale.
    """

    BAR_FORMAT = (
        "Training {percentage:3.0f}% {n_fmt}/{total_fmt}, {figures} |{bar}| {elapsed}<{remaining}"
    )

    def __init__(self, episodes: int, **options):
        self._epsilon_history, self._rewards_per_episode = [], []  # the run's, from show()
        super().__init__(total=episodes, bar_format=self.BAR_FORMAT, **options)
        self.episodes, self.learned = episodes, 0  # tqdm stops counting when it is disabled

    @property
    def format_dict(self):
        return {**super().format_dict, "figures": self.figures()}

    def figures(self) -> str:
        if self._epsilon_history:
            return (
                f"epsilon {self._epsilon_history[-1]:.2f}, goals {sum(self._rewards_per_episode)}"
            )
        return f"exploring: episode {len(self._rewards_per_episode)}, no goal yet"

    def show(self, epsilon_history: list, rewards_per_episode: list) -> None:
        """Called after each episode with the run's lists: moves the bar for a learning episode, and
        while exploring redraws it as often as tqdm would (every ``mininterval`` seconds)."""
        self._epsilon_history, self._rewards_per_episode = epsilon_history, rewards_per_episode
        learned = len(epsilon_history)
        if learned > self.learned:
            self.update(learned - self.learned)
            self.learned = learned
        elif not self.disable and self._time() - self.last_print_t >= self.mininterval:
            self.last_print_t = self._time()
            self.refresh()

    def __exit__(self, kind, error, traceback):
        super().__exit__(kind, error, traceback)
        if kind is KeyboardInterrupt:
            raise TrainingInterrupted(
                f"training interrupted after {self.learned} of {self.episodes} learning episodes"
            ) from None


@dataclass(repr=False)
class TestResult:
    success_rate: float  # percentage of test episodes that reached the goal
    path: list[int] = field(default_factory=list)  # states of the first test episode
    actions: list[int] = field(default_factory=list)  # actions of the first test episode
    q_values: np.ndarray | None = None  # the tested network's Q-values, one row per state
    slippery: bool = False  # played on CliffWalkingSlippery-v1
    reset_seed: int | None = None  # the first episode's reset seed: replayed with it, slips repeat
    episode_steps: list[tuple[int, bool]] = field(default_factory=list)  # per episode: steps, goal
    model_file: str | None = None  # the file whose network was tested

    @property
    def path_length(self) -> int:
        return len(self.actions)

    @property
    def reached_goal(self) -> bool:
        """Whether the first test episode ended on the goal."""
        return bool(self.path) and self.path[-1] == GOAL_STATE

    def ending(self, step_limit: int) -> str:
        """How the first test episode ended: the test stops an episode at the goal, after a fall
        (which puts the agent back on the start) or after ``step_limit`` steps."""
        if self.reached_goal:
            return "goal reached"
        if self.path_length < step_limit:
            return "fell into the cliff: goal not reached"
        return f"goal not reached in the test's {step_limit} steps"

    def __repr__(self) -> str:
        tested = f" of {self.model_file}" if self.model_file else ""
        ending = "reached the goal" if self.reached_goal else "did not reach the goal"
        return (
            f"TestResult(success rate {self.success_rate:.1f} % over {len(self.episode_steps)}"
            f" episodes{tested};\n  first episode: {self.path_length} steps, {ending};"
            f" path, actions, q_values, episode_steps are attributes)"
        )
