"""The previous article's Q matrix on this cliff under the DQN's rules: what the network replaces.

``python q_learning.py`` trains the Q matrix with tabular Q-learning, tests it and compares it with
the exact optimum Q*, as ``python cliff_walking_dqn.py`` does for the network; ``--help`` lists the
flags. Everything but the learner is the DQN's: the environment and its episode cap, the reward
processing (``CliffWalkingDQN()._process_episode``), the seeding, the linear epsilon decay over the
episodes that learn, the discount factor, and Q*. docs/q_matrix.md puts the two side by side
(``benchmarks/table_vs_network.py``).
"""

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass
from itertools import groupby

from ours.packages import require_installed

require_installed(__name__)  # without the packages: one line, exit 2; Ctrl-C: one line too
import numpy as np

from cliff_walking_dqn import CliffWalkingDQN
from ours.command_line import (
    MAX_SEED, OneLineArgumentParser, OneLineErrors, add_picture_flags, check_writable_folder,
    picture_folder, whole_number,
)
from ours.environment import CLIFF_REWARD, seed_everything
from ours.episode_replay import play_episode
from ours.exact_optimum import greedy_walk
from ours.reports import report_pictures, report_played, report_test
from ours.results import RunHistory, TestResult
from ours.training import MAX_EXPLORING_EPISODES, QValueRecorder

# the DQN's settings, shared: discount_factor, max_episode_steps, the test's 50 steps; its
# environment, with its reward rule and Q*
RULES = CliffWalkingDQN()


@dataclass(repr=False, kw_only=True)
class QLearningResult(RunHistory):
    """The learned table and the run's history, in the terms of the DQN's ``TrainingResult``."""

    Q_matrix: np.ndarray  # one row per state, one column per action
    learner = "Q matrix"  # what learned, in the learning animation's titles

    def final_q_values(self) -> tuple[np.ndarray, int, str]:
        """What the learning animation ends with: the table tested, after the last episode."""
        return self.Q_matrix, self.learned - 1, "the table tested"


def update(Q_matrix, state, action, reward, new_state, terminated, lr, discount_factor) -> None:
    """The previous article's rule:

        Q[s, a] = (1 - lr) * Q[s, a] + lr * (r + discount_factor * max(Q[s']))

    As in the DQN's target, a terminal step has no future: a fall puts the agent back on the start,
    and the start's values are not what the fall is worth.
    """
    future = 0 if terminated else discount_factor * np.max(Q_matrix[new_state])
    Q_matrix[state, action] = (1 - lr) * Q_matrix[state, action] + lr * (reward + future)


def train(episodes: int = 3000, lr: float = 0.5, seed: int | None = None) -> QLearningResult:
    """Tabular Q-learning until ``episodes`` episodes have learned; the exploring episodes before
    the first goal come on top, as in ``CliffWalkingDQN.train``, and with one seed they are the
    DQN's own."""
    environment = RULES.environment
    env = environment.make(max_episode_steps=RULES.max_episode_steps)
    seed_everything(seed, env)
    Q_matrix = np.zeros((env.observation_space.n, env.action_space.n))
    discount_factor = RULES.discount_factor
    exploration_factor = 1  # epsilon: 1 = 100% random actions until the goal has been reached
    rewards_per_episode, steps_per_episode, walk_lengths, epsilon_history = [], [], [], []
    recorder = QValueRecorder()

    while len(walk_lengths) < episodes:
        state = env.reset()[0]
        terminated = truncated = False
        steps_per_episode.append(0)
        while not terminated and not truncated:
            if random.random() < exploration_factor:
                action = env.action_space.sample()
            else:
                action = int(np.argmax(Q_matrix[state]))
            new_state, action_reward, terminated, truncated, _ = env.step(action)
            terminated, reward = RULES._process_episode(action_reward, new_state)
            # before the first goal this leaves the table at zero: nothing else pays
            update(Q_matrix, state, action, reward, new_state, terminated, lr, discount_factor)
            state = new_state
            steps_per_episode[-1] += 1
        rewards_per_episode.append(reward)

        if walk_lengths or reward == 1:  # learning starts with the first goal, as the DQN's does
            exploration_factor = max(exploration_factor - 1 / episodes, 0)
            epsilon_history.append(exploration_factor)
            path = greedy_walk(np.argmax(Q_matrix, axis=1).tolist(), environment)
            walk_lengths.append(math.inf if path is None else len(path) - 1)
            recorder.record(Q_matrix.copy())  # a copy: the table changes in place
        elif len(rewards_per_episode) == MAX_EXPLORING_EPISODES:
            break  # the goal was never reached
    env.close()
    return QLearningResult(
        environment=environment,
        Q_matrix=Q_matrix,
        rewards_per_episode=rewards_per_episode,
        steps_per_episode=steps_per_episode,
        epsilon_history=epsilon_history,
        measures=walk_lengths,
        recorded_steps=np.array(recorder.steps, dtype=int),
        recorded_q_values=np.array(recorder.q_values),
    )


def test(Q_matrix: np.ndarray, episodes: int = 100, seed: int | None = None) -> TestResult:
    """Greedy episodes with the table, as ``CliffWalkingDQN.test`` plays them with the network."""
    # the DQN's test stops after its 51st step
    environment = RULES.environment
    env = environment.make(max_episode_steps=RULES.test_max_steps + 1, seed=seed)
    num_success = 0
    for _ in range(episodes):
        state = env.reset()[0]
        terminated = truncated = fell = False
        while not (terminated or truncated or fell):
            state, reward, terminated, truncated, _ = env.step(int(np.argmax(Q_matrix[state])))
            fell = reward == CLIFF_REWARD
        num_success += state in environment.goal_states
    env.close()
    result = TestResult(
        environment=environment,
        success_rate=num_success / episodes * 100,
        episodes=episodes,
        q_values=Q_matrix,
        seed=seed,
        step_limit=RULES.test_max_steps + 1,
        learner="Q matrix (tabular Q-learning)",
    )
    print(f"Success rate: {result.success_rate:.1f} %")
    return result


def fraction(text: str) -> float:
    """An argparse type: a number above 0 and at most 1, refused in one line otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


def main(argv=None) -> int:
    parser = OneLineArgumentParser(description="Train the previous article's Q matrix on"
                                               " CliffWalking, test it, compare it with Q*.")
    parser.add_argument("--episodes", type=whole_number(1), default=3000,
                        help="training episodes that learn (default 3000)")
    parser.add_argument("--seed", type=whole_number(0, MAX_SEED),
                        help="seed for a repeatable run (default: a random one, printed)")
    parser.add_argument("--lr", type=fraction, default=0.5,
                        help="the learning rate lr, above 0 and at most 1 (default 0.5)")
    add_picture_flags(parser)
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(MAX_SEED + 1)
    args.plots = picture_folder(args)

    with OneLineErrors(model_file=None) as errors:
        if args.plots:
            check_writable_folder(args.plots, "pictures")
        print(f"Seed {args.seed} (repeat this run with --seed {args.seed})")
        print("--- Training ---")
        start = time.perf_counter()
        result = train(args.episodes, args.lr, args.seed)
        report_played(result, seconds=time.perf_counter() - start)
        print("--- Test ---")
        tested = test(result.Q_matrix, seed=args.seed)
        names = tested.environment.action_names
        moves = ((names[action], len(list(repeats)))
                 for action, repeats in groupby(play_episode(tested).actions))
        steps = (name if count == 1 else f"{name} x{count}" for name, count in moves)
        print(f"Path: {', '.join(steps)}")
        report_test(tested, None, args.plots, pictures="q_matrix test")
        report_pictures("q_matrix", result, args.plots)
    return errors.exit_status


if __name__ == "__main__":
    sys.exit(main())
