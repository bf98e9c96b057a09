"""No user action loses work or ends in a traceback: model files, interrupts, folders, windows."""

import os
import pickle
import random
import signal
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import cliff_walking_dqn
from ours import command_line
from ours import episode_replay
from cliff_walking_dqn import CliffWalkingDQN
from conftest import ROOT, SHIPPED_MODEL
from ours.model_file import save_model
from nn_model import DQN

# up, right: three frames, the start and one per step
UP_RIGHT = episode_replay.Episode([36, 24, 25], [0, 1], "stopped after two steps")


class RunsCode:
    """Unpickling this creates ``marker``: a stand-in for a malicious model file."""

    def __init__(self, marker):
        self.marker = Path(marker)

    def __reduce__(self):
        return (Path.touch, (self.marker,))


class CallsTheSystem(RunsCode):
    """The same through os.system, a module torch blocks by name."""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def state_dict_of(in_states=48, out_actions=4, hidden=None):
    dqn = DQN(in_states, out_actions)
    if hidden:
        dqn.block_1 = torch.nn.Linear(in_states, hidden)
        dqn.block_2 = torch.nn.Linear(hidden, out_actions)
    return dqn.state_dict()


def write_bad_model(kind, path, marker):
    good = SHIPPED_MODEL.read_bytes()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "random bytes":
        path.write_bytes(os.urandom(4096))  # new bytes each run: the message must not vary
    elif kind == "text":
        path.write_text("these are not the weights you are looking for\n")
    elif kind == "runs code":
        torch.save({"block_1.weight": RunsCode(marker)}, path)
    elif kind == "calls the system":
        torch.save({"block_1.weight": CallsTheSystem(marker)}, path)
    elif kind == "plain pickle that runs code":
        path.write_bytes(pickle.dumps(RunsCode(marker)))
    elif kind == "other hidden size":
        torch.save(state_dict_of(hidden=64), path)
    elif kind == "other number of states":
        torch.save(state_dict_of(in_states=16), path)
    elif kind == "other number of actions":
        torch.save(state_dict_of(out_actions=8), path)
    elif kind == "extra key":
        torch.save(OrderedDict(state_dict_of(), extra=torch.zeros(1)), path)
    elif kind == "missing key":
        state = state_dict_of()
        del state["block_2.bias"]
        torch.save(state, path)
    elif kind == "a tensor, not a state_dict":
        torch.save(torch.zeros(3), path)
    elif kind == "a whole network":  # as many tutorials save one
        torch.save(DQN(48, 4), path)


BAD_MODELS = {
    "empty": "is empty",
    "truncated": "not a readable PyTorch weights file",
    "random bytes": "not a readable PyTorch weights file",
    "text": "not a readable PyTorch weights file",
    "runs code": "would run code",
    "calls the system": "would run code",
    "plain pickle that runs code": "would run code",
    "other hidden size": "holds a different network",
    "other number of states": "holds a different network",
    "other number of actions": "holds a different network",
    "extra key": "holds a different network",
    "missing key": "holds a different network",
    "a tensor, not a state_dict": "holds a different network",
    "a whole network": "a whole pickled network (torch.save(model, ...)), which would run code",
}


@pytest.mark.parametrize("kind", BAD_MODELS)
def test_a_bad_model_file_is_refused_in_one_line(kind, tmp_path, capsys):
    model, marker = tmp_path / "model.pt", tmp_path / "code_ran"
    write_bad_model(kind, model, marker)
    before = model.read_bytes()
    code = cliff_walking_dqn.main(["--test-only", "--model", str(model), "--no-plots"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"error: model file '{model}'")
    assert BAD_MODELS[kind] in captured.err
    assert (
        "--model" in captured.err or "retrain" in captured.err or "train a new one" in captured.err
    )
    assert "--- Test ---" not in captured.out
    assert model.read_bytes() == before
    assert not marker.exists()  # the payload did not run


def test_a_whole_network_is_refused_with_how_to_save_its_weights(tmp_path, capsys):
    model = tmp_path / "whole.pt"
    write_bad_model("a whole network", model, None)
    assert cliff_walking_dqn.main(["--test-only", "--model", str(model), "--no-plots"]) == 2
    assert f"with torch.save(model.state_dict(), '{model}')" in capsys.readouterr().err


def test_the_code_running_payload_is_live(tmp_path):
    """Control for the test above: loading without weights_only would have run the payload."""
    model, marker = tmp_path / "model.pt", tmp_path / "code_ran"
    write_bad_model("runs code", model, marker)
    torch.load(model, weights_only=False)
    assert marker.exists()


def test_a_model_with_other_architecture_names_what_differs(tmp_path, capsys):
    model = tmp_path / "model.pt"
    write_bad_model("other hidden size", model, None)
    cliff_walking_dqn.main(["--test-only", "--model", str(model), "--no-plots"])
    error = capsys.readouterr().err
    assert "block_1.weight 64x48" in error and "block_1.weight 48x48" in error


def test_a_folder_as_model_file_is_refused(tmp_path, capsys):
    assert cliff_walking_dqn.main(["--test-only", "--model", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_the_articles_own_file_layout_loads(tmp_path):
    """A plain state_dict with the article's keys, as its code saves it, loads here."""
    model = tmp_path / "article.pt"
    torch.save(DQN(48, 4).state_dict(), model)
    assert cliff_walking_dqn.main(
        ["--test-only", "--model", str(model), "--render", "none", "--no-plots"]
    ) in (0,)


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*_):
        raise AssertionError("training started")

    monkeypatch.setattr(CliffWalkingDQN, "train", refuse)


def test_a_missing_model_folder_is_refused_before_training(tmp_path, capsys, no_training):
    model = tmp_path / "no_such_folder" / "model.pt"
    assert cliff_walking_dqn.main(["--model", str(model)]) == 2
    error = capsys.readouterr().err
    assert (
        error.count("\n") == 1
        and str(tmp_path / "no_such_folder") in error
        and "does not exist" in error
    )


def test_a_read_only_model_folder_is_refused_before_training(
    tmp_path, capsys, no_training, monkeypatch
):
    monkeypatch.setattr(os, "access", lambda *_: False)  # as root every folder is writable: pretend
    assert cliff_walking_dqn.main(["--model", str(tmp_path / "model.pt")]) == 2
    error = capsys.readouterr().err
    assert str(tmp_path) in error and "not writable" in error


def test_a_missing_plots_folder_is_made_before_any_work(tmp_path, no_training):
    folder = tmp_path / "pictures" / "run 1"
    with pytest.raises(AssertionError, match="training started"):
        cliff_walking_dqn.main(["--plots", str(folder), "--model", str(tmp_path / "m.pt")])
    assert folder.is_dir()


def test_a_file_where_the_plots_folder_goes_is_refused_before_any_work(
    tmp_path, capsys, no_training
):
    (tmp_path / "notes").write_text("a file, not a folder")
    folder = tmp_path / "notes" / "pictures"
    assert cliff_walking_dqn.main(["--plots", str(folder), "--model", str(tmp_path / "m.pt")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"error: could not make folder '{folder}'")


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_save_leaves_the_previous_model_whole(tmp_path, monkeypatch, failure):
    model = tmp_path / "model.pt"
    model.write_bytes(SHIPPED_MODEL.read_bytes())

    def half_written(obj, file):
        file.write(b"PK\x03\x04 half a zip")
        raise failure

    monkeypatch.setattr(torch, "save", half_written)
    with pytest.raises(type(failure)):
        save_model(DQN(48, 4).state_dict(), model)
    assert model.read_bytes() == SHIPPED_MODEL.read_bytes()
    assert os.listdir(tmp_path) == ["model.pt"]  # no temporary file left behind


def test_a_save_replaces_the_file_with_ordinary_permissions(tmp_path):
    model = tmp_path / "model.pt"
    model.write_bytes(b"old")
    save_model(DQN(48, 4).state_dict(), model)
    assert model.read_bytes() != b"old"
    umask = os.umask(0)
    os.umask(umask)
    assert model.stat().st_mode & 0o777 == 0o666 & ~umask


def test_ctrl_c_during_training_keeps_the_previous_model(tmp_path, headless_env):
    model = tmp_path / "model.pt"
    model.write_bytes(SHIPPED_MODEL.read_bytes())
    # A suite started in the background of a script (`cmd &`) has SIGINT ignored, and the child
    # would inherit that and train on: it gets Ctrl-C as from a terminal.
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            str(ROOT / "cliff_walking_dqn.py"),
            "--episodes",
            "1000000",
            "--seed",
            "1",
            "--model",
            str(model),
            "--plots",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=headless_env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout.readline().startswith("--- Training --- (seed 1:")
        time.sleep(0.3)  # inside the training loop: the first line comes from train
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert (
        "Interrupted: training interrupted after" in stderr
        and "of 1000000 learning episodes" in stderr
    )
    assert f"'{model}' was left unchanged" in stderr
    assert "Traceback" not in stderr
    assert model.read_bytes() == SHIPPED_MODEL.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]


def test_ctrl_c_while_starting_up_is_one_line(tmp_path, headless_env):
    """Ctrl-C while torch is still importing, the moment a learner remembers a flag."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cliff_walking_dqn.py"), "--seed", "0", "--no-plots"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=headless_env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in the test above
    )
    maps = Path(f"/proc/{process.pid}/maps")
    try:
        deadline = time.monotonic() + 30
        # torch's library mapped: its import has begun, and goes on for a good while
        while "libtorch" not in maps.read_text() and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert stderr == "Interrupted while starting: nothing was trained or written.\n"
    assert stdout == "" and os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "when, message",
    [
        ("before training", "Interrupted: '{model}' was left unchanged.\n"),
        ("after the save", "Interrupted after the network was saved to '{model}'.\n"),
    ],
)
def test_ctrl_c_says_whether_the_model_was_saved(when, message, tmp_path, monkeypatch, capsys):
    model = tmp_path / "model.pt"
    model.write_bytes(SHIPPED_MODEL.read_bytes())

    def train(agent, episodes):
        if when == "after the save":
            save_model(DQN(48, 4).state_dict(), agent.model_file)
        raise KeyboardInterrupt

    monkeypatch.setattr(CliffWalkingDQN, "train", train)
    assert cliff_walking_dqn.main(["--model", str(model), "--seed", "0"]) == 130
    assert capsys.readouterr().err == message.format(model=model)


def test_ctrl_c_while_drawing_leaves_only_whole_pictures_of_this_run(
    tmp_path, monkeypatch, capsys
):
    from ours import pictures

    def policy(result, path):
        path.write_bytes(b"this run's policy")

    def interrupted(result, path):
        path.write_bytes(b"half a GIF")
        raise KeyboardInterrupt

    test_pictures = [("Policy", "policy.png", policy), ("Test episode", "test.gif", interrupted)]
    monkeypatch.setitem(pictures.PICTURES, "test", test_pictures)
    for name in ("policy.png", "test.gif"):
        (tmp_path / name).write_bytes(b"an earlier run's")
    flags = ["--test-only", "--model", str(SHIPPED_MODEL), "--render", "none"]
    assert cliff_walking_dqn.main([*flags, "--plots", str(tmp_path)]) == 130
    assert capsys.readouterr().err == (
        "Interrupted while drawing the pictures (only policy.png drawn, no older ones left):"
        f" '{SHIPPED_MODEL}' was left unchanged.\n"
    )
    assert os.listdir(tmp_path) == ["policy.png"]  # no half GIF, no earlier one
    assert (tmp_path / "policy.png").read_bytes() == b"this run's policy"


@pytest.fixture
def display(monkeypatch):
    """A pygame window on SDL's dummy driver, as if a display were there."""
    monkeypatch.setattr(command_line, "has_display", lambda: True)
    monkeypatch.setattr(episode_replay, "has_display", lambda: True)
    import pygame

    yield pygame
    pygame.quit()


def test_closing_the_window_ends_the_rendering(display, monkeypatch, capsys):
    pygame = display
    real_get = pygame.event.get
    calls = []

    def get(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:  # the user closes the window after two steps
            return [pygame.event.Event(pygame.QUIT)]
        return real_get(*args, **kwargs)

    monkeypatch.setattr(pygame.event, "get", get)
    code = cliff_walking_dqn.main(
        ["--test-only", "--render", "human", "--model", str(SHIPPED_MODEL), "--no-plots"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert len(calls) == 3  # no frame was drawn after the window closed
    assert not pygame.display.get_init()  # and the window is gone
    assert "Success rate: 100.0 %" in out  # the test itself is complete
    # the terminal says where the window stopped, before it sums up the whole episode
    closed = "Window closed at step 2 of 13 (the lines below are about the whole episode)\n"
    assert closed + "Path walked: 13 steps" in out


def test_the_window_shows_the_gifs_captioned_frames(display, monkeypatch):
    pygame = display
    shown = []  # what the window holds at each look

    def look():
        shown.append(pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1))
        return False

    monkeypatch.setattr(episode_replay, "_window_closed", look)
    environment = CliffWalkingDQN().environment
    episode_replay.show_episode(UP_RIGHT, "human", environment, reset_seed=0, hold_seconds=0)
    frames = episode_replay.show_episode(UP_RIGHT, "rgb_array", environment, reset_seed=0)
    captions = ["start", "step 1 of 2: up", "step 2 of 2: right, stopped after two steps"]
    assert len(shown) == 3  # one look per frame, no hold
    for window, frame, caption in zip(shown, frames, captions):
        assert np.array_equal(window, np.asarray(episode_replay.captioned_frame(frame, caption)))
    strip = shown[1][: episode_replay.CAPTION_HEIGHT]
    assert (strip < 128).any()  # the caption is written in it


def test_the_terminal_says_the_rate_then_that_a_window_opens_and_how_to_close_it(
    display, monkeypatch, capsys
):
    monkeypatch.setattr(episode_replay, "_window_closed", lambda: True)  # closed at the first frame
    code = cliff_walking_dqn.main(
        ["--test-only", "--render", "human", "--model", str(SHIPPED_MODEL), "--no-plots"]
    )
    out = capsys.readouterr().out
    assert code == 0
    window = out.index("The first test episode plays in a window")
    assert out.index("Success rate: 100.0 %") < window  # not only once the window has closed
    assert "(q or Esc closes it)" in out[window:].splitlines()[0]


def test_ctrl_c_during_the_rendering_closes_the_window(display, monkeypatch, capsys):
    pygame = display

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(episode_replay, "_window_closed", interrupted)
    code = cliff_walking_dqn.main(
        ["--test-only", "--render", "human", "--model", str(SHIPPED_MODEL), "--no-plots"]
    )
    assert code == 130
    assert capsys.readouterr().err == f"Interrupted: '{SHIPPED_MODEL}' was left unchanged.\n"
    assert not pygame.display.get_init()


def test_the_last_frame_stays_for_the_hold(display, monkeypatch):
    pygame = display
    real_get = pygame.event.get
    looks = []

    def get(*args, **kwargs):
        looks.append(time.monotonic())
        return real_get(*args, **kwargs)

    monkeypatch.setattr(pygame.event, "get", get)
    episode_replay.show_episode(
        UP_RIGHT, "human", CliffWalkingDQN().environment, reset_seed=0, hold_seconds=0.5
    )
    assert len(looks) > 3  # one look per frame, then the hold keeps looking
    assert looks[-1] - looks[2] >= 0.45
    assert not pygame.display.get_init()


@pytest.mark.parametrize("key", ["K_ESCAPE", "K_q"])
@pytest.mark.parametrize("when", ["during the replay", "during the hold"])
def test_esc_or_q_closes_the_window(display, monkeypatch, key, when):
    pygame = display
    real_get = pygame.event.get
    looks = []
    # the replay looks three times, then the hold
    closing_look = 2 if when == "during the replay" else 5

    def get(*args, **kwargs):
        looks.append(time.monotonic())
        if len(looks) == closing_look:
            return [pygame.event.Event(pygame.KEYDOWN, key=getattr(pygame, key))]
        return real_get(*args, **kwargs)

    monkeypatch.setattr(pygame.event, "get", get)
    start = time.monotonic()
    episode_replay.show_episode(
        UP_RIGHT, "human", CliffWalkingDQN().environment, reset_seed=0, hold_seconds=30
    )
    assert len(looks) == closing_look  # nothing drawn or held after the key
    assert time.monotonic() - start < 5
    assert not pygame.display.get_init()


def test_other_keys_do_not_close_the_window(display, monkeypatch):
    pygame = display
    monkeypatch.setattr(
        pygame.event, "get", lambda *_: [pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE)]
    )
    assert episode_replay._window_closed() is False


def test_random_bytes_that_start_like_a_pickle_are_called_corrupt_not_code(tmp_path, capsys):
    """Random bytes whose first opcodes import something (seed 69 of random.Random) are a corrupt
    file, not a pickle that would run code: only a whole pickle counts."""
    model = tmp_path / "model.pt"
    model.write_bytes(random.Random(69).randbytes(4096))
    assert cliff_walking_dqn.main(["--test-only", "--model", str(model), "--no-plots"]) == 2
    assert "not a readable PyTorch weights file" in capsys.readouterr().err
