"""The command line around main(): early flag checks, one-line errors, summaries, pictures."""

import argparse
import contextlib
import gc
import math
import os
import random
import sys
from pathlib import Path

import numpy as np

from nn_model import DQN
from ours.environment import (
    MAX_SEED,
    OPTIMAL_PATH_LENGTH,
    STANDABLE_STATES,
    START_STATE,
    MissingEnvironment,
    environment_id,
    grid_cell,
    make_env,
)
from ours.episode_replay import has_display, play_episode, show_episode, step_captions
from ours.exact_optimum import (
    compare_with_optimum,
    optimal_q_values,
    outcome_table,
    policy_values,
    success_within,
    value_iteration,
)
from ours.model_file import MODEL_FILE, ModelFileError
from ours.results import TestResult, TrainingFailed, TrainingInterrupted, TrainingResult
from ours.settings import HYPERPARAMETERS, Rule
from ours.speed import q_values_of


class UserError(Exception):
    """A problem the user can fix (a flag, a folder, a display): one-line report, exit status 2."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """Refuses a bad flag in one line, without the usage text, pointing at --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def flag_type(rule: Rule):
    """An argparse type for a number under ``rule`` (ours/settings.py), refused in one line."""

    def parse(text: str):
        try:
            value = rule.kind(text)
        except ValueError:
            wanted = "a whole number" if rule.kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {wanted}, got '{text}'") from None
        try:
            return rule.check("value", value)
        except ValueError as error:  # "value must be ...": argparse names the flag
            raise argparse.ArgumentTypeError(str(error).removeprefix("value ")) from None

    return parse


def whole_number(minimum: int, maximum: int | None = None):
    """An argparse type: a whole number within bounds, refused in one line otherwise."""
    return flag_type(Rule(int, minimum, maximum))


def real_number(minimum: float, maximum: float | None = None):
    """An argparse type: a finite number within bounds, refused in one line otherwise."""
    return flag_type(Rule(float, minimum, maximum))


# What each hyperparameter flag's value is called in --help, and what it means.
HYPERPARAMETER_HELP = {
    "learning_rate": ("LR", "Adam's step size"),
    "discount_factor": ("GAMMA", "gamma, the weight of the next state's value in the target"),
    "network_sync_rate": (
        "STEPS",
        "steps between two target-network syncs (0: after every learning episode)",
    ),
    "replay_memory_size": ("N", "transitions the replay memory keeps"),
    "mini_batch_size": ("N", "transitions sampled for one optimize step (fewer than the memory)"),
    "max_episode_steps": (
        "STEPS",
        "time limit of a training episode (ours; at least the 13 of the optimal path)",
    ),
}


def add_hyperparameter_flags(parser: argparse.ArgumentParser, agent) -> None:
    """--learning-rate and the like, named after the agent's attributes, its values the defaults."""
    group = parser.add_argument_group("hyperparameters (defaults: the article's values)")
    for name, (metavar, meaning) in HYPERPARAMETER_HELP.items():
        default = getattr(agent, name)
        group.add_argument(
            f"--{name.replace('_', '-')}",
            type=flag_type(HYPERPARAMETERS[name]),
            default=default,
            metavar=metavar,
            help=f"{meaning} (default {default:g})",
        )


def hyperparameters(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict:
    """The hyperparameter flags' values, by attribute name, refused in one line where they clash."""
    if args.mini_batch_size >= args.replay_memory_size:
        parser.error(
            "argument --mini-batch-size: must be smaller than"
            f" --replay-memory-size ({args.replay_memory_size}),"
            f" which learning waits for the memory to exceed, got {args.mini_batch_size}"
        )
    return {name: getattr(args, name) for name in HYPERPARAMETERS}


def describe(settings: dict) -> str:
    """The values a run used, in one line: for its summary and its picture."""

    def shown(name, value):
        if value is True:  # a switch such as slippery: its name says it
            return name
        # a seed stays whole
        return f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"

    return ", ".join(shown(name, value) for name, value in settings.items())


def parse_args(argv=None, agent=None) -> argparse.Namespace:
    """The flags; the hyperparameters' defaults are ``agent``'s. ``args.hyperparameters`` holds the
    values of the hyperparameter flags. Without --seed, training draws a seed and prints it."""
    parser = OneLineArgumentParser(
        description="Train a Deep Q-network on CliffWalking, save it, and test it."
    )
    parser.add_argument(
        "--episodes",
        type=whole_number(1),
        default=3000,
        help="training episodes that learn (default 3000)",
    )
    parser.add_argument(
        "--test-episodes", type=whole_number(1), default=100, help="test episodes (default 100)"
    )
    parser.add_argument(
        "--seed",
        type=whole_number(0, MAX_SEED),
        help="seed for a repeatable run (default: a random one, printed)",
    )
    parser.add_argument(
        "--model",
        default=MODEL_FILE,
        help=f"model file that training writes and the test reads (default {MODEL_FILE})",
    )
    parser.add_argument(
        "--test-only", action="store_true", help="skip training and test the saved model"
    )
    parser.add_argument(
        "--save-last",
        action="store_true",
        help="save the network as it is after the last episode, as the article does"
        " (default: the best one seen)",
    )
    parser.add_argument(
        "--render",
        choices=("auto", "human", "ansi", "none"),
        default="auto",
        help="how to show the first test episode:"
        " auto (a window if there is a display, else text), human, ansi, none",
    )
    add_picture_flags(parser)
    parser.add_argument(
        "--slippery",
        action="store_true",
        help="train and test on CliffWalkingSlippery-v1,"
        " where a move may go to either side (Gymnasium 1.2 on)",
    )
    add_hyperparameter_flags(parser, agent)
    args = parser.parse_args(argv)
    args.hyperparameters = hyperparameters(parser, args)
    if args.slippery:
        args.hyperparameters["slippery"] = True
    args.plots = picture_folder(args)
    return args


def add_picture_flags(parser: argparse.ArgumentParser) -> None:
    """--plots DIR and --no-plots, in cliff_walking_dqn.py and q_learning.py (picture_folder)."""
    parser.add_argument(
        "--plots",
        default=".",
        metavar="DIR",
        help="folder for the pictures of the run (default: here)",
    )
    parser.add_argument("--no-plots", action="store_true", help="write no pictures")


def picture_folder(args: argparse.Namespace) -> Path | None:
    """The folder the pictures go to, None with --no-plots."""
    return None if args.no_plots else Path(args.plots)


def resolve_render_mode(choice: str) -> str | None:
    if choice == "auto":
        return "human" if has_display() else "ansi"
    if choice == "human" and not has_display():
        raise UserError(
            "--render human needs a display, and none is set (DISPLAY is empty): use --render ansi"
        )
    return None if choice == "none" else choice


def check_writable_folder(path, what: str) -> None:
    """Refuse a destination folder that is missing or read-only, before any work starts."""
    if what == "model file" and Path(path).is_dir():
        raise UserError(f"model file '{path}' is a folder: point --model at a .pt file")
    folder = Path(path).resolve().parent if what == "model file" else Path(path).resolve()
    if not folder.is_dir():
        raise UserError(
            f"folder '{folder}' for the {what} does not exist: create it or choose another path"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"folder '{folder}' for the {what} is not writable: choose another path")


def check_before_any_work(args: argparse.Namespace) -> str | None:
    """Refuse what would fail later (a folder, a display) before training; give the render mode."""
    render_mode = resolve_render_mode(args.render)
    if args.slippery:
        environment_id(slippery=True)  # a Gymnasium without it: MissingEnvironment
    if not args.test_only:
        check_writable_folder(args.model, "model file")
    if args.plots:
        check_writable_folder(args.plots, "pictures")
    return render_mode


class OneLineErrors:
    """Turns what the user can fix, a failed training and Ctrl-C into one line on stderr and an exit
    status (2, 1 and 130), with no traceback. ``exit_status`` is 0 when nothing went wrong."""

    def __init__(self, model_file):
        self.model_file = model_file
        self.exit_status = 0

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        unchanged = f"'{self.model_file}' was left unchanged"
        if isinstance(error, (UserError, ModelFileError, MissingEnvironment)):
            message, self.exit_status = f"error: {error}", 2
        elif isinstance(error, TrainingFailed):
            message, self.exit_status = (
                f"Training failed: {error}. {unchanged}: try another --seed or more --episodes.",
                1,
            )
        elif isinstance(error, TrainingInterrupted):
            message, self.exit_status = f"Interrupted: {error}. {unchanged}.", 130
        elif isinstance(error, KeyboardInterrupt):
            message, self.exit_status = "Interrupted.", 130
        # a full disk, a file that vanished, a permission the check missed
        elif isinstance(error, OSError):
            message, self.exit_status = (
                f"error: could not write '{error.filename}': {error.strerror}",
                2,
            )
        else:
            return False  # no error, or a bug: let it show
        print(message, file=sys.stderr)
        return True


@contextlib.contextmanager
def _pictures():
    """plots.py, imported only when pictures are written (matplotlib takes 0.3 s to import), with
    the garbage collector paused while they are drawn.

    matplotlib builds tens of thousands of small objects for a picture, and each of the collector's
    passes would scan them and the ones torch and the run made before: 0.1-0.2 s of the pictures
    here. ``gc.freeze`` takes what exists so far out of later passes; the pause ends with the
    drawing, and so does the freeze: frozen objects are never collected, not even at exit, where the
    leak checks of torch's compiled bindings (nanobind, from torch 2.15) then print a line for each
    of them.
    """
    gc.freeze()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from ours import plots

        yield plots
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def report_training(result: TrainingResult, args: argparse.Namespace, process_episode) -> None:
    """The summary of a training run, failed or not, with the values it used, and its pictures: the
    training curves and the learning animation (``process_episode``, the article's reward rule,
    gives the exact optimum the animation shows beside the network)."""
    settings = describe({**args.hyperparameters, "episodes": args.episodes, "seed": result.seed})
    played = len(result.rewards_per_episode)
    first_goal = (
        f"the goal was first reached in episode {result.first_goal_episode}"
        if result.first_goal_episode
        else "the goal was never reached"
    )
    print(
        f"Trained with {settings}.\nPlayed {played} episodes: {first_goal};"
        f" {len(result.epsilon_history)} episodes learned."
    )
    if args.plots:
        with _pictures() as plots:
            plots.plot_training(result, args.plots / plots.TRAINING_PLOT, settings)
            print(f"Training curves: {args.plots / plots.TRAINING_PLOT}")
            if len(result.recorded_steps):  # the goal was reached: something was learned
                gamma, slippery = args.hyperparameters["discount_factor"], args.slippery
                q_star = optimal_q_values(gamma, process_episode, slippery)
                write_learning_animation(
                    result, *_shown_network(result, args), q_star, args.plots / plots.LEARNING_GIF
                )
                print(f"Learning animation: {args.plots / plots.LEARNING_GIF}")


def report_q_matrix_animation(result, q_star: np.ndarray, folder: Path) -> None:
    """q_learning.py's learning animation: its recorded tables, ending with the table it tests."""
    with _pictures() as plots:
        path = folder / plots.Q_MATRIX_LEARNING_GIF
        last_step, name = len(result.epsilon_history) - 1, "the table tested"
        write_learning_animation(result, result.Q_matrix, last_step, name, q_star, path, "Q matrix")
    print(f"Learning animation: {path}")


def _shown_network(result: TrainingResult, args: argparse.Namespace) -> tuple:
    """The network the learning animation ends with: the saved one (the last with --save-last; after
    a failed training, the last), its Q-values, its optimize step (from 0) and how to name it."""
    if result.saved_episode is None or args.save_last:
        state, step = result.last_policy_state, len(result.epsilon_history) - 1
        name = "the saved network" if result.saved_episode else "training failed"
    else:
        state, step = result.policy_state, _learning_step(result, result.saved_episode)
        name = "the saved network"
    dqn = DQN(
        in_states=state["block_1.weight"].shape[1], out_actions=state["block_2.weight"].shape[0]
    )
    dqn.load_state_dict(state)
    return q_values_of(dqn), step, name


def _learning_step(result, episode: int) -> int:
    """The optimize step (from 0) that ended ``episode`` (from 1), a learning episode."""
    return episode - 1 - (len(result.rewards_per_episode) - len(result.epsilon_history))


LEARNING_FRAMES = 25  # frames of the learning animation, the last one the network it ends with


def write_learning_animation(
    result, q_values, step: int, name: str, q_star: np.ndarray, path: Path, learner="Deep Q-network"
) -> None:
    """The learning animation of a run, the network's (a ``TrainingResult``) or q_learning.py's:
    the learner's Q-values at LEARNING_FRAMES moments, recorded during training (README, Watch it
    learn), each beside Q*, ending with ``q_values``, those after optimize step ``step`` (``name``
    says whose they are). The moments: see ``animation_moments``."""
    from ours import plots  # imported by the caller's _pictures

    played = len(result.rewards_per_episode)
    exploring = played - len(result.epsilon_history)
    before = result.recorded_steps < step
    moments = animation_moments(result.recorded_q_values[before], LEARNING_FRAMES - 1)
    shown = [(result.recorded_q_values[i], result.recorded_steps[i], "") for i in moments]
    frames = []
    for q_values_then, step_then, note in [*shown, (q_values, step, f" ({name})")]:
        largest_error, _, disagreeing = compare_with_optimum(q_values_then, q_star)
        if result.v_star is None:
            how_good = _walk(result.walk_lengths[step_then])
        else:
            share = result.start_values[step_then] / result.v_star
            how_good = f"its greedy policy is worth {share:.0%} of V* (exact, over every slip)"
        episode, epsilon = exploring + step_then + 1, result.epsilon_history[step_then]
        caption = (
            f"episode {episode} of {played}{note}, epsilon {epsilon:.2f}",
            f"{how_good}; largest |Q - Q*| = {largest_error:.3f}",
        )
        frames.append((q_values_then, caption, disagreeing))
    slippery = result.v_star is not None
    titles = (
        f"The {learner} learning {'CliffWalkingSlippery' if slippery else 'CliffWalking'},"
        " beside the exact optimum Q* it approaches",
        f"{learner} then: its greedy action (arrow) and max Q (colour)",
        f"Exact optimum Q*{' over every slip' if slippery else ''}:"
        " every optimal action (arrow) and max Q* (colour)",
    )
    plots.save_learning_animation(frames, q_star, STANDABLE_STATES, path, titles)


def animation_moments(q_values: np.ndarray, count: int) -> list[int]:
    """Which of the recorded Q-values (one array per recorded step, in order) the animation shows:
    ``count`` of them or all if fewer, the first included, spread a fifth evenly over the steps, two
    fifths over how much max Q changed and two over how many greedy actions changed, so that the
    frames crowd where the values spread and the policy settles, and thin out where nothing moves.
    """
    if len(q_values) <= count:
        return list(range(len(q_values)))
    values = q_values[:, STANDABLE_STATES].max(axis=2)
    actions = q_values[:, STANDABLE_STATES].argmax(axis=2)
    steps = np.ones(len(q_values) - 1)
    weighted_changes = [  # from each recorded step to the next
        (0.2, steps),
        (0.4, np.abs(np.diff(values, axis=0)).mean(axis=1)),
        (0.4, (np.diff(actions, axis=0) != 0).mean(axis=1)),
    ]
    progress = sum(
        weight * np.concatenate([[0], np.cumsum(change)]) / change.sum()
        for weight, change in weighted_changes
        if change.sum() > 0
    )
    progress /= progress[-1]  # a change that never happens leaves its weight to the others
    moments = np.searchsorted(progress, np.linspace(0, 1, count) - 1e-9)
    return np.unique(np.minimum(moments, len(q_values) - 1)).tolist()  # rounding may pass the last


def report_saved(result: TrainingResult) -> None:
    """One line: which network train() saved, where, and how well it does."""
    where = f"Saved to {result.model_file}" if result.model_file else "Kept (model_file is None)"
    if not result.save_last:
        print(
            f"{where} the network as of episode {result.saved_episode}:"
            f" {_how_good(result)}."
        )
        return
    best = (
        f"The best network seen, of episode {result.saved_episode}: {_how_good(result)}."
        if result.saved_episode
        else f"No network walked from start to goal in {result.last_episode} episodes."
    )
    print(
        f"{where} the network after the last episode (--save-last, as the"
        f" article does): {_how_good(result, last=True)}. {best}"
    )


def _how_good(result: TrainingResult, last: bool = False) -> str:
    """The saved (or the last) network's greedy walk; on the slippery grid, its greedy policy's
    exact value."""
    if last and not len(result.epsilon_history):
        return "it learned nothing, the goal was never reached"
    if result.v_star is None:
        return _walk(result.walk_lengths[-1] if last else result.saved_path_length)
    return _worth(result.start_values[-1] if last else result.saved_start_value, result.v_star)


def _worth(value: float, v_star: float) -> str:
    return (
        f"its greedy policy is worth {value:.4g} from the start,"
        f" {value / v_star:.0%} of V* = {v_star:.4g} (exact, over every slip)"
    )


def _walk(length: float) -> str:
    if math.isinf(length):
        return "its greedy walk does not reach the goal"
    optimal = " (optimal)" if length == OPTIMAL_PATH_LENGTH else ""
    return f"its greedy walk takes {length:.0f} steps{optimal}"


def report_test(
    result: TestResult,
    agent,
    args: argparse.Namespace,
    render_mode: str | None,
    learner="Deep Q-network",
    pictures=None,
) -> None:
    """An episode of the tested policy, shown ``render_mode``'s way (the article's window, or text),
    its path, the tested Q-values (the network's, or q_learning.py's Q matrix) against the exact
    optimum, and its pictures (none when ``args.plots`` is None): ``learner`` names what was tested
    in the policy picture, ``pictures`` are the names of its two files (default: the policy picture
    and the GIF of cliff_walking_dqn.py)."""
    outcomes = outcome_table(make_env(slippery=result.slippery), agent._process_episode)
    q_star = value_iteration(outcomes, agent.discount_factor)
    # the same seed shows the same slips again
    reset_seed = result.seed if result.seed is not None else random.SystemRandom().randrange(2**32)
    episode = play_episode(
        result.greedy_actions,
        slippery=result.slippery,
        reset_seed=reset_seed,
        step_limit=result.step_limit,
    )
    if render_mode is not None:
        show_episode(
            episode.actions,
            render_mode,
            ending=episode.ending,
            slippery=result.slippery,
            reset_seed=reset_seed,
        )
    if result.slippery:
        report_slippery_test(result, episode, agent, outcomes, q_star)
    elif episode.reached_goal:
        print(
            f"Path walked: {len(episode.actions)} steps"
            f" (the optimal path takes {OPTIMAL_PATH_LENGTH})"
        )
    else:
        print(f"Path walked: {len(episode.actions)} steps, {episode.ending}")

    largest_error, agreement, disagreeing = comparison = compare_with_optimum(
        result.q_values, q_star
    )
    print(
        "Against the exact optimum Q*"
        f" (value iteration{', over every slip' if result.slippery else ''}):"
        f" greedy action optimal in {agreement:.0%} of the"
        f" {len(STANDABLE_STATES)} cells the agent can stand on;"
        f" largest |Q - Q*| = {largest_error:.3f}"
    )
    if disagreeing:
        cells = ", ".join(f"({row}, {column})" for row, column in map(grid_cell, disagreeing))
        print(f"Cells (row, column) where the greedy action is not optimal: {cells}")

    if args.plots:
        fps = make_env().metadata["render_fps"]
        with _pictures() as plots:
            policy_file, gif_file = pictures or (plots.POLICY_PLOT, plots.TEST_GIF)
            plots.plot_policy(
                result.q_values,
                q_star,
                (*comparison, STANDABLE_STATES),
                args.plots / policy_file,
                result.slippery,
                learner,
            )
            frames = show_episode(
                episode.actions, "rgb_array", slippery=result.slippery, reset_seed=reset_seed
            )
            captions = step_captions(episode.actions, result.slippery, episode.ending)
            plots.save_episode_gif(frames, fps, captions, args.plots / gif_file)
        print(f"Pictures: {args.plots / policy_file}, {args.plots / gif_file}")


def report_slippery_test(result: TestResult, episode, agent, outcomes, q_star) -> None:
    """The slippery test: the played episodes' steps, and what the greedy policy and the optimal one
    do exactly, over every slip, within the test's step limit."""
    shown = "reached the goal" if episode.reached_goal else "did not reach the goal"
    print(f"Episode shown: {len(episode.actions)} steps, {shown}")
    limit = result.step_limit  # the test stops an episode after this many steps
    greedy, optimal = result.q_values.argmax(axis=1), q_star.argmax(axis=1)
    print(
        f"Exact, over every slip, within the test's {limit} steps:"
        " this greedy policy reaches the goal with probability"
        f" {success_within(outcomes, greedy, limit):.1%},"
        f" the optimal policy with {success_within(outcomes, optimal, limit):.1%}"
    )
    value = policy_values(outcomes, agent.discount_factor, greedy)[START_STATE]
    print(f"With gamma {agent.discount_factor:g}, {_worth(value, q_star[START_STATE].max())}")

