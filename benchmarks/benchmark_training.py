"""Time our training against the article's per-sample one: same episodes and seeds, one process.

    python benchmarks/benchmark_training.py  # seeds 0-4, 3000 episodes, best of 3
    python benchmarks/benchmark_training.py --seeds 0-9 --episodes 1000 --repeats 1

For each seed both formulations train from scratch (the baseline is ``article_baseline.py``); the
table gives seconds, environment steps per second, the speed-up, and the greedy walk of each kept
network. The "floor" is what any implementation on torch and Gymnasium pays for the same episodes
(see ``floor_seconds``), played in training's order; "tight floor" is the same work with all torch
calls in one tight loop, which flatters torch; "ceiling" is the speed-up the floor would give. Both
run with one torch thread, as ``python cliff_walking_dqn.py`` does, and after a warm-up that pays
the one-off import costs (torch.optim imports torch._dynamo on first use, about 1 s).
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

import platform  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from article_baseline import train_article_formulation  # noqa: E402
from cliff_walking_dqn import CliffWalkingDQN, state_to_dqn_input  # noqa: E402
from ours.command_line import OneLineArgumentParser, whole_number  # noqa: E402
from ours.exact_optimum import greedy_walk  # noqa: E402
from ours.model_file import network_from  # noqa: E402
from nn_model import DQN  # noqa: E402
from ours.results import TrainingFailed, TrainingResult  # noqa: E402
from ours.speed import fused_adam_available, q_values_of  # noqa: E402
from seed_sweep import seed_range  # noqa: E402


def walk_length(state_dict) -> str:
    environment = CliffWalkingDQN().environment
    policy_dqn = network_from(state_dict, environment)
    path = greedy_walk(q_values_of(policy_dqn).argmax(axis=1).tolist(), environment)
    return "fails" if path is None else f"{len(path) - 1} steps"


def timed(train, seed: int, episodes: int):
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = train(CliffWalkingDQN(seed=seed, model_file=None), episodes)
    return time.perf_counter() - start, result


def floor_seconds(
    agent: CliffWalkingDQN, seed: int, ours: TrainingResult, interleaved: bool
) -> float:
    """What any implementation on torch and Gymnasium pays for the episodes of ``ours``: each played
    episode's reset and environment steps (random actions drawn beforehand, so not even sampling
    counts) and, for each learning episode, one bare optimize step on a fixed batch plus one forward
    pass over all states (the next episode's greedy actions need it).

    ``interleaved``: in training's order, an episode's steps then its optimize step; otherwise all
    environment steps first, then all torch calls in one tight loop, where they run faster."""
    env = agent.environment.make(max_episode_steps=agent.max_episode_steps)
    env.reset(seed=seed)
    num_states, num_actions = env.observation_space.n, env.action_space.n
    actions = iter(
        np.random.default_rng(seed)
        .integers(num_actions, size=int(ours.steps_per_episode.sum()))
        .tolist()
    )
    policy_dqn = DQN(num_states, num_actions)
    optimizer = torch.optim.Adam(
        policy_dqn.parameters(), lr=agent.learning_rate, fused=fused_adam_available()
    )
    inputs = state_to_dqn_input(np.arange(agent.mini_batch_size) % num_states, num_states)
    targets = torch.rand(agent.mini_batch_size, num_actions)
    all_states = state_to_dqn_input(np.arange(num_states), num_states)
    loss_fn = torch.nn.MSELoss()

    def play(steps: int) -> None:
        env.reset()
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(next(actions))
            # keep stepping a live episode (the extra resets only raise the floor)
            if terminated or truncated:
                env.reset()

    def learn() -> None:
        loss = loss_fn(policy_dqn(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()
        with torch.no_grad():
            policy_dqn(all_states)

    learns = ~np.isnan(ours.per_episode(ours.loss_history))
    episodes = list(zip(ours.steps_per_episode.tolist(), learns.tolist()))
    start = time.perf_counter()
    if interleaved:
        for steps, learns in episodes:
            play(steps)
            if learns:
                learn()
    else:
        for steps, _ in episodes:
            play(steps)
        for _, learns in episodes:
            if learns:
                learn()
    return time.perf_counter() - start


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=seed_range, default=seed_range("0-4"), help="e.g. 0-4 (default)"
    )
    parser.add_argument("--episodes", type=whole_number(1), default=3000)
    parser.add_argument(
        "--repeats",
        type=whole_number(1),
        default=3,
        help="runs per measurement; the fastest counts (default 3)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    with contextlib.suppress(TrainingFailed):  # warm-up: imports and first-call costs
        timed(CliffWalkingDQN.train, 0, 10)

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores,"
        f" torch {torch.__version__}, {args.episodes} episodes"
    )
    print(
        "seed  env steps  article (s)  ours (s)  article steps/s  ours steps/s  speed-up"
        "  article walk  our walk  tight floor  floor (s)  ceiling"
    )
    ratios, ceilings = [], []
    for seed in args.seeds:
        # Each measurement is repeated and its fastest run kept: on a shared machine the others are
        # slowed by whatever else runs, which says nothing about the code. One round times all four
        # in turn.
        article_times, our_times, tight_floors, floors = [], [], [], []
        for _ in range(args.repeats):
            article_seconds, (article_state, article_steps) = timed(
                train_article_formulation, seed, args.episodes
            )
            our_seconds, ours = timed(CliffWalkingDQN.train, seed, args.episodes)
            article_times.append(article_seconds)
            our_times.append(our_seconds)
            tight_floors.append(floor_seconds(CliffWalkingDQN(), seed, ours, interleaved=False))
            floors.append(floor_seconds(CliffWalkingDQN(), seed, ours, interleaved=True))
        article_seconds, our_seconds, floor = min(article_times), min(our_times), min(floors)
        steps = sum(article_steps)
        ratios.append(article_seconds / our_seconds)
        ceilings.append(article_seconds / floor)
        print(
            f"{seed:4d}  {steps:9d}  {article_seconds:11.2f}  {our_seconds:8.2f}"
            f"  {steps / article_seconds:15.0f}"
            f"  {ours.steps_per_episode.sum() / our_seconds:12.0f}  {ratios[-1]:7.1f}x"
            f"  {walk_length(article_state):>12}  {walk_length(ours.best_state):>8}"
            f"  {min(tight_floors):11.2f}  {floor:9.2f}  {ceilings[-1]:6.1f}x",
            flush=True,
        )
    print(
        f"median speed-up: {statistics.median(ratios):.1f}x"
        f" (ceiling at the floor: {statistics.median(ceilings):.1f}x)"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TrainingFailed as error:
        sys.exit(f"Training failed: {error}; try other --seeds or more --episodes.")
