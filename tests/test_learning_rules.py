"""The article's learning rules: reward processing, the optimize step's targets from the target
network, the sync, and the equivalence of the batched optimize step with the article's loop."""

import random

import numpy as np
import pytest
import torch

from article_baseline import article_optimize, train_article_formulation
from cliff_walking_dqn import CliffWalkingDQN, state_to_dqn_input
from conftest import random_mini_batch
from nn_model import DQN
from ours.speed import q_values_of
from ours.training import TrainingHistory
from replay_memory import Transition

GAMMA = CliffWalkingDQN().discount_factor


@pytest.mark.parametrize(
    "env_reward, new_state, expected",
    [
        (-1, 47, [True, 1]),  # stepped onto the goal
        (-100, 36, [True, 0]),  # fell off the cliff: CliffWalking puts the agent back on the start
        (-1, 24, [False, 0]),  # an ordinary step
        (-1, 36, [False, 0]),  # an ordinary step back onto the start cell
    ],
)
def test_process_episode(env_reward, new_state, expected):
    assert CliffWalkingDQN()._process_episode(env_reward, new_state) == expected


def test_state_to_dqn_input_is_one_hot():
    assert torch.equal(state_to_dqn_input(2, 4), torch.tensor([0.0, 0.0, 1.0, 0.0]))
    batch = state_to_dqn_input(np.array([3, 0]), 4)
    assert torch.equal(batch, torch.tensor([[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]))
    batch[0, 0] = 7.0  # a batch is the caller's own: the matrix it came from stays intact
    assert torch.equal(state_to_dqn_input(torch.tensor([3]), 4), torch.tensor([[0, 0, 0, 1.0]]))


def dqn_with_q_values(table: np.ndarray) -> DQN:
    """A DQN whose Q-values are ``table`` exactly: block_1 copies the one-hot input (the ReLU passes
    it), block_2 maps hidden unit s to row s of the table."""
    states, actions = table.shape
    dqn = DQN(states, actions)
    with torch.no_grad():
        dqn.block_1.weight.copy_(torch.eye(states))
        dqn.block_1.bias.zero_()
        dqn.block_2.weight.copy_(torch.from_numpy(table.T.astype(np.float32)))
        dqn.block_2.bias.zero_()
    return dqn


def targets_of(agent, mini_batch, policy_dqn, target_dqn) -> torch.Tensor:
    """The target Q-values ``_optimize`` fits the policy network to (lr 0: nothing moves)."""
    recorded = []

    def recording_loss(current_q, target_q):
        recorded.append(target_q.clone())
        return torch.nn.functional.mse_loss(current_q, target_q)

    agent.loss_fn = recording_loss
    agent.optimizer = torch.optim.SGD(policy_dqn.parameters(), lr=0)
    agent._optimize(48, mini_batch, policy_dqn, target_dqn)
    return recorded[0]


HAND_MADE_BATCH = [
    Transition(3, 1, 5, 0, False),  # not terminal: 0 + 0.9 * max Q_target(5) = 0.72
    Transition(3, 2, 47, 1, True),  # goal: the reward alone
    Transition(5, 0, 36, 0, True),  # cliff: the reward alone
]


def hand_made_table() -> np.ndarray:
    table = np.zeros((48, 4))
    table[3] = [0.1, 0.2, 0.3, 0.4]
    table[5] = [0.5, 0.8, 0.6, 0.7]
    return table


def test_optimize_targets_match_values_worked_out_by_hand():
    target_dqn = dqn_with_q_values(hand_made_table())
    targets = targets_of(CliffWalkingDQN(), HAND_MADE_BATCH, DQN(48, 4), target_dqn)
    expected = torch.tensor(
        [
            # other actions keep the target network's values for state 3
            [0.1, GAMMA * 0.8, 0.3, 0.4],
            [0.1, 0.2, 1.0, 0.4],
            [0.0, 0.8, 0.6, 0.7],
        ]
    )
    torch.testing.assert_close(targets, expected)
    assert targets.dtype == torch.float32


def test_the_targets_come_from_the_target_network_not_the_policy_network():
    torch.manual_seed(0)
    agent, policy_dqn = CliffWalkingDQN(), DQN(48, 4)
    target_dqn = dqn_with_q_values(hand_made_table())
    before = targets_of(agent, HAND_MADE_BATCH, policy_dqn, target_dqn)

    with torch.no_grad():  # another policy network: the targets stay
        for parameter in policy_dqn.parameters():
            parameter.add_(torch.randn_like(parameter))
    torch.testing.assert_close(targets_of(agent, HAND_MADE_BATCH, policy_dqn, target_dqn), before)

    changed = hand_made_table()
    changed[5] = [0.5, 0.9, 0.6, 0.7]  # the target network's best value in state 5: 0.9
    changed[3] = [0.2, 0.2, 0.3, 0.4]
    after = targets_of(agent, HAND_MADE_BATCH, policy_dqn, dqn_with_q_values(changed))
    assert after[0, 1] == pytest.approx(GAMMA * 0.9)  # the bootstrapped target moved
    assert after[0, 0] == pytest.approx(0.2) and after[1, 0] == pytest.approx(0.2)
    assert after[1, 2] == 1.0 and after[2, 0] == 0.0  # terminal targets are the rewards alone


@pytest.mark.parametrize("seed", range(5))
def test_batched_optimize_equals_the_articles_per_sample_loop(seed):
    """Same loss and same gradients as the article's per-sample formulation."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    agent = CliffWalkingDQN()
    agent.loss_fn = torch.nn.MSELoss()
    policy_dqn, target_dqn = DQN(48, 4), DQN(48, 4)
    mini_batch = random_mini_batch(rng)

    # lr=0 leaves the weights alone, so both loops see the same network and keep their gradients
    agent.optimizer = torch.optim.SGD(policy_dqn.parameters(), lr=0)
    ours = agent._optimize(48, mini_batch, policy_dqn, target_dqn)
    our_gradients = [p.grad.clone() for p in policy_dqn.parameters()]
    assert all(p.grad is None for p in target_dqn.parameters())  # ours runs it without autograd
    articles = article_optimize(agent, 48, mini_batch, policy_dqn, target_dqn)
    article_gradients = [p.grad.clone() for p in policy_dqn.parameters()]

    assert ours == pytest.approx(articles, abs=1e-6)
    for mine, theirs in zip(our_gradients, article_gradients):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-5)


def record_training(monkeypatch, seed=5, episodes=300):
    """Train, recording around every optimize step what the target network was and what the policy
    network became, and the greedy actions the history kept."""
    calls = []
    real_optimize = CliffWalkingDQN._optimize
    real_step = TrainingHistory.optimize_step

    def optimize(self, num_states, mini_batch, policy_dqn, target_dqn):
        calls.append({"target_q_values": q_values_of(target_dqn)})
        loss = real_optimize(self, num_states, mini_batch, policy_dqn, target_dqn)
        with torch.no_grad():
            fresh = [policy_dqn(state_to_dqn_input(s, 48)).argmax().item() for s in range(48)]
        calls[-1].update(policy_q_values=q_values_of(policy_dqn), fresh_greedy=fresh)
        return loss

    def optimize_step(self, loss, policy_dqn):
        real_step(self, loss, policy_dqn)
        calls[-1]["cached_greedy"] = list(self.greedy_actions)

    monkeypatch.setattr(CliffWalkingDQN, "_optimize", optimize)
    monkeypatch.setattr(TrainingHistory, "optimize_step", optimize_step)
    result = CliffWalkingDQN(seed=seed, model_file=None).train(episodes)
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


def test_without_the_sync_training_ends_elsewhere(monkeypatch):
    """The target network matters: with the sync made a no-op, the same seed learns other weights
    (the target stays the initial network)."""
    synced = CliffWalkingDQN(seed=5, model_file=None, save_last=True).train(100)
    real_load = torch.nn.Module.load_state_dict
    loads = []

    def load_state_dict(module, state_dict, *args, **kwargs):
        loads.append(module)
        if len(loads) > 1:  # the first is "Be sure that both models have the same weights"
            return None
        return real_load(module, state_dict, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "load_state_dict", load_state_dict)
    unsynced = CliffWalkingDQN(seed=5, model_file=None, save_last=True).train(100)
    assert len(loads) > 10  # the loop did try to sync
    assert any(
        not torch.equal(synced.last_state[name], unsynced.last_state[name])
        for name in synced.last_state
    )


def test_ours_and_the_articles_formulation_play_the_same_episodes():
    """Same seed, same random draws: the batched code plays exactly the episodes the article's code
    plays, and ends with the same network to float32 rounding (benchmarks/formulations.py says how
    long a longer run stays together)."""
    last = train_article_formulation(CliffWalkingDQN(seed=5), 100, last=True)
    article_state, article_steps = last
    ours = CliffWalkingDQN(seed=5, model_file=None, save_last=True).train(100)
    assert article_steps == ours.steps_per_episode.tolist()
    assert len(article_steps) > 200  # exploring, then 100 episodes of optimize steps
    for name, tensor in ours.last_state.items():
        torch.testing.assert_close(tensor, article_state[name], atol=1e-5, rtol=1e-4)
