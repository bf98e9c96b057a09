"""The speed-ups (docs/speed.md): one torch thread, fused Adam, all Q-values in one pass."""

import functools

import numpy as np
import torch
from torch import nn


def on_one_torch_thread(method):
    """Run ``method`` on one torch thread and give the caller's setting back afterwards.

    The network is tiny: a second thread costs more than it saves, and far more when the other core
    is busy (``benchmarks/thread_cost.py``; its figures are in docs/speed.md).
    """

    @functools.wraps(method)
    def on_one_thread(*args, **kwargs):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return method(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return on_one_thread


@functools.cache
def fused_adam_available() -> bool:
    """Whether the installed torch runs Adam's fused kernel on the CPU (from torch 2.4 on).

    Fused or not, Adam's update is the same; the fused one is one kernel, cheaper on tiny tensors.
    The article's pin, torch 2.3.1, refuses ``fused=True`` on the CPU when the optimizer is made.
    """
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except RuntimeError:
        return False
    return True


@functools.cache
def identity(size: int) -> torch.Tensor:
    """The ``size`` x ``size`` identity matrix, built once: row s is the one-hot input of state s.

    Read only: indexing it with an array of states copies the rows.
    """
    return torch.eye(size)


def q_values_of(dqn: nn.Module) -> np.ndarray:
    """The network's Q-values for every state, one row per state, in one batched pass.

    The one-hot input of state s picks column s of ``block_1``'s weights, so the first layer's
    output for every state at once is those weights, transposed, plus the bias: what the article's
    ``forward`` computes for the identity matrix, to the bit, without multiplying by it (for Taxi's
    500 states, a quarter of the time). Between two optimize steps the policy network does not
    change, so looking its greedy action up in this table gives exactly what the article's forward
    pass per step gives. Each call returns a new array.
    """
    with torch.no_grad():
        hidden = dqn.block_1.weight.T.contiguous() + dqn.block_1.bias
        return dqn.block_2(dqn.relu(hidden)).numpy()
