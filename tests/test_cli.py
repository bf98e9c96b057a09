"""The command line: headless runs of the shipped model, and flags refused before any work."""

import subprocess
import sys

import pytest

import cliff_walking_dqn
from ours import command_line, reports
from conftest import ROOT, SHIPPED_MODEL, run_headless, unwrapped


def run(args, env):
    return subprocess.run(
        [sys.executable, str(ROOT / "cliff_walking_dqn.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_test_only_renders_text_headless(monkeypatch, capsys):
    """In this process: text needs no display, and no SDL driver either."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    flags = ["--test-only", "--render", "ansi", "--test-episodes", "10", "--no-plots"]
    assert cliff_walking_dqn.main([*flags, "--model", str(SHIPPED_MODEL)]) == 0
    captured = capsys.readouterr()
    assert "x  C  C  C" in captured.out  # the text grid, agent on the start cell beside the cliff
    assert "Success rate: 100.0 %" in captured.out
    assert "Path walked: 13 steps" in captured.out
    assert "Traceback" not in captured.err


def test_test_only_without_rendering(headless_env, tmp_path):
    done = run(
        ["--test-only", "--render", "none", "--test-episodes", "10", "--model", str(SHIPPED_MODEL)],
        headless_env,
    )
    assert done.returncode == 0, done.stderr
    assert "C  C  C" not in done.stdout
    assert "Success rate: 100.0 %" in done.stdout
    # drawn by pygame, off screen
    assert (tmp_path / "cliff_walking_dqn_test.gif").stat().st_size > 0
    assert done.stderr == ""  # nor does SDL complain about the missing display on the way


def test_auto_render_falls_back_to_text_without_a_display(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert (
        cliff_walking_dqn.main(
            ["--test-only", "--model", str(SHIPPED_MODEL), "--test-episodes", "2"]
        )
        == 0
    )
    assert "C  C  C" in capsys.readouterr().out


def test_auto_render_opens_a_window_with_a_display(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    assert command_line.resolve_render_mode("auto") == "human"


def test_human_render_without_a_display_is_refused(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert (
        cliff_walking_dqn.main(["--test-only", "--render", "human", "--model", str(SHIPPED_MODEL)])
        == 2
    )
    error = capsys.readouterr().err
    assert "no display" in error.lower() or "needs a display" in error
    assert "--render ansi" in error


@pytest.mark.parametrize(
    "flags, names",
    [
        (["--episodes", "0"], "--episodes"),
        (["--episodes", "-5"], "--episodes"),
        (["--episodes", "many"], "--episodes"),
        (["--test-episodes", "0"], "--test-episodes"),
        (["--seed", "-1"], "--seed"),
        (["--seed", "1.5"], "--seed"),
        (["--render", "window"], "--render"),
        (["--no-such-flag"], "--no-such-flag"),
    ],
)
def test_invalid_flags_are_refused_in_one_line(flags, names, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        cliff_walking_dqn.main([*flags, "--model", str(tmp_path / "never.pt")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and names in error and "--help" in error
    assert not (tmp_path / "never.pt").exists()


def test_missing_model_file_is_refused_before_any_work(tmp_path, capsys):
    missing = tmp_path / "no_model.pt"
    assert cliff_walking_dqn.main(["--test-only", "--model", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert str(missing) in captured.err and "does not exist" in captured.err
    assert "--- Test ---" not in captured.out  # refused before the test began


def test_seeded_run_prints_where_the_saved_network_comes_from_in_80_columns(tmp_path, capsys):
    model = "cliff_walking_dql.pt"  # the default, in the current folder (a temporary one)
    # --no-plots: the pictures' tests draw them
    code = run_headless(
        model, "--seed", "6", "--episodes", "500", "--test-episodes", "5", "--no-plots"
    )
    printed = capsys.readouterr().out
    out = unwrapped(printed)
    assert code == 0
    assert "--- Training --- (seed 6: the same seed repeats this run)" in out
    assert "the network as of episode" in out and "13 steps (optimal)" in out
    assert "Success rate: 100.0 %" in out
    assert (tmp_path / model).stat().st_size > 0
    assert max(map(len, printed.splitlines())) <= 80, printed  # tmux, split screens
    assert out != printed  # some lines were long: broken, and going on two columns in


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--episodes", "10"], "--episodes only changes training"),
        (["--learning-rate", "0.5"], "--learning-rate only changes training"),
        (["--save-last", "--max-episode-steps", "50"], "--save-last, --max-episode-steps only"),
    ],
)
def test_test_only_refuses_the_flags_only_training_uses(flags, named, capsys):
    with pytest.raises(SystemExit) as stopped:
        cliff_walking_dqn.main(["--test-only", "--model", str(SHIPPED_MODEL), *flags])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and named in error and "--test-only skips" in error
    assert ("--test-episodes N" in error) == ("--episodes" in flags)


def test_test_only_takes_the_discount_factor_of_the_q_star_it_compares_with(capsys):
    flags = ["--test-only", "--test-episodes", "1", "--render", "none", "--no-plots"]
    gamma = ["--discount-factor", "0.99", "--model", str(SHIPPED_MODEL)]
    assert cliff_walking_dqn.main([*flags, *gamma]) == 0
    out = unwrapped(capsys.readouterr().out)
    assert "largest |Q - Q*| = 0.080" not in out  # seed 0's network, against gamma 0.99's Q*


def test_a_run_that_finds_no_path_says_so_and_keeps_the_old_model(tmp_path, capsys):
    model = tmp_path / "model.pt"
    model.write_bytes(SHIPPED_MODEL.read_bytes())
    code = run_headless(model, "--seed", "6", "--episodes", "300", "--no-plots")
    error = capsys.readouterr().err
    assert code == 1
    assert error.startswith("Training failed: no network walked from start to goal")
    assert "left unchanged" in error
    assert model.read_bytes() == SHIPPED_MODEL.read_bytes()


def test_long_lines_break_where_they_read_best_within_80_columns():
    fit = reports.fit
    q_star = (
        "Against the exact optimum Q* (value iteration, over every slip): greedy action optimal"
        " in 84% of the 37 cells the agent can stand on; largest |Q - Q*| = 0.384"
    )
    assert fit(q_star).splitlines() == [  # after the colon, then the semicolon
        "Against the exact optimum Q* (value iteration, over every slip):",
        "  greedy action optimal in 84% of the 37 cells the agent can stand on;",
        "  largest |Q - Q*| = 0.384",
    ]
    cells = "Cells where it is not: " + ", ".join(f"({row}, {row + 10})" for row in range(12))
    assert all(  # after a comma between cells, never inside one
        line.rstrip(",").endswith(")") and len(line) <= 80 for line in fit(cells).splitlines()
    )
    path = "Pictures: /a/" + "very_" * 20 + "long/folder/policy.png"
    assert fit(path).splitlines() == ["Pictures:", "  " + path[10:]]  # a long path stays whole
    assert fit("short\n\nlines") == "short\n\nlines"
