"""What a run prints about its results, and where its pictures went.

Every line a run prints after the article's own (``--- Training ---``, ``Success rate``, in
cliff_walking_dqn.py) is printed here, but for the text replay of an episode
(ours/episode_replay.py) and the set-up check's line (ours/packages.py). ``report_saved`` is called
by ``train`` itself, the others by the scripts' ``main``. Each report reads a result
(ours/results.py), which carries the environment it was played on and the settings it was trained
with; the words a result also uses for its own summary (``played_line``, ``how_good``) are
ours/results.py's. The pictures are drawn by ours/pictures.py, imported only when a run draws
(matplotlib takes 0.3 s to import).
"""

import sys
from pathlib import Path

from ours.episode_replay import play_episode, show_episode
from ours.exact_optimum import compare_with_optimum, policy_values, success_within
from ours.results import TestResult, TrainingResult, how_good
from ours.settings import describe_settings


def report_error(message: str) -> None:
    """A problem, in the one line the command line gives it (ours/command_line.py), on stderr."""
    print(message, file=sys.stderr)


def report_saved(result: TrainingResult) -> None:
    """One line: which network ``train`` saved, where, and how good it is."""
    environment = result.environment
    where = f"Saved to {result.model_file}" if result.model_file else "Kept (model_file is None)"
    best = how_good(environment, result.best_measure) if result.best_episode else None
    if not result.save_last:
        print(f"{where} the network as of episode {result.best_episode}: {best}.")
        return
    if result.learned:
        last = how_good(environment, result.measures[-1])
    else:
        last = "it learned nothing, the goal was never reached"
    best_seen = (
        f"The best network seen, of episode {result.best_episode}: {best}."
        if result.best_episode
        else f"{result.nothing_kept.capitalize()} in {result.played} episodes."
    )
    print(
        f"{where} the network after the last episode (--save-last, as the"
        f" article does): {last}. {best_seen}"
    )


def report_training(result: TrainingResult, folder: Path | None) -> None:
    """The summary of a training run, failed or not, with the values it used, and its pictures
    (none when ``folder`` is None)."""
    print(f"Trained with {describe_settings(result.settings)}.\n{result.played_line()}.")
    report_pictures("training", result, folder)


def report_pictures(kind: str, result, folder: Path | None) -> None:
    """Draw the pictures of ``kind`` (ours/pictures.py) from ``result`` into ``folder`` (None:
    none), each named on a line of its own."""
    if folder:
        from ours import pictures

        for name, path in pictures.draw(kind, result, folder):
            print(f"{name}: {path}")


def report_test(
    result: TestResult, render_mode: str | None, folder: Path | None, pictures: str = "test"
) -> None:
    """The episode a run shows, played from the test's result and shown ``render_mode``'s way (the
    article's window, or text); its path; the tested Q-values (the network's, or q_learning.py's Q
    matrix) against the exact optimum; and the pictures of ``pictures`` (ours/pictures.py), named
    on one line (none when ``folder`` is None)."""
    environment = result.environment
    episode = play_episode(result)
    if render_mode is not None:
        show_episode(episode, render_mode, environment, result.seed)
    if environment.optimal_path_length is None:  # moves slip, or episodes start anywhere
        shown = "reached the goal" if episode.reached_goal else "did not reach the goal"
        print(f"Episode shown: {len(episode.actions)} steps, {shown}")
    elif episode.reached_goal:
        print(
            f"Path walked: {len(episode.actions)} steps"
            f" (the optimal path takes {environment.optimal_path_length})"
        )
    else:
        print(f"Path walked: {len(episode.actions)} steps, {episode.ending}")
    if environment.measure == "value":
        report_slippery_test(result)
    elif environment.measure == "objective":
        threshold = environment.reward_threshold
        print(
            f"Exact: {how_good(environment, environment.objective(result.greedy_actions))};"
            f" the registry calls {threshold:g} solved"
        )

    largest_error, agreement, disagreeing = compare_with_optimum(result.q_values, environment)
    where = "cells the agent can stand on" if environment.shape else "states the agent can be in"
    print(
        "Against the exact optimum Q*"
        f" (value iteration{', over every slip' if environment.slippery else ''}):"
        f" greedy action optimal in {agreement:.0%} of the"
        f" {len(environment.standable_states)} {where};"
        f" largest |Q - Q*| = {largest_error:.3f}"
    )
    if disagreeing and environment.shape:
        cells = ", ".join(str(environment.grid_cell(state)) for state in disagreeing)
        print(f"Cells (row, column) where the greedy action is not optimal: {cells}")

    if folder:
        from ours import pictures as drawing

        written = drawing.draw(pictures, result, folder)
        print(f"Pictures: {', '.join(str(path) for _, path in written)}")


def report_slippery_test(result: TestResult) -> None:
    """Where moves slip on the cliff: what the greedy policy and the optimal one do exactly, over
    every slip, within the test's step limit, and the greedy policy's value."""
    environment = result.environment
    limit = result.step_limit
    greedy, optimal = result.q_values.argmax(axis=1), environment.q_star.argmax(axis=1)
    print(
        f"Exact, over every slip, within the test's {limit} steps:"
        " this greedy policy reaches the goal with probability"
        f" {success_within(environment, greedy, limit):.1%},"
        f" the optimal policy with {success_within(environment, optimal, limit):.1%}"
    )
    value = policy_values(environment.outcomes, environment.discount_factor, greedy)
    print(
        f"With gamma {environment.discount_factor:g},"
        f" {how_good(environment, value[environment.start_state])}"
    )
