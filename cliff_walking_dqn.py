"""Deep Q-learning on Gymnasium's CliffWalking: the article's file, in its order, runnable today.

``python cliff_walking_dqn.py`` trains, saves the policy network to ``cliff_walking_dql.pt`` and
shows a test run; ``--help`` lists the flags. The article's lines are here in its order, with its
names and comments (its 47 and -100 named ``GOAL_STATE`` and ``CLIFF_REWARD``). A statement that
is not the article's carries a tag, the comment ``ours: <topic>``, at its end or on the line
above; README's "Deviations from the article" says why, a bullet per topic. What the article does
not have at all lives in the package ``ours/`` (but for ``Transition``, beside the memory in
replay_memory.py).
"""

import random
import sys

from ours.packages import require_installed

require_installed(__name__)  # ours: set-up
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from nn_model import DQN
from replay_memory import ReplayMemory
from ours.command_line import OneLineErrors, check_before_any_work, parse_args
from ours.reports import report_saved, report_test, report_training
from ours.environment import (
    CLIFF_REWARD, GOAL_STATE, Environment, cliff_walking_id, describe, seed_everything,
)
from ours.model_file import MODEL_FILE, load_policy, save_model, tested_network
from ours.results import TestResult, TrainingFailed, TrainingResult
from ours.training import BAR_FORMAT, TrainingHistory, TrainingProgress
from ours.settings import apply_settings, check_test_call, check_training_call
from ours.speed import fused_adam_available, identity, on_one_torch_thread


def state_to_dqn_input(state, num_states: int) -> torch.Tensor:
    """The network's input: the one-hot encoding of a state, row ``state`` of the identity matrix;
    for an array of states, a batch of rows (a copy; a single row is a view: read only)."""
    return identity(num_states)[state]  # ours: batch


class CliffWalkingDQN:
    """Cliff Walking Deep Q-learning implementation

    Every setting below is an attribute, and a keyword of the constructor, checked where it is set:
    ``CliffWalkingDQN(seed=0, discount_factor=0.99)``. The article's hyperparameters:

    :param learning_rate: Adam's step size
    :param discount_factor: gamma, the weight of the next state's value in the target
    :param network_sync_rate: steps the agent takes between two syncs of the target network
    :param replay_memory_size: transitions the replay memory keeps
    :param mini_batch_size: transitions sampled for one optimize step

    And ours (README, "Deviations from the article", by the topic of their marks):

    :param max_episode_steps: time limit: the most steps of a training episode
    :param test_max_steps: the article's "step_count > 50" in test, named
    :param seed: seeds python, numpy, torch and the environment; None: train draws one
    :param slippery: play CliffWalkingSlippery-v1, where a move may slip sideways
    :param model_file: the file train writes and test reads; None: none, test plays train's network
    :param save_last: save the network after the last episode, as the article does, not the best
    """

    def __init__(self, **settings):  # ours: settings
        # Hyperparameters
        self.learning_rate = 0.001
        self.discount_factor = 0.9
        self.network_sync_rate = 10
        self.replay_memory_size = 1000
        self.mini_batch_size = 32
        self.max_episode_steps = 100  # ours: time limit
        self.test_max_steps = 50  # ours: test
        self.seed = None  # ours: seeds
        self.slippery = False  # ours: slippery
        self.model_file = MODEL_FILE  # ours: model file
        self.save_last = False  # ours: best network
        apply_settings(self, settings)  # ours: settings

    @on_one_torch_thread  # ours: speed
    def train(self, episodes: int = 1000, render: bool = False) -> TrainingResult:
        """Train until ``episodes`` episodes have learned, save the network (README: "From
        Python") and return what the run learned; TrainingFailed when no network walks."""
        check_training_call(episodes, render)  # ours: settings
        # Prepare environment
        env = self.environment.make(max_episode_steps=self.max_episode_steps)  # ours: env
        num_states = env.observation_space.n
        num_actions = env.action_space.n
        self.seed = seed_everything(self.seed, env)  # ours: seeds

        epsilon = 1  # exploration_factor - 1 = 100% random actions, explore at the beginning
        memory = ReplayMemory(self.replay_memory_size)

        # Create policy and target neural networks
        policy_dqn = DQN(in_states=num_states, out_actions=num_actions)
        target_dqn = DQN(in_states=num_states, out_actions=num_actions)
        # Be sure that both models have the same weights
        target_dqn.load_state_dict(policy_dqn.state_dict())

        # Training components
        self.loss_fn = nn.MSELoss()
        self.optimizer = torch.optim.Adam(  # ours: speed
            policy_dqn.parameters(), lr=self.learning_rate, fused=fused_adam_available()
        )

        rewards_per_episode = np.zeros(episodes)
        epsilon_history = []
        reward = None
        step_count = 0
        history = TrainingHistory(self, policy_dqn, epsilon_history)  # ours: results

        print(f"--- Training --- (seed {self.seed}: the same seed repeats this run)")  # ours: seeds
        with TrainingProgress(episodes, history) as progress:  # ours: exploration
            for i in progress:  # ours: exploration
                state = env.reset()[0]  # Reset the environment
                terminated = False
                truncated = False

                while not terminated and not truncated:
                    # Select action based on epsilon-greedy
                    if random.random() < epsilon:
                        # Select random action
                        action = env.action_space.sample()
                    else:
                        # Select best action
                        action = history.greedy_actions[state]  # ours: speed
                    # Execute action
                    # ours: time limit
                    new_state, action_reward, terminated, truncated, _ = env.step(action)
                    # Process reward and observations
                    # ours: spelling
                    terminated, reward = self._process_episode(action_reward, new_state)
                    # Save experience into memory
                    memory.append((state, action, new_state, reward, terminated))
                    # Move to the next state
                    state = new_state
                    # Increment step counter
                    step_count += 1
                    history.count_step(reward)  # ours: results

                # Keep track of the rewards collected per episode.
                if reward == 1:
                    rewards_per_episode[i] = 1

                # Check if enough experience has been collected and if at least 1 reward has been
                # collected
                if len(memory) > self.mini_batch_size and np.sum(rewards_per_episode) > 0:
                    mini_batch = memory.sample(self.mini_batch_size)
                    # ours: results
                    loss = self._optimize(num_states, mini_batch, policy_dqn, target_dqn)

                    # Decay exploration_factor
                    epsilon = max(epsilon - (1 / episodes), 0)
                    epsilon_history.append(epsilon)

                    # Synchronize policy network to target network after a certain number of steps
                    if step_count > self.network_sync_rate:
                        target_dqn.load_state_dict(policy_dqn.state_dict())
                        step_count = 0
                    history.optimize_step(loss, policy_dqn)  # ours: best network

        # After training, save the policy network's weights (the article says so in its text)
        result = history.result(policy_dqn, episodes)  # ours: best network
        self.trained_weights = save_model(result.state_to_save, self.model_file)  # ours: model file
        report_saved(result)  # ours: model file
        return result  # ours: results

    def _process_episode(self, reward: int, new_state: int) -> list:  # ours: spelling
        terminated = False
        output_reward = 0
        if new_state == GOAL_STATE:
            # Reached the goal! Episode ends
            terminated = True
            output_reward = 1
        elif reward == CLIFF_REWARD:
            # Slipped off the cliff - end of episode
            terminated = True
            output_reward = 0
        return [terminated, output_reward]

    def _optimize(self, num_states: int, mini_batch: list, policy_dqn: DQN, target_dqn: DQN):
        # Prepare placeholders for target and actual q values
        # Iterate over saved memory
        # ours: batch
        states, actions, new_states, rewards, terminated = (
            torch.from_numpy(np.array(field)) for field in zip(*mini_batch)
        )
        with torch.no_grad():
            # Get the target set of Q values, and the new states' Q values
            target_q, new_state_q = target_dqn(  # ours: batch
                state_to_dqn_input(torch.cat((states, new_states)), num_states)
            ).chunk(2)
            # If terminated, the agent either reached goal (reward = 1) or slipped off the cliff
            # (reward = 0): the target q value is the reward. Else the agent neither fell nor
            # reached his goal: the reward plus the discounted best q value of the new state.
            target = torch.where(  # ours: batch
                terminated, rewards, rewards + self.discount_factor * new_state_q.max(dim=1).values
            )
            # Associate action with target
            target_q[torch.arange(len(actions)), actions] = target  # ours: batch

        # Get the current set of Q values
        current_q = policy_dqn(state_to_dqn_input(states, num_states))  # ours: batch

        # --- Back propagation ---
        # Compute loss for the whole minibatch
        loss = self.loss_fn(current_q, target_q)  # ours: batch
        # Optimize the model
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()  # ours: results

    def test(self, episodes: int = 100, render_mode: str | None = None) -> TestResult:  # ours: env
        check_test_call(episodes, render_mode)  # ours: settings
        # Prepare environment
        env = self.environment.make(render_mode=render_mode, seed=self.seed)  # ours: env
        num_states = env.observation_space.n
        num_actions = env.action_space.n

        # Load learned policy
        policy_dqn = load_policy(self, num_states, num_actions)  # ours: model file
        policy_dqn.eval()  # switch model to evaluation mode

        num_success = 0
        print("--- Test ---", tested_network(self))  # ours: model file
        for _ in tqdm(range(episodes), desc="Test", bar_format=BAR_FORMAT):  # ours: test
            state = env.reset()[0]  # Initialize to state 0 (the article's words: the start is 36)
            terminated = False
            truncated = False
            step_count = 0

            while not terminated and not truncated:
                # Select best action
                with torch.no_grad():
                    action = policy_dqn(state_to_dqn_input(state, num_states)).argmax().item()
                # Execute action
                state, reward, terminated, truncated, _ = env.step(action)
                step_count += 1
                if reward == CLIFF_REWARD:
                    # Agent slipped off the cliff
                    break
                if state in self.environment.goal_states:  # ours: env
                    # Agent reached goal!
                    num_success += 1
                    break
                if step_count > self.test_max_steps:  # ours: test
                    # Agent did too many moves
                    break

        env.close()
        print(f"Success rate: {num_success / episodes * 100:.1f} %")  # ours: test
        return TestResult.of(self, policy_dqn, num_success, episodes)  # ours: results

    @property
    def environment(self) -> Environment:  # ours: env
        """What train and test play, described once (ours/environment.py): CliffWalking, slippery
        or not, under this agent's reward rule and discount factor. A subclass for another
        environment returns its own."""
        env_id = cliff_walking_id(self.slippery)
        return describe(env_id, {}, self._process_episode, self.discount_factor)


def main(argv=None) -> int:
    """Train and save, then test and show, on one object, as the article's repository's main does
    (``train_and_test``, below).

    Not in the article, so not marked: ours/command_line.py has the flags, the checks before any
    work and the one-line errors, ours/reports.py what the run prints and draws.
    """
    args = parse_args(argv, CliffWalkingDQN())
    return train_and_test(
        args, lambda **settings: CliffWalkingDQN(slippery=args.slippery, **settings)
    )


def train_and_test(args, make_agent) -> int:
    """The run of ``main`` for the agent ``make_agent(**settings)`` makes: other_environments.py's
    main runs its agents through it too. Returns the exit status."""
    with OneLineErrors(args.model) as errors:
        render_mode = check_before_any_work(args)
        agent = make_agent(
            seed=args.seed, model_file=args.model, save_last=args.save_last, **args.hyperparameters
        )
        if not args.test_only:
            try:
                result = agent.train(args.episodes)
            except TrainingFailed as failure:
                report_training(failure.result, args.plots)  # its curves show why it failed
                raise
            report_training(result, args.plots)
        report_test(agent.test(args.test_episodes), render_mode, args.plots)
    return errors.exit_status


if __name__ == "__main__":
    sys.exit(main())
