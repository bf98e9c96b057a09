import torch

from nn_model import DQN


def test_layers_map_states_to_one_q_value_per_action():
    dqn = DQN(in_states=48, out_actions=4)
    assert dqn(torch.zeros(48)).shape == (4,)
    assert dqn(torch.zeros(32, 48)).shape == (32, 4)
    assert dqn.block_1.in_features == 48 and dqn.block_1.out_features == 48
    assert dqn.block_2.in_features == 48 and dqn.block_2.out_features == 4


def test_state_dict_keys_are_the_articles():
    keys = DQN(in_states=48, out_actions=4).state_dict().keys()
    assert list(keys) == ["block_1.weight", "block_1.bias", "block_2.weight", "block_2.bias"]


def test_relu_sits_between_the_layers():
    dqn = DQN(in_states=2, out_actions=1)
    with torch.no_grad():
        dqn.block_1.weight.zero_()
        dqn.block_1.bias.fill_(-1.0)  # every hidden unit negative before the ReLU
        dqn.block_2.weight.fill_(1.0)
        dqn.block_2.bias.fill_(0.5)
    assert dqn(torch.ones(2)).item() == 0.5  # the negatives were cut to zero
