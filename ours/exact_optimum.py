"""What the article cannot show: the exact Q*, the exact value of a greedy policy, the greedy walk.

All on the environment's own table: deterministic, or slippery with the probability of each outcome.
"""

from typing import NamedTuple

import gymnasium as gym
import numpy as np

from ours.environment import CLIFF_REWARD, GOAL_STATE, STANDABLE_STATES, START_STATE, make_env


class Outcomes(NamedTuple):
    """Every outcome of every (state, action), as arrays of shape (states, actions, outcomes).

    On the deterministic grid there is one outcome per move, with probability 1; on the slippery
    grid three (the intended direction and the two beside it). ``rewards`` and ``terminated`` are
    the article's, after ``process_episode``; a terminal outcome has no future."""

    probabilities: np.ndarray
    next_states: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray


def outcome_table(env: gym.Env, process_episode) -> Outcomes:
    """Read the environment's own table ``P`` (probability, next state, reward, done) for each
    outcome, with the rewards and episode ends of ``process_episode`` (the article's
    ``_process_episode``)."""
    table = env.unwrapped.P
    rows = [[table[s][a] for a in sorted(table[s])] for s in sorted(table)]
    probabilities, next_states, env_rewards = (
        np.array([[[outcome[field] for outcome in outcomes] for outcomes in row] for row in rows])
        for field in (0, 1, 2)
    )
    # the article's method returns a list: a tuple is what np.vectorize splits into two arrays
    terminated, rewards = np.vectorize(lambda *step: tuple(process_episode(*step)))(
        env_rewards, next_states
    )
    return Outcomes(probabilities.astype(float), next_states.astype(int), rewards, terminated)


def transition_table(env: gym.Env) -> tuple[list[list[int]], list[list[int]]]:
    """Next state and environment reward for every (state, action) of the deterministic grid, where
    each entry of ``P`` has one outcome, with probability 1 (what the greedy walk needs)."""
    table = env.unwrapped.P
    if any(len(table[s][a]) != 1 for s in table for a in table[s]):
        raise ValueError(
            "the greedy walk needs the deterministic grid: this one has several outcomes per move"
        )
    next_states = [[int(table[s][a][0][1]) for a in sorted(table[s])] for s in sorted(table)]
    rewards = [[int(table[s][a][0][2]) for a in sorted(table[s])] for s in sorted(table)]
    return next_states, rewards


def greedy_walk(greedy_actions: list[int], next_states, rewards) -> list[int] | None:
    """States visited by the greedy policy from the start to the goal, or None if it never gets
    there.

    On a deterministic grid this is exactly what a greedy test episode does, without the
    environment's per-step overhead. A fall ends the walk; so does a revisited state, since a
    deterministic greedy policy that comes back to a state loops forever."""
    path = [START_STATE]
    while path[-1] != GOAL_STATE:
        state = path[-1]
        action = greedy_actions[state]
        if rewards[state][action] == CLIFF_REWARD or next_states[state][action] in path:
            return None
        path.append(next_states[state][action])
    return path


def _backup(outcomes: Outcomes, discount_factor: float, state_values: np.ndarray) -> np.ndarray:
    """Q(s, a) = sum over outcomes of p * (r + gamma * V(s')), with no future after a terminal
    outcome."""
    future = discount_factor * state_values[outcomes.next_states] * ~outcomes.terminated
    return (outcomes.probabilities * (outcomes.rewards + future)).sum(axis=2)


def value_iteration(
    outcomes: Outcomes,
    discount_factor: float,
    tolerance: float = 1e-13,
    max_sweeps: int = 1_000_000,
) -> np.ndarray:
    """Q*(s, a), one row per state: sweeps of Q(s, a) = E[r + gamma * max_a' Q(s', a')] until no
    value moves by more than ``tolerance``. On the deterministic grid the values stop changing, to
    the last bit, after a few dozen sweeps (a change there is either 0 or a power of gamma)."""
    q_values = np.zeros(outcomes.next_states.shape[:2])
    for _ in range(max_sweeps):
        updated = _backup(outcomes, discount_factor, q_values.max(axis=1))
        if np.abs(updated - q_values).max() <= tolerance:
            return updated
        q_values = updated
    return q_values


def policy_values(outcomes: Outcomes, discount_factor: float, actions) -> np.ndarray:
    """The exact value V(s) of the policy that takes ``actions[s]`` in state s, for every state: the
    expected discounted return over every outcome of every move, from the linear Bellman equations
    V = r + gamma * P V. States from which the policy can never end an episode are worth 0 (with
    gamma 1 their equations have no unique solution); for the others the equations have one."""
    states = np.arange(len(actions))
    probabilities, next_states = (
        outcomes.probabilities[states, actions],
        outcomes.next_states[states, actions],
    )
    terminated = outcomes.terminated[states, actions]
    expected_rewards = (probabilities * outcomes.rewards[states, actions]).sum(axis=1)
    # probability of each state-to-state move that goes on
    moves = np.zeros((len(states), len(states)))
    np.add.at(
        moves,
        (np.repeat(states, next_states.shape[1]), next_states.ravel()),
        (probabilities * ~terminated).ravel(),
    )
    can_end = (probabilities * terminated).sum(axis=1) > 0
    while True:  # states that reach an ending with some probability
        grown = can_end | (moves[:, can_end].sum(axis=1) > 0)
        if np.array_equal(grown, can_end):
            break
        can_end = grown
    values = np.zeros(len(states))
    inner = np.ix_(can_end, can_end)
    values[can_end] = np.linalg.solve(
        np.eye(can_end.sum()) - discount_factor * moves[inner], expected_rewards[can_end]
    )
    return values


def success_within(outcomes: Outcomes, actions, max_steps: int) -> float:
    """The exact probability that the policy taking ``actions[s]`` reaches the goal from the start
    within ``max_steps`` steps, over every outcome of every move (a fall ends the episode without
    success)."""
    states = np.arange(len(actions))
    probabilities, next_states = (
        outcomes.probabilities[states, actions],
        outcomes.next_states[states, actions],
    )
    reached = outcomes.terminated[states, actions] & (outcomes.rewards[states, actions] > 0)
    going_on = ~outcomes.terminated[states, actions]
    where, success = np.zeros(len(states)), 0.0
    where[START_STATE] = 1.0
    for _ in range(max_steps):
        success += (where[:, None] * probabilities * reached).sum()
        following = np.zeros(len(states))
        np.add.at(following, next_states[going_on], (where[:, None] * probabilities)[going_on])
        where = following
    return float(success)


def optimal_q_values(discount_factor: float, process_episode, slippery: bool = False) -> np.ndarray:
    """The exact Q-table the network stands in for: Q*(s, a) by value iteration on the environment's
    own table (the slippery one with ``slippery``), with the article's rewards and episode ends."""
    return value_iteration(
        outcome_table(make_env(slippery=slippery), process_episode), discount_factor
    )


def compare_with_optimum(
    q_values: np.ndarray, q_star: np.ndarray
) -> tuple[float, float, list[int]]:
    """Largest |Q - Q*| over the standable states, the share of them where the greedy action is
    optimal, and the states where it is not. An action is optimal when it ties with Q*'s best (ties
    are common)."""
    largest_error = float(np.abs(q_values[STANDABLE_STATES] - q_star[STANDABLE_STATES]).max())
    disagreeing = [
        int(s) for s in STANDABLE_STATES if q_star[s, q_values[s].argmax()] < q_star[s].max() - 1e-9
    ]
    return largest_error, 1 - len(disagreeing) / len(STANDABLE_STATES), disagreeing
