"""Deep Q-learning on Gymnasium's CliffWalking: the article's file, in its order, runnable today.

``python cliff_walking_dqn.py`` trains, saves the policy network to ``cliff_walking_dql.pt`` and
shows a test run; ``--help`` lists the flags. This file holds what the article's holds, in its order
and with its names: ``state_to_dqn_input``, the ``CliffWalkingDQN`` class and ``main``. A line marked
"ours: <topic>" is not in the article; the topic names the bullet of README's "Deviations from the
article" that says why. The other modules hold what the article lacks (README, "Project layout").
"""

import random
import sys

from ours.packages import require_installed

require_installed()  # ours: set-up (without the packages: one line naming the missing one, exit 2)
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ours.command_line import (
    OneLineErrors, check_before_any_work, parse_args, report_saved, report_test, report_training,
)
from ours.environment import CLIFF_REWARD, GOAL_STATE, make_env, seed_everything, test_reset_seed
from ours.episode_replay import show_episode
from ours.model_file import MODEL_FILE, load_model, save_model
from nn_model import DQN
from replay_memory import ReplayMemory, Transition
from ours.results import TestResult, TrainingFailed, TrainingProgress, TrainingResult, best_network_keeper
from ours.speed import (copy_weights, fused_adam_available, identity, on_one_torch_thread,
                        q_values_of, weights_of)


def state_to_dqn_input(state, num_states: int) -> torch.Tensor:
    """One-hot encode a state (an int) for the network; ours: speed (a batch of states, an array,
    too; rows of an identity matrix built once, copied by ``np.take``, so the caller owns them)."""
    return torch.from_numpy(np.take(identity(num_states), state, axis=0))


class CliffWalkingDQN:
    """Cliff Walking Deep Q-learning implementation"""

    def __init__(self, seed: int | None = None, **hyperparameters):  # ours: seeds, experiments
        # Hyperparameters
        self.learning_rate = 0.001  # Adam's step size
        self.discount_factor = 0.9  # gamma: weight of the next state's value in the target
        self.network_sync_rate = 10  # steps the agent takes between two target-network syncs
        self.replay_memory_size = 1000  # transitions the replay memory keeps
        self.mini_batch_size = 32  # transitions sampled for one optimize step
        self.max_episode_steps = 100  # ours: time limit (of a training episode)
        self.max_exploration_episodes = 100_000  # ours: exploration (episodes allowed to find the goal once)
        self.test_max_steps = 50  # ours: test (the article's 50, as a name)
        self.seed = seed  # ours: seeds (python, numpy, torch and the environment; None: not seeded)
        self.slippery = False  # ours: slippery (CliffWalkingSlippery-v1: a move may go to either side)
        self.model_file = MODEL_FILE  # ours: model file (train writes, test reads; None: no save)
        self.save_last = False  # ours: best network (True: save the last, the article's rule)
        for name, value in hyperparameters.items():  # ours: experiments (--learning-rate and the like)
            if not hasattr(self, name):
                raise TypeError(f"CliffWalkingDQN has no hyperparameter '{name}'")
            setattr(self, name, value)

    @on_one_torch_thread  # ours: speed
    def train(self, episodes: int = 1000) -> TrainingResult:
        """Train until ``episodes`` episodes have learned, save the policy network to
        ``self.model_file`` and return it with the history.

        Learning starts once the goal has been reached; the exploring episodes before come on top.
        The network saved is the best one seen, or with ``self.save_last`` the last one; without a
        network that walks to the goal, TrainingFailed is raised and nothing is saved, unless
        ``self.save_last``.
        """
        # Prepare environment
        # ours: Gymnasium 1.x, time limit, slippery
        env = make_env(max_episode_steps=self.max_episode_steps, slippery=self.slippery)
        num_states = env.observation_space.n
        num_actions = env.action_space.n
        seed_everything(self.seed, env)  # ours: seeds

        epsilon = 1  # exploration_factor: 1 = 100% random actions, explore at the beginning
        memory = ReplayMemory(self.replay_memory_size)

        # Create policy and target neural networks
        policy_dqn = DQN(in_states=num_states, out_actions=num_actions)
        target_dqn = DQN(in_states=num_states, out_actions=num_actions)
        # Be sure that both models have the same weights
        target_dqn.load_state_dict(policy_dqn.state_dict())

        # Training components
        self.loss_fn = nn.MSELoss()
        # ours: small fixes (a local, not self.optimizer), speed (fused where this torch has it)
        optimizer = torch.optim.Adam(policy_dqn.parameters(), lr=self.learning_rate, fused=fused_adam_available())

        rewards_per_episode = []  # ours: exploration (one entry per episode played, so a list)
        epsilon_history = []
        reward = None
        step_count = 0
        goals = 0  # ours: speed (np.sum(rewards_per_episode), kept up to date: see below)
        # ours: speed (every state's Q-values, computed only when a network changes)
        policy_q_values = q_values_of(policy_dqn)
        target_q_values = q_values_of(target_dqn)
        greedy_actions = policy_q_values.argmax(axis=1).tolist()
        policy_weights, target_weights = weights_of(policy_dqn), weights_of(target_dqn)
        # ours: best network, slippery (ranked by exact value there); pictures (what the training picture shows)
        best = best_network_keeper(policy_dqn, env, self.slippery, self.discount_factor, self._process_episode)
        steps_per_episode, loss_history = [], []

        print("--- Training ---")
        with TrainingProgress(episodes) as progress:  # ours: exploration (count the episodes that learn)
            while len(epsilon_history) < episodes:
                state = env.reset()[0]  # Reset the environment
                terminated = False
                truncated = False
                steps_per_episode.append(0)  # ours: pictures

                while not terminated and not truncated:
                    # Select action based on epsilon-greedy
                    if random.random() < epsilon:
                        # Select random action
                        action = env.action_space.sample()
                    else:
                        # Select best action
                        action = greedy_actions[state]  # ours: speed (looked up)
                    # Execute action
                    new_state, action_reward, terminated, truncated, _ = env.step(action)  # ours: time limit
                    # Process reward and observations
                    terminated, reward = self._process_episode(action_reward, new_state)
                    # Save experience into memory
                    memory.append((state, action, new_state, reward, terminated))
                    # Move to the next state
                    state = new_state
                    # Increment step counter
                    step_count += 1
                    steps_per_episode[-1] += 1  # ours: pictures

                # Keep track of the rewards collected per episode.
                rewards_per_episode.append(reward)  # ours: exploration (one entry per episode played)
                goals += reward  # ours: speed

                # Check if enough experience has been collected and if at least 1 reward has been collected
                # ours: speed (the article's np.sum(rewards_per_episode) > 0: the same sum, counted
                # as the rewards come; summing the growing list after every episode costs the square
                # of the episodes, 36-87 ms for the 3347 of --seed 0 here)
                if len(memory) > self.mini_batch_size and goals > 0:
                    mini_batch = memory.sample(self.mini_batch_size)
                    # ours: speed (the target network's Q-values, not the network), pictures (the loss)
                    loss = self._optimize(num_states, mini_batch, policy_dqn, target_q_values, optimizer)
                    loss_history.append(loss)  # ours: pictures
                    # ours: speed (the new policy's Q-values and greedy actions, for the next episode)
                    policy_q_values = q_values_of(policy_dqn)
                    greedy_actions = policy_q_values.argmax(axis=1).tolist()

                    # Decay exploration_factor
                    epsilon = max(epsilon - (1 / episodes), 0)
                    epsilon_history.append(epsilon)

                    # Synchronize policy network to target network after a certain number of steps
                    if step_count > self.network_sync_rate:
                        copy_weights(policy_weights, target_weights)  # ours: speed (in place)
                        target_q_values = policy_q_values  # ours: speed
                        step_count = 0

                    # ours: best network (keep the one whose greedy walk is the shortest so far; slippery: the
                    # one whose greedy policy is worth the most from the start, exactly), pictures
                    # (record the Q-values, for the learning animation)
                    best.keep_if_best(greedy_actions, len(rewards_per_episode), policy_q_values)
                elif len(rewards_per_episode) == self.max_exploration_episodes:
                    break  # ours: exploration (the goal was never reached)
                progress.show(epsilon_history, rewards_per_episode)  # ours: exploration
        env.close()

        # ours: best network (saved instead of the last unless save_last), with the run's history
        result = TrainingResult(
            best.state_dict(), best.episode, best.path_length, policy_dqn.state_dict(),
            rewards_per_episode, steps_per_episode, epsilon_history, loss_history, **best.history,
            save_last=self.save_last,
        )
        if result.state_to_save is None:
            raise TrainingFailed(result)  # ours: best network (no network walked: nothing to save)
        if self.model_file is not None:  # ours: model file (the caller's; None saves nothing)
            save_model(result.state_to_save, self.model_file)  # ours: small fixes (atomic)
            result.model_file = self.model_file
            report_saved(result)  # ours: model file (which network went where, in one line)
        return result

    @staticmethod  # ours: small fixes (the exact optimum and q_learning.py are handed it too)
    def _process_episode(reward: int, new_state: int) -> tuple[bool, int]:  # ours: small fixes (spelling)
        """The article's ``_process_epizode``: end the episode at the goal or on a cliff fall.

        Rewards become 1 at the goal and 0 everywhere else, so the network's targets stay in [0, 1].
        """
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
        return terminated, output_reward

    def _optimize(
        self, num_states: int, mini_batch: list[Transition], policy_dqn: DQN, target_q_values: np.ndarray, optimizer
    ) -> float:
        """One gradient step on the mini-batch; returns the loss (ours: pictures).

        Ours: speed. The article loops over the samples and runs the networks three times for each.
        Here each field of the batch is one array, and the target network's outputs are looked up in
        ``target_q_values``, its Q-values for every state (row s is Q_target(s, .)).
        """
        # Iterate over saved memory (ours: speed, every sample at once)
        states, actions, new_states, rewards, terminated = map(np.array, zip(*mini_batch))
        # Agent either reached goal (reward = 1) or slipped off the cliff (reward = 0):
        # target q value should be set to the reward. The agent neither fell nor reached his goal:
        # reward + discount_factor * the target network's best Q-value of the new state.
        target = np.where(terminated, rewards, rewards + self.discount_factor * target_q_values[new_states].max(axis=1))

        # Get the current set of Q values (the article's current_q_list, one row per sample)
        current_q = policy_dqn(state_to_dqn_input(states, num_states))
        # Get the target set of Q values (the article's target_q_list; indexing copies the rows)
        target_q = target_q_values[states]
        # Associate action with target
        target_q[np.arange(len(states)), actions] = target

        # --- Back propagation ---
        # Compute loss for the whole minibatch
        loss = self.loss_fn(current_q, torch.from_numpy(target_q))
        # Optimize the model (ours: small fixes, the optimizer is passed in, not self.optimizer)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    @on_one_torch_thread  # ours: speed
    def test(self, episodes: int = 100, render_mode: str | None = None) -> TestResult:
        """Play ``episodes`` greedy episodes with the network in ``self.model_file``, then show the
        first one.

        Ours: test. ``render_mode`` is Gymnasium's, chosen by the caller: "human" (a pygame window),
        "ansi" (text printed here) or None.
        """
        # Prepare environment
        # ours: test (no window while playing; the first episode is shown afterwards), slippery
        env = make_env(slippery=self.slippery)
        num_states = env.observation_space.n
        num_actions = env.action_space.n

        # Load learned policy
        # ours: small fixes (checked first)
        policy_dqn = load_model(self.model_file, num_states, num_actions)
        policy_dqn.eval()  # switch model to evaluation mode

        print("--- Test ---")  # ours: small fixes (the article prints it once per episode)
        print(f"Testing the network in {self.model_file}")  # ours: model file (which one)
        num_success = 0
        # ours: test (what main reports: the Q-values, the file, and below the first episode)
        result = TestResult(0.0, q_values=q_values_of(policy_dqn), model_file=self.model_file)
        result.slippery, result.reset_seed = self.slippery, test_reset_seed(self.seed)  # ours: slippery (replay)
        for episode in tqdm(range(episodes), desc="Test", unit="episode"):
            # Initialize to state 0 (ours: slippery, the first episode from its reset seed, for the replay)
            state = env.reset(seed=result.reset_seed if episode == 0 else None)[0]
            terminated = False
            truncated = False
            step_count = 0
            path, actions = [state], []  # ours: test (the walk, to show and report)

            while not terminated and not truncated:
                # Select best action
                with torch.no_grad():
                    action = policy_dqn(state_to_dqn_input(state, num_states)).argmax().item()
                # Execute action
                state, reward, terminated, truncated, _ = env.step(action)
                step_count += 1
                path.append(state)  # ours: test
                actions.append(action)  # ours: test
                if reward == CLIFF_REWARD:
                    # Agent slipped off the cliff
                    break
                if state == GOAL_STATE:
                    # Agent reached goal!
                    num_success += 1
                    break
                if step_count > self.test_max_steps:
                    # Agent did too many moves
                    break
            if episode == 0:  # ours: test
                result.path, result.actions = path, actions
            result.episode_steps.append((step_count, state == GOAL_STATE))  # ours: slippery (mean steps)
        env.close()
        result.success_rate = num_success / episodes * 100
        print(f"Success rate: {result.success_rate:.1f} %")
        if render_mode is not None:  # ours: test (the first episode, shown the caller's way)
            show_episode(
                result.actions, render_mode, ending=result.ending(self.test_max_steps + 1),
                slippery=self.slippery, reset_seed=result.reset_seed,  # ours: slippery
            )
        return result


def main(argv=None) -> int:
    """Train and save, then test, as the article's main does; command_line.py adds flags and messages."""
    args = parse_args(argv, CliffWalkingDQN())
    with OneLineErrors(args.model) as errors:
        render_mode = check_before_any_work(args)
        # ours: experiments (the flags; train saves to --model, the last network with --save-last)
        cliff_walking = CliffWalkingDQN(
            seed=args.seed, model_file=args.model, save_last=args.save_last, **args.hyperparameters
        )
        if not args.test_only:
            print(f"Seed {args.seed} (repeat this run with --seed {args.seed})")
            try:
                result = cliff_walking.train(args.episodes)
            except TrainingFailed as failure:
                # a failed run's curves show why it failed (the reward rule: Q* for the animation)
                report_training(failure.result, args, CliffWalkingDQN._process_episode)
                raise
            report_training(result, args, CliffWalkingDQN._process_episode)
        report_test(cliff_walking.test(args.test_episodes, render_mode), cliff_walking, args)
    return errors.exit_status


if __name__ == "__main__":
    sys.exit(main())
