"""Train each environment of other_environments.py on ten seeds with its documented defaults.

    python benchmarks/environments_sweep.py                       # every environment, seeds 0-9
    python benchmarks/environments_sweep.py --only taxi --seeds 0-2

Per seed: the exact score of the network kept (the registry's objective within its step limit:
FrozenLake's chance of reaching the goal, Taxi's mean return over its 300 starts), what 1000 test
episodes played in Gymnasium give (the share that succeed, the mean return), and the seconds the
training took; per environment, the registry's threshold, the best any policy can do, and how
many seeds meet the target of docs/other_environments.md. One seed at a time, in one process,
so that the seconds are a run's own.
"""

import contextlib
import io
import os
import statistics
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..")]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from other_environments import FrozenLakeDQN, TaxiDQN  # noqa: E402
from ours.command_line import OneLineArgumentParser, whole_number  # noqa: E402
from ours.model_file import network_from  # noqa: E402
from ours.results import TrainingFailed  # noqa: E402
from ours.speed import q_values_of  # noqa: E402
from seed_sweep import seed_range  # noqa: E402

# name: (the agent with its defaults, the target its kept networks are held to)
SETTINGS = {
    "lake4": (lambda **s: FrozenLakeDQN("4x4", is_slippery=False, **s), "optimal: 1.0"),
    "lake8": (lambda **s: FrozenLakeDQN("8x8", is_slippery=False, **s), "optimal: 1.0"),
    "lake4-slippery": (lambda **s: FrozenLakeDQN("4x4", **s), "at least 0.70"),
    "lake8-slippery": (lambda **s: FrozenLakeDQN("8x8", **s), "at least 0.85"),
    "taxi": (lambda **s: TaxiDQN(**s), "within 1% of the best"),
}


def meets(name: str, score: float, best: float) -> bool:
    target = SETTINGS[name][1]
    if target.startswith("optimal"):
        return score == 1.0
    if target.startswith("at least"):
        return score >= float(target.split()[-1])
    return score >= 0.99 * best


def played(agent, q_values: np.ndarray, episodes: int, seed: int) -> tuple[float, float]:
    """The share of ``episodes`` greedy episodes, played in Gymnasium under the registry's step
    limit, that succeed, and their mean return (the environment's own rewards)."""
    environment = agent.environment
    env = environment.make()
    successes, returns = 0, []
    state = env.reset(seed=seed)[0]
    for _ in range(episodes):
        total, done = 0.0, False
        while not done:
            state, reward, terminated, truncated, _ = env.step(int(q_values[state].argmax()))
            total, done = total + reward, terminated or truncated
        successes += state in environment.goal_states
        returns.append(total)
        state = env.reset()[0]
    return successes / episodes, float(np.mean(returns))


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(SETTINGS), help="one environment (default: all)")
    parser.add_argument("--seeds", type=seed_range, default=seed_range("0-9"))
    parser.add_argument("--test-episodes", type=whole_number(1), default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(TrainingFailed):
        FrozenLakeDQN("4x4", model_file=None, seed=0).train(5)  # imports and first-call costs
    for name in [args.only] if args.only else list(SETTINGS):
        make, target = SETTINGS[name]
        environment = make().environment
        print(
            f"{name}: {environment.env_id} {environment.kwargs or ''}, the registry's limit"
            f" {environment.horizon} steps and threshold {environment.reward_threshold:g};"
            f" the best any policy can do: {environment.best_objective:.4f}; target: {target}"
        )
        print("seed  exact score  test success  test mean return  episode kept  seconds")
        met, seconds = 0, []
        for seed in args.seeds:
            agent = make(seed=seed, model_file=None)
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    result = agent.train()
                except TrainingFailed:
                    result = None
            seconds.append(time.perf_counter() - start)
            if result is None:
                print(f"{seed:4d}  training failed: no network scored above 0  {seconds[-1]:7.1f}")
                continue
            q_values = q_values_of(network_from(result.best_state, environment))
            success, mean_return = played(agent, q_values, args.test_episodes, seed)
            met += meets(name, result.best_measure, environment.best_objective)
            print(
                f"{seed:4d}  {result.best_measure:11.4f}  {success:12.3f}  {mean_return:16.3f}"
                f"  {result.best_episode:12d}  {seconds[-1]:7.1f}",
                flush=True,
            )
        print(
            f"{met} of {len(args.seeds)} seeds meet the target; seconds a run: median"
            f" {statistics.median(seconds):.1f}, {min(seconds):.1f} to {max(seconds):.1f}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
