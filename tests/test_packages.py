"""The set-up check: a Python without the packages gets one line and the set-up command, exit 2."""

import subprocess
import sys

import pytest
from conftest import ROOT

from ours.packages import ARTICLE_PACKAGES, SET_UP, missing_packages

# Runs a script as `python SCRIPT` would, in a Python where torch cannot be imported.
WITHOUT_TORCH = """
import runpy, sys
sys.modules["torch"] = None  # what an import of torch then finds: nothing
sys.path.insert(0, {root!r})
sys.argv = [{script!r}]
runpy.run_path({script!r}, run_name="__main__")
"""


@pytest.mark.parametrize("script", ["cliff_walking_dqn.py", "q_learning.py"])
def test_a_missing_package_is_one_line_naming_it_and_the_set_up(script):
    path = str(ROOT / script)
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH.format(root=str(ROOT), script=path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: torch is not installed for ")
    assert SET_UP in lines[0]


def test_the_check_covers_requirements_txt_by_import_name():
    names = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].split(";")[0].strip()
        if requirement:
            names.add(requirement.split("==")[0])
    pygame_under_either_name = {"pygame-ce": "pygame"}
    assert {pygame_under_either_name.get(n, n) for n in names} == set(ARTICLE_PACKAGES)


def test_the_installed_packages_are_found():
    assert missing_packages() == []


def test_the_tests_without_the_packages_say_the_same_one_line():
    """``python -m pytest`` in a new shell, the venv not activated: the set-up line, no traceback.
    """
    without_torch = (
        "import sys; sys.modules['torch'] = None; import pytest;"
        f" sys.exit(pytest.main(['-q', {str(ROOT / 'tests' / 'test_nn_model.py')!r}]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", without_torch], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: torch is not installed for ")
    assert SET_UP in lines[0]
