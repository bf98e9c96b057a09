"""The environment described once: the landmarks it reads from Gymnasium are the article's, and one
description serves every agent that plays by the same rules."""

import gymnasium as gym
import numpy as np
import pytest

from cliff_walking_dqn import CliffWalkingDQN
from ours.environment import SLIPPERY_ID, cliff_walking_id, describe


def test_the_cliffs_landmarks_are_the_articles():
    cliff = CliffWalkingDQN().environment
    assert cliff.env_id == cliff_walking_id() and cliff.name == "CliffWalking"
    assert not cliff.slippery
    assert cliff.start_state == 36 and cliff.goal_states == {47}
    assert cliff.shape == (4, 12)
    assert cliff.grid_cell(36) == (3, 0) and cliff.grid_cell(11) == (0, 11)  # row 0 at the top
    # neither the cliff (37-46) nor the goal
    assert np.array_equal(cliff.standable_states, np.arange(37))
    assert cliff.optimal_path_length == cliff.shortest_path_length == 13  # up, 11 right, down
    assert cliff.action_names == ("up", "right", "down", "left")
    assert cliff.v_star == pytest.approx(0.9**12)  # the goal's reward, 12 steps away


def test_one_description_per_environment_reward_rule_and_discount_factor():
    cliff = CliffWalkingDQN().environment
    assert CliffWalkingDQN(seed=3, learning_rate=0.01).environment is cliff  # Q* computed once
    assert describe(cliff_walking_id(), {}, CliffWalkingDQN()._process_episode, 0.9) is cliff
    farsighted = CliffWalkingDQN(discount_factor=0.99).environment
    assert farsighted is not cliff and farsighted.v_star == pytest.approx(0.99**12)


@pytest.mark.skipif(
    SLIPPERY_ID not in gym.registry, reason=f"{SLIPPERY_ID} needs Gymnasium 1.2 or later"
)
def test_the_slippery_cliff_has_the_same_grid_and_no_single_walk():
    slippery = CliffWalkingDQN(slippery=True).environment
    assert slippery.env_id == SLIPPERY_ID and slippery.slippery
    assert slippery.start_state == 36 and slippery.goal_states == {47}
    assert np.array_equal(slippery.standable_states, np.arange(37))
    assert slippery.shortest_path_length == 13  # when every move goes the way it was meant to
    assert slippery.optimal_path_length is None  # a policy's walk differs from slip to slip
    with pytest.raises(ValueError, match="the greedy walk needs a deterministic environment"):
        slippery.moves
