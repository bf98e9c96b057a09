"""What a second torch thread costs training when the other core is busy, as on a laptop doing other
work.

    python benchmarks/thread_cost.py              # seed 0, 3000 episodes, 2 rounds

Keeps one core busy with a spinning process, then trains with two torch threads and with one, in
turn. ``CliffWalkingDQN.train`` itself always runs on one thread (``on_one_torch_thread``); this
calls the function underneath, so that the thread count is the one set here.
"""

import contextlib
import io
import multiprocessing
import os
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

from cliff_walking_dqn import CliffWalkingDQN  # noqa: E402
from ours.command_line import MAX_SEED, OneLineArgumentParser, whole_number  # noqa: E402


def spin() -> None:
    while True:
        pass


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0)
    parser.add_argument("--episodes", type=whole_number(1), default=3000)
    parser.add_argument("--rounds", type=whole_number(1), default=2)
    args = parser.parse_args()
    busy = multiprocessing.Process(target=spin, daemon=True)
    busy.start()
    train_on_any_threads = CliffWalkingDQN.train.__wrapped__
    try:
        for _ in range(args.rounds):
            for threads in (2, 1):
                torch.set_num_threads(threads)
                start = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    agent = CliffWalkingDQN(seed=args.seed, model_file=None)
                    train_on_any_threads(agent, args.episodes)
                seconds = time.perf_counter() - start
                print(f"{threads} torch threads, the other core busy: {seconds:.1f} s", flush=True)
    finally:
        busy.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
