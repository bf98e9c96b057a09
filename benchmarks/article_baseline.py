"""The article's per-sample formulation of training, kept as the baseline ours is measured against.

The article runs the policy network once per greedy step, and in each optimize step it runs two or
three forward passes per sample of the mini-batch (policy on s, target on s, and target on s' for a
sample that is not terminal) before stacking them. This module does the same, inside the same
episode loop as ``CliffWalkingDQN.train`` (same step cap, same exploration budget, same choice of
the network to keep, same random draws in the same order), so that a run here and a run there with
one seed differ only in how the arithmetic is organised. The tests use ``article_optimize`` to
check that our batched ``_optimize`` computes the same loss and gradients; docs/speed.md says how
long two runs stay the same."""

import random

import torch

from torch import nn

from cliff_walking_dqn import CliffWalkingDQN, state_to_dqn_input
from nn_model import DQN
from ours.environment import seed_everything
from ours.exact_optimum import greedy_walk
from ours.speed import fused_adam_available, q_values_of
from ours.training import MAX_EXPLORING_EPISODES
from replay_memory import ReplayMemory


def article_optimize(
    agent: CliffWalkingDQN, num_states, mini_batch, policy_dqn, target_dqn
) -> float:
    """The article's ``_optimize``: a Python loop over the samples, three forward passes each.

    The article's names and comments; it returns the loss, as ours does.
    """
    # Prepare placeholders for target and actual q values
    current_q_list = []
    target_q_list = []

    # Iterate over saved memory
    for state, action, new_state, reward, terminated in mini_batch:
        if terminated:
            # Agent either reached goal (reward = 1) or slipped off the cliff (reward = 0)
            # Target q value should be set to the reward.
            target = torch.tensor([reward])
        else:
            # The agent neither fell nor reached his goal
            with torch.no_grad():
                target = (
                    torch.tensor(reward)
                    + agent.discount_factor
                    * target_dqn(state_to_dqn_input(new_state, num_states)).max()
                )

        # Get the current set of Q values
        current_q = policy_dqn(state_to_dqn_input(state, num_states))
        current_q_list.append(current_q)

        # Get the target set of Q values
        target_q = target_dqn(state_to_dqn_input(state, num_states))
        target_q_list.append(target_q)

        # Associate action with target
        target_q[action] = target

    # --- Back propagation ---
    # Compute loss for the whole minibatch
    loss = agent.loss_fn(torch.stack(current_q_list), torch.stack(target_q_list))
    # Optimize the model
    agent.optimizer.zero_grad()
    loss.backward()
    agent.optimizer.step()
    return loss.item()


def train_article_formulation(
    agent: CliffWalkingDQN, episodes: int, last: bool = False
) -> tuple[dict, list[int]]:
    """``CliffWalkingDQN.train``'s loop with the article's arithmetic: a forward pass for each
    greedy action, ``article_optimize``. Returns the kept network (with ``last``, the network after
    the last episode) and the length of every episode played (for checking that both formulations
    played the same episodes)."""
    environment = agent.environment
    env = environment.make(max_episode_steps=agent.max_episode_steps)
    num_states, num_actions = env.observation_space.n, env.action_space.n
    seed_everything(agent.seed, env)
    epsilon = 1
    memory = ReplayMemory(agent.replay_memory_size)
    policy_dqn = DQN(in_states=num_states, out_actions=num_actions)
    target_dqn = DQN(in_states=num_states, out_actions=num_actions)
    target_dqn.load_state_dict(policy_dqn.state_dict())
    agent.loss_fn = nn.MSELoss()
    agent.optimizer = torch.optim.Adam(
        policy_dqn.parameters(), lr=agent.learning_rate, fused=fused_adam_available()
    )
    best_length, best_state, episode_steps = None, None, []
    step_count = goals = learning_episodes = 0
    while learning_episodes < episodes and len(episode_steps) < MAX_EXPLORING_EPISODES:
        state = env.reset()[0]
        terminated = truncated = False
        reward = steps = 0
        while not terminated and not truncated:
            if random.random() < epsilon:
                action = env.action_space.sample()
            else:
                with torch.no_grad():
                    action = policy_dqn(state_to_dqn_input(state, num_states)).argmax().item()
            new_state, action_reward, terminated, truncated, _ = env.step(action)
            terminated, reward = agent._process_episode(action_reward, new_state)
            memory.append((state, action, new_state, reward, terminated))
            state = new_state
            step_count += 1
            steps += 1
        episode_steps.append(steps)
        goals += reward
        if len(memory) > agent.mini_batch_size and goals > 0:
            mini_batch = memory.sample(agent.mini_batch_size)
            article_optimize(agent, num_states, mini_batch, policy_dqn, target_dqn)
            learning_episodes += 1
            epsilon = max(epsilon - 1 / episodes, 0)
            if step_count > agent.network_sync_rate:
                target_dqn.load_state_dict(policy_dqn.state_dict())
                step_count = 0
            # The same evaluation as ours (the article has none), so both keep the same network
            path = greedy_walk(q_values_of(policy_dqn).argmax(axis=1).tolist(), environment)
            if path is not None and (best_length is None or len(path) - 1 <= best_length):
                best_length = len(path) - 1
                best_state = {k: v.clone() for k, v in policy_dqn.state_dict().items()}
    env.close()
    return (policy_dqn.state_dict() if last else best_state), episode_steps
