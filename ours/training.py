"""What ``train`` keeps beside the article's lists: the history, the best network, the bar.

``TrainingHistory`` records each episode played and each optimize step; its ``result`` is the
``TrainingResult`` (ours/results.py). The best network is kept by the greedy walk on the plain grid
and by the greedy policy's exact value where moves slip (``BestNetwork``, ``MostValuableNetwork``).
"""

import copy

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ours.exact_optimum import greedy_walk, policy_values
from ours.results import TrainingFailed, TrainingInterrupted, TrainingResult
from ours.settings import settings_of
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
        self._kept, self._step, self._every = kept, 0, 1

    def record(self, q_values: np.ndarray) -> None:
        if self._step % self._every == 0:
            self.steps.append(self._step)
            self.q_values.append(q_values)
            if len(self.steps) == 2 * self._kept:
                del self.steps[1::2], self.q_values[1::2]  # every other one goes
                self._every *= 2
        self._step += 1


class BestNetwork:
    """A copy of the policy network from when its greedy walk from the start was the shortest yet.

    The learner oscillates, and the network after the last optimize step may loop (README,
    Deviations). The walk is taken on the environment's table: exact, since the grid is
    deterministic. ``measures`` has the walk's length after each optimize step, inf where it does
    not reach the goal.
    """

    def __init__(self, policy_dqn: nn.Module, environment):
        self.environment = environment
        self.dqn = copy.deepcopy(policy_dqn)
        self._weights = list(zip(self.dqn.parameters(), policy_dqn.parameters()))  # kept, current
        self.episode = None  # 1-based number of the episode after which the copy was taken
        self.measure = None  # how good the kept network is: its walk's steps
        self.measures = []  # how good the network was after each optimize step

    def state_dict(self) -> dict | None:
        """The kept network's weights, or None if no greedy walk has reached the goal yet."""
        return None if self.episode is None else self.dqn.state_dict()

    def keep_if_best(self, greedy_actions: list[int], episode: int) -> None:
        """Copy the policy network if its greedy walk is as short as the shortest so far (the latest
        wins a tie)."""
        path = greedy_walk(greedy_actions, self.environment)
        length = float("inf") if path is None else len(path) - 1
        self.measures.append(length)
        if path is not None and (self.measure is None or length <= self.measure):
            self._keep(episode, length)

    def _keep(self, episode: int, measure: float) -> None:
        with torch.no_grad():  # the policy network's weights, copied in place (load_state_dict
            for kept, current in self._weights:  # takes 10 times as long)
                kept.copy_(current)
        self.episode, self.measure = episode, measure


class MostValuableNetwork(BestNetwork):
    """Where moves slip: a copy of the policy network as it was when its greedy policy was worth the
    most from the start, exactly, over every outcome of every move (docs/slippery.md).

    A greedy walk there goes a different way each time, so it cannot rank the networks; the expected
    discounted return under the article's rewards can, and V*(start) is its ceiling. ``measures``
    has that value after each optimize step.
    """

    def keep_if_best(self, greedy_actions: list[int], episode: int) -> None:
        """Copy the policy network if its greedy policy is worth at least as much from the start as
        the best so far, and more than nothing (the latest wins a tie)."""
        environment = self.environment
        values = policy_values(environment.outcomes, environment.discount_factor, greedy_actions)
        value = float(values[environment.start_state])
        self.measures.append(value)
        if value > 0 and (self.measure is None or value >= self.measure):
            self._keep(episode, value)


class BestScoringNetwork(BestNetwork):
    """Where the registry names an objective within a step limit (FrozenLake's chance of reaching
    the goal, Taxi's mean return over its starts): a copy of the policy network from when its
    greedy policy scored the most, exactly (``Environment.objective``). ``measures`` has that score
    after each optimize step."""

    def keep_if_best(self, greedy_actions: list[int], episode: int) -> None:
        """Copy the policy network if its greedy policy scores at least as much as the best so far,
        and more than nothing: it reaches the goal, or earns more than it costs (the latest wins a
        tie)."""
        score = self.environment.objective(greedy_actions)
        self.measures.append(score)
        if score > 0 and (self.measure is None or score >= self.measure):
            self._keep(episode, score)


KEEPERS = {"walk": BestNetwork, "value": MostValuableNetwork, "objective": BestScoringNetwork}


class TrainingHistory:
    """What ``train`` records beside the article's lists, and the network it keeps.

    Per episode played: its steps and whether it reached the goal; per optimize step: the loss, how
    good the network is (its greedy walk, or its greedy policy's exact value where moves slip) and,
    for the learning animation, its Q-values. It also holds every state's greedy action, computed
    after each optimize step in one batched pass, for the episodes to look up (ours: speed): the
    policy network changes only there, so the lookup gives what the article's forward pass per step
    gives.
    """

    def __init__(self, agent, policy_dqn: nn.Module, epsilon_history: list):
        self.agent, self.environment = agent, agent.environment
        self.epsilon_history = epsilon_history
        self.rewards_per_episode, self.steps_per_episode, self.loss_history = [], [], []
        self.best = KEEPERS[self.environment.measure](policy_dqn, self.environment)
        self.recorder = QValueRecorder()
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
        self.recorder.record(q_values)
        self.best.keep_if_best(self.greedy_actions, len(self.rewards_per_episode))

    def result(self, policy_dqn: nn.Module, episodes: int) -> TrainingResult:
        """The run's result; TrainingFailed (holding it) when there is no network to save: none
        walked to the goal, and ``save_last`` is off."""
        agent, best = self.agent, self.best
        result = TrainingResult(
            environment=self.environment,
            settings=settings_of(agent, episodes=episodes),
            best_state=best.state_dict(),
            best_episode=best.episode,
            best_measure=best.measure,
            last_state=policy_dqn.state_dict(),
            rewards_per_episode=self.rewards_per_episode,
            steps_per_episode=self.steps_per_episode,
            epsilon_history=self.epsilon_history,
            loss_history=self.loss_history,
            measures=best.measures,
            recorded_steps=self.recorder.steps,
            recorded_q_values=self.recorder.q_values,
            save_last=agent.save_last,
            model_file=agent.model_file,
        )
        if result.state_to_save is None:
            raise TrainingFailed(result)
        return result


# The look of both bars, train's and test's: the label, a bar of fixed width, the count and the
# time, then what a bar adds after a comma (``postfix``: epsilon and the goals), within 80 columns:
# "Training  27%|██▋       | 805/3000 [00:01<00:05], epsilon 0.73, goals 7"
# "Test     100%|██████████| 100/100 [00:00<00:00]"
BAR_FORMAT = (
    "{desc:<8}{percentage:4.0f}%|{bar:10}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}"
)


class TrainingProgress(tqdm):
    """The article's ``for i in tqdm(range(episodes))``, where ``episodes`` counts the episodes that
    learn: iterating gives the number ``i`` of the learning episodes so far, once per episode
    played, so that ``i`` stays 0 while the agent explores before its first goal (the article's
    array ``rewards_per_episode`` has a slot per learning episode). It stops once ``episodes``
    episodes have learned, or after ``MAX_EXPLORING_EPISODES`` without a goal.

    The bar counts the learning episodes, with epsilon and the goals so far after it; while
    exploring it counts the episodes explored. Ctrl-C inside the ``with`` block becomes
    TrainingInterrupted.
    """

    def __init__(self, episodes: int, history: TrainingHistory, **options):
        self.history = history
        super().__init__(total=episodes, desc="Training", bar_format=BAR_FORMAT, **options)
        self.episodes, self.learned = episodes, 0  # tqdm stops counting when it is disabled

    @property
    def format_dict(self):
        return {**super().format_dict, "postfix": self.figures()}  # tqdm puts ", " before it

    def figures(self) -> str:
        epsilon_history, played = self.history.epsilon_history, self.history.rewards_per_episode
        if epsilon_history:
            return f"epsilon {epsilon_history[-1]:.2f}, goals {sum(played)}"
        return f"exploring: no goal in {len(played)} episodes"

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
