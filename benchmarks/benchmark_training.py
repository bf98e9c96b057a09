"""Time our training against the article's per-sample formulation, same episodes and seeds, one process.

    python benchmarks/benchmark_training.py                      # seeds 0-4, 3000 episodes
    python benchmarks/benchmark_training.py --seeds 0-9 --episodes 1000

For each seed both formulations train from scratch (the baseline is ``article_baseline.py``); the table
gives seconds, environment steps per second, the speed-up, and the greedy walk of each kept network.
The "floor" column is what any implementation on torch and Gymnasium pays for that run: its optimize
steps as bare torch calls (forward, loss, zero_grad, backward, fused Adam step on a fixed batch of 32)
plus its environment steps and resets with random actions and no learning; "ceiling" is the speed-up
that floor would give.
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

import numpy as np  # noqa: E402
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
    states = state_to_dqn_input(np.arange(env.observation_space.n), env.observation_space.n)
    path = greedy_walk(greedy_actions_of(policy_dqn, states), *transition_table(env))
    return "fails" if path is None else f"{len(path) - 1} steps"


def timed(train, seed: int, episodes: int):
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = train(CliffWalkingDQN(seed=seed), episodes)
    return time.perf_counter() - start, result


def torch_floor_seconds(agent: CliffWalkingDQN, optimize_steps: int) -> float:
    policy_dqn = DQN(48, 4)
    optimizer = torch.optim.Adam(policy_dqn.parameters(), lr=agent.learning_rate, fused=True)
    inputs = state_to_dqn_input(np.arange(agent.mini_batch_size) % 48, 48)
    targets = torch.rand(agent.mini_batch_size, 4)
    start = time.perf_counter()
    for _ in range(optimize_steps):
        loss = agent.loss_fn(policy_dqn(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()
    return time.perf_counter() - start


def gymnasium_floor_seconds(agent: CliffWalkingDQN, seed: int, env_steps: int, episodes: int) -> float:
    env = make_env(max_episode_steps=agent.max_episode_steps)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    start = time.perf_counter()
    for _ in range(episodes):
        env.reset()
    for _ in range(env_steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:  # keep stepping a live episode (the extra resets only raise the floor)
            env.reset()
    return time.perf_counter() - start


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
    print("seed  env steps  article (s)  ours (s)  article steps/s  ours steps/s  speed-up  article walk  our walk"
          "  floor (s)  ceiling")
    ratios, ceilings = [], []
    for seed in args.seeds:
        article_seconds, (article_state, article_steps) = timed(train_article_formulation, seed, args.episodes)
        our_seconds, ours = timed(CliffWalkingDQN.train, seed, args.episodes)
        steps = sum(article_steps)
        ratios.append(article_seconds / our_seconds)
        agent = CliffWalkingDQN()
        floor_seconds = torch_floor_seconds(agent, args.episodes) + gymnasium_floor_seconds(
            agent, seed, steps, len(article_steps)
        )
        ceilings.append(article_seconds / floor_seconds)
        print(f"{seed:4d}  {steps:9d}  {article_seconds:11.2f}  {our_seconds:8.2f}  {steps / article_seconds:15.0f}"
              f"  {ours.episode_steps.sum() / our_seconds:12.0f}  {ratios[-1]:7.1f}x"
              f"  {walk_length(article_state):>12}  {walk_length(ours.policy_state):>8}"
              f"  {floor_seconds:9.2f}  {ceilings[-1]:6.1f}x")
    print(f"median speed-up: {statistics.median(ratios):.1f}x (ceiling at the floor: {statistics.median(ceilings):.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
