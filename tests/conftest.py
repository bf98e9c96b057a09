"""Shared set-up: headless pygame and matplotlib, no progress bars, the project on sys.path."""

import os
import shutil
import sys
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"  # pygame draws without a display
os.environ["MPLBACKEND"] = "Agg"
os.environ["TQDM_DISABLE"] = "1"

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from ours.packages import require_installed  # noqa: E402

require_installed()  # outside the venv: the scripts' one line on what to set up, not a traceback
import pytest  # noqa: E402
import torch  # noqa: E402
from replay_memory import Transition  # noqa: E402

torch.set_num_threads(1)

SHIPPED_MODEL = ROOT / "cliff_walking_dql.pt"
NOTEBOOK_RUN = pytest.StashKey[tuple]()  # (the executed notebook's Future, its two folders)


def pytest_collection_modifyitems(items):
    """The notebook's tests last: they wait for its run, which starts when collection ends."""
    items.sort(key=lambda item: item.path.name == "test_notebook.py")


def pytest_collection_finish(session):
    """Start the notebook's run when its tests are collected. Its kernel is a process of its own,
    so it runs on the second core while the other tests run on this one (torch on one thread)."""
    if not any(item.path.name == "test_notebook.py" for item in session.items):
        return
    from run_notebook import execute, kernel_environment

    working = Path(tempfile.mkdtemp(prefix="notebook_working_folder_"))
    temporary = Path(tempfile.mkdtemp(prefix="notebook_temporary_files_"))
    notebook = Future()
    env = kernel_environment(temporary)  # now, before any test changes os.environ

    def run():
        try:
            notebook.set_result(execute(working, temporary, env))
        except BaseException as error:  # the test that waits for it raises it
            notebook.set_exception(error)

    threading.Thread(target=run, name="notebook", daemon=True).start()
    session.config.stash[NOTEBOOK_RUN] = (notebook, working, temporary)


def pytest_sessionfinish(session):
    if NOTEBOOK_RUN in session.config.stash:
        notebook, working, temporary = session.config.stash[NOTEBOOK_RUN]
        if notebook.done():  # else its kernel still runs in them: left to the system's cleaning
            shutil.rmtree(working, ignore_errors=True)
            shutil.rmtree(temporary, ignore_errors=True)


def unwrapped(text: str) -> str:
    """What a run printed, with each line that ours/reports.py broke at 80 columns (going on two
    columns in) joined again."""
    return text.replace("\n  ", " ")


def run_headless(model, *flags) -> int:
    """``python cliff_walking_dqn.py --model MODEL --render none FLAGS``, in this process."""
    import cliff_walking_dqn

    return cliff_walking_dqn.main(["--model", str(model), "--render", "none", *flags])


def random_mini_batch(rng, size=32):
    """``size`` transitions of random states, actions and rewards, about 3 in 10 terminal."""
    return [
        Transition(
            rng.randrange(48),
            rng.randrange(4),
            rng.randrange(48),
            rng.randrange(2),
            rng.random() < 0.3,
        )
        for _ in range(size)
    ]


@pytest.fixture
def headless_env():
    """The environment of a server with no display, for subprocesses (no SDL driver chosen
    either)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    }
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture(autouse=True, scope="session")
def start_in_a_temporary_folder(tmp_path_factory):
    """Module fixtures run before the per-test folder below: what they write lands outside too."""
    os.chdir(tmp_path_factory.mktemp("session"))


@pytest.fixture(autouse=True)
def run_in_a_temporary_folder(tmp_path, monkeypatch):
    """What a run writes to the current folder (pictures, a default model) lands outside the
    repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def seed_6_run(tmp_path_factory):
    """``CliffWalkingDQN(seed=6).train(500)``, trained once for the tests that only read it: the
    agent, whose model file holds the network train saved, and the TrainingResult."""
    from cliff_walking_dqn import CliffWalkingDQN

    agent = CliffWalkingDQN(seed=6, model_file=tmp_path_factory.mktemp("seed_6") / "model.pt")
    return agent, agent.train(500)


@pytest.fixture(autouse=True, scope="session")
def shipped_model_stays_untouched():
    """No test may write over the committed model file."""
    before = SHIPPED_MODEL.read_bytes()
    yield
    assert SHIPPED_MODEL.read_bytes() == before, "a test wrote over cliff_walking_dql.pt"
