"""q_learning.py: the previous article's Q matrix on the same cliff, under the DQN's rules."""

import subprocess
import sys

import numpy as np
import pytest

import q_learning
from cliff_walking_dqn import CliffWalkingDQN
from conftest import ROOT, unwrapped
from ours.exact_optimum import greedy_walk
from ours.results import TrainingFailed

# up, eleven times right, down
OPTIMAL_PATH = [36, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 47]
GAMMA = CliffWalkingDQN().discount_factor
CLIFF = CliffWalkingDQN().environment


def test_a_seeded_run_walks_the_optimal_path_and_agrees_with_q_star_along_it():
    # the default 3000 learning episodes: half a second
    Q_matrix = q_learning.train(seed=0).Q_matrix
    assert greedy_walk(np.argmax(Q_matrix, axis=1).tolist(), CLIFF) == OPTIMAL_PATH
    q_star = CLIFF.q_star
    for state in OPTIMAL_PATH[:-1]:
        action = np.argmax(Q_matrix[state])
        assert q_star[state, action] == q_star[state].max(), state  # an optimal action
        # and its value
        assert Q_matrix[state, action] == pytest.approx(q_star[state, action], abs=1e-3), state


def test_the_same_seed_gives_the_same_table():
    first, again = q_learning.train(episodes=50, seed=1), q_learning.train(episodes=50, seed=1)
    assert np.array_equal(first.Q_matrix, again.Q_matrix) and first.Q_matrix.any()
    assert np.array_equal(first.steps_per_episode, again.steps_per_episode)


def test_the_update_follows_the_formula_on_hand_made_transitions():
    Q_matrix = np.zeros((48, 4))
    Q_matrix[3] = [0.1, 0.2, 0.3, 0.4]
    Q_matrix[5] = [0.5, 0.8, 0.6, 0.7]
    Q_matrix[36] = [0.3, 0.3, 0.3, 0.3]
    Q_matrix[47] = [0.9, 0.9, 0.9, 0.9]  # never so in training: values the update must not use
    before = Q_matrix.copy()

    q_learning.update(Q_matrix, 3, 1, 0, 5, False, lr=0.5, discount_factor=GAMMA)
    assert Q_matrix[3, 1] == pytest.approx(0.5 * 0.2 + 0.5 * (0 + 0.9 * 0.8))  # 0.46
    assert np.count_nonzero(Q_matrix != before) == 1  # only Q[s, a] changes

    q_learning.update(Q_matrix, 35, 2, 1, 47, True, lr=0.5, discount_factor=GAMMA)  # the goal
    assert Q_matrix[35, 2] == pytest.approx(0.5 * 0 + 0.5 * 1)  # the reward alone
    Q_matrix[24, 2] = 0.2
    # a fall, back on the start
    q_learning.update(Q_matrix, 24, 2, 0, 36, True, lr=0.5, discount_factor=GAMMA)
    assert Q_matrix[24, 2] == pytest.approx(0.5 * 0.2 + 0.5 * 0)  # the start's values do not count


def test_the_table_processes_rewards_with_the_dqns_method(monkeypatch):
    calls = []
    processed = CliffWalkingDQN._process_episode

    def recording(self, reward, new_state):
        # the steps train plays; the environment's description reads its Q* under the rule too
        if sys._getframe(1).f_code is q_learning.train.__code__:
            calls.append((reward, new_state))
        return processed(self, reward, new_state)

    monkeypatch.setattr(CliffWalkingDQN, "_process_episode", recording)
    result = q_learning.train(episodes=5, seed=0)
    # every step of every episode, exploring ones too
    assert len(calls) == sum(result.steps_per_episode) > 0


def test_with_one_seed_both_learners_explore_the_same_episodes_until_the_first_goal():
    """The same environment, episode cap and seeding: the two differ only once learning starts."""
    table = q_learning.train(episodes=1, seed=6)
    try:
        network = CliffWalkingDQN(seed=6, model_file=None).train(1)
    # one learning episode rarely leaves a network that walks to the goal
    except TrainingFailed as failed:
        network = failed.result
    assert len(table.steps_per_episode) == len(network.steps_per_episode) > 1
    assert table.steps_per_episode.tolist() == network.steps_per_episode.tolist()
    assert table.rewards_per_episode.tolist() == network.rewards_per_episode.tolist()


def test_python_q_learning_py_runs_end_to_end(headless_env, tmp_path):
    """Train, test, compare with Q*: the test above checks the table itself, this one the script
    around it."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "q_learning.py"),
            "--seed",
            "0",
            "--episodes",
            "50",
            "--lr",
            "1",
            "--no-plots",  # drawn in test_learning_animation.py, in this process: faster
        ],
        capture_output=True,
        text=True,
        env=headless_env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = unwrapped(done.stdout).splitlines()
    assert lines[0] == "Seed 0 (repeat this run with --seed 0)"
    assert lines[2].startswith("Played ") and lines[2].endswith("; 50 episodes learned.")
    assert lines[4].startswith("Success rate: ") and lines[5].startswith("Path: up")
    assert lines[6].startswith("Path walked: ") and "largest |Q - Q*| = " in lines[7]
    assert not any(line.startswith(("Pictures:", "Learning animation:")) for line in lines)
    assert list(tmp_path.iterdir()) == []
    assert done.stderr == ""


def test_no_plots_draws_nothing_and_a_plots_folder_in_the_way_is_refused(tmp_path, capsys):
    flags = ["--seed", "0", "--episodes", "50", "--lr", "1"]
    assert q_learning.main([*flags, "--no-plots"]) == 0
    assert "Pictures:" not in capsys.readouterr().out and list(tmp_path.iterdir()) == []
    (tmp_path / "a file").write_text("in the way")
    assert q_learning.main([*flags, "--plots", str(tmp_path / "a file" / "pictures")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and str(tmp_path / "a file") in captured.err
    assert "--- Training ---" not in captured.out  # refused before any work


@pytest.mark.parametrize(
    "flags, name",
    [
        (["--lr", "0"], "--lr"),
        (["--lr", "1.5"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--lr", "fast"], "--lr"),
        (["--episodes", "0"], "--episodes"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_bad_flag_values_are_refused_in_one_line(flags, name, capsys):
    with pytest.raises(SystemExit) as stopped:
        q_learning.main(flags)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and name in captured.err and "--help" in captured.err
    assert captured.out == ""


def test_the_benchmark_counts_episodes_and_steps_to_the_first_optimal_walk():
    from table_vs_network import summary

    history = q_learning.QLearningResult(
        environment=CLIFF,
        Q_matrix=None,
        rewards_per_episode=[0, 0, 1, 0, 1, 1],
        steps_per_episode=[100, 40, 30, 20, 14, 13],
        epsilon_history=[0.75, 0.5, 0.25, 0],
        # the last four episodes learned; the third of them was optimal
        measures=[float("inf"), 15, 13, 15],
        recorded_steps=[],
        recorded_q_values=[],
    )
    counted = summary(history, CLIFF.q_star, 13, 0.5)
    assert counted["first_goal"] == 3  # two episodes explored before it
    assert counted["first_optimal"] == 5 and counted["learning"] == 3
    assert counted["steps"] == 100 + 40 + 30 + 20 + 14
    assert counted["largest_error"] == 0 and counted["agreement"] == 1
    assert counted["optimal_after"].tolist() == [False, False, True, False]
