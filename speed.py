"""The speed-ups the article's code lacks (README, Speed): every state's Q-values in one pass, weight copies in place."""

import numpy as np
import torch
from torch import nn


def q_values_of(dqn: nn.Module) -> np.ndarray:
    """The network's Q-values for every state, one row per state, from one batched forward pass.

    Row s of the identity matrix is the one-hot input of state s. Between two optimize steps the
    network does not change, so looking its greedy action up in this table gives exactly what the
    article's per-step forward pass gives.
    """
    with torch.no_grad():
        return dqn(torch.eye(dqn.block_1.in_features)).numpy()


def weights_of(dqn: nn.Module) -> list[torch.Tensor]:
    """The network's parameters as tensors that share their storage but not autograd: writing into
    them changes the network, and needs no ``torch.no_grad()``."""
    return [parameter.detach() for parameter in dqn.parameters()]


def copy_weights(source: list[torch.Tensor], destination: list[torch.Tensor]) -> None:
    """The article's ``destination.load_state_dict(source.state_dict())``, copied tensor by tensor in
    place between the ``weights_of`` two networks: the same weights in 4 us instead of 40 us here
    (``load_state_dict`` walks the modules and checks every key; README, Deviations, has the timeit
    commands), and this runs after nearly every episode (target sync and best-network snapshot)."""
    for source_tensor, destination_tensor in zip(source, destination):
        destination_tensor.copy_(source_tensor)
