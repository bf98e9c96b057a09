"""The pictures the article lacks: training curves, policy vs Q*, a test episode, table vs network.

Drawn on matplotlib's ``Figure`` directly (no pyplot), so they need no display. The numbers come
from cliff_walking_dqn.py and command_line.py; this module only draws them. Each layout is fixed
rather than computed by matplotlib's layout engines, and the GIF is drawn with Pillow: that brings
the pictures of a run from about 2 s to under 1 s (benchmarks/time_pictures.py). The Q matrix beside
the network is the picture of benchmarks/table_vs_network.py.
"""

import math
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
from PIL import Image, ImageDraw, ImageFont

from ours.environment import (
    GOAL_STATE,
    GRID_COLUMNS,
    GRID_ROWS,
    OPTIMAL_PATH_LENGTH,
    STANDABLE_STATES,
    START_STATE,
)

CLIFF_STATES = range(37, 47)
TRAINING_PLOT = "cliff_walking_dqn_training.png"
POLICY_PLOT = "cliff_walking_dqn_policy.png"
TEST_GIF = "cliff_walking_dqn_test.gif"
LEARNING_GIF = "cliff_walking_dqn_learning.gif"
Q_MATRIX_LEARNING_GIF = "cliff_walking_q_matrix_learning.gif"  # q_learning.py's
MOVING_AVERAGE_EPISODES = 100
OPTIMUM_TITLE = (
    "Exact optimum Q* from value iteration: every optimal action (arrow) and max Q* (colour)"
)
# action -> (dx, dy), rows counted downwards
ARROWS = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each run of ``window`` values (shorter at the start: every episode has a value)."""
    sums = np.convolve(values, np.ones(window))[: len(values)]
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return sums / counts


def plot_training(result, path: Path, settings: str = "") -> None:
    """Per episode of a ``TrainingResult``: goal-reached rate, episode length and greedy walk,
    epsilon, loss; ``settings``, the values the run used, under the title."""
    episodes = np.arange(1, len(result.rewards_per_episode) + 1)
    walk_length = result.per_episode(result.walk_lengths)
    learned = ~np.isnan(result.per_episode(result.loss_history))
    figure = Figure(figsize=(10, 10))
    figure.subplots_adjust(left=0.09, right=0.98, bottom=0.05, top=0.94, hspace=0.06)
    goal_axes, steps_axes, epsilon_axes, loss_axes = figure.subplots(4, 1, sharex=True)
    failed = "" if result.saved_episode else ": failed, no network walked from start to goal"
    grid = "CliffWalkingSlippery" if result.v_star is not None else "CliffWalking"
    figure.suptitle(f"Training: {grid} with a Deep Q-network{failed}", y=0.99)
    # one line, even with every flag
    figure.text(
        0.5,
        0.958,
        settings,
        ha="center",
        va="center",
        color="dimgray",
        fontsize="small" if len(settings) <= 125 else "x-small",
    )

    goal_axes.plot(
        episodes,
        moving_average(result.rewards_per_episode.astype(float), MOVING_AVERAGE_EPISODES),
        color="tab:green",
        label=f"goal reached (moving average of {MOVING_AVERAGE_EPISODES} episodes)",
    )
    # slippery: each optimize step's greedy policy, valued exactly against V*
    if result.v_star is not None:
        goal_axes.plot(
            episodes[learned],
            result.per_episode(result.start_values)[learned] / result.v_star,
            ".",
            markersize=2,
            color="tab:blue",
            label=f"greedy policy's exact value from the start / V* ({result.v_star:.3g})",
        )
    goal_axes.set_ylabel("goal-reached rate" if result.v_star is None else "rate; value / V*")
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
    if result.v_star is None:  # the greedy walk repeats itself only on the deterministic grid
        steps_axes.plot(
            episodes[learned],
            walk[learned],
            ".",
            markersize=2,
            color="tab:blue",
            label="greedy walk from start to goal after the optimize step",
        )
        steps_axes.axhline(
            OPTIMAL_PATH_LENGTH,
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"optimal path: {OPTIMAL_PATH_LENGTH} steps",
        )
    steps_axes.set_ylabel("steps")
    _log_scale(steps_axes)

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
    _log_scale(loss_axes)
    loss_axes.set_xlabel("episode")

    marks = training_marks(result)
    for axes in (goal_axes, steps_axes, epsilon_axes, loss_axes):
        for episode, color, style, label in marks:
            axes.axvline(episode, color=color, linestyle=style, linewidth=1, label=label)
        axes.grid(alpha=0.3)
    goal_axes.legend(loc="upper left", fontsize="small")
    for axes in (steps_axes, epsilon_axes, loss_axes):
        handles, labels = axes.get_legend_handles_labels()
        axes.legend(
            handles[: len(handles) - len(marks)],
            labels[: len(labels) - len(marks)],
            loc="upper right",
            fontsize="small",
            framealpha=0.9,
        )
    figure.savefig(path, dpi=100, pil_kwargs={"compress_level": 1})


def training_marks(result) -> list[tuple[int, str, str, str]]:
    """The training picture's vertical lines (episode, colour, style, label): the first goal, the
    network saved and, when the last one was saved (save-last), the best one seen, which was not."""
    marks = []
    if result.first_goal_episode:
        marks.append(
            (
                result.first_goal_episode,
                "tab:purple",
                "--",
                f"first goal: learning starts (episode {result.first_goal_episode})",
            )
        )
    if result.save_last:
        marks.append(
            (
                result.last_episode,
                "black",
                "-.",
                f"network saved: the last (episode {result.last_episode})",
            )
        )
        if result.saved_episode:
            marks.append(
                (
                    result.saved_episode,
                    "tab:gray",
                    ":",
                    f"best network seen, not saved (episode {result.saved_episode})",
                )
            )
    elif result.saved_episode:
        marks.append(
            (result.saved_episode, "black", "-.", f"network saved (episode {result.saved_episode})")
        )
    return marks


def _log_scale(axes) -> None:
    """A log axis labelled 1, 10, 0.001, 1e-05 in plain text (matplotlib's default labels need its
    math-text parser, whose first use costs 0.2-0.3 s), with no minor ticks (each costs a few
    ms)."""
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_locator(NullLocator())


def _draw_grid(axes, values: np.ndarray, arrows: dict, title: str, norm: Normalize, marked=()):
    """The 4x12 grid: ``values`` (one per state, NaN for none) as colour, an arrow for each action
    in ``arrows`` (state -> actions), the cliff, start and goal, and a red frame around ``marked``
    states."""
    image = axes.imshow(values.reshape(GRID_ROWS, GRID_COLUMNS), cmap="viridis", norm=norm)
    for state in CLIFF_STATES:
        row, column = divmod(state, GRID_COLUMNS)
        axes.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, color="dimgray"))
    (x, y), (dx, dy) = _arrow_vectors(arrows)
    axes.quiver(
        x,
        y,
        dx,
        dy,
        color="white",
        angles="xy",
        scale_units="xy",
        scale=1 / 0.36,
        width=0.0025,
        headwidth=4,
        headlength=4,
        headaxislength=3.5,
    )
    for state in marked:
        axes.add_patch(_mark(state))
    for state, label in ((START_STATE, "S"), (GOAL_STATE, "G")):
        row, column = divmod(state, GRID_COLUMNS)
        axes.text(
            column - 0.42,
            row - 0.42,
            label,
            ha="left",
            va="top",
            fontsize=11,
            fontweight="bold",
            color="white" if label == "S" else "black",
        )
    axes.set_title(title)
    axes.set_xticks(range(GRID_COLUMNS))
    axes.set_yticks(range(GRID_ROWS))
    axes.set_xlabel("column")
    axes.set_ylabel("row")
    return image


def _arrow_vectors(arrows: dict) -> tuple[np.ndarray, np.ndarray]:
    """Where each arrow of ``arrows`` (state -> actions) starts, (x, y), and its direction."""
    starts, directions = [], []
    for state, actions in arrows.items():
        row, column = divmod(int(state), GRID_COLUMNS)
        for action in actions:
            starts.append((column, row))
            directions.append(ARROWS[int(action)])
    return np.transpose(starts), np.transpose(directions)


def _mark(state: int) -> Rectangle:
    """The red frame around a cell whose greedy action is not optimal."""
    row, column = divmod(state, GRID_COLUMNS)
    return Rectangle(
        (column - 0.46, row - 0.46), 0.92, 0.92, fill=False, edgecolor="red", linewidth=2.5
    )


def _grid_values(q_values: np.ndarray, standable, every_best_action: bool = False):
    """A learner's max Q per cell (NaN where the agent cannot stand) and its arrows (state ->
    actions): the greedy action, or with ``every_best_action`` every action tied with the best."""
    values = np.full(GRID_ROWS * GRID_COLUMNS, np.nan)
    values[standable] = q_values[standable].max(axis=1)
    if every_best_action:
        arrows = {s: np.flatnonzero(q_values[s] > q_values[s].max() - 1e-9) for s in standable}
    else:
        arrows = {s: [q_values[s].argmax()] for s in standable}
    return values, arrows


def _draw_q_values(
    axes,
    q_values: np.ndarray,
    standable,
    title: str,
    norm: Normalize,
    marked=(),
    every_best_action: bool = False,
):
    """A learner's Q-values on the grid, in the cells the agent can stand on: max Q as colour and
    the greedy action as an arrow, or with ``every_best_action`` every action tied with the best
    (for Q*)."""
    values, arrows = _grid_values(q_values, standable, every_best_action)
    return _draw_grid(axes, values, arrows, title, norm, marked)


def value_scale(q_value_tables, standable) -> LogNorm:
    """One colour scale for every grid of a picture, fitted to the max Q they show, logarithmic.

    The values are discounted returns, gamma to the power of the steps left, so they shrink
    geometrically away from the goal, and how far depends on gamma and the grid: on the slippery one
    at gamma 0.9 most cells are under 0.05, where a fixed 0-1 scale paints them all one colour. On
    a log scale each step costs the same share of the colours. Values under a thousandth of the
    largest (zero and negative ones too) get the lowest colour.
    """
    shown = np.concatenate([np.asarray(q)[standable].max(axis=1) for q in q_value_tables])
    high = float(shown.max()) if shown.max() > 0 else 1.0
    positive = shown[shown > 0]
    low = max(float(positive.min()) if len(positive) else 0.0, high / 1000)
    return LogNorm(vmin=low, vmax=high if high > low else low * 10, clip=True)


def _value_colorbar(figure, image, **placement) -> None:
    """The colour bar of a value_scale, labelled 0.2, 0.3, 0.5, 1 in plain text (see _log_scale)."""
    colorbar = figure.colorbar(image, label="max over actions of Q(s, a)", **placement)
    colorbar.ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 3, 5)))
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    colorbar.ax.yaxis.set_minor_locator(NullLocator())


def _grid_legend(figure) -> None:
    """The key to the grids below the figure: the cliff, the red frame, S and G."""
    figure.legend(
        handles=[
            Patch(color="dimgray", label="cliff"),
            Patch(fill=False, edgecolor="red", linewidth=2.5, label="greedy action not optimal"),
            Patch(color="none", label="S start, G goal"),
        ],
        loc="lower center",
        ncols=3,
    )


def plot_policy(
    q_values: np.ndarray,
    q_star: np.ndarray,
    comparison,
    path: Path,
    slippery: bool = False,
    learner: str = "Deep Q-network",
) -> None:
    """The learner's greedy policy and state values above the exact ones, disagreements marked.

    ``comparison`` is (largest |Q - Q*|, share of agreeing cells, disagreeing states, standable
    states); ``slippery``: the grid is CliffWalkingSlippery, and Q* is over every slip (the titles
    say so); ``learner`` names what learned ``q_values`` (the network, or q_learning.py's Q matrix).
    """
    largest_error, agreement, disagreeing, standable = comparison
    norm = value_scale([q_values, q_star], standable)
    figure = Figure(figsize=(11, 7.5))
    figure.subplots_adjust(left=0.1, right=0.86, bottom=0.14, top=0.91, hspace=0.38)
    network_axes, optimum_axes = figure.subplots(2, 1)
    _draw_q_values(
        network_axes,
        q_values,
        standable,
        f"{learner}: its greedy action (arrow) and max Q (colour)",
        norm,
        disagreeing,
    )
    optimum_title = (
        OPTIMUM_TITLE.replace("iteration", "iteration over every slip")
        if slippery
        else OPTIMUM_TITLE
    )
    image = _draw_q_values(
        optimum_axes, q_star, standable, optimum_title, norm, every_best_action=True
    )
    _value_colorbar(figure, image, cax=figure.add_axes((0.9, 0.2, 0.018, 0.65)))
    figure.suptitle(
        f"Learned policy against the optimum: greedy action optimal in {agreement:.0%} of the"
        f" {len(standable)} cells, largest |Q - Q*| = {largest_error:.3f}",
        fontweight="bold",
    )
    _grid_legend(figure)
    figure.savefig(path, dpi=100, pil_kwargs={"compress_level": 1})


def plot_table_vs_network(
    optimal_shares: dict, grids: list, q_star: np.ndarray, seeds: int, path: Path
) -> None:
    """Above, per learner, the share of the seeds whose greedy walk is optimal after each learning
    episode; below, each learner's Q-values on the grid and Q*'s.

    ``optimal_shares`` maps a learner's name to that share (one value per learning episode);
    ``grids`` lists (title, Q-values, states where the greedy action is not optimal) per learner.
    """
    norm = value_scale([q_values for _, q_values, _ in grids] + [q_star], STANDABLE_STATES)
    figure = Figure(figsize=(11, 13.5), layout="constrained")
    curve_axes, *grid_axes = figure.subplots(
        len(grids) + 2, 1, height_ratios=[1.3] + [1] * (len(grids) + 1)
    )
    for (name, shares), color in zip(optimal_shares.items(), ("tab:orange", "tab:blue")):
        episodes = np.arange(1, len(shares) + 1)
        curve_axes.plot(episodes, shares, color=color, linewidth=1.2, label=name)
    curve_axes.plot(
        episodes,
        1 - episodes / len(episodes),
        color="gray",
        linestyle="--",
        linewidth=1,
        label="epsilon (both)",
    )
    curve_axes.set_xlim(0, len(episodes))
    curve_axes.set_ylim(-0.02, 1.02)
    curve_axes.set_xlabel("learning episode (counted from the episode that first reached the goal)")
    curve_axes.set_ylabel(f"share of the {seeds} seeds")
    curve_axes.set_title(
        f"Seeds whose greedy walk is the optimal {OPTIMAL_PATH_LENGTH}-step path after the episode"
    )
    curve_axes.grid(alpha=0.3)
    curve_axes.legend(loc="center left")
    for axes, (title, q_values, marked) in zip(grid_axes, grids):
        _draw_q_values(axes, q_values, STANDABLE_STATES, title, norm, marked)
    image = _draw_q_values(
        grid_axes[-1], q_star, STANDABLE_STATES, OPTIMUM_TITLE, norm, every_best_action=True
    )
    _value_colorbar(figure, image, ax=grid_axes, shrink=0.8)
    _grid_legend(figure)
    figure.get_layout_engine().set(rect=(0, 0.03, 1, 0.97))
    figure.suptitle(
        f"The Q matrix (tabular Q-learning) against the Deep Q-network on the same {seeds} seeds",
        fontweight="bold",
    )
    figure.savefig(path, dpi=100)


CAPTION_HEIGHT = 40  # pixels above each GIF frame for its caption


def save_episode_gif(
    frames: list[np.ndarray], fps: int, captions: list[str], path: Path, hold_seconds: float = 1.0
) -> None:
    """Write rgb frames as an animated GIF, each with its caption above it; the last frame stays
    ``hold_seconds`` longer. The caption font is matplotlib's, so the GIF matches the other
    pictures."""
    font = ImageFont.truetype(
        str(Path(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")), 16
    )
    height, width, _ = frames[0].shape
    images = []
    for frame, caption in zip(frames, captions):
        image = Image.new("RGB", (width, height + CAPTION_HEIGHT), "white")
        image.paste(Image.fromarray(frame), (0, CAPTION_HEIGHT))
        ImageDraw.Draw(image).text(
            (width / 2, CAPTION_HEIGHT / 2), caption, fill="black", font=font, anchor="mm"
        )
        # 3x faster than GIF's default
        images.append(image.quantize(method=Image.Quantize.FASTOCTREE))
    durations = [1000 // fps] * len(images)
    durations[-1] += round(hold_seconds * 1000)
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)


LEARNING_FRAME_MS = 400  # how long each frame of the learning animation shows


def save_learning_animation(
    frames: list, q_star: np.ndarray, standable, path: Path, titles: tuple, hold_seconds=3.0
) -> None:
    """Write the learning animation as a GIF: in each frame a learner's Q-values on the grid at one
    moment of training (its greedy action, max Q and the cells where that action is not optimal),
    above Q*'s, which stay; the last frame is held ``hold_seconds`` longer.

    ``frames`` lists (Q-values, caption lines, states whose greedy action is not optimal), in order;
    ``titles`` is (the picture's title, the learner's grid's title, Q*'s grid's title). The colour
    scale runs from 0 to the largest Q*, the same in every frame. The figure is drawn once; each
    frame redraws only the learner's grid over it (matplotlib's blitting) and Pillow writes the
    caption: milliseconds a frame, where drawing the whole figure takes a tenth of a second.
    """
    title, learner_title, optimum_title = titles
    norm = Normalize(vmin=0, vmax=float(q_star[standable].max()))
    figure = Figure(figsize=(9, 6.9), dpi=80)
    canvas = FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.08, right=0.87, bottom=0.12, top=0.81, hspace=0.3)
    learner_axes, optimum_axes = figure.subplots(2, 1)
    image = _draw_q_values(learner_axes, frames[0][0], standable, learner_title, norm)
    learner_axes.tick_params(labelbottom=False)  # the grid below has the same columns, labelled
    learner_axes.set_xlabel(None)
    (arrows,) = learner_axes.collections
    # one artist for the red frames, whose paths change per frame (37 patches: 1 ms each to add)
    marks = learner_axes.add_collection(
        PatchCollection([_mark(state) for state in standable], match_original=True), autolim=False
    )
    start_label = learner_axes.texts[0]  # in a cell the grid's colour covers (the goal's is not)
    _draw_q_values(optimum_axes, q_star, standable, optimum_title, norm, every_best_action=True)
    figure.colorbar(
        image,
        cax=figure.add_axes((0.9, 0.18, 0.018, 0.58)),
        label="max over actions of Q(s, a)",
        extend="both",
    )
    figure.suptitle(title, fontweight="bold", y=0.985)
    _grid_legend(figure)
    changing = [image, arrows, marks, start_label]
    for artist in changing:
        artist.set_animated(True)  # left out of the background, drawn per frame
    canvas.draw()
    background = canvas.copy_from_bbox(figure.bbox)
    width, height = canvas.get_width_height()
    still = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba()).convert("RGB")
    # GIF's 256 colours: one palette for every frame, from the background, whose colour bar holds
    # the colour map (picking a palette per frame costs 7-9 ms a frame here, mapping to one, 1 ms)
    palette = still.quantize(method=Image.Quantize.FASTOCTREE)
    still = still.quantize(palette=palette, dither=Image.Dither.NONE)
    # only the band from the top to the learner's grid changes: only it is converted per frame
    band = (0, 0, width, math.ceil(height - learner_axes.get_window_extent().y0) + 2)
    font = ImageFont.truetype(
        str(Path(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")), 13
    )

    images = []
    for q_values, caption, marked in frames:
        values, greedy = _grid_values(q_values, standable)
        image.set_data(values.reshape(GRID_ROWS, GRID_COLUMNS))
        arrows.set_UVC(*_arrow_vectors(greedy)[1])
        marks.set_paths([_mark(state) for state in marked])
        canvas.restore_region(background)
        for artist in changing:
            figure.draw_artist(artist)
        changed = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba()).crop(band)
        changed = changed.convert("RGB")
        for line, top in zip(caption, (0.068, 0.108)):  # between the title and the grid's
            ImageDraw.Draw(changed).text(
                (width / 2, top * height), line, fill="black", font=font, anchor="mm"
            )
        frame = still.copy()
        frame.paste(changed.quantize(palette=palette, dither=Image.Dither.NONE))
        images.append(frame)
    durations = [LEARNING_FRAME_MS] * len(images)
    durations[-1] += round(hold_seconds * 1000)
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)
