"""Train once per seed and report whether each run ends on a network that walks the optimal path.

python benchmarks/seed_sweep.py --seeds 0-19                     # the default training python
benchmarks/seed_sweep.py --seeds 0-29 --discount-factor 0.99  # any flag of the main script's

Per seed: the episode that first reached the goal, the share of optimize steps after which the
greedy walk was optimal, the first such episode, whether the final network (what the article saves)
walks the optimal path, and the saved network's walk. Exits 1 unless every saved network walks the
optimal path."""

import argparse
import contextlib
import io
import math
import statistics
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from cliff_walking_dqn import CliffWalkingDQN  # noqa: E402
from ours.command_line import (  # noqa: E402
    OneLineArgumentParser,
    add_hyperparameter_flags,
    hyperparameters,
    whole_number,
)
from ours.results import TrainingFailed  # noqa: E402
from ours.settings import describe_settings  # noqa: E402

OPTIMAL_PATH_LENGTH = CliffWalkingDQN().environment.optimal_path_length  # the article's 13


def seed_range(text: str) -> list[int]:
    """An argparse type: "3" or "0-19" (both ends included), refused in one line otherwise."""
    first, _, last = text.partition("-")
    try:
        seeds = list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a seed or a range such as 0-19, got '{text}'"
        ) from None
    if not seeds or seeds[0] < 0:
        raise argparse.ArgumentTypeError(
            f"expected seeds from 0 up, the first no larger than the last, got '{text}'"
        )
    return seeds


def train_one(seed: int, episodes: int, settings: dict) -> dict:
    agent = CliffWalkingDQN(seed=seed, model_file=None, **settings)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = agent.train(episodes)
    except TrainingFailed:
        return {"seed": seed, "seconds": time.perf_counter() - start, "saved": None}
    walks = result.measures  # the greedy walk's steps after each optimize step
    optimal = np.flatnonzero(result.per_episode(walks) == OPTIMAL_PATH_LENGTH)
    return {
        "seed": seed,
        "seconds": time.perf_counter() - start,
        "played": result.played,
        "first_goal": result.first_goal_episode,
        "first_optimal": int(optimal[0]) + 1 if len(optimal) else None,
        "optimal_share": float(np.mean(walks == OPTIMAL_PATH_LENGTH)),
        "final": walks[-1],
        "saved": int(result.best_measure),
        "saved_episode": result.best_episode,
    }


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=seed_range, default=seed_range("0-19"), help="e.g. 0-19 (default)"
    )
    parser.add_argument("--episodes", type=whole_number(1), default=3000)
    parser.add_argument("--workers", type=whole_number(1), default=os.cpu_count())
    agent = CliffWalkingDQN()  # the defaults
    add_hyperparameter_flags(parser, agent)
    args = parser.parse_args()
    settings = hyperparameters(parser, args, agent)

    print(f"{args.episodes} episodes; {describe_settings(settings)}")
    print(
        "seed  played  1st goal  1st optimal  optimal share  final walk  saved walk (episode)"
        "  seconds"
    )
    jobs = (train_one, args.seeds, [args.episodes] * len(args.seeds), [settings] * len(args.seeds))
    if args.workers == 1:  # here: forking a process that runs threads (torch's) can deadlock
        runs = list(map(*jobs))
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            runs = list(pool.map(*jobs))
    for run in runs:
        if run["saved"] is None:
            failed = "training failed: no network reached the goal"
            print(f"{run['seed']:4d}  {failed}  {run['seconds']:7.1f}")
            continue
        final = "fails" if math.isinf(run["final"]) else f"{run['final']:.0f}"
        print(
            f"{run['seed']:4d}  {run['played']:6d}  {run['first_goal']:8d}"
            f"  {run['first_optimal'] or '-':>11}  {run['optimal_share']:12.0%}  {final:>10}"
            f"  {run['saved']:10d} ({run['saved_episode']})"
            f"  {run['seconds']:7.1f}"
        )
    learned = [run for run in runs if run["saved"] is not None and run["first_optimal"]]
    if learned:

        def median(key):
            return statistics.median(key(run) for run in learned)

        print(
            f"median over the seeds: goal first reached in episode"
            f" {median(lambda run: run['first_goal']):.0f}, first optimal walk"
            f" {median(lambda run: run['first_optimal'] - run['first_goal']):.0f} episodes later,"
            f" optimal walk after {median(lambda run: run['optimal_share']):.0%} of optimize steps,"
            f" {median(lambda run: run['seconds']):.1f} s a run"
        )
    converged = sum(run["saved"] == OPTIMAL_PATH_LENGTH for run in runs)
    final_ok = sum(run["saved"] is not None and run["final"] == OPTIMAL_PATH_LENGTH for run in runs)
    print(
        f"{converged} of {len(runs)} seeds saved a network that walks the optimal"
        f" {OPTIMAL_PATH_LENGTH}-step path"
        f" ({final_ok} of {len(runs)} final networks do)"
    )
    return 0 if converged == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
