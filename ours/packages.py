"""The set-up check: without the packages, one line naming the missing one and the set-up command.

The scripts call ``require_installed`` before their first third-party import, so that a new shell
without the venv activated, or a Python without the packages, ends in a line that says what to do
rather than in ``ModuleNotFoundError`` and a traceback. ``importlib.util.find_spec`` only looks a
package up: it imports nothing, so the check costs no time.
"""

import importlib.util
import sys

# The import names of requirements.txt's packages (pygame-ce installs ``pygame`` too).
ARTICLE_PACKAGES = ("numpy", "gymnasium", "pygame", "tqdm", "matplotlib", "torch")

SET_UP = "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt"
SET_UP_WINDOWS = r".venv\Scripts\activate"


def missing_packages(modules=ARTICLE_PACKAGES) -> list[str]:
    """The modules this Python cannot import, in the order given."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def require_installed(modules=ARTICLE_PACKAGES) -> None:
    """Exit with status 2 and one line on stderr if a module of ``modules`` is not installed."""
    missing = missing_packages(modules)
    if missing:
        names = ", ".join(missing)
        # written here, not by ours/reports.py: that needs the packages that are missing
        sys.stderr.write(
            f"error: {names} {'is' if len(missing) == 1 else 'are'} not installed for"
            f" {sys.executable}. Set up with: {SET_UP} (Windows: {SET_UP_WINDOWS});"
            " where .venv exists, activating it is enough.\n"
        )
        raise SystemExit(2)
