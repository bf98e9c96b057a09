"""The Q matrix (q_learning.py) vs the DQN, same seeds: how fast, how close to Q*, at what cost.

    python benchmarks/table_vs_network.py --seeds 0-19      # writes docs/q_table_vs_dqn.png

Both learners train once per seed with their defaults (3000 learning episodes). With one seed both
explore the same episodes until the goal is first reached (the "1st goal" column); learning starts
there. Per seed and learner:
  1st optimal  the episode after which the greedy walk from the start is first the optimal path,
               counting every episode played, the exploring ones too
  learning     the learning episodes that took, the first-goal episode included
  env steps    the environment steps played until then
  seconds      the whole training, one seed and one learner at a time (the default --workers 1)
  |Q-Q*|       the largest |Q - Q*| over the cells the agent can stand on, every action
  optimal      the share of those cells whose greedy action is optimal
  walk         the steps of the greedy walk
|Q-Q*|, optimal and walk are of the table's last state, and of the network the DQN saves (the best
seen). A line after the medians says how steady each learner's walk is once it has been optimal.
The picture shows, per learning episode, the share of seeds whose greedy walk is optimal, and the
first seed's Q-values on the grid beside Q*'s. Exits 1 unless both learners end on the optimal path
for every seed.
"""

import argparse
import contextlib
import io
import math
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from matplotlib.figure import Figure  # noqa: E402

from ours import plots  # noqa: E402
import q_learning  # noqa: E402
from cliff_walking_dqn import CliffWalkingDQN  # noqa: E402
from ours.command_line import whole_number  # noqa: E402
from ours.exact_optimum import compare_with_optimum  # noqa: E402
from ours.model_file import network_from  # noqa: E402
from nn_model import DQN  # noqa: E402
from ours.results import TrainingFailed  # noqa: E402
from seed_sweep import seed_range  # noqa: E402
from ours.speed import q_values_of  # noqa: E402

LEARNERS = {"Q matrix": "Q matrix", "DQN": "Deep Q-network"}  # the table's name: the picture's
PICTURE = ROOT / "docs" / "q_table_vs_dqn.png"


def warm_up() -> None:
    """Pay the one-off costs (imports, torch.optim's first use) before anything is timed."""
    torch.set_num_threads(1)  # as python cliff_walking_dqn.py runs it
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(TrainingFailed):
        q_learning.train(1, seed=0)
        CliffWalkingDQN(seed=0, model_file=None).train(1)


def summary(history, q_values: np.ndarray | None, walk: float | None, seconds: float) -> dict:
    """What the table shows of one training run; ``history`` is a DQN or a Q-matrix result."""
    environment = history.environment
    walks = history.measures  # the greedy walk's steps, one per learning episode
    exploring = history.exploring  # the episodes before the first goal
    optimal = np.flatnonzero(walks == environment.optimal_path_length)
    first_optimal = exploring + int(optimal[0]) + 1 if len(optimal) else None
    largest_error, agreement, disagreeing = (
        compare_with_optimum(q_values, environment) if q_values is not None else (None,) * 3
    )
    return {
        "first_goal": exploring + 1 if len(walks) else None,
        "first_optimal": first_optimal,
        "learning": first_optimal - exploring if first_optimal else None,
        "steps": int(np.sum(history.steps_per_episode[:first_optimal])) if first_optimal else None,
        "seconds": seconds,
        "largest_error": largest_error,
        "agreement": agreement,
        "disagreeing": disagreeing,
        "walk": walk,
        "optimal_after": walks == environment.optimal_path_length,
        "q_values": q_values,
    }


def train_both(seed: int, episodes: int, lr: float) -> dict:
    """Both learners on one seed, one after the other in this worker."""
    start = time.perf_counter()
    table = q_learning.train(episodes, lr, seed)
    table_seconds = time.perf_counter() - start
    table_walk = table.measures[-1] if len(table.measures) else None
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            network = CliffWalkingDQN(seed=seed, model_file=None).train(episodes)
        network_seconds = time.perf_counter() - start
        policy_dqn = network_from(network.best_state, network.environment)
        network_q, network_walk = q_values_of(policy_dqn), network.best_measure
    except TrainingFailed as failed:
        network_seconds, network, network_q, network_walk = (
            time.perf_counter() - start,
            failed.result,
            None,
            None,
        )
    return {
        "seed": seed,
        "Q matrix": summary(table, table.Q_matrix, table_walk, table_seconds),
        "DQN": summary(network, network_q, network_walk, network_seconds),
    }


HEADER = "1st optimal  learning  env steps  seconds  |Q-Q*|  optimal      walk"


def cells(result: dict) -> str:
    """One learner's columns, under HEADER; '-' where there is nothing to show."""

    def shown(value, spec: str, width: int) -> str:
        return f"{'-' if value is None else format(value, spec):>{width}}"

    walk = result["walk"]  # steps, None or inf when it fails, "" in the median row
    if walk in (None, math.inf):
        walk = "fails"
    elif walk != "":
        walk = f"{walk:.0f} steps"
    return "  ".join(
        [
            shown(result["first_optimal"], "d", 11),
            shown(result["learning"], "d", 8),
            shown(result["steps"], "d", 9),
            shown(result["seconds"], ".2f", 7),
            shown(result["largest_error"], ".3f", 6),
            shown(result["agreement"], ".0%", 7),
            f"{walk:>9}",
        ]
    )


def median_of(runs: list[dict], learner: str) -> dict:
    """The median of each column over the seeds that have a value there."""
    medians = {}
    for key in ("first_optimal", "learning", "steps", "seconds", "largest_error", "agreement"):
        values = [run[learner][key] for run in runs if run[learner][key] is not None]
        medians[key] = statistics.median(values) if values else None
        if medians[key] is not None and key in ("first_optimal", "learning", "steps"):
            medians[key] = round(medians[key])
    return {**medians, "walk": ""}


def draw_picture(
    optimal_shares: dict, grids: list, environment, seeds: int, path: Path
) -> None:
    """Above, per learner, the share of the seeds whose greedy walk is optimal after each learning
    episode; below, each learner's Q-values on the grid and Q*'s.

    ``optimal_shares`` maps a learner's name to that share (one value per learning episode);
    ``grids`` lists (title, Q-values, states where the greedy action is not optimal) per learner.
    """
    q_star, standable = environment.q_star, environment.standable_states
    norm = plots.value_scale([q_values for _, q_values, _ in grids] + [q_star], standable)
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
        f"Seeds whose greedy walk is the optimal {environment.optimal_path_length}-step path after"
        " the episode"
    )
    curve_axes.grid(alpha=0.3)
    curve_axes.legend(loc="center left")
    for axes, (title, q_values, marked) in zip(grid_axes, grids):
        plots.draw_q_values(axes, q_values, environment, title, norm, marked)
    image = plots.draw_q_values(
        grid_axes[-1], q_star, environment, plots.OPTIMUM_TITLE, norm, every_best_action=True
    )
    plots.value_colorbar(figure, image, ax=grid_axes, shrink=0.8)
    plots.grid_legend(figure, environment)
    figure.get_layout_engine().set(rect=(0, 0.03, 1, 0.97))
    figure.suptitle(
        f"The Q matrix (tabular Q-learning) against the Deep Q-network on the same {seeds} seeds",
        fontweight="bold",
    )
    figure.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=seed_range, default=seed_range("0-19"), help="e.g. 0-19 (default)"
    )
    parser.add_argument(
        "--episodes", type=whole_number(1), default=3000, help="learning episodes (default 3000)"
    )
    parser.add_argument(
        "--lr", type=q_learning.fraction, default=0.5, help="the Q matrix's lr (default 0.5)"
    )
    parser.add_argument(
        "--workers",
        type=whole_number(1),
        default=1,
        help="processes training at once"
        " (default 1: two at a time on two cores slow each other's seconds)",
    )
    parser.add_argument(
        "--picture", type=Path, default=PICTURE, help="where to write the picture (default docs/)"
    )
    args = parser.parse_args()
    if not args.seeds:
        parser.error("argument --seeds: the range is empty")
    if not args.picture.parent.is_dir():
        parser.error(f"argument --picture: folder '{args.picture.parent}' does not exist")

    rules = CliffWalkingDQN()
    environment = rules.environment
    q_star, optimal_path_length = environment.q_star, environment.optimal_path_length
    with ProcessPoolExecutor(args.workers, initializer=warm_up) as pool:
        runs = list(pool.map(partial(train_both, episodes=args.episodes, lr=args.lr), args.seeds))

    print(
        f"{args.episodes} learning episodes a run,"
        f" episodes capped at {rules.max_episode_steps} steps,"
        f" discount_factor {rules.discount_factor}; the Q matrix's lr {args.lr}"
    )
    print(f"{'':14}  {'Q matrix':-^{len(HEADER)}}  |  {'DQN':-^{len(HEADER)}}")
    print(f"seed  1st goal  {HEADER}  |  {HEADER}")
    for run in runs:
        # the same, by shared seeding
        goals = sorted({run[learner]["first_goal"] or 0 for learner in LEARNERS})
        goal = "/".join(str(g) if g else "never" for g in goals)
        print(f"{run['seed']:4d}  {goal:>8}  {cells(run['Q matrix'])}  |  {cells(run['DQN'])}")
    print(
        f"{'median':>14}  {cells(median_of(runs, 'Q matrix'))}  |  {cells(median_of(runs, 'DQN'))}"
    )

    steady = {}
    # per seed, the share of learning episodes from the first optimal walk on
    for learner in LEARNERS:
        shares = [
            run[learner]["optimal_after"][run[learner]["learning"] - 1 :].mean()
            for run in runs
            if run[learner]["learning"]
        ]
        steady[learner] = (
            f"{statistics.median(shares):.0%} (lowest {min(shares):.0%})" if shares else "-"
        )
    print(
        "After its first optimal walk, the greedy walk stays optimal after a median "
        + " and ".join(
            f"{share} of the {learner}'s learning episodes" for learner, share in steady.items()
        )
        + " over the seeds."
    )
    parameters = sum(parameter.numel() for parameter in DQN(*q_star.shape).parameters())
    print(
        f"The Q matrix holds {q_star.size} numbers"
        f" ({q_star.shape[0]} states x {q_star.shape[1]} actions);"
        f" the network has {parameters:,} parameters."
    )
    solved = {
        learner: sum(run[learner]["walk"] == optimal_path_length for run in runs)
        for learner in LEARNERS
    }
    print(
        " ".join(
            f"{learner}: {count} of {len(runs)} seeds"
            f" end on the optimal {optimal_path_length}-step walk."
            for learner, count in solved.items()
        )
    )

    optimal_shares = {}
    for learner, name in LEARNERS.items():
        optimal_after = np.zeros((len(runs), args.episodes))
        for i, run in enumerate(runs):
            optimal_after[i, : len(run[learner]["optimal_after"])] = run[learner]["optimal_after"]
        optimal_shares[name] = optimal_after.mean(axis=0)
    first = runs[0]
    grids = []
    for learner, name in LEARNERS.items():
        result = first[learner]
        if result["q_values"] is not None:
            grids.append(
                (
                    f"{name}, seed {first['seed']}: greedy action (arrow) and max Q (colour);"
                    f" largest |Q - Q*| = {result['largest_error']:.3f}",
                    result["q_values"],
                    result["disagreeing"],
                )
            )
    draw_picture(optimal_shares, grids, environment, len(runs), args.picture)
    picture = args.picture.resolve()
    shown = picture.relative_to(Path.cwd()) if picture.is_relative_to(Path.cwd()) else picture
    print(f"Picture: {shown}")
    return 0 if all(count == len(runs) for count in solved.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
