"""What the article cannot show: the exact Q* the network approximates, and the greedy walk, both on the environment's own table."""

import gymnasium as gym
import numpy as np

from environment import CLIFF_REWARD, GOAL_STATE, STANDABLE_STATES, START_STATE, make_env


def transition_table(env: gym.Env) -> tuple[list[list[int]], list[list[int]]]:
    """Next state and reward for every (state, action), read from the environment's own table ``P``.

    CliffWalking is deterministic: each entry of ``P`` has one outcome, with probability 1.
    """
    table = env.unwrapped.P
    next_states = [[int(table[s][a][0][1]) for a in sorted(table[s])] for s in sorted(table)]
    rewards = [[int(table[s][a][0][2]) for a in sorted(table[s])] for s in sorted(table)]
    return next_states, rewards


def greedy_walk(greedy_actions: list[int], next_states, rewards) -> list[int] | None:
    """States visited by the greedy policy from the start to the goal, or None if it never gets there.

    On a deterministic grid this is exactly what a greedy test episode does, without the environment's
    per-step overhead. A fall ends the walk; so does a revisited state, since a deterministic greedy
    policy that comes back to a state loops forever.
    """
    path = [START_STATE]
    while path[-1] != GOAL_STATE:
        state = path[-1]
        action = greedy_actions[state]
        if rewards[state][action] == CLIFF_REWARD or next_states[state][action] in path:
            return None
        path.append(next_states[state][action])
    return path


def optimal_q_values(discount_factor: float, process_episode) -> np.ndarray:
    """The exact Q-table the network stands in for: Q*(s, a) by value iteration, one row per state.

    Each sweep sets Q(s, a) = r + gamma * max_a' Q(s', a') on the environment's own transition table,
    with the rewards and episode ends of ``process_episode`` (the article's ``_process_episode``) and
    no future after a terminal step. On this deterministic grid the values stop changing, to the
    last bit, after a few dozen sweeps.
    """
    next_states, env_rewards = (np.array(table) for table in transition_table(make_env()))
    terminated, rewards = np.vectorize(process_episode)(env_rewards, next_states)
    q_values = np.zeros(next_states.shape)
    while True:
        updated = rewards + discount_factor * q_values.max(axis=1)[next_states] * ~terminated
        if np.array_equal(updated, q_values):
            return q_values
        q_values = updated


def compare_with_optimum(q_values: np.ndarray, q_star: np.ndarray) -> tuple[float, float, list[int]]:
    """Largest |Q - Q*| over the standable states, the share of them where the greedy action is optimal,
    and the states where it is not. An action is optimal when it ties with Q*'s best (ties are common)."""
    largest_error = float(np.abs(q_values[STANDABLE_STATES] - q_star[STANDABLE_STATES]).max())
    disagreeing = [
        int(s) for s in STANDABLE_STATES if q_star[s, q_values[s].argmax()] < q_star[s].max() - 1e-9
    ]
    return largest_error, 1 - len(disagreeing) / len(STANDABLE_STATES), disagreeing
