"""What ``train`` and ``test`` return (the article prints): the result of a run, and how good a
network is, in words."""

import math
import random
from dataclasses import dataclass

import numpy as np
from torch import nn

from ours.model_file import network_from
from ours.speed import q_values_of


def how_good(environment, measure: float | None) -> str:
    """A network's measure (``Environment.measure``) in words: its greedy walk's steps (inf: it does
    not reach the goal); or where moves slip, its greedy policy's exact value from the start,
    against V*; or the registry's objective, exactly, against the best any policy can do."""
    if environment.measure == "objective":
        best, ending = environment.best_objective, f"within {environment.horizon} steps (exact)"
        if environment.name.startswith("Taxi"):
            return (
                f"its greedy policy's mean return over the {np.count_nonzero(environment.starts)}"
                f" starts is {measure:.4g} {ending}; the best any policy can do: {best:.4g}"
            )
        return (
            f"its greedy policy reaches the goal with probability {measure:.3f} {ending}; the best"
            f" any policy can do: {best:.3f}"
        )
    if environment.measure == "value":
        v_star = environment.v_star
        return (
            f"its greedy policy is worth {measure:.4g} from the start,"
            f" {measure / v_star:.0%} of V* = {v_star:.4g} (exact, over every slip)"
        )
    if math.isinf(measure):
        return "its greedy walk does not reach the goal"
    optimal = " (optimal)" if measure == environment.optimal_path_length else ""
    return f"its greedy walk takes {measure:.0f} steps{optimal}"


@dataclass(repr=False, kw_only=True)
class RunHistory:
    """What a learner's training run recorded, the network's (``TrainingResult``) or q_learning.py's
    table's: per episode played, and per learning episode (one optimize step or table update each;
    the episodes before the first goal only explore)."""

    environment: object  # what was played (ours/environment.py), with its reward rule and Q*
    rewards_per_episode: np.ndarray  # per episode played: 1 if it reached the goal
    steps_per_episode: np.ndarray  # per episode played: its steps, exploring ones too
    epsilon_history: np.ndarray  # per learning episode: epsilon after its decay (the article's)
    measures: np.ndarray  # per learning episode: how good the learner was after it (``how_good``)
    # for the learning animation: the learning episodes recorded (from 0, as in epsilon_history)
    # and every state's Q-values after each of them, one array of shape (states, actions) each
    recorded_steps: np.ndarray
    recorded_q_values: np.ndarray

    def __post_init__(self):
        for name in ("rewards_per_episode", "steps_per_episode", "epsilon_history"):
            setattr(self, name, np.asarray(getattr(self, name)))
        self.measures = np.asarray(self.measures, dtype=float)
        self.recorded_steps = np.asarray(self.recorded_steps, dtype=int)
        self.recorded_q_values = np.asarray(self.recorded_q_values)

    @property
    def played(self) -> int:
        """Episodes played, the exploring ones before the first goal included."""
        return len(self.rewards_per_episode)

    @property
    def learned(self) -> int:
        """Episodes that learned."""
        return len(self.epsilon_history)

    @property
    def exploring(self) -> int:
        """Episodes played before learning started."""
        return self.played - self.learned

    @property
    def first_goal_episode(self) -> int | None:
        """The episode in which the goal was first reached: learning starts right after it."""
        goals = np.flatnonzero(self.rewards_per_episode == 1)
        return int(goals[0]) + 1 if len(goals) else None

    def learning_step(self, episode: int) -> int:
        """The learning step (from 0) that ended ``episode`` (from 1), a learning episode."""
        return episode - 1 - self.exploring

    def per_episode(self, history: np.ndarray, before_learning: float = np.nan) -> np.ndarray:
        """A per-learning-episode history stretched over every episode played: the episodes before
        learning starts, which learned nothing, get ``before_learning``."""
        return np.concatenate([np.full(self.played - len(history), before_learning), history])

    def played_line(self, seconds: float | None = None) -> str:
        """How many episodes were played (in how many seconds), when the goal was first reached,
        how many learned."""
        played = f"Played {self.played} episodes" + (f" in {seconds:.1f} s" if seconds else "")
        if not self.first_goal_episode:
            return f"{played}: the goal was never reached"
        return (
            f"{played}: the goal was first reached in episode {self.first_goal_episode};"
            f" {self.learned} episodes learned"
        )


@dataclass(repr=False, kw_only=True)
class TrainingResult(RunHistory):
    """What ``train`` learned, with what, and how: the networks, the settings and the history of
    every episode played.

    :param settings: the values the run used, by name: the hyperparameters, episodes, seed
    """

    settings: dict
    best_state: dict | None  # state_dict of the best network seen; None if none walked to the goal
    best_episode: int | None  # the episode (from 1) after which the best network was taken
    best_measure: float | None  # how good it is: its greedy walk's steps, or its exact value
    last_state: dict  # state_dict of the network after the last episode: what the article saves
    loss_history: np.ndarray  # per learning episode: the loss of its optimize step
    save_last: bool = False  # the network saved is the last one (the article's rule), not the best
    model_file: str | None = None  # where train saved it; None: nowhere
    learner = "Deep Q-network"  # what learned, in the pictures' titles

    def __post_init__(self):
        super().__post_init__()
        self.loss_history = np.asarray(self.loss_history)

    @property
    def seed(self) -> int:
        return self.settings["seed"]

    @property
    def state_to_save(self) -> dict | None:
        """The last network with ``save_last``, else the best one (None if no network walked)."""
        return self.last_state if self.save_last else self.best_state

    @property
    def saved_episode(self) -> int | None:
        """The episode after which the network saved was taken (None: none saved)."""
        return self.played if self.save_last else self.best_episode

    @property
    def nothing_kept(self) -> str:
        """Why no best network was kept, in words."""
        if self.environment.measure == "objective":  # it never reached the goal, or never earned
            return "no network's greedy policy scored above 0"
        return "no network walked from start to goal"

    def final_q_values(self) -> tuple[np.ndarray, int, str]:
        """What the learning animation ends with: the saved network's Q-values (after a failed
        training, the last network's), its optimize step (from 0), and how to name it."""
        if self.best_episode is None or self.save_last:
            state, step = self.last_state, self.learned - 1
            name = "the saved network" if self.state_to_save else "training failed"
        else:
            state, step = self.best_state, self.learning_step(self.best_episode)
            name = "the saved network"
        return q_values_of(network_from(state, self.environment)), step, name

    def __repr__(self) -> str:
        """A few lines on what the run did; the histories are attributes, too long to print."""
        where = f"saved to {self.model_file}" if self.model_file else "not saved"
        if self.best_episode:
            network = (
                f"the best network, of episode {self.best_episode},"
                f" {how_good(self.environment, self.best_measure)}"
            )
        else:
            network = self.nothing_kept
        if self.save_last:
            network = f"the last network, of episode {self.played}; {network}"
        return (
            f"TrainingResult(p{self.played_line()[1:]};\n  {where}: {network};\n"
            "  histories: rewards_per_episode, steps_per_episode, epsilon_history, loss_history,"
            " measures)"
        )


class TrainingFailed(Exception):
    """Training ended without any network that walks to the goal; ``result`` holds its history."""

    def __init__(self, result: TrainingResult):
        never = "" if result.first_goal_episode else " (the goal was never reached)"
        super().__init__(f"{result.nothing_kept} in {result.played} episodes{never}")
        self.result = result


class TrainingInterrupted(Exception):
    """Ctrl-C during training; says how far training got."""


class DrawingInterrupted(KeyboardInterrupt):
    """Ctrl-C while the pictures are drawn (ours/pictures.py); ``drawn`` names those finished."""

    def __init__(self, drawn: list[str]):
        super().__init__(f"drawn: {', '.join(drawn) or 'none'}")
        self.drawn = drawn


@dataclass(repr=False)
class TestResult:
    """What ``test`` saw, and what it tested: the network's Q-values and the settings it played by.

    The episode a run shows is played again from these (``ours/episode_replay.py``): greedy play is
    deterministic where moves do not slip, and where they do ``seed`` repeats the slips.
    """

    environment: object  # what was played (ours/environment.py), with its reward rule and Q*
    success_rate: float  # percentage of test episodes that reached the goal
    episodes: int  # test episodes played
    q_values: np.ndarray  # the tested network's Q-values, one row per state
    model_file: str | None = None  # the file whose network was tested; None: the one train made
    seed: int | None = None  # the seed the episode shown resets with: the same slips again
    step_limit: int = 51  # the test stops an episode after this many steps (the article's > 50)
    learner: str = "Deep Q-network"  # what learned the Q-values, in the pictures' titles

    @classmethod
    def of(cls, agent, policy_dqn: nn.Module, num_success: int, episodes: int) -> "TestResult":
        """The result of ``agent.test``: ``policy_dqn`` reached the goal in ``num_success`` of
        ``episodes`` episodes."""
        return cls(
            environment=agent.environment,
            success_rate=num_success / episodes * 100,
            episodes=episodes,
            q_values=q_values_of(policy_dqn),
            model_file=agent.model_file,
            seed=random.SystemRandom().randrange(2**32) if agent.seed is None else agent.seed,
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
