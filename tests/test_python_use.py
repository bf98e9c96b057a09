"""The article's way from Python: train saves, test loads what was saved, both say which file."""

import io
import re
from pathlib import Path

import numpy as np
import pytest

import cliff_walking_dqn
from cliff_walking_dqn import CliffWalkingDQN
from conftest import SHIPPED_MODEL, unwrapped
from ours import pictures, results, training
from ours.model_file import MODEL_FILE
from ours.episode_replay import play_episode

CLIFF = CliffWalkingDQN().environment
OPTIMAL_PATH_LENGTH = 13

SHORT_RUN = dict(seed=5, episodes=300)  # its best network walks 19 steps: not the shipped one's 13


def test_train_then_test_on_one_object_tests_the_network_just_trained(capsys):
    agent = CliffWalkingDQN(seed=SHORT_RUN["seed"])
    trained = agent.train(SHORT_RUN["episodes"])
    out = capsys.readouterr().out
    assert trained.best_measure > OPTIMAL_PATH_LENGTH  # a network the shipped one is not
    saved = Path(MODEL_FILE)  # the article's file, in the current folder
    assert saved.read_bytes() != SHIPPED_MODEL.read_bytes()
    assert out.count(f"Saved to {MODEL_FILE} ") == 1
    assert f"the network as of episode {trained.best_episode}:" in out
    assert f"its greedy walk takes {trained.best_measure} steps." in out

    tested = agent.test(5)
    out = capsys.readouterr().out
    assert f"--- Test --- (the network in {MODEL_FILE})\n" in out
    assert len(play_episode(tested).actions) == trained.best_measure  # that network's walk
    assert tested.success_rate == 100.0 and tested.model_file == MODEL_FILE

    for shown in repr(trained), repr(tested):  # a summary, not the histories' arrays
        assert len(shown.splitlines()) <= 3 and len(shown) < 500
    assert repr(trained).startswith(f"TrainingResult(played {trained.played} episodes: ")
    assert f"saved to {MODEL_FILE}: the best network, of episode {trained.best_episode}," in repr(
        trained
    )
    assert f"success rate 100.0 % over 5 episodes of the network in {MODEL_FILE}" in repr(tested)


def test_no_model_file_saves_nothing(tmp_path, capsys):
    CliffWalkingDQN(seed=0, model_file=None, save_last=True).train(1)  # would save: not walking
    assert list(tmp_path.iterdir()) == []
    assert "Saved to" not in capsys.readouterr().out


def test_save_last_saves_the_last_network_even_when_none_walks(tmp_path, capsys, monkeypatch):
    """The article's rule: the network after the last episode is saved, walking or not; the summary
    says it does not walk, the test then shows it, in the text and in the GIF's last caption."""
    model = tmp_path / "last.pt"
    gif_captions = []  # the captions of the test episode's GIF
    real_captions = pictures.step_captions

    def captions(*args):
        made = real_captions(*args)
        gif_captions.extend(made)
        return made

    monkeypatch.setattr(pictures, "step_captions", captions)
    # pictures tested elsewhere: only the GIF is drawn here
    monkeypatch.setitem(pictures.PICTURES, "training", [])
    monkeypatch.setitem(
        pictures.PICTURES, "test", [("Test episode", "test.gif", pictures.write_test_gif)]
    )
    flags = ["--seed", "0", "--episodes", "1", "--save-last", "--model", str(model)]
    code = cliff_walking_dqn.main([*flags, "--render", "ansi", "--test-episodes", "2"])
    printed = capsys.readouterr().out
    out = unwrapped(printed)
    assert code == 0 and model.stat().st_size > 0
    assert (
        f"Saved to {model} the network after the last episode (--save-last, as the article does):"
        " its greedy walk does not reach the goal. No network walked from start to goal" in out
    )
    assert "Success rate: 0.0 %" in out
    limit = CliffWalkingDQN().test_max_steps + 1
    assert f"Path walked: {limit} steps, goal not reached in the test's {limit} steps" in out
    assert f"step {limit} of {limit}: " in out  # the text replay's last step ...
    # ... after its first and last 7 grids only: 14 of 52, not 300 lines
    grids = [line for line in printed.splitlines() if line.startswith(("start", "step "))]
    assert len(grids) == 14 and grids[6].startswith("step 6 ") and grids[7].startswith("step 45 ")
    assert "\n... steps 7 to 44 left out ...\n" in printed and len(printed.splitlines()) < 110
    assert gif_captions[-1].startswith(f"step {limit} of {limit}: ")  # ... and the GIF's
    assert gif_captions[-1].endswith(f", goal not reached in the test's {limit} steps")


def test_a_missing_default_model_points_at_the_shipped_one(capsys):
    assert cliff_walking_dqn.main(["--test-only", "--no-plots", "--render", "none"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"model file '{MODEL_FILE}' does not exist" in error
    assert f"test the shipped model with --model {SHIPPED_MODEL}," in error


class History:
    """What the bar reads of a ``TrainingHistory``: the run's lists."""

    def __init__(self):
        self.epsilon_history, self.rewards_per_episode = [], []

    def new_episode(self):
        self.rewards_per_episode.append(0)


BAR = r"\|[^|]{10}\| \d+/\d+ \[\d\d:\d\d<(\d\d:\d\d|\?)\]"  # the bar of fixed width, count, time


def test_the_bar_counts_the_learning_episodes_and_shows_epsilon_and_goals_at_80_columns():
    terminal, history = io.StringIO(), History()
    progress = training.TrainingProgress(
        3000, history, file=terminal, ncols=80, mininterval=0, miniters=1, disable=False
    )
    numbers = []
    with progress:
        episodes = iter(progress)
        for _ in range(347):  # exploring: every episode is number 0, and is counted as it ends
            numbers.append(next(episodes))
        next(episodes)
        line = drawn(terminal)
        assert re.fullmatch(f"Training   0%{BAR}, exploring: no goal in 347 episodes", line)
        assert numbers == [0] * 347
        history.rewards_per_episode[-1] = 1  # the first goal: learning starts, the bar says so
        for goals in range(1004):
            history.epsilon_history.append(1 - len(history.epsilon_history) / 3000)
            numbers.append(next(episodes))
            history.rewards_per_episode[-1] = goals % 2
        line, goals = drawn(terminal), sum(history.rewards_per_episode[:-1])  # the last: not over
        assert re.fullmatch(f"Training  33%{BAR}, epsilon 0.67, goals {goals}", line)
        assert len(line) <= 80 and "1004/3000" in line
    assert numbers[347:] == list(range(1, 1005))  # then each learning episode its own number


def test_the_test_bar_looks_like_the_training_bar(monkeypatch):
    """The article's tqdm in test, drawn as the training bar is (the suite turns bars off: here
    one is drawn into a string)."""
    terminal, real_tqdm = io.StringIO(), cliff_walking_dqn.tqdm

    def drawing(*args, **kwargs):
        return real_tqdm(*args, **kwargs, file=terminal, ncols=80, disable=False)

    monkeypatch.setattr(cliff_walking_dqn, "tqdm", drawing)
    CliffWalkingDQN(model_file=SHIPPED_MODEL).test(5)
    assert re.fullmatch(f"Test     100%{BAR}", drawn(terminal))


def drawn(terminal: io.StringIO) -> str:
    """The bar as the terminal shows it now: the last line tqdm redrew after a carriage return."""
    return terminal.getvalue().split("\r")[-1].rstrip()


UP, RIGHT, DOWN = 0, 1, 2
OPTIMAL = [RIGHT] * 48
OPTIMAL[36], OPTIMAL[35] = UP, DOWN


@pytest.mark.parametrize(
    "greedy_actions, steps, expected",
    [
        (OPTIMAL, 13, "goal reached"),
        ([RIGHT] * 48, 1, "fell into the cliff: goal not reached"),  # from the start, off the edge
        ([UP] * 48, 51, "goal not reached in the test's 51 steps"),  # up into the wall, forever
    ],
)
def test_an_episode_says_how_it_ended(greedy_actions, steps, expected):
    tested = results.TestResult(
        environment=CLIFF,
        success_rate=0.0,
        episodes=1,
        q_values=np.eye(4)[greedy_actions],  # each state's greedy action, as one-hot Q-values
        seed=0,
        step_limit=51,
    )
    assert tested.greedy_actions == greedy_actions
    episode = play_episode(tested)
    assert episode.ending == expected and len(episode.actions) == steps
    assert episode.reached_goal == (expected == "goal reached")


def test_with_no_model_file_test_plays_the_network_train_just_made(tmp_path, capsys):
    agent = CliffWalkingDQN(seed=6, model_file=None)
    with pytest.raises(ValueError, match=r"model_file is None and train has kept no network yet"):
        agent.test(2)
    trained = agent.train(500)
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert "Kept (model_file is None) the network as of episode" in capsys.readouterr().out
    tested = agent.test(3)
    out = capsys.readouterr().out
    assert "--- Test --- (the network train just made, not saved: model_file is None)" in out
    assert tested.model_file is None and tested.success_rate == 100.0
    assert len(play_episode(tested).actions) == trained.best_measure == OPTIMAL_PATH_LENGTH


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"discount_factor": 5}, r"^discount_factor must be from 0 to 1, got 5$"),
        ({"discount_factor": -0.5}, r"^discount_factor must be from 0 to 1, got -0.5$"),
        ({"learning_rate": -1}, r"^learning_rate must be above 0, got -1$"),
        ({"learning_rate": float("nan")}, r"^learning_rate must be a finite number, got nan$"),
        ({"network_sync_rate": 2.5}, r"^network_sync_rate must be a whole number, got 2.5$"),
        ({"replay_memory_size": 0}, r"^replay_memory_size must be at least 1, got 0$"),
        ({"mini_batch_size": 1000}, r"^mini_batch_size must be smaller than replay_memory_size"),
        ({"max_episode_steps": 5}, r"^max_episode_steps must be at least 13, got 5$"),
        ({"seed": -1}, r"^seed must be from 0 to 4294967295, got -1$"),
        ({"slippery": "yes"}, r"^slippery must be True or False, got 'yes'$"),
        ({"model_file": 3}, r"^model_file must be a path or None, got 3$"),
    ],
)
def test_a_setting_out_of_range_is_one_clear_value_error(settings, message):
    with pytest.raises(ValueError, match=message):
        CliffWalkingDQN(**settings)


def test_a_setting_the_agent_does_not_have_is_a_type_error():
    with pytest.raises(TypeError, match=r"^CliffWalkingDQN has no setting 'learning_rat'$"):
        CliffWalkingDQN(learning_rat=0.01)


@pytest.mark.parametrize("episodes", [0, -5])
def test_training_no_episodes_is_a_value_error(episodes, tmp_path):
    with pytest.raises(ValueError, match=rf"^episodes must be at least 1, got {episodes}$"):
        CliffWalkingDQN(seed=0, model_file=tmp_path / "m.pt").train(episodes)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "episodes, render_mode, message",
    [
        (0, None, r"^episodes must be at least 1, got 0$"),
        (-3, None, r"^episodes must be at least 1, got -3$"),
        ("5", None, r"^episodes must be a whole number, got '5'$"),
        (3, "humen", r"^render_mode must be one of None, 'human', 'ansi', 'rgb_array', got 'hu"),
    ],
)
def test_a_test_call_out_of_range_is_one_clear_value_error(episodes, render_mode, message, capsys):
    with pytest.raises(ValueError, match=message):
        CliffWalkingDQN(model_file=SHIPPED_MODEL).test(episodes, render_mode)
    assert capsys.readouterr().out == ""  # refused before it starts


def test_a_missing_model_file_is_a_value_error_from_python(tmp_path):
    with pytest.raises(ValueError, match=r"^model file '.*nope.pt' does not exist: "):
        CliffWalkingDQN(model_file=tmp_path / "nope.pt").test(1)


def test_the_articles_render_argument_says_why_it_is_gone_and_what_to_watch():
    with pytest.raises(ValueError, match=r"^train\(render=True\) is gone: .* for hours; watch the"):
        CliffWalkingDQN(seed=0).train(1000, render=True)


def test_without_a_seed_train_draws_one_keeps_it_and_prints_it(capsys):
    agent = CliffWalkingDQN(model_file=None, save_last=True)
    first = agent.train(1)
    assert isinstance(agent.seed, int) and first.seed == agent.seed
    assert f"--- Training --- (seed {agent.seed}: the same seed repeats this run)" in (
        capsys.readouterr().out
    )
    again = CliffWalkingDQN(seed=first.seed, model_file=None, save_last=True).train(1)
    assert again.steps_per_episode.tolist() == first.steps_per_episode.tolist()
