"""The pictures a run draws: each one's drawing function, and the lists of which a run draws.

A picture is a function of a result and a path. ``PICTURES`` lists them, each as (what the run
calls it, its file name, its function); ``{stem}`` in a name is the environment's file stem,
cliff_walking for the article's. Adding a picture is one function here and one entry in a list.
The reports print where each went; benchmarks/time_pictures.py times them. The grids, scales,
legend and GIF writer they share are ours/plots.py's; the learning animation is ours/animation.py.
Each layout is fixed rather than computed by matplotlib's layout engines: that brings the pictures
of a run from about 2 s to under 1 s (benchmarks/time_pictures.py).
"""

import contextlib
import gc
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from ours import animation, plots
from ours.episode_replay import captioned_frame, play_episode, show_episode, step_captions
from ours.exact_optimum import compare_with_optimum
from ours.results import DrawingInterrupted
from ours.settings import describe_settings

MOVING_AVERAGE_EPISODES = 100


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each run of ``window`` values (shorter at the start: every episode has a value)."""
    sums = np.convolve(values, np.ones(window))[: len(values)]
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return sums / counts


def plot_training(result, path: Path) -> None:
    """Per episode of a ``TrainingResult``: goal-reached rate, episode length and greedy walk,
    epsilon, loss; the values the run used under the title."""
    environment, settings = result.environment, describe_settings(result.settings)
    scored = environment.measure != "walk"  # a value or objective against its ceiling, not a walk
    episodes = np.arange(1, result.played + 1)
    walk_length = result.per_episode(result.measures)
    learned = ~np.isnan(result.per_episode(result.loss_history))
    figure = Figure(figsize=(10, 10))
    # each panel's legend sits in a strip above it, where no data is
    figure.subplots_adjust(left=0.09, right=0.98, bottom=0.05, top=0.87, hspace=0.2)
    goal_axes, steps_axes, epsilon_axes, loss_axes = figure.subplots(4, 1, sharex=True)
    failed = "" if result.best_episode else f": failed, {result.nothing_kept}"
    figure.suptitle(f"Training: {environment.name} with a Deep Q-network{failed}", y=0.99)
    figure.text(0.5, 0.952, two_lines(settings), ha="center", va="center", color="#333333")

    goal_axes.plot(
        episodes,
        moving_average(result.rewards_per_episode.astype(float), MOVING_AVERAGE_EPISODES),
        color="tab:green",
        label=f"goal reached (moving average of {MOVING_AVERAGE_EPISODES} episodes)",
    )
    # each optimize step's greedy policy, valued exactly against the best any policy can do
    if scored:
        exact = {
            "value": f"greedy policy's exact value from the start / V* ({environment.ceiling:.3g})",
            "objective": f"greedy policy's exact score / the best ({environment.ceiling:.3g})",
        }
        goal_axes.plot(
            episodes[learned],
            result.per_episode(result.measures)[learned] / environment.ceiling,
            ".",
            markersize=2,
            color="tab:blue",
            label=exact[environment.measure],
        )
    against = {"value": "value / V*", "objective": "score / the best"}
    goal_axes.set_ylabel(
        f"goal-reached rate\nand {against[environment.measure]}" if scored else "goal-reached rate"
    )
    goal_axes.set_ylim(-0.02, 1.02)

    steps_axes.plot(
        episodes,
        result.steps_per_episode,
        color="tab:gray",
        linewidth=0.5,
        alpha=0.6,
        label="steps in the episode (exploring included)",
    )
    walk = np.where(np.isinf(walk_length), np.nan, walk_length)
    if not scored:  # the greedy walk repeats itself only on the deterministic grid
        steps_axes.plot(
            episodes[learned],
            walk[learned],
            ".",
            markersize=2,
            color="tab:blue",
            label="greedy walk after the optimize step",
        )
        steps_axes.axhline(
            environment.optimal_path_length,
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"optimal path: {environment.optimal_path_length} steps",
        )
    steps_axes.set_ylabel("steps")
    plots.log_scale(steps_axes)

    epsilon_axes.plot(
        episodes,
        result.per_episode(result.epsilon_history, before_learning=1.0),
        color="tab:orange",
        label="epsilon (share of random actions)",
    )
    epsilon_axes.set_ylabel("epsilon")

    loss_axes.plot(
        episodes[learned],
        result.per_episode(result.loss_history)[learned],
        color="tab:red",
        linewidth=0.5,
        label="loss of the episode's optimize step",
    )
    loss_axes.set_ylabel("MSE loss")
    plots.log_scale(loss_axes)
    loss_axes.set_xlabel("episode")

    for axes in (goal_axes, steps_axes, epsilon_axes, loss_axes):
        axes.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1),
            ncols=3,
            fontsize="small",
            frameon=False,
            borderaxespad=0.1,
            borderpad=0,
        )
        for episode, color, style, label in training_marks(result):
            axes.axvline(episode, color=color, linestyle=style, linewidth=1, label=label)
        axes.grid(alpha=0.3)
    # the vertical lines, named once, in a row of their own: labels that never overlap
    handles, labels = goal_axes.get_legend_handles_labels()
    lines = len(training_marks(result))
    figure.legend(
        handles[len(handles) - lines :],
        labels[len(labels) - lines :],
        loc="center",
        bbox_to_anchor=(0.5, 0.912),
        ncols=3,
        fontsize="small",
        frameon=False,
    )
    figure.savefig(path, dpi=100, pil_kwargs={"compress_level": 1})


def two_lines(text: str) -> str:
    """A list of settings ("a 1, b 2, c 3") broken in two lines at the comma nearest its middle."""
    commas = [index for index, character in enumerate(text) if character == ","]
    if not commas:
        return text
    middle = min(commas, key=lambda index: abs(index - len(text) / 2))
    return f"{text[: middle + 1]}\n{text[middle + 2 :]}"


def training_marks(result) -> list[tuple[int, str, str, str]]:
    """The training picture's vertical lines (episode, colour, style, label): the first goal, the
    network saved and, when the last one was saved (save-last), the best one seen, which was not."""
    marks = []
    if result.first_goal_episode:
        marks.append((result.first_goal_episode, "tab:purple", "--", "first goal: learning starts"))
    if result.save_last:
        marks.append((result.played, "black", "-.", "network saved: the last"))
        if result.best_episode:
            marks.append((result.best_episode, "tab:gray", ":", "best network seen, not saved"))
    elif result.best_episode:
        marks.append((result.best_episode, "black", "-.", "network saved"))
    return [(episode, *look, f"{label} (episode {episode})") for episode, *look, label in marks]


def plot_policy(result, path: Path) -> None:
    """A ``TestResult``'s greedy policy and state values above the exact ones, disagreements
    marked: the learner's (the network, or q_learning.py's Q matrix: ``result.learner``) Q-values
    and Q* over every slip where moves slip (the titles say so). Taxi, whose states are not a
    grid's cells, gets its own view (``plot_taxi_policy``)."""
    if result.environment.shape is None:
        return plot_taxi_policy(result, path)
    environment, q_values = result.environment, result.q_values
    largest_error, agreement, disagreeing = compare_with_optimum(q_values, environment)
    standable, q_star = environment.standable_states, environment.q_star
    norm = plots.value_scale([q_values, q_star], standable)
    figure = Figure(figsize=(11, 7.5))
    figure.subplots_adjust(left=0.1, right=0.86, bottom=0.14, top=0.91, hspace=0.38)
    network_axes, optimum_axes = figure.subplots(2, 1)
    plots.draw_q_values(
        network_axes,
        q_values,
        environment,
        f"{result.learner}: its greedy action (arrow) and max Q (colour)",
        norm,
        disagreeing,
    )
    optimum_title = (
        plots.OPTIMUM_TITLE.replace("iteration", "iteration over every slip")
        if environment.slippery
        else plots.OPTIMUM_TITLE
    )
    image = plots.draw_q_values(
        optimum_axes, q_star, environment, optimum_title, norm, every_best_action=True
    )
    plots.value_colorbar(figure, image, cax=figure.add_axes((0.9, 0.2, 0.018, 0.65)))
    figure.suptitle(
        f"Learned policy against the optimum: greedy action optimal in {agreement:.0%} of the"
        f" {len(standable)} cells, largest |Q - Q*| = {largest_error:.3f}",
        fontweight="bold",
    )
    plots.grid_legend(figure, environment)
    figure.savefig(path, dpi=100, pil_kwargs={"compress_level": 1})


TAXI_SHOWN = (2, 1)  # the passenger waits at Y (bottom left), the destination is G (top right)
TAXI_MOVES = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}  # south, north, east, west: dx, dy


def plot_taxi_policy(result, path: Path) -> None:
    """Taxi's policy in a picture: for one passenger and one destination (``TAXI_SHOWN``), the
    5 x 5 town twice, the passenger waiting and the passenger aboard; in each cell the greedy
    action where the taxi is (an arrow for a move, P for a pick-up, D for a drop-off) and its max Q
    (colour); the learner's above, Q*'s below, a red frame where the learner's is not optimal."""
    environment, unwrapped = result.environment, result.environment.unwrapped
    waiting, destination = TAXI_SHOWN
    phases = [("passenger waiting at", waiting), ("passenger aboard, for", 4)]
    tables = [(result.learner, result.q_values), ("Exact optimum Q*", environment.q_star)]
    states = [
        [[unwrapped.encode(row, column, passenger, destination) for column in range(5)]
         for row in range(5)]
        for _, passenger in phases
    ]
    norm = plots.value_scale([q for _, q in tables], np.ravel(states))
    figure = Figure(figsize=(9, 8.6))
    figure.subplots_adjust(left=0.06, right=0.86, bottom=0.08, top=0.88, hspace=0.32, wspace=0.2)
    names = "RGYB"
    for row_of_axes, (learner, q_values) in zip(figure.subplots(2, 2), tables):
        for axes, (phase, passenger), grid in zip(row_of_axes, phases, states):
            grid = np.array(grid)
            image = axes.imshow(q_values[grid].max(axis=2), cmap="viridis", norm=norm)
            for (row, column), state in np.ndenumerate(grid):
                action = int(q_values[state].argmax())
                if action in TAXI_MOVES:
                    dx, dy = TAXI_MOVES[action]
                    axes.arrow(
                        column - dx * 0.25, row - dy * 0.25, dx * 0.4, dy * 0.4, color="white",
                        width=0.02, head_width=0.15, length_includes_head=True,
                    )
                else:
                    axes.text(
                        column, row, "PD"[action - 4], ha="center", va="center", color="white",
                        fontsize=12, fontweight="bold",
                    )
                optimal = environment.q_star[state]
                if optimal[action] < optimal.max() - 1e-9:
                    axes.add_patch(
                        plots.Rectangle(
                            (column - 0.46, row - 0.46), 0.92, 0.92, fill=False, edgecolor="red",
                            linewidth=2.5,
                        )
                    )
            for index, (row, column) in enumerate(unwrapped.locs):
                axes.text(column - 0.42, row - 0.42, names[index], ha="left", va="top",
                          fontsize=10, fontweight="bold", color="orange")
            for row in range(5):  # the walls, read from the map: "|" between two columns
                for column in range(4):
                    if unwrapped.desc[row + 1, 2 * column + 2] == b"|":
                        axes.plot([column + 0.5] * 2, [row - 0.5, row + 0.5], color="white",
                                  linewidth=4)
            where = names[waiting] if passenger != 4 else names[destination]
            axes.set_title(f"{learner}: {phase} {where}", fontsize=10)
            axes.set_xticks(range(5))
            axes.set_yticks(range(5))
    plots.value_colorbar(figure, image, cax=figure.add_axes((0.9, 0.2, 0.02, 0.6)))
    largest_error, agreement, _ = compare_with_optimum(result.q_values, environment)
    figure.suptitle(
        f"Taxi, greedy action optimal in {agreement:.0%} of the"
        f" {len(environment.standable_states)} states, largest |Q - Q*| = {largest_error:.3f}",
        fontweight="bold",
    )
    figure.text(
        0.5,
        0.935,
        "arrow: drive; P: pick up; D: drop off; white bar: a wall; red frame: not optimal",
        ha="center",
    )
    figure.savefig(path, dpi=100, pil_kwargs={"compress_level": 1})


def write_test_gif(result, path: Path, hold_seconds: float = 1.0) -> None:
    """The episode a run shows for a ``TestResult``, from the environment's own ``rgb_array``
    frames, each with its caption above it ("step 3 of 13: right"), as the window shows them; the
    last frame stays ``hold_seconds`` longer."""
    environment = result.environment
    episode = play_episode(result)
    frames = show_episode(episode, "rgb_array", environment, result.seed)
    captions = step_captions(episode, environment)
    images = [
        # 3x faster than GIF's default
        captioned_frame(frame, caption).quantize(method=Image.Quantize.FASTOCTREE)
        for frame, caption in zip(frames, captions)
    ]
    fps = environment.unwrapped.metadata["render_fps"]
    plots.write_gif(images, [1000 // fps] * len(images), hold_seconds, path)


LEARNING_ANIMATION = animation.write_learning_animation
PICTURES = {
    "training": [  # from the network's TrainingResult
        ("Training curves", "{stem}_dqn_training.png", plot_training),
        ("Learning animation", "{stem}_dqn_learning.gif", LEARNING_ANIMATION),
    ],
    "test": [  # from a TestResult
        ("Policy", "{stem}_dqn_policy.png", plot_policy),
        ("Test episode", "{stem}_dqn_test.gif", write_test_gif),
    ],
    "q_matrix": [  # q_learning.py's, from its QLearningResult
        ("Learning animation", "cliff_walking_q_matrix_learning.gif", LEARNING_ANIMATION),
    ],
    "q_matrix test": [  # q_learning.py's, from its TestResult
        ("Policy", "q_learning_policy.png", plot_policy),
        ("Test episode", "q_learning_test.gif", write_test_gif),
    ],
}


def file_names(kind: str, environment) -> dict[str, str]:
    """The file of each picture of ``PICTURES[kind]`` for a run on ``environment``, by its name."""
    return {name: file.format(stem=environment.file_stem) for name, file, _ in PICTURES[kind]}


def remove(kinds, folder: Path, environment) -> list[Path]:
    """Remove the files of the pictures of ``kinds`` for a run on ``environment`` from ``folder``,
    left by an earlier run; returns those there were."""
    removed = []
    for kind in kinds:
        for file_name in file_names(kind, environment).values():
            path = folder / file_name
            if path.is_file():
                path.unlink()
                removed.append(path)
    return removed


def draw(kind: str, result, folder: Path) -> list[tuple[str, Path]]:
    """Draw each picture of ``PICTURES[kind]`` from ``result`` into ``folder``; returns (name, path)
    of each written (a drawing function that returns False wrote nothing: the learning animation of
    a run that learned nothing).

    The folder holds no picture of another run beside them: their files of an earlier run go first
    (one the run does not draw would mislead). Each is drawn under a temporary name and renamed
    when whole, so that Ctrl-C leaves no half picture; it raises DrawingInterrupted, which names
    the pictures drawn.

    The garbage collector is paused while they are drawn: matplotlib builds tens of thousands of
    small objects for a picture, and each of the collector's passes would scan them and the ones
    torch and the run made before: 0.1-0.2 s of the pictures here. ``gc.freeze`` takes what exists
    so far out of later passes; the pause ends with the drawing, and so does the freeze: frozen
    objects are never collected, not even at exit, where the leak checks of torch's compiled
    bindings (nanobind, from torch 2.15) then print a line for each of them.
    """
    written = []
    remove([kind], folder, result.environment)
    files = file_names(kind, result.environment)
    try:
        with _collector_paused():
            for name, _, draw_picture in PICTURES[kind]:
                path = folder / files[name]
                drawing = path.with_name(f".{path.stem}.drawing{path.suffix}")
                try:
                    if draw_picture(result, drawing) is not False:
                        os.replace(drawing, path)
                        written.append((name, path))
                finally:
                    drawing.unlink(missing_ok=True)
    except KeyboardInterrupt:
        raise DrawingInterrupted([path.name for _, path in written]) from None
    return written


@contextlib.contextmanager
def _collector_paused():
    gc.freeze()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
