"""Runs cliff_walking_dqn.ipynb with a real kernel; ``python tests/run_notebook.py`` rewrites its
committed outputs.

Run from the project folder, in the set-up virtual environment (with requirements-test.txt), after
any change to what the notebook prints or shows: the code it lists, the messages of train and test,
the pictures. It executes the notebook in a temporary folder and writes the outputs back into
``cliff_walking_dqn.ipynb``; commit that file. tests/test_notebook.py runs the notebook the same way
and fails when what it prints no longer equals the committed outputs.

The kernel is this interpreter (``sys.executable -m ipykernel_launcher``), whatever kernels Jupyter
has registered elsewhere, and it gets the environment a learner's kernel gets: the test suite's
settings (no progress bars, no SDL driver, no matplotlib backend) are taken out.
"""

import hashlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "cliff_walking_dqn.ipynb"
REGENERATE = "python tests/run_notebook.py"  # the command, as the test's failures name it
CELL_TIMEOUT = 300  # seconds; the training cell takes about 7 on a 2-core machine
TEST_SUITE_SETTINGS = ("TQDM_DISABLE", "MPLBACKEND", "SDL_VIDEODRIVER")  # tests/conftest.py's


class ThisPythonKernel(AsyncKernelManager):
    """An IPython kernel run by this interpreter, so by this virtual environment's packages.

    It gets a minute to stop by itself, not jupyter_client's 5 s, after which it is killed and its
    temporary folder stays: after this notebook the kernel takes about 28 s to stop on Python 3.14
    (measured in the project's 3.14 chroot), under 1 s on 3.11.
    """

    shutdown_wait_time = 60.0

    @property
    def kernel_spec(self) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (ipykernel)",
            language="python",
        )


def kernel_environment(temporary_folder: Path) -> dict:
    """A learner's environment, with the project importable from any folder and the temporary
    files in ``temporary_folder``."""
    env = {name: value for name, value in os.environ.items() if name not in TEST_SUITE_SETTINGS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["TMPDIR"] = env["TEMP"] = env["TMP"] = str(temporary_folder)
    return env


def execute(working_folder: Path, temporary_folder: Path, env=None) -> nbformat.NotebookNode:
    """The notebook, executed top to bottom in ``working_folder`` (the current folder of the
    kernel), the kernel's environment ``env`` (by default ``kernel_environment``); nbclient's
    CellExecutionError at the first cell that raises."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        kernel_manager_class=ThisPythonKernel,
        resources={"metadata": {"path": str(working_folder)}},
        coalesce_streams=True,  # one output per stream, carriage returns applied: the bar's end
        record_timing=False,  # no timestamps in the committed file
        extra_arguments=["--log-level=ERROR"],  # not the kernel's warning about TCP on localhost
    )
    client.execute(env=env or kernel_environment(temporary_folder))
    notebook.metadata["language_info"] = {"name": "python"}  # not this machine's Python version
    return notebook


def printed(cell) -> str:
    """What a code cell printed (stdout) and the text of what it showed: not stderr, where the
    progress bars write times and rates."""
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stdout":
            texts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            texts.append(output.data.get("text/plain", ""))
    return "".join(texts)


def printed_by_cell(notebook) -> dict[str, str]:
    return {cell.id: printed(cell) for cell in notebook.cells if cell.cell_type == "code"}


def figures(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)


def arithmetic_fingerprint() -> str:
    """A digest of a short seeded training of the article's network, computed as train computes
    (one torch thread, the same Adam): the same digest, the same float rounding.

    A seed repeats a run on one kind of processor, not across them (docs/experiments.md, Seeds): on
    a processor whose digest differs from the one recorded in the notebook, the figures the seeded
    cells print may differ too, and the test does not compare them.
    """
    import torch
    from torch import nn

    from nn_model import DQN
    from ours.speed import fused_adam_available, identity, on_one_torch_thread

    @on_one_torch_thread
    def train_briefly() -> bytes:
        generator = torch.Generator().manual_seed(0)
        with torch.random.fork_rng():
            torch.manual_seed(0)
            network = DQN(in_states=48, out_actions=4)
        optimizer = torch.optim.Adam(network.parameters(), fused=fused_adam_available())
        for _ in range(200):
            states = torch.randint(48, (32,), generator=generator)
            targets = torch.rand(32, 4, generator=generator)
            loss = nn.MSELoss()(network(identity(48)[states]), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            return network(identity(48)).numpy().tobytes()

    return hashlib.sha256(train_briefly()).hexdigest()[:16]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as working, tempfile.TemporaryDirectory() as temporary:
        notebook = execute(Path(working), Path(temporary))
    seconds = time.perf_counter() - started
    notebook.metadata["arithmetic"] = arithmetic_fingerprint()
    nbformat.write(notebook, NOTEBOOK)
    print(f"Executed and wrote {NOTEBOOK.name} in {seconds:.1f} s: commit it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
