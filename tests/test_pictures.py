"""The exact optimum Q* and the three pictures of a run."""

import argparse
import dataclasses

import numpy as np
import pytest
from PIL import Image

import cliff_walking_dqn
from ours import command_line, plots, results
from cliff_walking_dqn import CliffWalkingDQN
from conftest import SHIPPED_MODEL, run_headless
from ours.environment import STANDABLE_STATES, make_env
from ours.exact_optimum import compare_with_optimum, optimal_q_values, transition_table
from ours.model_file import load_model
from ours.results import TrainingFailed
from ours.speed import q_values_of

UP, RIGHT, DOWN, LEFT = range(4)
GAMMA = CliffWalkingDQN().discount_factor


@pytest.fixture(scope="module")
def q_star():
    return optimal_q_values(GAMMA, CliffWalkingDQN()._process_episode)


def test_q_star_matches_values_worked_out_by_hand(q_star):
    assert q_star[35, DOWN] == 1.0  # the goal's upper neighbour steps onto the goal
    assert q_star[34, RIGHT] == pytest.approx(0.9)  # one step, then the goal
    assert q_star[35, RIGHT] == pytest.approx(0.9)  # bumps into the wall, then the goal
    assert q_star[36, UP] == pytest.approx(0.9**12)  # the 13-step path from the start
    assert q_star[36, RIGHT] == 0.0  # the cliff ends the episode with nothing
    assert q_star[34, DOWN] == 0.0


def test_q_star_satisfies_the_bellman_optimality_equation(q_star):
    next_states, rewards = transition_table(make_env())
    for state in STANDABLE_STATES:
        for action in range(4):
            terminated, reward = CliffWalkingDQN()._process_episode(
                rewards[state][action], next_states[state][action]
            )
            future = 0.0 if terminated else GAMMA * q_star[next_states[state][action]].max()
            assert q_star[state, action] == pytest.approx(reward + future, abs=1e-12)


def shipped_q_values():
    return q_values_of(load_model(SHIPPED_MODEL, 48, 4))


def test_shipped_model_agrees_with_q_star_along_the_optimal_path(q_star):
    q_values = shipped_q_values()
    path = [36, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35]
    for state in path:
        action = q_values[state].argmax()
        assert q_star[state, action] == pytest.approx(q_star[state].max(), abs=1e-12), state


def test_comparison_counts_ties_as_agreement_and_finds_disagreements(q_star):
    assert compare_with_optimum(q_star, q_star) == (0.0, 1.0, [])
    # state 0 (top left) has two optimal actions, right and down: either agrees
    assert q_star[0, RIGHT] == q_star[0, DOWN]
    tie_broken = q_star.copy()
    tie_broken[0, DOWN] += 1e-3
    assert compare_with_optimum(tie_broken, q_star)[2] == []
    wrong = q_star.copy()
    wrong[24, LEFT] = 1.0  # send the agent back towards the start
    largest_error, agreement, disagreeing = compare_with_optimum(wrong, q_star)
    assert disagreeing == [24]
    assert agreement == pytest.approx(36 / 37)
    assert largest_error == pytest.approx(1.0 - q_star[24, LEFT])


def test_a_training_run_writes_the_four_pictures(tmp_path, capsys, monkeypatch):
    shown = {}  # what the learning animation was handed
    real_write, real_save = command_line.write_learning_animation, plots.save_learning_animation

    def write(result, *args, **kwargs):
        shown["result"] = result
        return real_write(result, *args, **kwargs)

    def save(frames, *args, **kwargs):
        shown["frames"] = frames
        return real_save(frames, *args, **kwargs)

    monkeypatch.setattr(command_line, "write_learning_animation", write)
    monkeypatch.setattr(plots, "save_learning_animation", save)
    model = tmp_path / "m.pt"
    code = run_headless(
        model, "--seed", "6", "--episodes", "500", "--test-episodes", "3", "--plots", str(tmp_path)
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "greedy action optimal in" in out and "largest |Q - Q*|" in out
    with Image.open(tmp_path / plots.TRAINING_PLOT) as image:
        assert image.size == (1000, 1000)
    with Image.open(tmp_path / plots.POLICY_PLOT) as image:
        assert image.size == (1100, 750)
    with Image.open(tmp_path / plots.TEST_GIF) as image:
        assert image.n_frames == 14  # the start and one frame per step of the 13-step walk
        frame = make_env(render_mode="rgb_array")
        frame.reset()
        height, width, _ = frame.render().shape  # 768 x 256 from Gymnasium 1.0 on, 720 x 240 before
        # the environment's frame and a caption
        assert image.size == (width, height + plots.CAPTION_HEIGHT)
    assert f"Learning animation: {tmp_path / plots.LEARNING_GIF}" in out
    assert_animated_from_the_record_up_to_the_saved_network(tmp_path, model, **shown)


def assert_animated_from_the_record_up_to_the_saved_network(folder, model, result, frames):
    """The learning animation's frames are Q-values recorded during training, in order, and the last
    one is the saved network's; the GIF has one frame each, the last held."""
    saved_step = command_line._learning_step(result, result.saved_episode)
    saved_q_values = q_values_of(load_model(model, 48, 4))
    assert np.array_equal(frames[-1][0], saved_q_values)  # the file written, the last frame
    assert np.array_equal(result.recorded_q_values[saved_step], saved_q_values)
    played, exploring = len(result.rewards_per_episode), result.first_goal_episode - 1
    steps = []
    for q_values, caption, _ in frames[:-1]:
        (step,) = [
            i for i, then in enumerate(result.recorded_q_values) if np.array_equal(then, q_values)
        ]
        steps.append(step)
        assert caption[0].startswith(f"episode {exploring + step + 1} of {played}, epsilon ")
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] < saved_step
    assert frames[-1][1][0].startswith(f"episode {result.saved_episode} of {played} (the saved")
    assert "its greedy walk takes 13 steps (optimal)" in frames[-1][1][1]
    with Image.open(folder / plots.LEARNING_GIF) as animation:
        assert animation.n_frames == len(frames) == command_line.LEARNING_FRAMES
        assert animation.size == (720, 552)
        durations = []
        for index in range(animation.n_frames):
            animation.seek(index)
            durations.append(animation.info["duration"])
    # the last frame, the saved network, is held 3 s longer
    assert durations == [plots.LEARNING_FRAME_MS] * (len(frames) - 1) + [
        plots.LEARNING_FRAME_MS + 3000
    ]


def test_no_plots_writes_no_pictures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        cliff_walking_dqn.main(
            ["--test-only", "--model", str(SHIPPED_MODEL), "--render", "none", "--no-plots"]
        )
        == 0
    )
    assert list(tmp_path.iterdir()) == []


def test_test_only_writes_the_policy_and_the_gif_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        cliff_walking_dqn.main(["--test-only", "--model", str(SHIPPED_MODEL), "--render", "none"])
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [plots.POLICY_PLOT, plots.TEST_GIF]
    assert all(p.stat().st_size > 1000 for p in tmp_path.iterdir())


def test_moving_average():
    values = np.array([0, 1, 1, 0, 1], dtype=float)
    np.testing.assert_allclose(plots.moving_average(values, 2), [0, 0.5, 1, 0.5, 0.5])


def test_a_failed_training_writes_its_picture_and_says_where(tmp_path, capsys):
    model = tmp_path / "m.pt"
    code = run_headless(model, "--seed", "6", "--episodes", "300", "--plots", str(tmp_path))
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("Training failed")
    assert f"Training curves: {tmp_path / plots.TRAINING_PLOT}" in captured.out
    with Image.open(tmp_path / plots.TRAINING_PLOT) as image:
        assert image.size == (1000, 1000)
    assert f"Learning animation: {tmp_path / plots.LEARNING_GIF}" in captured.out  # how far it got
    with Image.open(tmp_path / plots.LEARNING_GIF) as animation:
        assert animation.n_frames == command_line.LEARNING_FRAMES
    assert not model.exists()


def test_a_training_that_never_reached_the_goal_has_a_picture_too(tmp_path, monkeypatch):
    agent = CliffWalkingDQN(seed=0)
    monkeypatch.setattr(results, "MAX_EXPLORING_EPISODES", 20)
    with pytest.raises(TrainingFailed) as failure:
        agent.train(100)
    assert failure.value.result.first_goal_episode is None
    plots.plot_training(failure.value.result, tmp_path / "failed.png")
    with Image.open(tmp_path / "failed.png") as image:
        assert image.size == (1000, 1000)


def test_with_save_last_the_training_picture_marks_the_last_network_as_saved():
    played, learned = [0, 0, 1, 0, 1, 1, 0, 1, 0, 0], 8  # the goal first reached in episode 3
    best = results.TrainingResult(
        {}, 7, 15, {}, played, [9] * 10, [0.5] * learned, [0.1] * learned, [15.0] * learned
    )
    labels = [label for *_, label in plots.training_marks(best)]
    assert labels == ["first goal: learning starts (episode 3)", "network saved (episode 7)"]
    last = dataclasses.replace(best, save_last=True)
    marks = {label: episode for episode, *_, label in plots.training_marks(last)}
    assert marks == {
        "first goal: learning starts (episode 3)": 3,
        "network saved: the last (episode 10)": 10,
        "best network seen, not saved (episode 7)": 7,
    }


@pytest.fixture
def drawn_norms(monkeypatch):
    """The colour scale of each grid plot_policy draws (nothing is written)."""
    norms = []
    draw = plots._draw_q_values

    def recording(axes, q_values, standable, title, norm, *args, **kwargs):
        norms.append(norm)
        return draw(axes, q_values, standable, title, norm, *args, **kwargs)

    monkeypatch.setattr(plots, "_draw_q_values", recording)
    monkeypatch.setattr(plots.Figure, "savefig", lambda *_, **__: None)
    return norms


def test_one_colour_scale_per_policy_picture_fits_its_values(q_star, drawn_norms):
    small = q_star * 0.04  # values like the slippery grid's at gamma 0.9, all under 0.05
    network = small.copy()
    network[24] = [0.002, 0.001, 0, 0]
    comparison = (*compare_with_optimum(network, small), STANDABLE_STATES)
    plots.plot_policy(network, small, comparison, "unused.png", slippery=True)
    network_norm, optimum_norm = drawn_norms
    assert network_norm is optimum_norm  # one scale, shared by both grids and the colour bar
    assert network_norm.vmax == pytest.approx(0.04)  # the largest value shown: Q*(35, down)
    assert network_norm.vmin == pytest.approx(0.002)  # the network's lowest, in cell 24


def test_cells_where_the_greedy_action_is_not_optimal_are_rows_and_columns(q_star, capsys):
    wrong = q_star.copy()
    wrong[24, LEFT] = 1.0  # row 2, column 0
    wrong[13, UP] = 1.0  # row 1, column 1
    tested = results.TestResult(0.0, 1, wrong, seed=0)
    command_line.report_test(tested, CliffWalkingDQN(), argparse.Namespace(plots=None), None)
    out = capsys.readouterr().out
    assert "Cells (row, column) where the greedy action is not optimal: (1, 1), (2, 0)\n" in out
