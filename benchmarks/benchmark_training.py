"""Time our training against the article's per-sample formulation, same episodes and seeds, one process.

    python benchmarks/benchmark_training.py                      # seeds 0-4, 3000 episodes
    python benchmarks/benchmark_training.py --seeds 0-9 --episodes 1000

For each seed both formulations train from scratch (the baseline is ``article_baseline.py``); the table
gives seconds, environment steps per second, the speed-up, and the greedy walk of each kept network.
Both run with one torch thread, as ``python cliff_walking_dqn.py`` does, and after a warm-up that pays
the one-off import costs (torch.optim imports torch._dynamo on first use, about 1 s).
"""

import argparse
import contextlib
import io
import os
import statistics
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..")]

import platform  # noqa: E402

import torch  # noqa: E402

from article_baseline import train_article_formulation  # noqa: E402
from cliff_walking_dqn import (  # noqa: E402
    DQN,
    CliffWalkingDQN,
    TrainingFailed,
    greedy_actions_of,
    greedy_walk,
    make_env,
    state_to_dqn_input,
    transition_table,
)
from seed_sweep import seed_range  # noqa: E402


def walk_length(state_dict) -> str:
    env = make_env()
    policy_dqn = DQN(env.observation_space.n, env.action_space.n)
    policy_dqn.load_state_dict(state_dict)
    states = state_to_dqn_input(torch.arange(env.observation_space.n), env.observation_space.n)
    path = greedy_walk(greedy_actions_of(policy_dqn, states), *transition_table(env))
    return "fails" if path is None else f"{len(path) - 1} steps"


def timed(train, seed: int, episodes: int):
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = train(CliffWalkingDQN(seed=seed), episodes)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seed_range, default=seed_range("0-4"), help="e.g. 0-4 (default)")
    parser.add_argument("--episodes", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with contextlib.suppress(TrainingFailed):  # warm-up: imports and first-call costs
        timed(CliffWalkingDQN.train, 0, 10)

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__},"
          f" {args.episodes} episodes")
    print("seed  env steps  article (s)  ours (s)  article steps/s  ours steps/s  speed-up  article walk  our walk")
    ratios = []
    for seed in args.seeds:
        article_seconds, (article_state, article_steps) = timed(train_article_formulation, seed, args.episodes)
        our_seconds, ours = timed(CliffWalkingDQN.train, seed, args.episodes)
        steps = sum(article_steps)
        ratios.append(article_seconds / our_seconds)
        print(f"{seed:4d}  {steps:9d}  {article_seconds:11.2f}  {our_seconds:8.2f}  {steps / article_seconds:15.0f}"
              f"  {ours.episode_steps.sum() / our_seconds:12.0f}  {ratios[-1]:7.1f}x"
              f"  {walk_length(article_state):>12}  {walk_length(ours.policy_state):>8}")
    print(f"median speed-up: {statistics.median(ratios):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
