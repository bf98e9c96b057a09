"""How long the pictures of a run take, measured inside runs of the main script.

    python benchmarks/time_pictures.py  # 5 runs of 'python cliff_walking_dqn.py --seed 0'
    python benchmarks/time_pictures.py --runs 3 -- --test-only

Each run is a fresh process (imports and first-draw costs count, as they do for a user) with timers
around what only the pictures need: importing plots.py (and matplotlib), the training curves, the
learning animation, the policy picture, the test episode's frames and the GIF. The model and
pictures go to a temporary folder. Prints each run's parts and the median total.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, ROOT)

from ours.command_line import OneLineArgumentParser, whole_number  # noqa: E402

ONE_RUN = """
import contextlib, io, json, sys, time
sys.path.insert(0, {root!r})
import cliff_walking_dqn
from ours import command_line
seconds = {{}}

def timing(owner, name, label):
    function = getattr(owner, name)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] = seconds.get(label, 0) + time.perf_counter() - start
    setattr(owner, name, timed)

@contextlib.contextmanager
def pictures():
    start = time.perf_counter()
    with real_pictures() as plots:
        seconds["import plots"] = seconds.get("import plots", 0) + time.perf_counter() - start
        for name in ("plot_training", "plot_policy", "save_episode_gif"):
            if not hasattr(getattr(plots, name), "__wrapped_by_timer__"):
                timing(plots, name, name)
                getattr(plots, name).__wrapped_by_timer__ = True
        yield plots

real_pictures = command_line._pictures
command_line._pictures = pictures
if hasattr(command_line, "write_learning_animation"):  # its Q*, frames, drawing and GIF
    timing(command_line, "write_learning_animation", "learning animation")
real_show = command_line.show_episode
def frames(actions, render_mode, **options):
    start = time.perf_counter()
    try:
        return real_show(actions, render_mode, **options)
    finally:
        seconds["test episode frames"] = time.perf_counter() - start
command_line.show_episode = frames
with contextlib.redirect_stdout(io.StringIO()):
    status = cliff_walking_dqn.main({args!r})
print(json.dumps({{"status": status, "seconds": seconds}}))
"""


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=whole_number(1), default=5, help="fresh processes to time (default 5)"
    )
    parser.add_argument(
        "flags", nargs="*", help="flags for cliff_walking_dqn.py, after -- (default: --seed 0)"
    )
    args = parser.parse_args()
    flags = args.flags or ["--seed", "0"]
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        run_flags = [
            *flags,
            "--model",
            os.path.join(folder, "model.pt"),
            "--plots",
            folder,
            "--render",
            "none",
        ]
        if "--test-only" in flags:
            run_flags[run_flags.index("--model") + 1] = os.path.join(ROOT, "cliff_walking_dql.pt")
        environment = {**os.environ, "TQDM_DISABLE": "1"}
        for run in range(args.runs):
            done = subprocess.run(
                [sys.executable, "-c", ONE_RUN.format(root=ROOT, args=run_flags)],
                capture_output=True,
                text=True,
                env=environment,
                cwd=folder,
            )
            if done.returncode != 0:
                sys.exit(f"run {run + 1} failed: {done.stderr.strip().splitlines()[-1]}")
            seconds = json.loads(done.stdout.splitlines()[-1])["seconds"]
            totals.append(sum(seconds.values()))
            parts = "  ".join(f"{label} {value:.3f}" for label, value in seconds.items())
            print(f"run {run + 1}: pictures {totals[-1]:.2f} s ({parts})", flush=True)
    print(
        f"median over {args.runs} runs: {statistics.median(totals):.2f} s"
        f" (fastest {min(totals):.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
