"""The exact optimum Q* and the three pictures of a run."""

import copy
import dataclasses

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

import cliff_walking_dqn
from ours import animation, episode_replay, pictures, plots, reports, results, training
from cliff_walking_dqn import CliffWalkingDQN
from conftest import SHIPPED_MODEL, run_headless, unwrapped
from ours.exact_optimum import compare_with_optimum
from ours.model_file import load_model
from ours.results import TrainingFailed
from ours.speed import q_values_of

UP, RIGHT, DOWN, LEFT = range(4)
GAMMA = CliffWalkingDQN().discount_factor
CLIFF = CliffWalkingDQN().environment
# the file of each picture a run draws, by what the run calls it
TRAINING_PLOT, LEARNING_GIF = map(
    pictures.file_names("training", CLIFF).get, ("Training curves", "Learning animation")
)
POLICY_PLOT, TEST_GIF = map(pictures.file_names("test", CLIFF).get, ("Policy", "Test episode"))


@pytest.fixture(scope="module")
def q_star():
    return CLIFF.q_star


def with_q_star(q_star: np.ndarray):
    """The cliff's description with another Q*, which the pictures read from it."""
    environment = copy.copy(CLIFF)
    environment.q_star = q_star  # the cached value, replaced in the copy
    return environment


def test_the_pictures_have_the_files_the_readme_names():
    assert [TRAINING_PLOT, LEARNING_GIF, POLICY_PLOT, TEST_GIF] == [
        "cliff_walking_dqn_training.png",
        "cliff_walking_dqn_learning.gif",
        "cliff_walking_dqn_policy.png",
        "cliff_walking_dqn_test.gif",
    ]


def test_q_star_matches_values_worked_out_by_hand(q_star):
    assert q_star[35, DOWN] == 1.0  # the goal's upper neighbour steps onto the goal
    assert q_star[34, RIGHT] == pytest.approx(0.9)  # one step, then the goal
    assert q_star[35, RIGHT] == pytest.approx(0.9)  # bumps into the wall, then the goal
    assert q_star[36, UP] == pytest.approx(0.9**12)  # the 13-step path from the start
    assert q_star[36, RIGHT] == 0.0  # the cliff ends the episode with nothing
    assert q_star[34, DOWN] == 0.0


def test_q_star_satisfies_the_bellman_optimality_equation(q_star):
    table = CLIFF.unwrapped.P  # Gymnasium's own: (probability, next state, reward, done) per move
    for state in CLIFF.standable_states:
        for action in range(4):
            ((_, next_state, env_reward, _),) = table[state][action]
            terminated, reward = CliffWalkingDQN()._process_episode(env_reward, next_state)
            future = 0.0 if terminated else GAMMA * q_star[next_state].max()
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
    assert compare_with_optimum(q_star, CLIFF) == (0.0, 1.0, [])
    # state 0 (top left) has two optimal actions, right and down: either agrees
    assert q_star[0, RIGHT] == q_star[0, DOWN]
    tie_broken = q_star.copy()
    tie_broken[0, DOWN] += 1e-3
    assert compare_with_optimum(tie_broken, CLIFF)[2] == []
    wrong = q_star.copy()
    wrong[24, LEFT] = 1.0  # send the agent back towards the start
    largest_error, agreement, disagreeing = compare_with_optimum(wrong, CLIFF)
    assert disagreeing == [24]
    assert agreement == pytest.approx(36 / 37)
    assert largest_error == pytest.approx(1.0 - q_star[24, LEFT])


def test_a_training_run_writes_the_four_pictures(tmp_path, capsys, monkeypatch):
    shown = {}  # what the learning animation was handed
    real_write, real_save = animation.write_learning_animation, animation.save_learning_animation

    def write(result, *args, **kwargs):
        shown["result"] = result
        return real_write(result, *args, **kwargs)

    def save(frames, *args, **kwargs):
        shown["frames"] = frames
        return real_save(frames, *args, **kwargs)

    training_pictures = [
        (name, file_name, write if draw is real_write else draw)
        for name, file_name, draw in pictures.PICTURES["training"]
    ]
    monkeypatch.setitem(pictures.PICTURES, "training", training_pictures)
    monkeypatch.setattr(animation, "save_learning_animation", save)
    model = tmp_path / "m.pt"
    code = run_headless(
        model, "--seed", "6", "--episodes", "500", "--test-episodes", "3", "--plots", str(tmp_path)
    )
    out = unwrapped(capsys.readouterr().out)
    assert code == 0
    assert "greedy action optimal in" in out and "largest |Q - Q*|" in out
    with Image.open(tmp_path / TRAINING_PLOT) as image:
        assert image.size == (1000, 1000)
    with Image.open(tmp_path / POLICY_PLOT) as image:
        assert image.size == (1100, 750)
    with Image.open(tmp_path / TEST_GIF) as image:
        assert image.n_frames == 14  # the start and one frame per step of the 13-step walk
        frame = CLIFF.make(render_mode="rgb_array")
        frame.reset()
        height, width, _ = frame.render().shape  # 768 x 256 from Gymnasium 1.0 on, 720 x 240 before
        # the environment's frame and a caption
        assert image.size == (width, height + episode_replay.CAPTION_HEIGHT)
    assert f"Learning animation: {tmp_path / LEARNING_GIF}" in out
    assert_animated_from_the_record_up_to_the_saved_network(tmp_path, model, **shown)


def assert_animated_from_the_record_up_to_the_saved_network(folder, model, result, frames):
    """The learning animation's frames are Q-values recorded during training, in order, and the last
    one is the saved network's; the GIF has one frame each, the last held."""
    saved_step = result.learning_step(result.best_episode)
    saved_q_values = q_values_of(load_model(model, 48, 4))
    assert np.array_equal(frames[-1][0], saved_q_values)  # the file written, the last frame
    assert np.array_equal(result.recorded_q_values[saved_step], saved_q_values)
    played, exploring = result.played, result.first_goal_episode - 1
    steps = []
    for q_values, caption, _ in frames[:-1]:
        (step,) = [
            i for i, then in enumerate(result.recorded_q_values) if np.array_equal(then, q_values)
        ]
        steps.append(step)
        assert caption[0].startswith(f"episode {exploring + step + 1} of {played}, epsilon ")
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] < saved_step
    assert frames[-1][1][0].startswith(f"episode {result.best_episode} of {played} (the saved")
    assert "its greedy walk takes 13 steps (optimal)" in frames[-1][1][1]
    with Image.open(folder / LEARNING_GIF) as gif:
        assert gif.n_frames == len(frames) == animation.LEARNING_FRAMES
        assert gif.size == (720, 552)
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    # the last frame, the saved network, is held 3 s longer
    assert durations == [animation.LEARNING_FRAME_MS] * (len(frames) - 1) + [
        animation.LEARNING_FRAME_MS + 3000
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
    assert sorted(p.name for p in tmp_path.iterdir()) == [POLICY_PLOT, TEST_GIF]
    assert all(p.stat().st_size > 1000 for p in tmp_path.iterdir())


def test_moving_average():
    values = np.array([0, 1, 1, 0, 1], dtype=float)
    np.testing.assert_allclose(pictures.moving_average(values, 2), [0, 0.5, 1, 0.5, 0.5])


def test_a_failed_training_writes_its_picture_and_says_where(tmp_path, capsys):
    model = tmp_path / "m.pt"
    for earlier in (POLICY_PLOT, TEST_GIF):  # an earlier run's test, of another network
        (tmp_path / earlier).write_bytes(b"an earlier run's picture")
    code = run_headless(model, "--seed", "6", "--episodes", "300", "--plots", str(tmp_path))
    captured = capsys.readouterr()
    out = unwrapped(captured.out)
    assert code == 1
    assert captured.err.startswith("Training failed")
    assert f"Training curves: {tmp_path / TRAINING_PLOT}" in out
    with Image.open(tmp_path / TRAINING_PLOT) as image:
        assert image.size == (1000, 1000)
    assert f"Learning animation: {tmp_path / LEARNING_GIF}" in out  # how far it got
    with Image.open(tmp_path / LEARNING_GIF) as gif:
        assert gif.n_frames == animation.LEARNING_FRAMES
    assert not model.exists()
    # the folder holds this run's pictures only, and the run says what went
    assert sorted(path.name for path in tmp_path.iterdir()) == [LEARNING_GIF, TRAINING_PLOT]
    assert (
        f"Removed an earlier test's pictures: {tmp_path / POLICY_PLOT}, {tmp_path / TEST_GIF}"
        in out
    )


def test_a_training_that_never_reached_the_goal_has_a_picture_too(tmp_path, monkeypatch):
    agent = CliffWalkingDQN(seed=0)
    monkeypatch.setattr(training, "MAX_EXPLORING_EPISODES", 20)
    with pytest.raises(TrainingFailed) as failure:
        agent.train(100)
    assert failure.value.result.first_goal_episode is None
    pictures.plot_training(failure.value.result, tmp_path / "failed.png")
    with Image.open(tmp_path / "failed.png") as image:
        assert image.size == (1000, 1000)


def test_with_save_last_the_training_picture_marks_the_last_network_as_saved():
    played, learned = [0, 0, 1, 0, 1, 1, 0, 1, 0, 0], 8  # the goal first reached in episode 3
    best = results.TrainingResult(
        environment=CLIFF,
        settings={},
        best_state={},
        best_episode=7,
        best_measure=15,
        last_state={},
        rewards_per_episode=played,
        steps_per_episode=[9] * 10,
        epsilon_history=[0.5] * learned,
        loss_history=[0.1] * learned,
        measures=[15.0] * learned,
        recorded_steps=[],
        recorded_q_values=[],
    )
    labels = [label for *_, label in pictures.training_marks(best)]
    assert labels == ["first goal: learning starts (episode 3)", "network saved (episode 7)"]
    last = dataclasses.replace(best, save_last=True)
    marks = {label: episode for episode, *_, label in pictures.training_marks(last)}
    assert marks == {
        "first goal: learning starts (episode 3)": 3,
        "network saved: the last (episode 10)": 10,
        "best network seen, not saved (episode 7)": 7,
    }
    assert_legends_cover_no_data(last, settings="learning_rate 0.001, seed 1, episodes 500")


def assert_legends_cover_no_data(result, settings):
    """In the training picture, each panel's legend stands above the panel, the vertical lines are
    named once in a row of their own, none over another, and the settings read in two lines."""
    figures = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pictures.Figure, "savefig", lambda figure, *_, **__: figures.append(figure))
        patch.setattr(pictures, "describe_settings", lambda _: settings)
        pictures.plot_training(result, "unused.png")
    (figure,) = figures
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays every text out where the PNG has it
    renderer = canvas.get_renderer()
    for axes in figure.axes:
        assert axes.get_legend().get_window_extent(renderer).y0 >= axes.bbox.y1 - 1
    (lines,) = figure.legends
    names = [text.get_window_extent(renderer) for text in lines.get_texts()]
    assert len(names) == 3 and all(  # side by side
        left.x1 < right.x0 for left, right in zip(names, names[1:])
    )
    top_legend = figure.axes[0].get_legend().get_window_extent(renderer)
    assert lines.get_window_extent(renderer).y0 >= top_legend.y1
    (subtitle,) = [text for text in figure.texts if "learning_rate" in text.get_text()]
    assert subtitle.get_text() == "learning_rate 0.001,\nseed 1, episodes 500"
    assert subtitle.get_fontsize() >= 10


def test_tied_optimal_actions_are_drawn_as_arrows_apart():
    (x, y), (dx, dy) = plots.arrow_vectors({0: [RIGHT, DOWN], 24: [RIGHT]}, CLIFF)
    # cell 0 (row 0, column 0): right starts right of the centre, down below it; apart
    assert (x[0], y[0]) == (plots.TIED_GAP, 0) and (x[1], y[1]) == (0, plots.TIED_GAP)
    assert (dx[0], dy[0]) == (plots.TIED_LENGTH, 0) and (dx[1], dy[1]) == (0, plots.TIED_LENGTH)
    assert (x[2], y[2], dx[2], dy[2]) == (0, 2, 1, 0)  # one arrow: from the centre of cell 24


@pytest.fixture
def drawn_norms(monkeypatch):
    """The colour scale of each grid plot_policy draws (nothing is written)."""
    norms = []
    draw = plots.draw_q_values

    def recording(axes, q_values, environment, title, norm, *args, **kwargs):
        norms.append(norm)
        return draw(axes, q_values, environment, title, norm, *args, **kwargs)

    monkeypatch.setattr(plots, "draw_q_values", recording)
    monkeypatch.setattr(pictures.Figure, "savefig", lambda *_, **__: None)
    return norms


def test_one_colour_scale_per_policy_picture_fits_its_values(q_star, drawn_norms):
    small = q_star * 0.04  # values like the slippery grid's at gamma 0.9, all under 0.05
    network = small.copy()
    network[24] = [0.002, 0.001, 0, 0]
    tested = results.TestResult(
        environment=with_q_star(small), success_rate=0.0, episodes=1, q_values=network
    )
    pictures.plot_policy(tested, "unused.png")
    network_norm, optimum_norm = drawn_norms
    assert network_norm is optimum_norm  # one scale, shared by both grids and the colour bar
    assert network_norm.vmax == pytest.approx(0.04)  # the largest value shown: Q*(35, down)
    assert network_norm.vmin == pytest.approx(0.002)  # the network's lowest, in cell 24


def test_cells_where_the_greedy_action_is_not_optimal_are_rows_and_columns(q_star, capsys):
    wrong = q_star.copy()
    wrong[24, LEFT] = 1.0  # row 2, column 0
    wrong[13, UP] = 1.0  # row 1, column 1
    tested = results.TestResult(
        environment=CLIFF, success_rate=0.0, episodes=1, q_values=wrong, seed=0
    )
    reports.report_test(tested, render_mode=None, folder=None)
    out = capsys.readouterr().out
    assert "Cells (row, column) where the greedy action is not optimal: (1, 1), (2, 0)\n" in out
