"""Experiments a reader can run: every hyperparameter as a flag, and the article's own save rule."""

import sys

import pytest
import torch

import cliff_walking_dqn
from conftest import run_headless, unwrapped
from ours import pictures
from cliff_walking_dqn import CliffWalkingDQN
from ours.command_line import parse_args
from ours.settings import describe_settings

ARTICLE_VALUES = {
    "learning_rate": 0.001,
    "discount_factor": 0.9,
    "network_sync_rate": 10,
    "replay_memory_size": 1000,
    "mini_batch_size": 32,
}


def test_the_defaults_are_the_articles_values_and_ours():
    args = parse_args([], CliffWalkingDQN())
    assert args.hyperparameters == {**ARTICLE_VALUES, "max_episode_steps": 100}
    assert not args.save_last


class Recorded(Exception):
    """Raised instead of training, once the agent that would train has been recorded."""


@pytest.fixture
def trained_agent(monkeypatch):
    agents = []

    def record(self, episodes):
        agents.append(self)
        raise Recorded

    monkeypatch.setattr(CliffWalkingDQN, "train", record)
    return agents


@pytest.mark.parametrize(
    "flag, value, name, expected",
    [
        ("--learning-rate", "0.5", "learning_rate", 0.5),  # unwise, but trained as asked
        ("--discount-factor", "0.99", "discount_factor", 0.99),
        ("--discount-factor", "0", "discount_factor", 0.0),
        ("--network-sync-rate", "0", "network_sync_rate", 0),
        ("--replay-memory-size", "100", "replay_memory_size", 100),
        ("--mini-batch-size", "1", "mini_batch_size", 1),
        ("--max-episode-steps", "13", "max_episode_steps", 13),
    ],
)
def test_each_flag_reaches_the_agent(flag, value, name, expected, trained_agent, tmp_path):
    with pytest.raises(Recorded):
        cliff_walking_dqn.main([flag, value, "--seed", "3", "--model", str(tmp_path / "m.pt")])
    agent = trained_agent[0]
    assert getattr(agent, name) == expected
    assert agent.seed == 3
    for other, default in {**ARTICLE_VALUES, "max_episode_steps": 100}.items():
        if other != name:
            assert getattr(agent, other) == default


@pytest.mark.parametrize(
    "flags, named, allowed",
    [
        (["--learning-rate", "0"], "--learning-rate", "above 0"),
        (["--learning-rate", "-0.1"], "--learning-rate", "above 0"),
        (["--learning-rate", "nan"], "--learning-rate", "a finite number"),
        (["--learning-rate", "fast"], "--learning-rate", "expected a number"),
        (["--discount-factor", "1.5"], "--discount-factor", "from 0 to 1"),
        (["--discount-factor", "-0.1"], "--discount-factor", "from 0 to 1"),
        (["--network-sync-rate", "-1"], "--network-sync-rate", "at least 0"),
        (["--replay-memory-size", "0"], "--replay-memory-size", "at least 1"),
        (["--mini-batch-size", "0"], "--mini-batch-size", "at least 1"),
        (
            ["--mini-batch-size", "1000"],
            "--mini-batch-size",
            "smaller than --replay-memory-size (1000)",
        ),
        (
            ["--mini-batch-size", "64", "--replay-memory-size", "50"],
            "--mini-batch-size",
            "smaller than --replay-memory-size (50)",
        ),
        (["--max-episode-steps", "12"], "--max-episode-steps", "at least 13"),
    ],
)
def test_a_bad_value_is_refused_in_one_line_before_training(
    flags, named, allowed, trained_agent, capsys, tmp_path
):
    with pytest.raises(SystemExit) as stopped:
        cliff_walking_dqn.main([*flags, "--model", str(tmp_path / "m.pt")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    # the flag, the range, the value
    assert named in error and allowed in error and flags[1] in error
    assert "Traceback" not in error
    assert not trained_agent and not (tmp_path / "m.pt").exists()


def test_the_default_flags_train_the_same_weights_as_the_articles_values(tmp_path, seed_6_run):
    by_default, spelled_out = tmp_path / "default.pt", tmp_path / "spelled_out.pt"
    common = [
        "--seed",
        "6",
        "--episodes",
        "500",
        "--render",
        "none",
        "--no-plots",
        "--test-episodes",
        "1",
    ]
    assert cliff_walking_dqn.main([*common, "--model", str(by_default)]) == 0
    article_flags = [
        f"--{name.replace('_', '-')}={value}" for name, value in ARTICLE_VALUES.items()
    ]
    assert cliff_walking_dqn.main([*common, *article_flags, "--model", str(spelled_out)]) == 0
    assert sorted(tmp_path.iterdir()) == [by_default, spelled_out]  # --no-plots: no pictures
    direct = seed_6_run[1].best_state
    for path in (by_default, spelled_out):
        saved = torch.load(path, weights_only=True)
        assert all(torch.equal(saved[name], direct[name]) for name in direct)


def test_save_last_saves_the_network_of_the_last_optimize_step(monkeypatch, tmp_path, capsys):
    """Seed 1, 500 episodes: the best network (episode 933) walks 15 steps, the last one loops."""
    after_each_step = []
    real_optimize = CliffWalkingDQN._optimize

    def optimize(self, num_states, mini_batch, policy_dqn, target_dqn):
        loss = real_optimize(self, num_states, mini_batch, policy_dqn, target_dqn)
        after_each_step.append(
            {name: tensor.clone() for name, tensor in policy_dqn.state_dict().items()}
        )
        return loss

    monkeypatch.setattr(CliffWalkingDQN, "_optimize", optimize)
    model = tmp_path / "last.pt"
    code = run_headless(
        model,
        "--seed",
        "1",
        "--episodes",
        "500",
        "--save-last",
        "--no-plots",
        "--test-episodes",
        "2",
    )
    out = unwrapped(capsys.readouterr().out)
    assert code == 0
    saved = torch.load(model, weights_only=True)
    assert all(torch.equal(saved[name], after_each_step[-1][name]) for name in saved)
    assert any(not torch.equal(saved[name], after_each_step[-2][name]) for name in saved)
    assert (
        "the network after the last episode (--save-last, as the article does):"
        " its greedy walk does not reach" in out
    )
    assert "The best network seen, of episode 933: its greedy walk takes 15 steps" in out
    assert "Success rate: 0.0 %" in out  # what the article would have saved, tested


def test_the_values_used_are_in_the_summary_and_the_picture_title(monkeypatch, tmp_path, capsys):
    titles = []  # the lines of text on the training picture
    real_save = pictures.Figure.savefig

    def save(figure, path, *args, **kwargs):
        if "cliff_walking_dqn_training" in path.name:  # drawn under a temporary name
            titles.extend(text.get_text().replace("\n", " ") for text in figure.texts)
        return real_save(figure, path, *args, **kwargs)

    monkeypatch.setattr(pictures.Figure, "savefig", save)
    code = run_headless(
        tmp_path / "m.pt",
        "--seed",
        "6",
        "--episodes",
        "60",
        "--discount-factor",
        "0.95",
        "--test-episodes",
        "1",
        "--plots",
        str(tmp_path),
    )
    out = unwrapped(capsys.readouterr().out)
    expected = (
        "learning_rate 0.001, discount_factor 0.95, network_sync_rate 10, replay_memory_size 1000,"
        " mini_batch_size 32, max_episode_steps 100, episodes 60, seed 6"
    )
    assert code in (0, 1)  # whether it learns the path in so few episodes does not matter here
    assert f"Trained with {expected}." in out
    assert expected in titles


def test_the_seed_sweep_takes_the_same_flags(monkeypatch, capsys):
    import seed_sweep

    monkeypatch.setattr(
        sys,
        "argv",
        [
            "seed_sweep.py",
            "--seeds",
            "6",
            "--episodes",
            "500",
            "--workers",
            "1",
            "--network-sync-rate",
            "10",
            "--max-episode-steps",
            "100",
        ],
    )
    assert seed_sweep.main() == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "500 episodes; learning_rate 0.001, discount_factor 0.9, network_sync_rate 10,"
        " replay_memory_size 1000, mini_batch_size 32, max_episode_steps 100"
    )
    assert "1 of 1 seeds saved a network that walks the optimal 13-step path" in out
    monkeypatch.setattr(sys, "argv", ["seed_sweep.py", "--discount-factor", "2"])
    with pytest.raises(SystemExit) as refused:
        seed_sweep.main()
    error = capsys.readouterr().err
    assert refused.value.code == 2 and error.count("\n") == 1
    assert "--discount-factor: must be from 0 to 1, got 2" in error


def test_a_large_seed_is_shown_whole_in_the_summary():
    assert describe_settings(
        {"learning_rate": 0.001, "discount_factor": 0.9, "seed": 387338202, "slippery": True}
    ) == ("learning_rate 0.001, discount_factor 0.9, seed 387338202, slippery")
