"""The set-up check: without the packages, one line naming the missing one and the set-up command.

The scripts call ``require_installed`` before their first third-party import, so that a new shell
without the venv activated, or a Python without the packages, ends in a line that says what to do
rather than in ``ModuleNotFoundError`` and a traceback. ``importlib.util.find_spec`` only looks a
package up: it imports nothing, so the check costs no time.

Run as a script, the first seconds are imports (torch, numpy): Ctrl-C there, the moment a learner
remembers a flag, would print a traceback of torch's import machinery. ``require_installed`` gives
it one line instead, until ``end_start_up`` (ours/command_line.py's ``OneLineErrors``) takes over.
"""

import importlib.util
import os
import signal
import sys

# The import names of requirements.txt's packages (pygame-ce installs ``pygame`` too).
ARTICLE_PACKAGES = ("numpy", "gymnasium", "pygame", "tqdm", "matplotlib", "torch")

SET_UP = "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt"
SET_UP_WINDOWS = r".venv\Scripts\activate"


def missing_packages(modules=ARTICLE_PACKAGES) -> list[str]:
    """The modules this Python cannot import, in the order given."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def require_installed(caller: str = "", modules=ARTICLE_PACKAGES) -> None:
    """Exit with status 2 and one line on stderr if a module of ``modules`` is not installed.

    With ``caller`` "__main__" (the script's ``__name__`` when it runs as one, not when imported),
    Ctrl-C from here until ``end_start_up`` ends the process in one line, with status 130: nothing
    has been trained or written yet. Imported (tests, a notebook), Ctrl-C is left alone.
    """
    if caller == "__main__" and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted_while_starting)
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


START_UP_INTERRUPTED = "Interrupted while starting: nothing was trained or written."


def _interrupted_while_starting(signal_number, frame) -> None:
    """Ctrl-C during the imports: one line and status 130, at once. ``os._exit``, not an exception:
    raised inside torch's half-done import, one would still print its traceback, or worse, errors
    of that import's clean-up at exit."""
    sys.stderr.write(START_UP_INTERRUPTED + "\n")
    sys.stderr.flush()
    os._exit(130)


def end_start_up() -> None:
    """Ctrl-C is KeyboardInterrupt again, for the caller to report (what it left, what it saved)."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)
