"""The drawing kit of the pictures: the grid of Q-values, the colour scale, the legend, a plain log
axis, the GIF writer and its font, each once.

The pictures themselves are ours/pictures.py's, the learning animation ours/animation.py's, the Q
matrix beside the network benchmarks/table_vs_network.py's; they draw with these. On matplotlib's
``Figure`` directly (no pyplot), so they need no display; the GIFs are written with Pillow.
"""

from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm, Normalize
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

OPTIMUM_TITLE = (
    "Exact optimum Q* from value iteration: every optimal action (arrow) and max Q* (colour)"
)


def log_scale(axes) -> None:
    """A log axis labelled 1, 10, 0.001, 1e-05 in plain text (matplotlib's default labels need its
    math-text parser, whose first use costs 0.2-0.3 s), with no minor ticks (each costs a few
    ms)."""
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_locator(NullLocator())


def draw_grid(axes, values, arrows: dict, environment, title: str, norm: Normalize, marked=()):
    """The environment's grid: ``values`` (one per state, NaN for none) as colour, an arrow for
    each action in ``arrows`` (state -> actions), the cells no episode stands on (the cliff),
    start and goal, and a red frame around ``marked`` states."""
    rows, columns = environment.shape
    image = axes.imshow(values.reshape(rows, columns), cmap="viridis", norm=norm)
    for state in off_the_path(environment):
        row, column = environment.grid_cell(state)
        axes.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, color="dimgray"))
    (x, y), (dx, dy) = arrow_vectors(arrows, environment)
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
        axes.add_patch(mark(state, environment))
    landmarks = [(environment.start_state, "S")] + [(s, "G") for s in environment.goal_states]
    for state, label in landmarks:
        row, column = environment.grid_cell(state)
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
    axes.set_xticks(range(columns))
    axes.set_yticks(range(rows))
    axes.set_xlabel("column")
    axes.set_ylabel("row")
    return image


def off_the_path(environment) -> list[int]:
    """The cells no episode stands on and none ends in: the cliff's ten."""
    shown = {*environment.standable_states.tolist(), *environment.goal_states}
    cells = range(environment.shape[0] * environment.shape[1])
    return [state for state in cells if state not in shown]


# action -> (dx, dy), rows counted downwards, for each family of environments
ARROWS = {
    "CliffWalking": {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)},
    "FrozenLake": {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)},
}


TIED_GAP, TIED_LENGTH = 0.14, 0.8  # several arrows in a cell: apart from the centre, shorter


def arrow_vectors(arrows: dict, environment) -> tuple[np.ndarray, np.ndarray]:
    """Where each arrow of ``arrows`` (state -> actions) starts, (x, y), and its direction. One
    arrow starts at the cell's centre; several (Q*'s tied actions) start apart, each on its own
    side, so that "right or down" reads as two arrows, not as one that turns."""
    directions_of = next(v for family, v in ARROWS.items() if environment.name.startswith(family))
    starts, directions = [], []
    for state, actions in arrows.items():
        row, column = environment.grid_cell(state)
        gap, length = (TIED_GAP, TIED_LENGTH) if len(actions) > 1 else (0, 1)
        for action in actions:
            dx, dy = directions_of[int(action)]
            starts.append((column + gap * dx, row + gap * dy))
            directions.append((length * dx, length * dy))
    return np.transpose(starts), np.transpose(directions)


def mark(state: int, environment) -> Rectangle:
    """The red frame around a cell whose greedy action is not optimal."""
    row, column = environment.grid_cell(state)
    return Rectangle(
        (column - 0.46, row - 0.46), 0.92, 0.92, fill=False, edgecolor="red", linewidth=2.5
    )


def grid_values(q_values: np.ndarray, environment, every_best_action: bool = False):
    """A learner's max Q per cell (NaN where the agent cannot stand) and its arrows (state ->
    actions): the greedy action, or with ``every_best_action`` every action tied with the best."""
    standable = environment.standable_states
    values = np.full(environment.shape[0] * environment.shape[1], np.nan)
    values[standable] = q_values[standable].max(axis=1)
    if every_best_action:
        arrows = {s: np.flatnonzero(q_values[s] > q_values[s].max() - 1e-9) for s in standable}
    else:
        arrows = {s: [q_values[s].argmax()] for s in standable}
    return values, arrows


def draw_q_values(
    axes,
    q_values: np.ndarray,
    environment,
    title: str,
    norm: Normalize,
    marked=(),
    every_best_action: bool = False,
):
    """A learner's Q-values on the grid, in the cells the agent can stand on: max Q as colour and
    the greedy action as an arrow, or with ``every_best_action`` every action tied with the best
    (for Q*)."""
    values, arrows = grid_values(q_values, environment, every_best_action)
    return draw_grid(axes, values, arrows, environment, title, norm, marked)


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


def value_colorbar(figure, image, **placement) -> None:
    """The colour bar of a value_scale, labelled 0.2, 0.3, 0.5, 1 in plain text (see _log_scale)."""
    colorbar = figure.colorbar(image, label="max over actions of Q(s, a)", **placement)
    colorbar.ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 3, 5)))
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    colorbar.ax.yaxis.set_minor_locator(NullLocator())


def grid_legend(figure, environment) -> None:
    """The key to the grids below the figure: the cliff (a lake's holes), the red frame, S and G."""
    off_the_path = "hole" if environment.name.startswith("FrozenLake") else "cliff"
    figure.legend(
        handles=[
            Patch(color="dimgray", label=off_the_path),
            Patch(fill=False, edgecolor="red", linewidth=2.5, label="greedy action not optimal"),
            Patch(color="none", label="S start, G goal"),
            Patch(color="none", label="\u2192 \u2193 in a cell: either action is optimal"),
        ],
        loc="lower center",
        ncols=4,
    )


def write_gif(images: list, durations: list[int], hold_seconds: float, path: Path) -> None:
    """Pillow images as an animated GIF that loops, each shown ``durations`` milliseconds, the last
    ``hold_seconds`` longer."""
    durations = list(durations)
    durations[-1] += round(hold_seconds * 1000)
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)
