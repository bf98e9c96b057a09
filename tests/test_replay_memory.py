import random

import pytest

from replay_memory import ReplayMemory, Transition


def fill(memory, count):
    for i in range(count):
        memory.append(Transition(i, i % 4, i + 1, 0, False))


def test_memory_keeps_only_the_newest_transitions():
    memory = ReplayMemory(max_len=5)
    fill(memory, 8)
    assert len(memory) == 5
    assert [t.state for t in memory.memory] == [3, 4, 5, 6, 7]


def test_sample_returns_distinct_stored_transitions():
    memory = ReplayMemory(max_len=100)
    fill(memory, 100)
    random.seed(0)
    for _ in range(50):
        batch = memory.sample(32)
        assert len(batch) == 32
        assert len(set(batch)) == 32
        assert all(t in memory.memory for t in batch)


def test_sample_is_uniform():
    memory = ReplayMemory(max_len=10)
    fill(memory, 10)
    random.seed(1)
    counts = [0] * 10
    for _ in range(5000):
        for t in memory.sample(3):
            counts[t.state] += 1
    # each transition is drawn with probability 3/10: 1500 of 5000 draws, give or take sampling
    # noise
    assert all(1350 < c < 1650 for c in counts), counts


def test_asking_for_more_than_stored_is_a_clear_error():
    memory = ReplayMemory(max_len=10)
    fill(memory, 3)
    with pytest.raises(
        ValueError, match="cannot sample 4 transitions from a replay memory holding 3"
    ):
        memory.sample(4)
