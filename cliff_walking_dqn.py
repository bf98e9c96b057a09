"""Deep Q-learning on Gymnasium's CliffWalking: the article's file, in its order, runnable today.

``python cliff_walking_dqn.py`` trains, saves the policy network to ``cliff_walking_dql.pt`` and
shows a test run; ``--help`` lists the flags. This file holds what the article's holds, in its
order and with its names and comments: ``state_to_dqn_input``, the ``CliffWalkingDQN`` class and
``main``. A line that is not the article's carries ``# ours: <topic> (why)``, on the line or on the
lines just above it; the topic is the bold word of a bullet in README's "Deviations from the
article". What the article does not have at all lives in the package ``ours/``.
"""

import random
import sys

from ours.packages import require_installed

# ours: set-up (without the packages, one line that names the missing one, not a traceback)
require_installed()
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
from ours.results import (
    TestResult, TrainingFailed, TrainingProgress, TrainingResult, best_network_keeper,
)
from ours.speed import (
    copy_weights, fused_adam_available, identity, on_one_torch_thread, q_values_of, weights_of,
)


def state_to_dqn_input(state, num_states: int) -> torch.Tensor:
    """One-hot encode a state (an int) for the network, or each state of an array of them."""
    # ours: speed (the article's repository fills a tensor of zeros with a 1; here the input of
    # state s is row s of an identity matrix built once, np.take copies the rows so the caller owns
    # them, and an array of states gives a batch, a row per state)
    return torch.from_numpy(np.take(identity(num_states), state, axis=0))


class CliffWalkingDQN:
    """Cliff Walking Deep Q-learning implementation"""

    # ours: seeds (seed=)
    # ours: experiments (**hyperparameters: any attribute below, by its name, as a keyword)
    def __init__(self, seed: int | None = None, **hyperparameters):
        # Hyperparameters
        self.learning_rate = 0.001  # Adam's step size
        self.discount_factor = 0.9  # gamma: weight of the next state's value in the target
        self.network_sync_rate = 10  # steps the agent takes between two target-network syncs
        self.replay_memory_size = 1000  # transitions the replay memory keeps
        self.mini_batch_size = 32  # transitions sampled for one optimize step
        self.max_episode_steps = 100  # ours: time limit (of a training episode)
        self.max_exploration_episodes = 100_000  # ours: exploration (to reach the goal once)
        self.test_max_steps = 50  # ours: test (the article's "step_count > 50", as a name)
        self.seed = seed  # ours: seeds (python, numpy, torch and the environment; None: unseeded)
        self.slippery = False  # ours: slippery (CliffWalkingSlippery-v1: a move may slip sideways)
        self.model_file = MODEL_FILE  # ours: model file (train writes it, test reads it)
        self.save_last = False  # ours: best network (True: the last, the article's rule)
        for name, value in hyperparameters.items():  # ours: experiments (--learning-rate ...)
            if not hasattr(self, name):
                raise TypeError(f"CliffWalkingDQN has no hyperparameter '{name}'")
            setattr(self, name, value)

    @on_one_torch_thread  # ours: speed (a second thread costs this tiny network more than it saves)
    # ours: small fixes (no render=: 45,000 steps at 4 frames a second would take hours)
    # ours: pictures (returns the history for the summary and the pictures)
    def train(self, episodes: int = 1000) -> TrainingResult:
        """Train until ``episodes`` episodes have learned, save the policy network to
        ``self.model_file`` (None: nowhere) and return it with the history of the run.

        Learning starts once the goal has been reached; the exploring episodes before come on top.
        The network saved is the best one seen, or with ``self.save_last`` the last one; when no
        network walked to the goal, TrainingFailed is raised and nothing is saved, unless
        ``self.save_last``.
        """
        # Prepare environment
        # ours: Gymnasium 1.x (gym.make("CliffWalking-v0") there; v1 from Gymnasium 1.2 on)
        # ours: time limit (max_episode_steps: a greedy walk into a wall would never end)
        # ours: slippery (the slippery grid on request)
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
        # ours: small fixes (the article's self.optimizer, as a local: it belongs to this run)
        # ours: speed (fused: the same update in one kernel, where this torch has it)
        optimizer = torch.optim.Adam(
            policy_dqn.parameters(), lr=self.learning_rate, fused=fused_adam_available()
        )

        rewards_per_episode = []  # ours: exploration (an entry per episode played: a list)
        epsilon_history = []
        reward = None
        step_count = 0
        goals = 0  # ours: speed (np.sum(rewards_per_episode), counted as the rewards come)
        # ours: speed (each network's Q-values for all 48 states, one row a state, recomputed only
        # when the network changes: the episode looks its actions up, _optimize its targets; and
        # the networks' weight tensors, for the sync in place)
        policy_q_values = q_values_of(policy_dqn)
        target_q_values = q_values_of(target_dqn)
        greedy_actions = policy_q_values.argmax(axis=1).tolist()
        policy_weights, target_weights = weights_of(policy_dqn), weights_of(target_dqn)
        # ours: best network (kept after each optimize step; on the slippery grid ranked by its
        # exact value)
        # ours: pictures (the keeper also records the Q-values, for the learning animation)
        best = best_network_keeper(
            policy_dqn, env, self.slippery, self.discount_factor, self._process_episode
        )
        steps_per_episode, loss_history = [], []  # ours: pictures

        print("--- Training ---")
        # ours: exploration (the article's "for i in tqdm(range(episodes))": the episodes counted
        # are the ones that learn, and the bar counts them)
        with TrainingProgress(episodes) as progress:
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
                        # ours: speed (the article's policy_dqn(state_to_dqn_input(state,
                        # num_states)).argmax().item() under torch.no_grad(), computed for every
                        # state after the last optimize step, looked up)
                        action = greedy_actions[state]
                    # Execute action
                    # ours: time limit (truncated kept, where the article drops it)
                    new_state, action_reward, terminated, truncated, _ = env.step(action)
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
                # ours: exploration (the article's rewards_per_episode[i] = 1, appended: 1 or 0)
                rewards_per_episode.append(reward)
                goals += reward  # ours: speed

                # Check if enough experience has been collected and if at least 1 reward has been
                # collected
                # ours: speed (goals is the article's np.sum(rewards_per_episode): summing the
                # growing list after every episode costs the square of the episodes)
                if len(memory) > self.mini_batch_size and goals > 0:
                    mini_batch = memory.sample(self.mini_batch_size)
                    # ours: speed (the article's target_dqn, passed as its Q-values for every state)
                    # ours: small fixes (and the optimizer, not self.optimizer)
                    # ours: pictures (the loss comes back)
                    loss = self._optimize(
                        num_states, mini_batch, policy_dqn, target_q_values, optimizer
                    )
                    loss_history.append(loss)  # ours: pictures
                    # ours: speed (the changed policy's Q-values and greedy actions, once)
                    policy_q_values = q_values_of(policy_dqn)
                    greedy_actions = policy_q_values.argmax(axis=1).tolist()

                    # Decay exploration_factor
                    epsilon = max(epsilon - (1 / episodes), 0)
                    epsilon_history.append(epsilon)

                    # Synchronize policy network to target network after a certain number of steps
                    if step_count > self.network_sync_rate:
                        # ours: speed (target_dqn.load_state_dict(policy_dqn.state_dict()), copied
                        # tensor by tensor in place)
                        copy_weights(policy_weights, target_weights)
                        # ours: speed (the target now holds the policy's weights, so its Q-values
                        # are the policy's, computed just above)
                        target_q_values = policy_q_values
                        step_count = 0

                    # ours: best network (a copy when the greedy walk is the shortest so far)
                    best.keep_if_best(greedy_actions, len(rewards_per_episode), policy_q_values)
                elif len(rewards_per_episode) == self.max_exploration_episodes:  # ours: exploration
                    break  # the goal was never reached: give up
                progress.show(epsilon_history, rewards_per_episode)  # ours: exploration
        env.close()  # ours: small fixes (closed, as the article's test closes its environment)

        # ours: best network (the best one is saved, or the last with save_last)
        # ours: pictures (with the history of the run)
        result = TrainingResult(
            best.state_dict(), best.episode, best.path_length, policy_dqn.state_dict(),
            rewards_per_episode, steps_per_episode, epsilon_history, loss_history,
            **best.history, save_last=self.save_last,
        )
        if result.state_to_save is None:  # ours: best network (none walked: nothing to save)
            raise TrainingFailed(result)
        # After training, save the policy network's weights (the article says so in its text)
        if self.model_file is not None:  # ours: model file (the caller's; None: not saved)
            # ours: small fixes (the repository's torch.save(policy_dqn.state_dict(), ...), written
            # to a temporary file and renamed, so that an interrupt leaves the old file whole)
            save_model(result.state_to_save, self.model_file)
            result.model_file = self.model_file  # ours: model file (kept in the result)
            report_saved(result)  # ours: model file (which network went where, in one line)
        return result  # ours: pictures

    @staticmethod  # ours: small fixes (no self: the exact optimum and q_learning.py use it too)
    # ours: small fixes (the article's _process_epizode, spelled right)
    def _process_episode(reward: int, new_state: int) -> tuple[bool, int]:
        """End the episode at the goal or on a cliff fall; rewards become 1 at the goal and 0
        everywhere else, so the network's targets stay in [0, 1]."""
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
        return terminated, output_reward  # ours: small fixes (a tuple, not a list)

    # ours: speed (target_q_values for the article's target_dqn)
    # ours: small fixes (the optimizer passed in)
    def _optimize(
        self, num_states: int, mini_batch: list[Transition], policy_dqn: DQN,
        target_q_values: np.ndarray, optimizer,
    ) -> float:
        """One gradient step on the mini-batch; returns the loss (ours: pictures).

        Ours: speed. The article loops over the samples and runs a network two or three times for
        each (``article_optimize`` in benchmarks/article_baseline.py writes that loop out, and the
        tests check that both give the same loss and gradients). Here each field of the batch is one
        array, and the target network's outputs are looked up in ``target_q_values``, its Q-values
        for every state (row s is Q_target(s, .)).
        """
        # Prepare placeholders for target and actual q values
        # Iterate over saved memory
        # ours: speed (no loop: each field of the batch as one array, a row per sample)
        states, actions, new_states, rewards, terminated = map(np.array, zip(*mini_batch))
        # if terminated:
        #     Agent either reached goal (reward = 1) or slipped off the cliff (reward = 0)
        #     Target q value should be set to the reward.
        # else:
        #     The agent neither fell nor reached his goal
        #     reward + self.discount_factor * target_dqn(state_to_dqn_input(new_state, ...)).max()
        # ours: speed (that if/else for every sample at once; the target network looked up)
        best_next = target_q_values[new_states].max(axis=1)
        target = np.where(terminated, rewards, rewards + self.discount_factor * best_next)

        # Get the current set of Q values
        # ours: speed (one pass over the batch: the article's current_q_list, stacked)
        current_q = policy_dqn(state_to_dqn_input(states, num_states))
        # Get the target set of Q values
        # ours: speed (the article's target_q_list, looked up; indexing copies the rows)
        target_q = target_q_values[states]
        # Associate action with target
        # ours: speed (the article's target_q[action] = target, for every sample)
        target_q[np.arange(len(states)), actions] = target

        # --- Back propagation ---
        # Compute loss for the whole minibatch
        # ours: speed (the article's torch.stack(current_q_list), torch.stack(target_q_list))
        loss = self.loss_fn(current_q, torch.from_numpy(target_q))
        # Optimize the model
        # ours: small fixes (the optimizer passed in, not self.optimizer)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()  # ours: pictures

    @on_one_torch_thread  # ours: speed (as in train)
    # ours: test (render_mode: how the first episode is shown)
    # ours: pictures (returns what it saw)
    def test(self, episodes: int = 100, render_mode: str | None = None) -> TestResult:
        """Play ``episodes`` greedy episodes with the network in ``self.model_file``, then show the
        first one.

        ``render_mode`` is Gymnasium's, chosen by the caller: "human" (a pygame window), "ansi"
        (text printed here) or None (not shown).
        """
        # Prepare environment
        # ours: Gymnasium 1.x (as in train)
        # ours: test (render_mode="human" left out: the episodes play unseen, the first is shown
        # afterwards, the caller's way)
        # ours: slippery (as in train)
        env = make_env(slippery=self.slippery)
        num_states = env.observation_space.n
        num_actions = env.action_space.n

        # Load learned policy
        # ours: small fixes (DQN(...).load_state_dict(torch.load(...)), with weights_only=True and
        # a one-line message for a missing, corrupt or mismatched file)
        # ours: model file (self.model_file: the one train wrote, "cliff_walking_dql.pt" by default)
        policy_dqn = load_model(self.model_file, num_states, num_actions)
        policy_dqn.eval()  # switch model to evaluation mode

        print("--- Test ---")  # ours: small fixes (the article prints it in every episode)
        print(f"Testing the network in {self.model_file}")  # ours: model file (which one)
        num_success = 0
        # ours: test (what main reports: the Q-values, the file, and below the first episode)
        result = TestResult(0.0, q_values=q_values_of(policy_dqn), model_file=self.model_file)
        # ours: slippery (the first episode's reset seed: its replay slips the same way)
        result.slippery, result.reset_seed = self.slippery, test_reset_seed(self.seed)
        # ours: test (the bar's label and unit; the episode's number, for the first one)
        for episode in tqdm(range(episodes), desc="Test", unit="episode"):
            # Initialize to state 0 (the article's words: the start is state 36, bottom left)
            # ours: slippery (the first episode from its reset seed, for the replay)
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
            # ours: slippery (each episode's steps and goal, for the mean number of steps)
            result.episode_steps.append((step_count, state == GOAL_STATE))
        env.close()
        result.success_rate = num_success / episodes * 100  # ours: test (kept in the result)
        print(f"Success rate: {result.success_rate:.1f} %")  # ours: test (one decimal)
        if render_mode is not None:  # ours: test (the first episode, shown the caller's way)
            show_episode(
                result.actions, render_mode, ending=result.ending(self.test_max_steps + 1),
                slippery=self.slippery, reset_seed=result.reset_seed,
            )
        return result  # ours: pictures


def main(argv=None) -> int:
    """Train and save, then test, on one object, as the article's main does.

    Ours: the article shows no main (its repository has one), so none of this is marked;
    ours/command_line.py adds the flags, the checks before any work, the messages and the pictures.
    """
    args = parse_args(argv, CliffWalkingDQN())
    with OneLineErrors(args.model) as errors:
        render_mode = check_before_any_work(args)
        # the flags; train saves to --model, the last network with --save-last
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
