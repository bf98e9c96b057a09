"""What a run prints about its results, and where its pictures went.

Every line a run prints after the article's own (``--- Training ---``, ``Success rate``, in
cliff_walking_dqn.py) is printed here, fitted to 80 columns (``fit``), but for what
ours/episode_replay.py says while it shows an episode (the text replay, the window's two lines)
and the set-up check's lines (ours/packages.py). ``report_saved`` is called
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

WIDTH = 80  # columns: the narrowest terminal a learner has (tmux, a split screen, a laptop's half)
STRONG_BREAKS, WEAK_BREAKS = (". ", "; ", ": "), (", ",)


def fit(text: str) -> str:
    """``text`` with each line broken to fit in WIDTH columns, the rest going on two columns in.

    A line breaks after a sentence, a semicolon or a colon where one comes late enough, else after a
    comma, else at a space; never inside parentheses while another way is left, so that "(row,
    column)" and "(exact, over every slip)" stay whole. A word longer than a line (a long path)
    stays whole too. The same text gives the same lines on every terminal: a run's output repeats.
    """
    lines = []
    for line in text.splitlines() or [""]:
        while len(line) > WIDTH:
            cut = _break(line)
            if cut is None:
                break
            lines.append(line[:cut].rstrip())
            line = "  " + line[cut:].lstrip()
        lines.append(line)
    return "\n".join(lines)


def _break(line: str) -> int | None:
    """Where ``line`` (longer than WIDTH) breaks best: the index the next line starts from."""
    depth, spaces, weak, strong = 0, [], [], []
    for index, character in enumerate(line[: WIDTH + 1]):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character != " " or index == 0 or line[index - 1] == " ":
            continue
        spaces.append((depth > 0, index))
        pair = line[index - 1 : index + 1]
        if depth == 0 and index >= WIDTH // 2:
            (strong if pair in STRONG_BREAKS else weak if pair in WEAK_BREAKS else []).append(index)
    if strong or weak:
        return (strong or weak)[-1]
    outside = [index for inside, index in spaces if not inside]
    anywhere = [index for _, index in spaces]
    return (outside or anywhere or [None])[-1]


def say(text: str) -> None:
    """Print ``text`` on stdout, fitted to WIDTH columns."""
    print(fit(text))


def report_error(message: str) -> None:
    """A problem, in the one line the command line gives it (ours/command_line.py), on stderr."""
    print(message, file=sys.stderr)


def report_saved(result: TrainingResult) -> None:
    """One line: which network ``train`` saved, where, and how good it is."""
    environment = result.environment
    where = f"Saved to {result.model_file}" if result.model_file else "Kept (model_file is None)"
    best = how_good(environment, result.best_measure) if result.best_episode else None
    if not result.save_last:
        say(f"{where} the network as of episode {result.best_episode}: {best}.")
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
    say(
        f"{where} the network after the last episode (--save-last, as the"
        f" article does): {last}. {best_seen}"
    )


def report_training(result: TrainingResult, folder: Path | None) -> None:
    """The summary of a training run, failed or not, with the values it used, and its pictures
    (none when ``folder`` is None)."""
    say(f"Trained with {describe_settings(result.settings)}.")
    report_played(result)
    if folder:
        from ours import pictures

        # an earlier run's test pictures, of another network: this run's test draws them again,
        # and a failed run has none to draw
        removed = pictures.remove(["test"], folder, result.environment)
        if removed and result.state_to_save is None:
            say(f"Removed an earlier test's pictures: {', '.join(map(str, removed))}")
    report_pictures("training", result, folder)


def report_played(result, seconds: float | None = None) -> None:
    """How many episodes a run played (in how many seconds), and how many learned."""
    say(f"{result.played_line(seconds)}.")


def report_pictures(kind: str, result, folder: Path | None) -> None:
    """Draw the pictures of ``kind`` (ours/pictures.py) from ``result`` into ``folder`` (None:
    none), each named on a line of its own."""
    if folder:
        from ours import pictures

        for name, path in pictures.draw(kind, result, folder):
            say(f"{name}: {path}")


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
        say(f"Episode shown: {len(episode.actions)} steps, {shown}")
    elif episode.reached_goal:
        say(
            f"Path walked: {len(episode.actions)} steps"
            f" (the optimal path takes {environment.optimal_path_length})"
        )
    else:
        say(f"Path walked: {len(episode.actions)} steps, {episode.ending}")
    if environment.measure == "value":
        report_slippery_test(result)
    elif environment.measure == "objective":
        threshold = environment.reward_threshold
        say(
            f"Exact: {how_good(environment, environment.objective(result.greedy_actions))};"
            f" the registry calls {threshold:g} solved"
        )

    largest_error, agreement, disagreeing = compare_with_optimum(result.q_values, environment)
    where = "cells the agent can stand on" if environment.shape else "states the agent can be in"
    say(
        "Against the exact optimum Q*"
        f" (value iteration{', over every slip' if environment.slippery else ''}):"
        f" greedy action optimal in {agreement:.0%} of the"
        f" {len(environment.standable_states)} {where};"
        f" largest |Q - Q*| = {largest_error:.3f}"
    )
    if disagreeing and environment.shape:
        cells = ", ".join(str(environment.grid_cell(state)) for state in disagreeing)
        say(f"Cells (row, column) where the greedy action is not optimal: {cells}")

    if folder:
        from ours import pictures as drawing

        written = drawing.draw(pictures, result, folder)
        say(f"Pictures: {', '.join(str(path) for _, path in written)}")


def report_slippery_test(result: TestResult) -> None:
    """Where moves slip on the cliff: what the greedy policy and the optimal one do exactly, over
    every slip, within the test's step limit, and the greedy policy's value."""
    environment = result.environment
    limit = result.step_limit
    greedy, optimal = result.q_values.argmax(axis=1), environment.q_star.argmax(axis=1)
    say(
        f"Exact, over every slip, within the test's {limit} steps:"
        " this greedy policy reaches the goal with probability"
        f" {success_within(environment, greedy, limit):.1%},"
        f" the optimal policy with {success_within(environment, optimal, limit):.1%}"
    )
    value = policy_values(environment.outcomes, environment.discount_factor, greedy)
    say(
        f"With gamma {environment.discount_factor:g},"
        f" {how_good(environment, value[environment.start_state])}"
    )
