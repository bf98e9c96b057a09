"""The article's learning rules: reward processing, the optimize step's targets, target sync, and
the equivalence of our batched computations with the article's per-sample ones."""

import random

import numpy as np
import pytest
import torch

from conftest import random_mini_batch
from ours import results
from article_baseline import article_optimize, train_article_formulation
from cliff_walking_dqn import CliffWalkingDQN, state_to_dqn_input
from nn_model import DQN
from replay_memory import Transition
from ours.speed import copy_weights, q_values_of, weights_of

GAMMA = CliffWalkingDQN().discount_factor


@pytest.mark.parametrize(
    "env_reward, new_state, expected",
    [
        (-1, 47, (True, 1)),  # stepped onto the goal
        (-100, 36, (True, 0)),  # fell off the cliff: CliffWalking puts the agent back on the start
        (-1, 24, (False, 0)),  # an ordinary step
        (-1, 36, (False, 0)),  # an ordinary step back onto the start cell
    ],
)
def test_process_episode(env_reward, new_state, expected):
    assert CliffWalkingDQN._process_episode(env_reward, new_state) == expected


def test_state_to_dqn_input_is_one_hot():
    assert torch.equal(state_to_dqn_input(2, 4), torch.tensor([0.0, 0.0, 1.0, 0.0]))
    batch = state_to_dqn_input(np.array([3, 0]), 4)
    assert torch.equal(batch, torch.tensor([[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]))
    state_to_dqn_input(1, 4)[0] = 7.0  # the caller owns its tensor: the cached matrix stays intact
    assert torch.equal(state_to_dqn_input(1, 4), torch.tensor([0.0, 1.0, 0.0, 0.0]))


def agent_ready_to_optimize():
    """An agent with the loss function that train() gives it, as the article's train does."""
    agent = CliffWalkingDQN()
    agent.loss_fn = torch.nn.MSELoss()
    return agent


def test_optimize_targets_match_values_worked_out_by_hand():
    agent = CliffWalkingDQN()
    target_q_values = np.zeros((48, 4), dtype=np.float32)
    target_q_values[3] = [0.1, 0.2, 0.3, 0.4]
    target_q_values[5] = [0.5, 0.8, 0.6, 0.7]
    mini_batch = [
        Transition(3, 1, 5, 0, False),  # not terminal: 0 + 0.9 * max Q_target(5) = 0.72
        Transition(3, 2, 47, 1, True),  # goal: the reward alone
        Transition(5, 0, 36, 0, True),  # cliff: the reward alone
    ]
    recorded = []

    def recording_loss(current_q, target_q):
        recorded.append(target_q.clone())
        return torch.nn.functional.mse_loss(current_q, target_q)

    agent.loss_fn = recording_loss
    policy_dqn = DQN(48, 4)
    agent._optimize(
        48, mini_batch, policy_dqn, target_q_values, torch.optim.SGD(policy_dqn.parameters(), lr=0)
    )
    expected = torch.tensor(
        [
            # other actions keep the target network's values for state 3
            [0.1, GAMMA * 0.8, 0.3, 0.4],
            [0.1, 0.2, 1.0, 0.4],
            [0.0, 0.8, 0.6, 0.7],
        ]
    )
    torch.testing.assert_close(recorded[0], expected)
    assert target_q_values[3, 1] == np.float32(0.2)  # the table itself is left as it was


@pytest.mark.parametrize("seed", range(5))
def test_batched_optimize_equals_the_articles_per_sample_loop(seed):
    """Same loss and same gradients as the article's per-sample formulation."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    agent = agent_ready_to_optimize()
    policy_dqn, target_dqn = DQN(48, 4), DQN(48, 4)
    mini_batch = random_mini_batch(rng)

    # lr=0 leaves the weights alone, so both loops see the same network and keep their gradients
    ours = agent._optimize(
        48,
        mini_batch,
        policy_dqn,
        q_values_of(target_dqn),
        torch.optim.SGD(policy_dqn.parameters(), lr=0),
    )
    our_gradients = [p.grad.clone() for p in policy_dqn.parameters()]
    articles = article_optimize(
        agent,
        48,
        mini_batch,
        policy_dqn,
        target_dqn,
        torch.optim.SGD(policy_dqn.parameters(), lr=0),
    )
    article_gradients = [p.grad.clone() for p in policy_dqn.parameters()]

    assert ours == pytest.approx(articles, abs=1e-6)
    for mine, theirs in zip(our_gradients, article_gradients):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-5)


def record_training(monkeypatch, seed=5, episodes=300):
    """Train, recording around every optimize step what the loop passed and what the network
    became."""
    calls = []
    real_optimize = CliffWalkingDQN._optimize
    real_walk = results.greedy_walk

    def optimize(self, num_states, mini_batch, policy_dqn, target_q_values, optimizer):
        loss = real_optimize(self, num_states, mini_batch, policy_dqn, target_q_values, optimizer)
        with torch.no_grad():
            fresh = [policy_dqn(state_to_dqn_input(s, 48)).argmax().item() for s in range(48)]
        calls.append(
            {
                "target_q_values": target_q_values.copy(),
                "policy_q_values": q_values_of(policy_dqn),
                "fresh_greedy": fresh,
            }
        )
        return loss

    def walk(greedy_actions, next_states, rewards):
        calls[-1]["cached_greedy"] = list(greedy_actions)
        return real_walk(greedy_actions, next_states, rewards)

    monkeypatch.setattr(CliffWalkingDQN, "_optimize", optimize)
    monkeypatch.setattr(results, "greedy_walk", walk)
    result = CliffWalkingDQN(seed=seed).train(episodes)
    return result, calls


def test_cached_greedy_actions_equal_a_fresh_argmax_after_every_optimize_step(monkeypatch):
    result, calls = record_training(monkeypatch)
    assert len(calls) == 300
    for call in calls:
        assert call["cached_greedy"] == call["fresh_greedy"]
    assert len({tuple(call["fresh_greedy"]) for call in calls}) > 10  # the policy did change


def test_target_network_is_synced_after_more_than_network_sync_rate_steps(monkeypatch):
    result, calls = record_training(monkeypatch)
    sync_rate = CliffWalkingDQN().network_sync_rate
    optimized = ~np.isnan(result.per_episode(result.loss_history))
    step_count, call, syncs = 0, 0, 0
    for steps, did_optimize in zip(result.steps_per_episode, optimized):
        step_count += steps
        if not did_optimize:
            continue
        if call + 1 < len(calls):
            following_target = calls[call + 1]["target_q_values"]
            if step_count > sync_rate:  # synced: the next step's target is this step's policy
                np.testing.assert_array_equal(following_target, calls[call]["policy_q_values"])
                step_count = 0
                syncs += 1
            else:  # not synced: the target stays as it was
                np.testing.assert_array_equal(following_target, calls[call]["target_q_values"])
        call += 1
    assert 0 < syncs < len(calls) - 1  # both branches were exercised


def test_copy_weights_gives_the_destination_network_the_source_networks_weights():
    """The target sync and the best-network snapshot: the article's
    load_state_dict(state_dict())."""
    torch.manual_seed(0)
    source, destination = DQN(48, 4), DQN(48, 4)
    all_states = state_to_dqn_input(np.arange(48), 48)
    with torch.no_grad():
        assert not torch.equal(source(all_states), destination(all_states))
        copy_weights(weights_of(source), weights_of(destination))
        assert torch.equal(source(all_states), destination(all_states))
        assert source.state_dict().keys() == destination.state_dict().keys()
        for name, tensor in source.state_dict().items():
            assert torch.equal(tensor, destination.state_dict()[name])
            # a copy, not shared
            assert tensor.data_ptr() != destination.state_dict()[name].data_ptr()
        source.block_1.bias.add_(1.0)  # a later change of the source leaves the copy as it was
        assert not torch.equal(source(all_states), destination(all_states))
    assert all(parameter.requires_grad for parameter in destination.parameters())  # still trainable


def test_ours_and_the_articles_formulation_play_the_same_episodes():
    """Same seed, same random draws: the batched code plays exactly the episodes the article's code
    plays."""
    article_state, article_steps = train_article_formulation(CliffWalkingDQN(seed=5), 300)
    ours = CliffWalkingDQN(seed=5).train(300)
    assert article_steps == ours.steps_per_episode.tolist()
    for name, tensor in ours.policy_state.items():
        torch.testing.assert_close(tensor, article_state[name], atol=1e-5, rtol=1e-4)
