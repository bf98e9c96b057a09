"""What the article cannot show: the exact Q*, the exact value of a greedy policy, the greedy walk.

All on the environment's own table: deterministic, or slippery with the probability of each outcome.
The functions that need the start, the landmarks or the reward rule take the ``Environment`` that
describes them (ours/environment.py).
"""

from typing import NamedTuple

import numpy as np


class Outcomes(NamedTuple):
    """Every outcome of every (state, action), as arrays of shape (states, actions, outcomes).

    On the deterministic grid there is one outcome per move, with probability 1; on the slippery
    grid three (the intended direction and the two beside it); a move with fewer outcomes than
    others is padded with outcomes of probability 0. ``rewards`` and ``terminated`` are the
    article's, after ``process_episode``; a terminal outcome has no future. ``env_rewards`` and
    ``env_terminated`` are the environment's own, for the registry's objectives (FrozenLake's
    success, Taxi's return)."""

    probabilities: np.ndarray
    next_states: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    env_rewards: np.ndarray
    env_terminated: np.ndarray


def outcome_table(unwrapped, process_episode) -> Outcomes:
    """Read an environment's own table ``P`` (probability, next state, reward, done) for each
    outcome, with the rewards and episode ends of ``process_episode`` (the article's
    ``_process_episode``). ``unwrapped``: the environment without Gymnasium's wrappers."""
    table = unwrapped.P
    rows = [[table[s][a] for a in sorted(table[s])] for s in sorted(table)]
    most = max(len(outcomes) for row in rows for outcomes in row)
    padded = [  # a padding outcome: probability 0, staying put, ending the episode
        [outcomes + [(0.0, s, 0, True)] * (most - len(outcomes)) for outcomes in row]
        for s, row in enumerate(rows)
    ]
    probabilities, next_states, env_rewards, env_terminated = (
        np.array([[[outcome[field] for outcome in outcomes] for outcomes in row] for row in padded])
        for field in (0, 1, 2, 3)
    )
    # the article's method returns a list: a tuple is what np.vectorize splits into two arrays
    terminated, rewards = np.vectorize(lambda *step: tuple(process_episode(*step)))(
        env_rewards, next_states
    )
    return Outcomes(
        probabilities.astype(float),
        next_states.astype(int),
        rewards,
        terminated | (probabilities == 0),
        env_rewards.astype(float),
        env_terminated.astype(bool),
    )


def greedy_walk(greedy_actions: list[int], environment) -> list[int] | None:
    """States visited by the greedy policy from the start to the goal, or None if it never gets
    there.

    On a deterministic grid this is exactly what a greedy test episode does, without the
    environment's per-step overhead. An episode that ends elsewhere (a fall) ends the walk; so does
    a revisited state, since a deterministic greedy policy that comes back to a state loops
    forever."""
    next_states, terminated, won = environment.moves
    path = [environment.start_state]
    while True:
        state = path[-1]
        action = greedy_actions[state]
        following = next_states[state][action]
        if terminated[state][action]:
            return path + [following] if won[state][action] else None
        if following in path:
            return None
        path.append(following)


def deterministic_moves(outcomes: Outcomes) -> tuple[list, list, list]:
    """Per (state, action) of a deterministic environment: the next state, whether the move ends
    the episode, whether it wins it; as lists, which the greedy walk reads fastest."""
    if (outcomes.probabilities.max(axis=2) < 1).any():
        raise ValueError(
            "the greedy walk needs a deterministic environment: this one has several outcomes"
            " per move"
        )
    only = outcomes.probabilities.argmax(axis=2)[..., None]  # the one outcome of each move
    next_states, rewards, terminated = (
        np.take_along_axis(table, only, 2)[..., 0]
        for table in (outcomes.next_states, outcomes.rewards, outcomes.terminated)
    )
    return next_states.tolist(), terminated.tolist(), (terminated & (rewards > 0)).tolist()


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


def success_within(environment, actions, max_steps: int) -> float:
    """The exact probability that the policy taking ``actions[s]`` reaches the goal from the start
    within ``max_steps`` steps, over every outcome of every move (a fall ends the episode without
    success)."""
    outcomes = environment.outcomes
    states = np.arange(len(actions))
    probabilities, next_states = (
        outcomes.probabilities[states, actions],
        outcomes.next_states[states, actions],
    )
    reached = outcomes.terminated[states, actions] & (outcomes.rewards[states, actions] > 0)
    going_on = ~outcomes.terminated[states, actions]
    where, success = np.zeros(len(states)), 0.0
    where[environment.start_state] = 1.0
    for _ in range(max_steps):
        success += (where[:, None] * probabilities * reached).sum()
        following = np.zeros(len(states))
        np.add.at(following, next_states[going_on], (where[:, None] * probabilities)[going_on])
        where = following
    return float(success)


def return_within(outcomes: Outcomes, starts: np.ndarray, actions, horizon: int) -> float:
    """The exact expected sum of the environment's own rewards over the first ``horizon`` steps of
    the policy taking ``actions[s]`` in state s, from the start distribution ``starts``: for
    FrozenLake (1 at the goal) the probability of reaching it within the limit, for Taxi the mean
    return over its 300 starts.

    Finite-horizon policy evaluation, V_h = r + P V_(h-1), in about 2 log2(horizon) steps instead
    of ``horizon``: blocks of 1, 2, 4 ... steps are joined by repeated squaring. Where each chosen
    move has one outcome (Taxi, a lake that does not slip), a block is a map from state to state
    (where it leads, whether the episode goes on, what it earns) and joining is indexing; else the
    policy's matrix of going on is squared."""
    states = np.arange(len(actions))
    probabilities = outcomes.probabilities[states, actions]
    if (probabilities.max(axis=1) == 1).all():
        only = probabilities.argmax(axis=1)
        leads_to = outcomes.next_states[states, actions, only]
        earns = outcomes.env_rewards[states, actions, only]
        goes_on = (~outcomes.env_terminated[states, actions, only]).astype(float)
        total, total_goes_on, total_leads_to = np.zeros(len(states)), np.ones(len(states)), states
        for power in _powers_of_two(horizon):  # the block of 2^k steps, when the bit is set
            if power:
                total = total + total_goes_on * earns[total_leads_to]
                total_goes_on = total_goes_on * goes_on[total_leads_to]
                total_leads_to = leads_to[total_leads_to]
            earns = earns + goes_on * earns[leads_to]
            goes_on = goes_on * goes_on[leads_to]
            leads_to = leads_to[leads_to]
        return float(starts @ total)
    reward = (probabilities * outcomes.env_rewards[states, actions]).sum(axis=1)
    going_on = probabilities * ~outcomes.env_terminated[states, actions]
    moves = np.zeros((len(states), len(states)))
    np.add.at(moves, (states[:, None], outcomes.next_states[states, actions]), going_on)
    total, total_moves = np.zeros(len(states)), np.eye(len(states))
    for power in _powers_of_two(horizon):
        if power:
            total = total + total_moves @ reward
            total_moves = total_moves @ moves
        reward = reward + moves @ reward
        moves = moves @ moves
    return float(starts @ total)


def _powers_of_two(number: int) -> list[bool]:
    """The bits of ``number``, lowest first: which blocks of 1, 2, 4 ... steps make it."""
    return [bool(number >> bit & 1) for bit in range(number.bit_length())]


def best_return_within(outcomes: Outcomes, starts: np.ndarray, horizon: int) -> float:
    """The most that any policy (one that may act differently as the steps run out) can expect of
    ``return_within``: finite-horizon dynamic programming, without discount."""
    values = np.zeros(outcomes.next_states.shape[0])
    for _ in range(horizon):
        future = values[outcomes.next_states] * ~outcomes.env_terminated
        values = (outcomes.probabilities * (outcomes.env_rewards + future)).sum(axis=2).max(axis=1)
    return float(starts @ values)


def compare_with_optimum(q_values: np.ndarray, environment) -> tuple[float, float, list[int]]:
    """Largest |Q - Q*| over the standable states, the share of them where the greedy action is
    optimal, and the states where it is not. An action is optimal when it ties with Q*'s best (ties
    are common)."""
    q_star, standable = environment.q_star, environment.standable_states
    largest_error = float(np.abs(q_values[standable] - q_star[standable]).max())
    disagreeing = [
        int(s) for s in standable if q_star[s, q_values[s].argmax()] < q_star[s].max() - 1e-9
    ]
    return largest_error, 1 - len(disagreeing) / len(standable), disagreeing
