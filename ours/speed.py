"""The speed-ups (docs/speed.md): one torch thread, fused Adam, all Q-values in a pass, copies."""

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
def identity(size: int) -> np.ndarray:
    """The ``size`` x ``size`` identity matrix, built once: row s is the one-hot input of state s.

    Read only: ``state_to_dqn_input`` copies its rows, ``q_values_of`` hands it to the network.
    """
    return np.eye(size, dtype=np.float32)


def q_values_of(dqn: nn.Module) -> np.ndarray:
    """The network's Q-values for every state, one row per state, from one batched forward pass.

    Row s of the identity matrix is the one-hot input of state s. Between two optimize steps the
    network does not change, so looking its greedy action up in this table gives exactly what the
    article's per-step forward pass gives. Each call returns a new array.
    """
    with torch.no_grad():
        return dqn(torch.from_numpy(identity(dqn.block_1.in_features))).numpy()


def weights_of(dqn: nn.Module) -> list[torch.Tensor]:
    """The network's parameters as tensors that share their storage but not autograd: writing into
    them changes the network, and needs no ``torch.no_grad()``."""
    return [parameter.detach() for parameter in dqn.parameters()]


def copy_weights(source: list[torch.Tensor], destination: list[torch.Tensor]) -> None:
    """The article's ``destination.load_state_dict(source.state_dict())``, copied tensor by tensor
    in place between the ``weights_of`` two networks: the same weights in about 4 us instead of 41
    us here (``load_state_dict`` walks the modules and checks every key; docs/speed.md has the
    timeit commands), and this runs after nearly every episode (target sync, best-network copy)."""
    for source_tensor, destination_tensor in zip(source, destination):
        destination_tensor.copy_(source_tensor)
