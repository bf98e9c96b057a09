"""Training end to end: determinism, convergence, the shipped model, and the training summary."""

import numpy as np
import pytest
import torch

from cliff_walking_dqn import CliffWalkingDQN
from conftest import SHIPPED_MODEL
from nn_model import DQN
from ours.episode_replay import play_episode
from ours.exact_optimum import greedy_walk
from ours.speed import q_values_of

CLIFF = CliffWalkingDQN().environment
OPTIMAL_PATH_LENGTH = 13  # up, 11 times right, down


def test_same_seed_gives_identical_weights_and_history():
    first = CliffWalkingDQN(seed=5).train(300)
    second = CliffWalkingDQN(seed=5).train(300)
    for name in first.best_state:
        assert torch.equal(first.best_state[name], second.best_state[name])
    assert np.array_equal(first.steps_per_episode, second.steps_per_episode)


def test_short_seeded_training_from_scratch_walks_the_optimal_path(seed_6_run):
    agent, result = seed_6_run
    assert result.best_measure == OPTIMAL_PATH_LENGTH
    assert 1 <= result.first_goal_episode <= result.best_episode <= result.played
    tested = agent.test(episodes=5)
    assert tested.success_rate == 100.0
    assert len(play_episode(tested).actions) == OPTIMAL_PATH_LENGTH


def test_history_has_one_entry_per_episode_played_or_learned(seed_6_run):
    _, result = seed_6_run
    assert len(result.steps_per_episode) == len(result.rewards_per_episode)
    for series in (result.epsilon_history, result.loss_history, result.measures):
        assert len(series) == 500  # every counted episode ran one optimize step
    assert result.learned == 500
    # learning starts with the episode that first reaches the goal: the ones before only explored
    assert result.played - 500 == result.exploring == result.first_goal_episode - 1
    assert not result.rewards_per_episode[: result.first_goal_episode - 1].any()
    assert np.isnan(result.per_episode(result.loss_history)[: result.first_goal_episode - 1]).all()
    # linear decay over the counted episodes
    assert result.epsilon_history[-1] == pytest.approx(0, abs=1e-9)
    assert np.diff(result.epsilon_history) == pytest.approx(-1 / 500)
    assert (result.steps_per_episode <= CliffWalkingDQN().max_episode_steps).all()


def test_shipped_model_walks_the_optimal_path():
    result = CliffWalkingDQN(model_file=SHIPPED_MODEL).test(episodes=3)
    assert result.success_rate == 100.0
    episode = play_episode(result)
    assert len(episode.actions) == OPTIMAL_PATH_LENGTH
    assert episode.path[0] == 36 and episode.path[-1] == 47


def optimal_table():
    greedy_actions = [1] * 48  # right, except: up from the start and down into the goal
    greedy_actions[36], greedy_actions[35] = 0, 2
    return greedy_actions


def random_table(seed):
    greedy_actions = np.random.default_rng(seed).integers(0, 4, 48).tolist()
    greedy_actions[36] = 0  # leave the start upwards, so that the walks go somewhere
    return greedy_actions


@pytest.mark.parametrize(
    "greedy_actions", [optimal_table()] + [random_table(seed) for seed in range(20)]
)
def test_greedy_walk_on_the_table_equals_an_episode_in_the_environment(greedy_actions):
    env = CLIFF.make(max_episode_steps=100)
    path = greedy_walk(greedy_actions, CLIFF)

    state, visited = env.reset()[0], [36]
    terminated = truncated = fell = False
    while not (terminated or truncated or fell):
        state, reward, terminated, truncated, _ = env.step(greedy_actions[state])
        visited.append(state)
        fell = reward == -100
    assert (path is not None) == terminated
    if path is not None:
        assert path == visited


def test_greedy_walk_of_the_shipped_model():
    policy_dqn = DQN(48, 4)
    policy_dqn.load_state_dict(torch.load(SHIPPED_MODEL, weights_only=True))
    path = greedy_walk(q_values_of(policy_dqn).argmax(axis=1).tolist(), CLIFF)
    assert path == [36, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 47]
