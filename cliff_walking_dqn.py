"""Deep Q-learning on Gymnasium's CliffWalking: the article's ``CliffWalkingDQN``, runnable today.

``python cliff_walking_dqn.py`` trains for 3000 episodes, saves the policy network to
``cliff_walking_dql.pt`` and shows a test run; ``--help`` lists the flags. README.md maps each
section of the article to the code below and lists where, and why, this code departs from it.
"""

import argparse
import functools
import os
import pickletools
import random
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

import plots
from nn_model import DQN
from replay_memory import ReplayMemory, Transition

MODEL_FILE = "cliff_walking_dql.pt"
START_STATE = 36  # bottom-left cell: row 3 * 12 columns + column 0
GOAL_STATE = 47  # bottom-right cell
CLIFF_REWARD = -100  # what the environment pays for a step into the cliff
OPTIMAL_PATH_LENGTH = 13  # up, 11 times right, down
MAX_SEED = 2**32 - 1  # numpy's limit
ACTION_NAMES = ("up", "right", "down", "left")  # the environment's action numbers 0-3


class UserError(Exception):
    """A problem the user can fix (a flag, a file, a display): reported in one line, exit status 2."""


class TrainingFailed(Exception):
    """Training ended without any network that walks to the goal."""


class TrainingInterrupted(Exception):
    """Ctrl-C during training; carries how far training got."""


def environment_id() -> str:
    """The CliffWalking the installed Gymnasium registers: v1 from Gymnasium 1.2 on, v0 before."""
    return "CliffWalking-v1" if "CliffWalking-v1" in gym.registry else "CliffWalking-v0"


def make_env(render_mode: str | None = None, max_episode_steps: int | None = None) -> gym.Env:
    return gym.make(environment_id(), render_mode=render_mode, max_episode_steps=max_episode_steps)


def state_to_dqn_input(state, num_states: int) -> torch.Tensor:
    """One-hot encode a state (an int) or a batch of states (an array of ints) for the network.

    Row ``state`` of the identity matrix is that state's one-hot vector; the matrix is built once, and
    ``np.take`` returns a copy of its rows, so the caller may change the result freely.
    """
    return torch.from_numpy(np.take(_identity(num_states), state, axis=0))


@functools.cache
def _identity(size: int) -> np.ndarray:
    return np.eye(size, dtype=np.float32)


def q_values_of(dqn: DQN, state_inputs: torch.Tensor) -> np.ndarray:
    """The network's Q-values for a batch of encoded states, one row per state."""
    with torch.no_grad():
        return dqn(state_inputs).numpy()


def greedy_actions_of(dqn: DQN, state_inputs: torch.Tensor) -> list[int]:
    """The network's greedy action for every state, from one batched forward pass.

    Exact, not an approximation: between two optimize steps the network does not change, so its
    argmax for a state is the same whether it is asked once per step or once for all states.
    """
    return q_values_of(dqn, state_inputs).argmax(axis=1).tolist()


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


def transition_table(env: gym.Env) -> tuple[list[list[int]], list[list[int]]]:
    """Next state and reward for every (state, action), read from the environment's own table ``P``.

    CliffWalking is deterministic: each entry of ``P`` has one outcome, with probability 1.
    """
    table = env.unwrapped.P
    next_states = [[int(table[s][a][0][1]) for a in sorted(table[s])] for s in sorted(table)]
    rewards = [[int(table[s][a][0][2]) for a in sorted(table[s])] for s in sorted(table)]
    return next_states, rewards


def greedy_walk(greedy_actions: list[int], next_states, rewards) -> list[int] | None:
    """States visited by the greedy policy from the start to the goal, or None if it never gets there.

    On a deterministic grid this is exactly what a greedy test episode does, without the environment's
    per-step overhead. A fall ends the walk; so does a revisited state, since a deterministic greedy
    policy that comes back to a state loops forever.
    """
    path = [START_STATE]
    while path[-1] != GOAL_STATE:
        state = path[-1]
        action = greedy_actions[state]
        if rewards[state][action] == CLIFF_REWARD or next_states[state][action] in path:
            return None
        path.append(next_states[state][action])
    return path


STANDABLE_STATES = np.arange(37)  # the agent never stands on the cliff (37-46) or the goal (47)


def optimal_q_values(discount_factor: float) -> np.ndarray:
    """The exact Q-table the network stands in for: Q*(s, a) by value iteration, one row per state.

    Each sweep sets Q(s, a) = r + gamma * max_a' Q(s', a') on the environment's own transition table,
    with the article's reward processing (goal 1; a cliff fall ends the episode with 0; other steps 0)
    and no future after a terminal step. On this deterministic grid the values stop changing, to the
    last bit, after a few dozen sweeps.
    """
    next_states, env_rewards = (np.array(table) for table in transition_table(make_env()))
    terminated, rewards = np.vectorize(CliffWalkingDQN._process_episode)(env_rewards, next_states)
    q_values = np.zeros(next_states.shape)
    while True:
        updated = rewards + discount_factor * q_values.max(axis=1)[next_states] * ~terminated
        if np.array_equal(updated, q_values):
            return q_values
        q_values = updated


def compare_with_optimum(q_values: np.ndarray, q_star: np.ndarray) -> tuple[float, float, list[int]]:
    """Largest |Q - Q*| over the standable states, the share of them where the greedy action is optimal,
    and the states where it is not. An action is optimal when it ties with Q*'s best (ties are common)."""
    largest_error = float(np.abs(q_values[STANDABLE_STATES] - q_star[STANDABLE_STATES]).max())
    disagreeing = [
        int(s) for s in STANDABLE_STATES if q_star[s, q_values[s].argmax()] < q_star[s].max() - 1e-9
    ]
    return largest_error, 1 - len(disagreeing) / len(STANDABLE_STATES), disagreeing


@dataclass
class TrainingResult:
    """What train() learned, and its per-episode history (every episode played, exploration included)."""

    policy_state: dict  # state_dict of the network to save: the last one whose greedy walk was the best
    saved_episode: int  # 1-based number of the episode after which that network was taken
    saved_path_length: int  # steps its greedy walk takes from start to goal
    first_goal_episode: int  # episode in which the goal was first reached (learning starts there)
    goal_reached: np.ndarray  # bool per episode
    episode_steps: np.ndarray  # steps per episode
    epsilon: np.ndarray  # exploration factor at the end of each episode
    loss: np.ndarray  # loss of the episode's optimize step, NaN where none ran
    walk_length: np.ndarray  # greedy walk's steps after the optimize step: NaN where none ran, inf on failure


@dataclass
class TestResult:
    success_rate: float  # percentage of test episodes that reached the goal
    path: list[int] = field(default_factory=list)  # states of the first test episode
    actions: list[int] = field(default_factory=list)  # actions of the first test episode
    q_values: np.ndarray | None = None  # the tested network's Q-values, one row per state

    @property
    def path_length(self) -> int:
        return len(self.actions)


class CliffWalkingDQN:
    """Cliff Walking Deep Q-learning implementation: the article's class, train and test loops."""

    def __init__(self, seed: int | None = None):
        # Hyperparameters (the article's)
        self.learning_rate = 0.001  # Adam's step size
        self.discount_factor = 0.9  # gamma: weight of the next state's value in the target
        self.network_sync_rate = 10  # steps the agent takes between two target-network syncs
        self.replay_memory_size = 1000  # transitions the replay memory keeps
        self.mini_batch_size = 32  # transitions sampled for one optimize step
        # Additions to the article, each explained in README.md ("Deviations")
        self.max_episode_steps = 100  # time limit of a training episode
        self.max_exploration_episodes = 100_000  # random episodes allowed to find the goal once
        self.test_max_steps = 50  # the article's test gives up after this many steps
        self.seed = seed  # seeds python, numpy, torch and the environment; None: not seeded
        self.loss_fn = nn.MSELoss()

    def _seed_everything(self, env: gym.Env) -> None:
        if self.seed is None:
            return
        random.seed(self.seed)  # epsilon draws and replay-memory samples
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)  # network initialisation
        env.reset(seed=self.seed)
        env.action_space.seed(self.seed)  # random actions

    def train(self, episodes: int = 3000) -> TrainingResult:
        """Train a policy network for ``episodes`` learning episodes; return it and the history.

        An episode counts when it ends with an optimize step. The pure-exploration episodes before the
        goal is first reached learn nothing (the article waits for a first reward) and come on top.
        """
        # Prepare environment
        env = make_env(max_episode_steps=self.max_episode_steps)
        num_states = env.observation_space.n
        num_actions = env.action_space.n
        self._seed_everything(env)
        state_inputs = state_to_dqn_input(np.arange(num_states), num_states)  # row s encodes s
        next_states, rewards = transition_table(env)

        epsilon = 1  # exploration factor: 1 = 100 % random actions, explore at the beginning
        memory = ReplayMemory(self.replay_memory_size)

        # Create policy and target neural networks, with the same weights
        policy_dqn = DQN(in_states=num_states, out_actions=num_actions)
        target_dqn = DQN(in_states=num_states, out_actions=num_actions)
        best_dqn = DQN(in_states=num_states, out_actions=num_actions)  # the network train() returns
        policy_weights, target_weights, best_weights = map(weights_of, (policy_dqn, target_dqn, best_dqn))
        copy_weights(policy_weights, target_weights)
        # fused=True: the same Adam update in one kernel, cheaper on tiny tensors
        optimizer = torch.optim.Adam(policy_dqn.parameters(), lr=self.learning_rate, fused=True)

        # The policy network changes only in _optimize and the target network only at a sync, so
        # their outputs are computed once there for all states and looked up in between.
        policy_q_values = q_values_of(policy_dqn, state_inputs)
        greedy_actions = policy_q_values.argmax(axis=1).tolist()
        target_q_values = q_values_of(target_dqn, state_inputs)

        goal_reached, episode_steps, epsilon_history, loss_history, walk_lengths = [], [], [], [], []
        best_path_length, best_episode = None, None
        step_count = 0  # steps since the last target-network sync
        goals = 0  # episodes that reached the goal
        learning_episodes = 0

        print("--- Training ---")
        progress = tqdm(total=episodes, desc="Training", unit="episode")
        try:
            while learning_episodes < episodes:
                state = env.reset()[0]
                terminated = truncated = False
                steps = 0
                reward = 0
                while not terminated and not truncated:
                    # Select action based on epsilon-greedy
                    if random.random() < epsilon:
                        action = env.action_space.sample()
                    else:
                        action = greedy_actions[state]
                    # Execute action, then turn its reward and new state into the article's terms
                    new_state, action_reward, terminated, truncated, _ = env.step(action)
                    terminated, reward = self._process_episode(action_reward, new_state)
                    memory.append(Transition(state, action, new_state, reward, terminated))
                    state = new_state
                    step_count += 1
                    steps += 1
                goal_reached.append(reward == 1)
                goals += reward
                episode_steps.append(steps)
                loss = walk_length = float("nan")

                # Learn once enough experience is stored and the goal has been reached at least once
                if len(memory) > self.mini_batch_size and goals > 0:
                    mini_batch = memory.sample(self.mini_batch_size)
                    loss = self._optimize(mini_batch, policy_dqn, target_q_values, optimizer)
                    policy_q_values = q_values_of(policy_dqn, state_inputs)
                    greedy_actions = policy_q_values.argmax(axis=1).tolist()
                    learning_episodes += 1
                    progress.update()

                    # Decay exploration factor
                    epsilon = max(epsilon - 1 / episodes, 0)

                    # Keep the network whose greedy walk is the shortest so far (the latest on a tie)
                    path = greedy_walk(greedy_actions, next_states, rewards)
                    walk_length = float("inf") if path is None else len(path) - 1
                    if path is not None and (best_path_length is None or walk_length <= best_path_length):
                        best_path_length = walk_length
                        copy_weights(policy_weights, best_weights)
                        best_episode = len(goal_reached)

                    # Synchronize policy network to target network after a certain number of steps
                    if step_count > self.network_sync_rate:
                        copy_weights(policy_weights, target_weights)
                        target_q_values = policy_q_values  # equal networks give equal Q-values
                        step_count = 0

                    if learning_episodes % 100 == 0:
                        progress.set_postfix(epsilon=f"{epsilon:.2f}", goals=goals, refresh=False)
                elif len(goal_reached) >= self.max_exploration_episodes:
                    break
                elif len(goal_reached) % 100 == 0:
                    progress.set_postfix_str(f"exploring: {len(goal_reached)} episodes, no goal yet")
                epsilon_history.append(epsilon)
                loss_history.append(loss)
                walk_lengths.append(walk_length)
        except KeyboardInterrupt:
            raise TrainingInterrupted(
                f"training interrupted after {learning_episodes} of {episodes} learning episodes"
            ) from None
        finally:
            progress.close()
            env.close()

        if best_episode is None:
            raise TrainingFailed(
                f"no network walked from start to goal in {len(goal_reached)} episodes"
                + ("" if goals else " (the goal was never reached)")
            )
        return TrainingResult(
            policy_state=best_dqn.state_dict(),
            saved_episode=best_episode,
            saved_path_length=best_path_length,
            first_goal_episode=goal_reached.index(True) + 1,
            goal_reached=np.array(goal_reached),
            episode_steps=np.array(episode_steps),
            epsilon=np.array(epsilon_history),
            loss=np.array(loss_history),
            walk_length=np.array(walk_lengths),
        )

    @staticmethod
    def _process_episode(reward: int, new_state: int) -> tuple[bool, int]:
        """The article's ``_process_epizode``: end the episode at the goal or on a cliff fall.

        Rewards become 1 at the goal and 0 everywhere else, so the network's targets stay in [0, 1].
        """
        if new_state == GOAL_STATE:
            return True, 1  # reached the goal
        if reward == CLIFF_REWARD:
            return True, 0  # slipped off the cliff: CliffWalking itself would only send us back to start
        return False, 0

    def _optimize(
        self, mini_batch: list[Transition], policy_dqn: DQN, target_q_values: np.ndarray, optimizer
    ) -> float:
        """One gradient step on a mini-batch; returns the loss.

        The article's rule, for the whole batch at once: the target for each sampled state is the target
        network's Q-values for it, with the taken action's entry replaced by r + gamma * max_a' Q(s', a')
        (by r alone when the transition ended the episode). ``target_q_values`` holds the target
        network's output for every state (row s is Q_target(s, .)).
        """
        states, actions, new_states, rewards, terminated = map(np.array, zip(*mini_batch))  # one array per field
        target_q = target_q_values[states]  # fancy indexing copies: the table stays intact
        next_q_max = target_q_values[new_states].max(axis=1)
        target_q[np.arange(len(states)), actions] = rewards + self.discount_factor * next_q_max * (1 - terminated)

        num_states = len(target_q_values)
        current_q = policy_dqn(state_to_dqn_input(states, num_states))
        loss = self.loss_fn(current_q, torch.from_numpy(target_q))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    def test(self, episodes: int = 100, render_mode: str | None = None, model_file=MODEL_FILE) -> TestResult:
        """Play ``episodes`` greedy episodes with the saved network, then show the first one.

        ``render_mode`` is Gymnasium's: "human" (a pygame window), "ansi" (text printed here) or None.
        """
        env = make_env(max_episode_steps=self.test_max_steps)
        num_states = env.observation_space.n
        num_actions = env.action_space.n

        # Load learned policy
        policy_dqn = load_model(model_file, num_states, num_actions)
        policy_dqn.eval()  # switch model to evaluation mode
        state_inputs = state_to_dqn_input(np.arange(num_states), num_states)
        greedy_actions = greedy_actions_of(policy_dqn, state_inputs)

        print("--- Test ---")
        result = TestResult(success_rate=0.0, q_values=q_values_of(policy_dqn, state_inputs))
        num_success = 0
        for episode in range(episodes):
            state = env.reset()[0]
            path, actions = [state], []
            terminated = truncated = False
            while not terminated and not truncated:  # truncated: the article's 50-step limit
                action = greedy_actions[state]
                state, reward, terminated, truncated, _ = env.step(action)
                path.append(state)
                actions.append(action)
                if reward == CLIFF_REWARD:
                    break  # agent slipped off the cliff
            num_success += state == GOAL_STATE
            if episode == 0:
                result.path, result.actions = path, actions
        env.close()
        result.success_rate = num_success / episodes * 100

        if render_mode is not None:
            show_episode(result.actions, render_mode)
        return result


def show_episode(actions: list[int], render_mode: str) -> list[np.ndarray]:
    """Replay an episode's actions in an environment that renders it: in a pygame window ("human"),
    as text printed here ("ansi"), or as frames returned ("rgb_array").

    Greedy play on a deterministic grid repeats itself, so replaying the first test episode shows
    exactly what every test episode did. Closing the window ends the replay.
    """
    if render_mode == "rgb_array" and not has_display():
        # Frames need no window; without a driver chosen, SDL probes for a display and prints an error
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = make_env(render_mode=render_mode)
    frames = []
    try:
        env.reset()
        for step, action in enumerate([None, *actions]):
            if action is not None:
                env.step(action)  # in "human" mode this draws the frame
            if render_mode == "ansi":
                print(f"{'start' if step == 0 else f'step {step}: {ACTION_NAMES[action]}'}\n{env.render()}")
            elif render_mode == "rgb_array":
                frames.append(env.render())
            elif render_mode == "human" and _window_closed():
                break
    finally:
        env.close()  # closes the window, also on Ctrl-C
    return frames


def _window_closed() -> bool:
    import pygame  # Gymnasium draws its window with pygame

    return bool(pygame.event.get(pygame.QUIT))


# --- Model files ---------------------------------------------------------------------------------


def load_model(path, num_states: int, num_actions: int) -> DQN:
    """Load a DQN state_dict saved by ``save_model`` (or by the article's code), checking everything.

    ``weights_only=True``: a .pt file is a pickle, and a pickle may run code when loaded.
    """
    path = Path(path)
    retrain = f"train a new one with 'python cliff_walking_dqn.py --model {path}'"
    if path.is_dir():
        raise UserError(f"model file '{path}' is a folder: point --model at a .pt file")
    if not path.is_file():
        raise UserError(f"model file '{path}' does not exist: {retrain}, or point --model at an existing file")
    if path.stat().st_size == 0:
        raise UserError(f"model file '{path}' is empty: {retrain}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols before refusing them
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, KeyError, UnpicklingError ...
        if "Unsupported global" in str(error) or _pickle_calls_code(path):
            raise UserError(
                f"model file '{path}' was refused: it holds Python objects that would run code when loaded,"
                f" not just weights; load only files you trust, or {retrain}"
            ) from None
        raise UserError(f"model file '{path}' is not a readable PyTorch weights file (corrupt or truncated): {retrain}") from None

    policy_dqn = DQN(in_states=num_states, out_actions=num_actions)
    expected = {name: tuple(tensor.shape) for name, tensor in policy_dqn.state_dict().items()}
    found = (
        {name: tuple(getattr(value, "shape", ())) for name, value in state_dict.items()}
        if isinstance(state_dict, dict)
        else None
    )
    if found != expected:
        raise UserError(
            f"model file '{path}' holds a different network ({_describe(found)}), not the DQN this code"
            f" builds ({_describe(expected)}): {retrain}"
        )
    policy_dqn.load_state_dict(state_dict)
    return policy_dqn


def _pickle_calls_code(path: Path) -> bool:
    """Whether the file is a plain pickle that imports or calls something; read, never run."""
    try:
        with open(path, "rb") as file:
            return any(op.name in ("GLOBAL", "STACK_GLOBAL", "REDUCE", "INST", "OBJ") for op, _, _ in pickletools.genops(file))
    except Exception:  # not a pickle at all
        return False


def _describe(shapes: dict | None) -> str:
    if shapes is None:
        return "not a state_dict"
    return ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in sorted(shapes.items()))


def check_writable_folder(path, what: str) -> None:
    """Refuse a destination folder that is missing or read-only, before any work starts."""
    if what == "model file" and Path(path).is_dir():
        raise UserError(f"model file '{path}' is a folder: point --model at a .pt file")
    folder = Path(path).resolve().parent if what == "model file" else Path(path).resolve()
    if not folder.is_dir():
        raise UserError(f"folder '{folder}' for the {what} does not exist: create it or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"folder '{folder}' for the {what} is not writable: choose another path")


def save_model(state_dict: dict, path) -> None:
    """Write to a temporary file beside ``path`` and rename it over ``path``.

    The rename is atomic, so an interrupt or a full disk leaves the previous model file whole.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state_dict, file)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes the file private; a model file needn't be
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# --- Command line --------------------------------------------------------------------------------


def has_display() -> bool:
    """Whether a pygame window would be visible (on Linux, an X11 or Wayland display is set)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def resolve_render_mode(choice: str) -> str | None:
    if choice == "auto":
        return "human" if has_display() else "ansi"
    if choice == "human" and not has_display():
        raise UserError("--render human needs a display, and none is set (DISPLAY is empty): use --render ansi")
    return None if choice == "none" else choice


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _whole_number(minimum: int, maximum: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < minimum or (maximum is not None and value > maximum):
            allowed = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value
    return parse


def parse_args(argv=None) -> argparse.Namespace:
    parser = _ArgumentParser(description="Train a Deep Q-network on CliffWalking, save it, and test it.")
    parser.add_argument("--episodes", type=_whole_number(1), default=3000, help="training episodes (default 3000)")
    parser.add_argument("--test-episodes", type=_whole_number(1), default=100, help="test episodes (default 100)")
    parser.add_argument("--seed", type=_whole_number(0, MAX_SEED), help="seed for a repeatable run (default: a random one, printed)")
    parser.add_argument("--model", default=MODEL_FILE, help=f"model file that training writes and the test reads (default {MODEL_FILE})")
    parser.add_argument("--test-only", action="store_true", help="skip training and test the saved model")
    parser.add_argument(
        "--render", choices=("auto", "human", "ansi", "none"), default="auto",
        help="how to show the first test episode: auto (a window if there is a display, else text), human, ansi, none",
    )
    parser.add_argument("--plots", default=".", metavar="DIR", help="folder for the pictures of the run (default: here)")
    parser.add_argument("--no-plots", action="store_true", help="write no pictures")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)  # the network is tiny: a second thread costs more than it saves
    try:
        render_mode = resolve_render_mode(args.render)
        plots_folder = None if args.no_plots else Path(args.plots)
        if not args.test_only:
            check_writable_folder(args.model, "model file")
        if plots_folder:
            check_writable_folder(plots_folder, "pictures")
        if not args.test_only:
            _train_and_save(args.seed, args.episodes, args.model, plots_folder)
        agent = CliffWalkingDQN()
        test_result = agent.test(args.test_episodes, render_mode, args.model)
        _print_test_summary(test_result)
        q_star = optimal_q_values(agent.discount_factor)
        comparison = compare_with_optimum(test_result.q_values, q_star)
        _print_comparison(*comparison)
        if plots_folder:
            _write_test_pictures(test_result, q_star, comparison, plots_folder)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TrainingFailed as error:
        print(f"Training failed: {error}. '{args.model}' was left unchanged: try another --seed or more --episodes.", file=sys.stderr)
        return 1
    except TrainingInterrupted as error:
        print(f"Interrupted: {error}. '{args.model}' was left unchanged.", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except OSError as error:  # a full disk, a file that vanished, a permission the check did not catch
        print(f"error: could not write '{error.filename}': {error.strerror}", file=sys.stderr)
        return 2
    return 0


def _train_and_save(seed: int | None, episodes: int, model_file, plots_folder: Path | None) -> None:
    if seed is None:
        seed = random.SystemRandom().randrange(MAX_SEED + 1)
    print(f"Seed {seed} (repeat this run with --seed {seed})")
    result = CliffWalkingDQN(seed=seed).train(episodes)
    save_model(result.policy_state, model_file)
    _print_training_summary(result, model_file)
    if plots_folder:
        plots.plot_training(result, plots_folder / plots.TRAINING_PLOT)
        print(f"Training curves: {plots_folder / plots.TRAINING_PLOT}")


def _print_comparison(largest_error: float, agreement: float, disagreeing: list[int]) -> None:
    print(
        f"Against the exact optimum Q* (value iteration): greedy action optimal in {agreement:.0%} of the"
        f" {len(STANDABLE_STATES)} cells the agent can stand on; largest |Q - Q*| = {largest_error:.3f}"
    )
    if disagreeing:
        print(f"States where the network's greedy action is not optimal: {disagreeing}")


def _write_test_pictures(result: TestResult, q_star, comparison, folder: Path) -> None:
    plots.plot_policy(result.q_values, q_star, (*comparison, STANDABLE_STATES), folder / plots.POLICY_PLOT)
    captions = ["start"] + [
        f"step {step} of {result.path_length}: {ACTION_NAMES[action]}" for step, action in enumerate(result.actions, 1)
    ]
    fps = make_env().metadata["render_fps"]
    plots.save_episode_gif(show_episode(result.actions, "rgb_array"), fps, captions, folder / plots.TEST_GIF)
    print(f"Pictures: {folder / plots.POLICY_PLOT}, {folder / plots.TEST_GIF}")


def _print_training_summary(result: TrainingResult, model_file) -> None:
    played = len(result.goal_reached)
    optimal = " (optimal)" if result.saved_path_length == OPTIMAL_PATH_LENGTH else ""
    print(
        f"Played {played} episodes: the goal was first reached in episode {result.first_goal_episode};"
        f" {played - result.first_goal_episode + 1} episodes learned.\n"
        f"Saved to {model_file} the network as of episode {result.saved_episode}:"
        f" its greedy walk takes {result.saved_path_length} steps{optimal}."
    )


def _print_test_summary(result: TestResult) -> None:
    print(f"Success rate: {result.success_rate:.1f} %")
    if result.path[-1] == GOAL_STATE:
        print(f"Path walked: {result.path_length} steps (the optimal path takes {OPTIMAL_PATH_LENGTH})")
    else:
        print(f"Path walked: {result.path_length} steps without reaching the goal")


if __name__ == "__main__":
    sys.exit(main())
