"""The linter: ruff, with the rules of pyproject.toml, finds nothing in the whole repository."""

import subprocess
import sys

from conftest import ROOT


def test_ruff_check_passes_on_the_repository():
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
