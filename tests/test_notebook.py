"""cliff_walking_dqn.ipynb, executed with a real kernel in a temporary folder, as a learner runs it.

It must run without an error, show its pictures (the GIFs moving), write nothing where it runs, and
print what its committed outputs say: when it no longer does, ``python tests/run_notebook.py``
re-executes it and writes the new outputs (commit them).
"""

import base64
import difflib
import io
import json
import re
import tempfile

import nbformat
import pytest
from PIL import Image

from conftest import NOTEBOOK_RUN, ROOT
from run_notebook import NOTEBOOK, REGENERATE, arithmetic_fingerprint, printed_by_cell

GIF = re.compile(r'<img src="data:image/gif;base64,([^"]+)"')


@pytest.fixture(scope="module")
def run(pytestconfig):
    """The notebook executed once for the tests below, started when collection ended (conftest);
    the folders it ran in."""
    notebook, working, temporary = pytestconfig.stash[NOTEBOOK_RUN]
    return notebook.result(), working, temporary


def pictures(notebook) -> list[Image.Image]:
    """Every picture the notebook shows: the PNGs and the GIFs embedded in HTML."""
    shown = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                shown.append(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))))
            for encoded in GIF.findall(data.get("text/html", "")):
                shown.append(Image.open(io.BytesIO(base64.b64decode(encoded))))
    return shown


def test_the_notebook_runs_and_shows_its_pictures(run):
    notebook, _, _ = run  # executing it raised on any cell's error
    shown = pictures(notebook)
    kinds = [(picture.format, getattr(picture, "n_frames", 1) > 1) for picture in shown]
    # training curves, learning animation, policy, test episode, the policy on the slippery grid
    assert kinds == [("PNG", False), ("GIF", True), ("PNG", False), ("GIF", True), ("PNG", False)]
    assert all(picture.width >= 300 and picture.height >= 150 for picture in shown)  # drawn
    training = next(cell for cell in notebook.cells if "agent.train(3000)" in cell.source)
    bar = "".join(output.text for output in training.outputs if output.get("name") == "stderr")
    assert "3000/3000" in bar  # the progress bar, as the notebook shows it when training ends


def test_the_notebook_writes_nothing_where_it_runs(run):
    """It runs where the learner opened it, the project folder: nothing lands there, and its
    temporary folder is gone when the kernel stops."""
    _, working, temporary = run
    assert list(working.iterdir()) == []
    assert [path.name for path in temporary.iterdir() if "cliff_walking" in path.name] == []


def test_the_committed_outputs_are_what_a_fresh_run_prints(run):
    notebook, _, _ = run
    committed = nbformat.read(NOTEBOOK, as_version=4)
    if committed.metadata.get("arithmetic") != arithmetic_fingerprint():
        pytest.skip(
            "this processor rounds floats differently from the one that made the committed"
            " outputs, so the seeded figures differ (docs/experiments.md, Seeds)"
        )
    fresh = printed_by_cell(notebook)
    stale = [
        "\n".join(
            difflib.unified_diff(
                text.splitlines(), fresh.get(cell_id, "").splitlines(), lineterm="",
                fromfile=f"committed, cell {cell_id}", tofile="this run",
            )
        )
        for cell_id, text in printed_by_cell(committed).items()
        if fresh.get(cell_id) != text
    ]
    assert not stale, f"committed outputs are stale: run {REGENERATE}\n" + "\n".join(stale)


def test_the_committed_notebook_holds_no_path_of_this_machine():
    text = NOTEBOOK.read_text()
    for path in (str(ROOT), tempfile.gettempdir() + "/"):
        assert path not in text
    assert json.loads(text)["metadata"]["kernelspec"]["name"] == "python3"
