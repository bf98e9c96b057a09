"""The command line: headless runs of the shipped model, and flags refused before any work."""

import subprocess
import sys

import pytest

import cliff_walking_dqn
from ours import command_line
from conftest import ROOT, SHIPPED_MODEL, run_headless


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


def test_seeded_run_prints_where_the_saved_network_comes_from(tmp_path, capsys):
    model = tmp_path / "model.pt"
    # --no-plots: the pictures' tests draw them
    code = run_headless(
        model, "--seed", "6", "--episodes", "500", "--test-episodes", "5", "--no-plots"
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "--- Training --- (seed 6: the same seed repeats this run)" in out
    assert "the network as of episode" in out and "13 steps (optimal)" in out
    assert "Success rate: 100.0 %" in out
    assert model.stat().st_size > 0


def test_a_run_that_finds_no_path_says_so_and_keeps_the_old_model(tmp_path, capsys):
    model = tmp_path / "model.pt"
    model.write_bytes(SHIPPED_MODEL.read_bytes())
    code = run_headless(model, "--seed", "6", "--episodes", "300", "--no-plots")
    error = capsys.readouterr().err
    assert code == 1
    assert error.startswith("Training failed: no network walked from start to goal")
    assert "left unchanged" in error
    assert model.read_bytes() == SHIPPED_MODEL.read_bytes()
