"""Where the time of one training run goes, measured inside the run.

    python benchmarks/profile_training.py              # seed 0, 3000 episodes
    python benchmarks/profile_training.py --seed 3 --episodes 1000
    python benchmarks/profile_training.py --torch-ops  # torch.profiler's table of torch's own calls

Wraps each part of ``CliffWalkingDQN.train`` in a timer (the environment's calls, the replay memory,
``_optimize`` and the torch calls inside it, the forward pass over all states, the target sync, the
best network's copy, the greedy walk) and prints its total seconds, its calls and its cost per
call; "rest of train" is the loop itself (epsilon-greedy, reward processing, bookkeeping). The
timers add under 1 us a call.
Costs per call are higher here than in a tight loop of the same call, because training alternates
between Gymnasium, numpy and torch: that is the point of measuring them in place.
"""

import collections
import contextlib
import functools
import io
import os
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

import cliff_walking_dqn  # noqa: E402
from ours import results, training  # noqa: E402
from ours.command_line import MAX_SEED, OneLineArgumentParser, whole_number  # noqa: E402
from ours.environment import Environment  # noqa: E402
from replay_memory import ReplayMemory  # noqa: E402

seconds, calls = collections.Counter(), collections.Counter()


def timing(owner, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper that adds the time of each call to ``label``."""
    function = getattr(owner, name)

    @functools.wraps(function)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - start
            calls[label] += 1

    setattr(owner, name, timed)


def make_timed_env(environment, *args, make=Environment.make, **kwargs):
    """``Environment.make``, with the environment's calls timed."""
    env = make(environment, *args, **kwargs)
    timing(env, "step", "env.step")
    timing(env, "reset", "env.reset")
    timing(env.action_space, "sample", "env.action_space.sample")
    return env


TOP_LEVEL = [  # parts that do not overlap, in the order of the loop
    (ReplayMemory, "append", "memory.append"),
    (ReplayMemory, "sample", "memory.sample"),
    (cliff_walking_dqn.CliffWalkingDQN, "_optimize", "_optimize"),
    (training, "q_values_of", "q_values_of (all 48 states)"),
    (training, "greedy_walk", "greedy_walk"),
    (torch.nn.Module, "load_state_dict", "load_state_dict (the target sync)"),
    (training.BestNetwork, "_keep", "the best network's copy"),
    (training.TrainingHistory, "count_step", "history.count_step"),
]
INSIDE_OPTIMIZE = [  # parts of _optimize
    (torch.nn.MSELoss, "forward", "  loss_fn"),
    (torch.optim.Optimizer, "zero_grad", "  optimizer.zero_grad"),
    (torch.Tensor, "backward", "  loss.backward"),
    (torch.optim.Adam, "step", "  optimizer.step"),
]


def print_row(label: str, part_seconds: float, total: float, part_calls: int | None = None) -> None:
    per_call = f" {part_calls:7d} {part_seconds / part_calls * 1e6:10.1f}" if part_calls else ""
    print(f"{label:34s} {part_seconds:8.3f} {part_seconds / total:6.1%}{per_call}")


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0)
    parser.add_argument("--episodes", type=whole_number(1), default=3000)
    parser.add_argument(
        "--torch-ops",
        action="store_true",
        help="instead, print torch.profiler's table of the run's torch operators (slower run)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    # one-off: the first optimizer imports torch._dynamo
    torch.optim.Adam(torch.nn.Linear(1, 1).parameters())

    if args.torch_ops:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.suppress(results.TrainingFailed),
            ):
                cliff_walking_dqn.CliffWalkingDQN(seed=args.seed, model_file=None).train(
                    args.episodes
                )
        print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))
        return 0

    Environment.make = make_timed_env
    for owner, name, label in TOP_LEVEL + INSIDE_OPTIMIZE:
        timing(owner, name, label)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = cliff_walking_dqn.CliffWalkingDQN(seed=args.seed, model_file=None).train(
                args.episodes
            )
    except results.TrainingFailed as error:
        print(f"Training failed: {error}; try another --seed or more --episodes.", file=sys.stderr)
        return 1
    total = time.perf_counter() - start

    top_level = [label for label in seconds if not label.startswith("  ")]
    rest = total - sum(seconds[label] for label in top_level)
    inside = sum(seconds[label] for _, _, label in INSIDE_OPTIMIZE)
    print(
        f"seed {args.seed}: {result.played} episodes played,"
        f" {args.episodes} learned, {result.steps_per_episode.sum()} environment steps,"
        f" {total:.2f} s"
    )
    print(f"{'part':34s} {'seconds':>8s} {'share':>6s} {'calls':>7s} {'us a call':>10s}")
    for label in sorted(top_level, key=seconds.get, reverse=True):
        print_row(label, seconds[label], total, calls[label])
        if label == "_optimize":
            for _, _, part in INSIDE_OPTIMIZE:
                print_row(part, seconds[part], total, calls[part])
            print_row("  forward, batch and targets", seconds[label] - inside, total, calls[label])
    print_row("rest of train", rest, total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
