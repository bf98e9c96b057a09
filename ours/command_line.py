"""The command line: its flags, the checks before any work, and the one-line errors.

``parse_args`` reads the flags (the hyperparameters' rules are ours/settings.py's, the constructor's
too); ``check_before_any_work`` refuses what would fail later (a folder, a display, an environment)
before training; ``OneLineErrors`` turns what the user can fix, a failed training and Ctrl-C into
one line and an exit status. What a run prints is ours/reports.py's.
"""

import argparse
import os
from pathlib import Path

from ours.environment import MAX_SEED, MissingEnvironment, cliff_walking_id
from ours.episode_replay import has_display
from ours.model_file import MODEL_FILE, ModelFileError
from ours.packages import end_start_up
from ours.reports import report_error
from ours.results import DrawingInterrupted, TrainingFailed, TrainingInterrupted
from ours.settings import HYPERPARAMETERS, Rule, rules_for


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
        "time limit of a training episode (ours; at least the {shortest} steps of the shortest"
        " path to the goal)",
    ),
}


def add_hyperparameter_flags(parser: argparse.ArgumentParser, agent) -> None:
    """--learning-rate and the like, named after the agent's attributes, its values the defaults
    (filled in by ``hyperparameters``: None here tells a flag given from one left out)."""
    group = parser.add_argument_group(
        "hyperparameters (defaults: the article's values, unless the environment needs others)"
    )
    shortest = agent.environment.shortest_path_length
    for name, (metavar, meaning) in HYPERPARAMETER_HELP.items():
        group.add_argument(
            f"--{name.replace('_', '-')}",
            type=flag_type(rules_for(agent)[name]),
            metavar=metavar,
            help=f"{meaning.format(shortest=shortest)} (default {getattr(agent, name):g})",
        )


# What only training uses, by attribute name: --test-only refuses these flags. --discount-factor is
# not one: the test compares the network with the Q* of that gamma.
TRAINING_ONLY = (
    "episodes", "save_last", *(name for name in HYPERPARAMETERS if name != "discount_factor")
)


def refuse_training_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """With --test-only, a flag that only training uses would do nothing: refused in one line."""
    given = [name for name in TRAINING_ONLY if getattr(args, name) not in (None, False)]
    if args.test_only and given:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in given)
        one = len(given) == 1
        count = "episodes" in given and ", or count the test's episodes with --test-episodes N"
        parser.error(
            f"{flags} only {'changes' if one else 'change'} training, which --test-only skips:"
            f" leave {'it' if one else 'them'} out{count or ''}"
        )


def hyperparameters(
    parser: argparse.ArgumentParser, args: argparse.Namespace, agent
) -> dict:
    """The hyperparameter flags' values, by attribute name, the agent's where a flag was left out;
    refused in one line where they clash."""
    for name in HYPERPARAMETERS:
        if getattr(args, name) is None:
            setattr(args, name, getattr(agent, name))
    if args.mini_batch_size >= args.replay_memory_size:
        parser.error(
            "argument --mini-batch-size: must be smaller than"
            f" --replay-memory-size ({args.replay_memory_size}),"
            f" which learning waits for the memory to exceed, got {args.mini_batch_size}"
        )
    return {name: getattr(args, name) for name in HYPERPARAMETERS}


def add_slippery_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--slippery",
        action="store_true",
        help="train and test on CliffWalkingSlippery-v1,"
        " where a move may go to either side (Gymnasium 1.2 on)",
    )


def parse_args(
    argv=None,
    agent=None,
    description="Train a Deep Q-network on CliffWalking, save it, and test it.",
    episodes: int = 3000,
    add_environment_flags=add_slippery_flag,
) -> argparse.Namespace:
    """The flags; the hyperparameters' defaults are ``agent``'s, the training episodes'
    ``episodes``; ``add_environment_flags`` adds those that choose the environment (--slippery).
    ``args.hyperparameters`` holds the values of the hyperparameter flags. Without --seed, training
    draws a seed and prints it."""
    parser = OneLineArgumentParser(description=description)
    add_environment_flags(parser)
    parser.add_argument(
        "--episodes",
        type=whole_number(1),
        help=f"training episodes that learn (default {episodes})",
    )
    parser.add_argument(
        "--test-episodes", type=whole_number(1), default=100, help="test episodes (default 100)"
    )
    parser.add_argument(
        "--seed",
        type=whole_number(0, MAX_SEED),
        help="seed for a repeatable run (default: a random one, printed)",
    )
    model_file = agent.model_file if agent else MODEL_FILE
    parser.add_argument(
        "--model",
        default=model_file,
        help=f"model file that training writes and the test reads (default {model_file})",
    )
    parser.add_argument(
        "--test-only",
        action="store_true",
        help="skip training and test the saved model (the flags that only change training are"
        " refused)",
    )
    parser.add_argument(
        "--save-last",
        action="store_true",
        default=None,  # None: not given (refuse_training_flags)
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
    add_hyperparameter_flags(parser, agent)
    args = parser.parse_args(argv)
    refuse_training_flags(parser, args)
    args.episodes = episodes if args.episodes is None else args.episodes
    args.save_last = bool(args.save_last)
    args.hyperparameters = hyperparameters(parser, args, agent)
    args.plots = picture_folder(args)
    return args


def add_picture_flags(parser: argparse.ArgumentParser) -> None:
    """--plots DIR and --no-plots, in cliff_walking_dqn.py and q_learning.py (picture_folder)."""
    parser.add_argument(
        "--plots",
        default=".",
        metavar="DIR",
        help="folder for the pictures of the run, made if missing (default: here)",
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
    """Refuse a destination folder that is missing or read-only, before any work starts; the
    pictures' folder (--plots DIR) is made when missing, as --model makes its file."""
    if what == "model file" and Path(path).is_dir():
        raise UserError(f"model file '{path}' is a folder: point --model at a .pt file")
    folder = Path(path).resolve().parent if what == "model file" else Path(path).resolve()
    if what == "pictures" and folder.exists() and not folder.is_dir():
        raise UserError(f"'{folder}' for the pictures is a file, not a folder: choose another path")
    if what == "pictures" and not folder.is_dir():
        try:
            folder.mkdir(parents=True)
        except OSError as error:  # a file of that name, a read-only parent ...
            raise UserError(
                f"could not make folder '{folder}' for the pictures: {error.strerror}"
            ) from None
    if not folder.is_dir():
        raise UserError(
            f"folder '{folder}' for the {what} does not exist: create it or choose another path"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"folder '{folder}' for the {what} is not writable: choose another path")


def check_before_any_work(args: argparse.Namespace) -> str | None:
    """Refuse what would fail later (a folder, a display) before training; give the render mode."""
    render_mode = resolve_render_mode(args.render)
    if getattr(args, "slippery", False):
        cliff_walking_id(slippery=True)  # a Gymnasium without it: MissingEnvironment
    if not args.test_only:
        check_writable_folder(args.model, "model file")
    if args.plots:
        check_writable_folder(args.plots, "pictures")
    return render_mode


class OneLineErrors:
    """Turns what the user can fix, a failed training and Ctrl-C into one line on stderr and an exit
    status (2, 1 and 130), with no traceback. ``exit_status`` is 0 when nothing went wrong.

    Ctrl-C says what it left: whether the model file was saved or left as it was (told by the file
    itself: written or not since the run began), and while the pictures are drawn, which ones are.
    Until the run gets here, ours/packages.py's start-up handler says it in one line."""

    def __init__(self, model_file):
        self.model_file = model_file
        self.exit_status = 0

    def __enter__(self):
        end_start_up()  # from here on Ctrl-C is KeyboardInterrupt, reported below
        self.model_as_found = _file_identity(self.model_file)
        return self

    def interrupted(self, during: str = "") -> str:
        """"Interrupted" ``during`` something, and what became of the model file."""
        if self.model_file is None:  # q_learning.py: it writes none
            return f"Interrupted{during}."
        if _file_identity(self.model_file) != self.model_as_found:
            after = f"after the network was saved to '{self.model_file}'"
            return f"Interrupted{during}, {after}." if during else f"Interrupted {after}."
        return f"Interrupted{during}: '{self.model_file}' was left unchanged."

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
        elif isinstance(error, DrawingInterrupted):
            drawn = f"only {', '.join(error.drawn)} drawn" if error.drawn else "none drawn"
            during = f" while drawing the pictures ({drawn}, no older ones left)"
            message, self.exit_status = self.interrupted(during), 130
        elif isinstance(error, KeyboardInterrupt):
            message, self.exit_status = self.interrupted(), 130
        # a full disk, a file that vanished, a permission the check missed
        elif isinstance(error, OSError):
            message, self.exit_status = (
                f"error: could not write '{error.filename}': {error.strerror}",
                2,
            )
        else:
            return False  # no error, or a bug: let it show
        report_error(message)
        return True


def _file_identity(path) -> tuple | None:
    """What tells a file apart from the one written over it (save_model writes a new file and
    renames it over the old): None where there is none."""
    try:
        found = os.stat(path)
    except (OSError, TypeError, ValueError):  # no file; model_file None
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size
