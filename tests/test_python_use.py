"""The article's way from Python: train saves, test loads what was saved, both say which file."""

import io
import re
from pathlib import Path

import pytest

import cliff_walking_dqn
from cliff_walking_dqn import CliffWalkingDQN
from conftest import SHIPPED_MODEL
from ours import plots
from ours.environment import OPTIMAL_PATH_LENGTH
from ours.model_file import MODEL_FILE
from ours import results

SHORT_RUN = dict(seed=5, episodes=300)  # its best network walks 19 steps: not the shipped one's 13


def test_train_then_test_on_one_object_tests_the_network_just_trained(capsys):
    agent = CliffWalkingDQN(seed=SHORT_RUN["seed"])
    trained = agent.train(SHORT_RUN["episodes"])
    out = capsys.readouterr().out
    assert trained.saved_path_length > OPTIMAL_PATH_LENGTH  # a network the shipped one is not
    saved = Path(MODEL_FILE)  # the article's file, in the current folder
    assert saved.read_bytes() != SHIPPED_MODEL.read_bytes()
    assert out.count(f"Saved to {MODEL_FILE} ") == 1
    assert f"the network as of episode {trained.saved_episode}:" in out
    assert f"its greedy walk takes {trained.saved_path_length} steps." in out

    tested = agent.test(5)
    out = capsys.readouterr().out
    assert f"Testing the network in {MODEL_FILE}\n" in out
    assert tested.path_length == trained.saved_path_length  # that network's walk
    assert tested.success_rate == 100.0 and tested.model_file == MODEL_FILE

    for shown in repr(trained), repr(tested):  # a summary, not the histories' arrays
        assert len(shown.splitlines()) <= 3 and len(shown) < 500
    assert f"{len(trained.rewards_per_episode)} episodes played" in repr(trained)
    assert f"saved to {MODEL_FILE}: the best network, of episode {trained.saved_episode}," in repr(
        trained
    )
    assert "success rate 100.0 % over 5 episodes" in repr(tested)
    assert f"first episode: {trained.saved_path_length} steps, reached the goal" in repr(tested)


def test_no_model_file_saves_nothing(tmp_path, capsys):
    CliffWalkingDQN(seed=0, model_file=None, save_last=True).train(1)  # would save: not walking
    assert list(tmp_path.iterdir()) == []
    assert "Saved to" not in capsys.readouterr().out


def test_save_last_saves_the_last_network_even_when_none_walks(tmp_path, capsys, monkeypatch):
    """The article's rule: the network after the last episode is saved, walking or not; the summary
    says it does not walk, the test then shows it, in the text and in the GIF's last caption."""
    model = tmp_path / "last.pt"
    gif_captions = []
    monkeypatch.setattr(
        plots, "save_episode_gif", lambda _, __, captions, *___: gif_captions.extend(captions)
    )
    for drawing in ("plot_training", "plot_policy"):  # pictures tested elsewhere: not drawn here
        monkeypatch.setattr(plots, drawing, lambda *_: None)
    flags = ["--seed", "0", "--episodes", "1", "--save-last", "--model", str(model)]
    code = cliff_walking_dqn.main([*flags, "--render", "ansi", "--test-episodes", "2"])
    out = capsys.readouterr().out
    assert code == 0 and model.stat().st_size > 0
    assert (
        f"Saved to {model} the network after the last episode (--save-last, as the article does):"
        " its greedy walk does not reach the goal. No network walked from start to goal" in out
    )
    assert "Success rate: 0.0 %" in out
    limit = CliffWalkingDQN().test_max_steps + 1
    assert f"Path walked: {limit} steps, goal not reached in the test's {limit} steps" in out
    assert f"step {limit} of {limit}: " in out  # the text replay's last step ...
    assert gif_captions[-1].startswith(f"step {limit} of {limit}: ")  # ... and the GIF's
    assert gif_captions[-1].endswith(f", goal not reached in the test's {limit} steps")


def test_a_missing_default_model_points_at_the_shipped_one(capsys):
    assert cliff_walking_dqn.main(["--test-only", "--no-plots", "--render", "none"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"model file '{MODEL_FILE}' does not exist" in error
    assert f"test the shipped model with --model {SHIPPED_MODEL}," in error


def test_the_bar_shows_epsilon_and_the_goals_at_80_columns():
    terminal = io.StringIO()
    epsilon_history, rewards = [], []
    progress = results.TrainingProgress(
        3000, file=terminal, ncols=80, mininterval=0, miniters=1, disable=False
    )
    with progress:
        for _ in range(347):  # exploring: every episode counted as it ends
            rewards.append(0)
            progress.show(epsilon_history, rewards)
        assert drawn(terminal).startswith("Training   0% 0/3000, exploring: episode 347, no goal")
        rewards.append(1)  # the first goal: learning starts, and the bar says so at once
        for goals in range(1004):
            epsilon_history.append(1 - len(epsilon_history) / 3000)
            progress.show(epsilon_history, rewards)
            rewards.append(goals % 2)
        line = drawn(terminal)
        assert line.startswith(
            f"Training  33% 1004/3000, epsilon 0.67, goals {sum(rewards[:-1])} |"
        )
        assert len(line) <= 80 and re.search(r"\|[^|]+\| \d\d:\d\d<\d\d:\d\d$", line)


def drawn(terminal: io.StringIO) -> str:
    """The bar as the terminal shows it now: the last line tqdm redrew after a carriage return."""
    return terminal.getvalue().split("\r")[-1].rstrip()


@pytest.mark.parametrize(
    "path, expected",
    [
        ([36, 24] + [25] * 11 + [47], "goal reached"),
        ([36, 36], "fell into the cliff: goal not reached"),
        ([36] + [24] * 51, "goal not reached in the test's 51 steps"),
    ],
)
def test_a_test_episode_says_how_it_ended(path, expected):
    result = results.TestResult(0.0, path=path, actions=[0] * (len(path) - 1))
    assert result.ending(51) == expected
