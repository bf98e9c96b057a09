"""The article's ReplayMemory, a Transition namedtuple and a clear error for too big a sample."""

import random
from collections import deque
from typing import NamedTuple


class Transition(NamedTuple):
    """One step of experience: the article's tuple, in its order, with names for its fields."""

    state: int
    action: int
    new_state: int
    reward: int
    terminated: bool


class ReplayMemory:
    """Memory for Experience Replay

    Keeps the newest ``max_len`` transitions.
    """

    def __init__(self, max_len: int):
        # A deque with maxlen drops the oldest transition once the memory is full.
        self.memory = deque([], maxlen=max_len)

    def append(self, transition: Transition) -> None:
        self.memory.append(transition)

    def sample(self, sample_size: int = 1) -> list[Transition]:
        """``sample_size`` distinct transitions, chosen uniformly (python's ``random``)."""
        if not 0 <= sample_size <= len(self.memory):  # ours: settings
            raise ValueError(
                f"cannot sample {sample_size} transitions"
                f" from a replay memory holding {len(self.memory)}"
            )
        # Return k unique random elements
        return random.sample(self.memory, sample_size)

    def __len__(self) -> int:
        return len(self.memory)
