"""The article's nn_model.py: its DQN, two fully connected layers with one ReLU between them."""

import torch
from torch import nn


class DQN(nn.Module):
    """Deep Q-learning Neural Network model.

    It maps a one-hot encoded state to one Q-value per action. The attribute names ``block_1`` and
    ``block_2`` are the article's; they are the keys of the saved state_dict, so a model file saved
    by the article's code loads here and ours loads there."""

    def __init__(self, in_states: int, out_actions: int):
        super().__init__()
        # Constants
        self.L1_NODES = 48
        # Activation functions
        self.relu = nn.ReLU()
        # Layers
        self.block_1 = nn.Linear(in_features=in_states, out_features=self.L1_NODES)
        self.block_2 = nn.Linear(in_features=self.L1_NODES, out_features=out_actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block_1(x)
        x = self.relu(x)
        x = self.block_2(x)
        return x
