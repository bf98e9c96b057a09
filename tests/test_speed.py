"""What makes training fast without changing it: one torch thread, fused Adam where torch has it."""

import copy
import random

import pytest
import torch

import cliff_walking_dqn
from ours import speed
from cliff_walking_dqn import CliffWalkingDQN
from conftest import random_mini_batch
from nn_model import DQN
from ours.results import TrainingFailed


@pytest.fixture
def two_threads():
    """The caller's setting: two torch threads (conftest sets one); restored afterwards."""
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(1)


def record_threads(monkeypatch, owner, name):
    """Wrap ``owner.name`` so that each call records the torch threads it runs on."""
    seen = []
    real = getattr(owner, name)

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return seen


def test_train_runs_on_one_thread_and_gives_the_callers_setting_back(two_threads, monkeypatch):
    seen = record_threads(monkeypatch, CliffWalkingDQN, "_optimize")
    with pytest.raises(TrainingFailed):  # 20 learning episodes are too few to find the path
        CliffWalkingDQN(seed=6).train(20)
    assert len(seen) == 20 and set(seen) == {1}
    assert torch.get_num_threads() == 2


def test_a_failed_training_gives_the_callers_setting_back_too(two_threads):
    with pytest.raises(TrainingFailed):
        CliffWalkingDQN(seed=6).train(5)
    assert torch.get_num_threads() == 2


@pytest.mark.skipif(
    not speed.fused_adam_available(), reason="this torch has no fused Adam on the CPU"
)
def test_fused_and_ordinary_adam_make_the_same_update():
    torch.manual_seed(0)
    rng = random.Random(0)
    agent = CliffWalkingDQN()
    agent.loss_fn = torch.nn.MSELoss()
    fused_dqn = DQN(48, 4)
    ordinary_dqn, start = copy.deepcopy(fused_dqn), copy.deepcopy(fused_dqn)
    target_dqn = DQN(48, 4)
    fused = torch.optim.Adam(fused_dqn.parameters(), lr=agent.learning_rate, fused=True)
    ordinary = torch.optim.Adam(ordinary_dqn.parameters(), lr=agent.learning_rate, fused=False)
    for _ in range(3):
        mini_batch = random_mini_batch(rng)
        agent.optimizer = fused
        agent._optimize(48, mini_batch, fused_dqn, target_dqn)
        agent.optimizer = ordinary
        agent._optimize(48, mini_batch, ordinary_dqn, target_dqn)
    for one, other, before in zip(
        fused_dqn.parameters(), ordinary_dqn.parameters(), start.parameters()
    ):
        assert not torch.equal(one, before)  # the steps did move every tensor
        torch.testing.assert_close(one, other, atol=1e-6, rtol=1e-5)


def test_training_runs_where_torch_has_no_fused_adam_on_the_cpu(monkeypatch):
    """torch 2.3 (the article's pin) refuses fused=True on the CPU: training uses ordinary Adam."""
    monkeypatch.setattr(cliff_walking_dqn, "fused_adam_available", lambda: False)
    optimizers = []
    real_optimize = CliffWalkingDQN._optimize

    def optimize(self, num_states, mini_batch, policy_dqn, target_dqn):
        optimizers.append(self.optimizer)
        return real_optimize(self, num_states, mini_batch, policy_dqn, target_dqn)

    monkeypatch.setattr(CliffWalkingDQN, "_optimize", optimize)
    result = CliffWalkingDQN(seed=6).train(500)
    assert not optimizers[0].defaults["fused"]
    assert result.best_measure == 13


def test_fused_adam_available_tells_what_torch_accepts(monkeypatch):
    speed.fused_adam_available.cache_clear()

    def refuses_fused(params, lr=0.001, fused=None, **kwargs):
        if fused:
            raise RuntimeError(
                "`fused=True` requires all the params to be ... of supported devices: ['cuda']"
            )
        return object()

    monkeypatch.setattr(torch.optim, "Adam", refuses_fused)
    try:
        assert speed.fused_adam_available() is False
    finally:
        speed.fused_adam_available.cache_clear()
