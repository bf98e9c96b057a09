"""The learning animation (README, Watch it learn): the learner's Q-values at moments of training,
each frame beside Q*, captioned, written as a GIF.

Its frames are Q-values recorded during training (``QValueRecorder``), so drawing them costs no
training; which moments it shows, how each frame is captioned and how the GIF is written are here.
The network's animation and q_learning.py's table's are the same function on their results.
"""

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from ours import plots
from ours.episode_replay import caption_font
from ours.exact_optimum import compare_with_optimum
from ours.results import how_good

LEARNING_FRAMES = 25  # frames of the learning animation, the last one the network it ends with
LEARNING_FRAME_MS = 400  # how long each frame shows
HOLD_SECONDS = 3.0  # how much longer the last frame shows


def write_learning_animation(result, path: Path) -> bool:
    """The learning animation of a run, the network's (a ``TrainingResult``) or q_learning.py's
    table's: the Q-values recorded at ``LEARNING_FRAMES - 1`` moments (``animation_moments``), each
    beside Q*, then those it ends with (``result.final_q_values()``: the saved network's, or the
    table tested). False, and nothing written, when nothing was learned or the states are not a
    grid's cells."""
    if not len(result.recorded_steps) or result.environment.shape is None:
        return False  # nothing learned, or no grid to draw it on (Taxi)
    environment = result.environment
    q_values, step, name = result.final_q_values()
    before = result.recorded_steps < step
    moments = animation_moments(
        result.recorded_q_values[before], environment.standable_states, LEARNING_FRAMES - 1
    )
    shown = [(result.recorded_q_values[i], result.recorded_steps[i], "") for i in moments]
    frames = []
    for q_values_then, step_then, note in [*shown, (q_values, step, f" ({name})")]:
        largest_error, _, disagreeing = compare_with_optimum(q_values_then, environment)
        caption = (
            f"episode {result.exploring + step_then + 1} of {result.played}{note},"
            f" epsilon {result.epsilon_history[step_then]:.2f}",
            f"{_how_good_then(result, step_then)}; largest |Q - Q*| = {largest_error:.3f}",
        )
        frames.append((q_values_then, caption, disagreeing))
    over_slips = " over every slip" if environment.slippery else ""
    titles = (
        f"The {result.learner} learning {environment.name}, beside the exact optimum Q* it"
        " approaches",
        f"{result.learner} then: its greedy action (arrow) and max Q (colour)",
        f"Exact optimum Q*{over_slips}: every optimal action (arrow) and max Q* (colour)",
    )
    save_learning_animation(frames, environment, path, titles)
    return True


def _how_good_then(result, step: int) -> str:
    """How good the learner was after optimize step ``step``, in a caption."""
    environment, measure = result.environment, result.measures[step]
    if environment.measure == "value":
        share = measure / environment.v_star
        return f"its greedy policy is worth {share:.0%} of V* (exact, over every slip)"
    if environment.measure == "objective":
        return f"its greedy policy scores {measure / environment.ceiling:.0%} of the best (exact)"
    return how_good(environment, measure)


def animation_moments(q_values: np.ndarray, standable, count: int) -> list[int]:
    """Which of the recorded Q-values (one array per recorded step, in order) the animation shows:
    ``count`` of them or all if fewer, the first included, spread a fifth evenly over the steps, two
    fifths over how much max Q changed and two over how many greedy actions changed, so that the
    frames crowd where the values spread and the policy settles, and thin out where nothing moves.
    """
    if len(q_values) <= count:
        return list(range(len(q_values)))
    values = q_values[:, standable].max(axis=2)
    actions = q_values[:, standable].argmax(axis=2)
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


def save_learning_animation(frames: list, environment, path: Path, titles: tuple) -> None:
    """Write the learning animation as a GIF: in each frame a learner's Q-values on the grid at one
    moment of training (its greedy action, max Q and the cells where that action is not optimal),
    above Q*'s, which stay; the last frame is held ``HOLD_SECONDS`` longer.

    ``frames`` lists (Q-values, caption lines, states whose greedy action is not optimal), in order;
    ``titles`` is (the picture's title, the learner's grid's title, Q*'s grid's title). The colour
    scale runs from 0 to the largest Q*, the same in every frame. The figure is drawn once; each
    frame redraws only the learner's grid over it (matplotlib's blitting) and Pillow writes the
    caption: milliseconds a frame, where drawing the whole figure takes a tenth of a second.
    """
    title, learner_title, optimum_title = titles
    standable, q_star = environment.standable_states, environment.q_star
    norm = Normalize(vmin=0, vmax=float(q_star[standable].max()))
    figure = Figure(figsize=(9, 6.9), dpi=80)
    canvas = FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.08, right=0.87, bottom=0.12, top=0.81, hspace=0.3)
    learner_axes, optimum_axes = figure.subplots(2, 1)
    image = plots.draw_q_values(learner_axes, frames[0][0], environment, learner_title, norm)
    learner_axes.tick_params(labelbottom=False)  # the grid below has the same columns, labelled
    learner_axes.set_xlabel(None)
    (arrows,) = learner_axes.collections
    # one artist for the red frames, whose paths change per frame (37 patches: 1 ms each to add)
    marks = learner_axes.add_collection(
        PatchCollection(
            [plots.mark(state, environment) for state in standable], match_original=True
        ),
        autolim=False,
    )
    start_label = learner_axes.texts[0]  # in a cell the grid's colour covers (the goal's is not)
    plots.draw_q_values(
        optimum_axes, q_star, environment, optimum_title, norm, every_best_action=True
    )
    figure.colorbar(
        image,
        cax=figure.add_axes((0.9, 0.18, 0.018, 0.58)),
        label="max over actions of Q(s, a)",
        extend="both",
    )
    figure.suptitle(title, fontweight="bold", y=0.985)
    plots.grid_legend(figure, environment)
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
    font = caption_font(13)

    images = []
    for q_values, caption, marked in frames:
        values, greedy = plots.grid_values(q_values, environment)
        image.set_data(values.reshape(environment.shape))
        arrows.set_UVC(*plots.arrow_vectors(greedy, environment)[1])
        marks.set_paths([plots.mark(state, environment) for state in marked])
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
    plots.write_gif(images, [LEARNING_FRAME_MS] * len(images), HOLD_SECONDS, path)
