"""How long the pictures of a run take, measured inside runs of the main script.

    python benchmarks/time_pictures.py  # 5 runs of 'python cliff_walking_dqn.py --seed 0'
    python benchmarks/time_pictures.py --runs 3 -- --test-only

Each run is a fresh process (imports and first-draw costs count, as they do for a user) with timers
around what only the pictures need: importing ours/pictures.py and plots.py (and matplotlib), and
each picture ``ours/pictures.py`` lists: the training curves, the learning animation, the policy
picture and the test episode's GIF, whose frames are timed apart. The model and pictures go to a
temporary folder. Prints each run's parts and the median total.
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
seconds = {{}}
start = time.perf_counter()
from ours import pictures, plots  # what only the pictures need, matplotlib with them
seconds["import plots"] = time.perf_counter() - start

def timed(function, label):
    def timed_function(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] = seconds.get(label, 0) + time.perf_counter() - start
    return timed_function

# each picture a run draws; the learning animation: its Q*, frames, drawing and GIF
labels = {{
    pictures.write_test_gif: "write_test_gif", pictures.LEARNING_ANIMATION: "learning animation"
}}
for kind, entries in pictures.PICTURES.items():
    pictures.PICTURES[kind] = [
        (name, file_name, timed(draw, labels.get(draw, draw.__name__)))
        for name, file_name, draw in entries
    ]
# the test episode's frames, which write_test_gif renders: a part of their own
pictures.show_episode = timed(pictures.show_episode, "test episode frames")
with contextlib.redirect_stdout(io.StringIO()):
    status = cliff_walking_dqn.main({args!r})
if "write_test_gif" in seconds:  # its frames counted once, on their own
    seconds["write_test_gif"] -= seconds.get("test episode frames", 0)
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
