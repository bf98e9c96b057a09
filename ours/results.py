"""What a run returns (the article prints): best network, not the last; history; progress bar."""

import copy
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ours.environment import START_STATE
from ours.exact_optimum import (
    greedy_walk,
    outcome_table,
    policy_values,
    transition_table,
    value_iteration,
)
from ours.speed import q_values_of

MAX_EXPLORING_EPISODES = 100_000  # episodes played, at most, before the goal is first reached


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
        self._weights = list(zip(self.dqn.parameters(), policy_dqn.parameters()))  # kept, current
        self.episode = None  # 1-based number of the episode after which the copy was taken
        self.path_length = None  # steps its greedy walk takes from start to goal
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
        with torch.no_grad():  # the policy network's weights, copied in place (load_state_dict
            for kept, current in self._weights:  # takes 10 times as long)
                kept.copy_(current)
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


class TrainingHistory:
    """What ``train`` records beside the article's lists, and the network it keeps.

    Per episode played: its steps and whether it reached the goal; per optimize step: the loss, and
    through the best-network keeper the greedy walk (or the policy's exact value on the slippery
    grid) and the Q-values for the learning animation. It also holds every state's greedy action,
    computed after each optimize step in one batched pass, for the episodes to look up (ours:
    speed): the policy network changes only there, so the lookup gives what the article's forward
    pass per step gives.
    """

    def __init__(self, agent, env: gym.Env, policy_dqn: nn.Module, epsilon_history: list):
        self.agent, self.epsilon_history = agent, epsilon_history
        self.rewards_per_episode, self.steps_per_episode, self.loss_history = [], [], []
        if agent.slippery:
            self.best = MostValuableNetwork(
                policy_dqn, env, agent.discount_factor, agent._process_episode
            )
        else:
            self.best = BestNetwork(policy_dqn, env)
        self.greedy_actions = q_values_of(policy_dqn).argmax(axis=1).tolist()

    def new_episode(self) -> None:
        self.rewards_per_episode.append(0)
        self.steps_per_episode.append(0)

    def count_step(self, reward: int) -> None:
        """One more step in this episode; its reward (after ``_process_episode``) is the latest."""
        self.steps_per_episode[-1] += 1
        self.rewards_per_episode[-1] = reward

    def optimize_step(self, loss: float, policy_dqn: nn.Module) -> None:
        """After an optimize step: its loss, the new greedy actions, and the best network kept."""
        self.loss_history.append(loss)
        q_values = q_values_of(policy_dqn)
        self.greedy_actions = q_values.argmax(axis=1).tolist()
        self.best.keep_if_best(self.greedy_actions, len(self.rewards_per_episode), q_values)

    def result(self, policy_dqn: nn.Module) -> "TrainingResult":
        """The run's result; TrainingFailed (holding it) when there is no network to save: none
        walked to the goal, and ``save_last`` is off."""
        result = TrainingResult(
            policy_state=self.best.state_dict(),
            saved_episode=self.best.episode,
            saved_path_length=self.best.path_length,
            last_policy_state=policy_dqn.state_dict(),
            rewards_per_episode=self.rewards_per_episode,
            steps_per_episode=self.steps_per_episode,
            epsilon_history=self.epsilon_history,
            loss_history=self.loss_history,
            **self.best.history,
            seed=self.agent.seed,
            save_last=self.agent.save_last,
            model_file=self.agent.model_file,
        )
        if result.state_to_save is None:
            raise TrainingFailed(result)
        return result


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
    seed: int | None = None  # the seed the run used: the same seed repeats it

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
    """The article's ``for i in tqdm(range(episodes))``, where ``episodes`` counts the episodes that
    learn: iterating gives the number ``i`` of the learning episodes so far, once per episode
    played, so that ``i`` stays 0 while the agent explores before its first goal (the article's
    array ``rewards_per_episode`` has a slot per learning episode). It stops once ``episodes``
    episodes have learned, or after ``MAX_EXPLORING_EPISODES`` without a goal.

    The bar counts the learning episodes, with epsilon and the goals so far written before it, so
    that an 80-column terminal shows them; while exploring it counts the episodes explored. Ctrl-C
    inside the ``with`` block becomes TrainingInterrupted.
    """

    BAR_FORMAT = (
        "Training {percentage:3.0f}% {n_fmt}/{total_fmt}, {figures} |{bar}| {elapsed}<{remaining}"
    )

    def __init__(self, episodes: int, history: TrainingHistory, **options):
        self.history = history
        super().__init__(total=episodes, bar_format=self.BAR_FORMAT, **options)
        self.episodes, self.learned = episodes, 0  # tqdm stops counting when it is disabled

    @property
    def format_dict(self):
        return {**super().format_dict, "figures": self.figures()}

    def figures(self) -> str:
        epsilon_history, played = self.history.epsilon_history, self.history.rewards_per_episode
        if epsilon_history:
            return f"epsilon {epsilon_history[-1]:.2f}, goals {sum(played)}"
        return f"exploring: episode {len(played)}, no goal yet"

    def __iter__(self):
        history = self.history
        while self.learned < self.episodes:
            if not self.learned and len(history.rewards_per_episode) == MAX_EXPLORING_EPISODES:
                return  # the goal was never reached: give up
            history.new_episode()
            yield self.learned
            learned = len(history.epsilon_history)
            if learned > self.learned:
                self.update(learned - self.learned)
                self.learned = learned
            elif not self.disable and self._time() - self.last_print_t >= self.mininterval:
                self.last_print_t = self._time()  # exploring: redrawn as often as tqdm would
                self.refresh()

    def __exit__(self, kind, error, traceback):
        super().__exit__(kind, error, traceback)
        if kind is KeyboardInterrupt:
            raise TrainingInterrupted(
                f"training interrupted after {self.learned} of {self.episodes} learning episodes"
            ) from None


@dataclass(repr=False)
class TestResult:
    """What ``test`` saw, and what it tested: the network's Q-values and the settings it played by.

    The episode a run shows is played again from these (``ours/episode_replay.py``): greedy play is
    deterministic on the plain grid, and on the slippery grid ``seed`` repeats its slips.
    """

    success_rate: float  # percentage of test episodes that reached the goal
    episodes: int  # test episodes played
    q_values: np.ndarray  # the tested network's Q-values, one row per state
    model_file: str | None = None  # the file whose network was tested; None: the one train made
    seed: int | None = None  # the run's seed: the episode shown resets with it
    slippery: bool = False  # played on CliffWalkingSlippery-v1
    step_limit: int = 51  # the test stops an episode after this many steps (the article's > 50)

    @classmethod
    def of(cls, agent, policy_dqn: nn.Module, num_success: int, episodes: int) -> "TestResult":
        """The result of ``agent.test``: ``policy_dqn`` reached the goal in ``num_success`` of
        ``episodes`` episodes."""
        return cls(
            success_rate=num_success / episodes * 100,
            episodes=episodes,
            q_values=q_values_of(policy_dqn),
            model_file=agent.model_file,
            seed=agent.seed,
            slippery=agent.slippery,
            step_limit=agent.test_max_steps + 1,
        )

    @property
    def greedy_actions(self) -> list[int]:
        return self.q_values.argmax(axis=1).tolist()

    def __repr__(self) -> str:
        tested = f"the network in {self.model_file}" if self.model_file else "the network trained"
        return (
            f"TestResult(success rate {self.success_rate:.1f} % over {self.episodes} episodes"
            f" of {tested};\n  its Q-values: q_values, its greedy actions: greedy_actions)"
        )
