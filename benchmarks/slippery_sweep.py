"""Train on the slippery cliff once per seed and discount factor, and measure the saved network
exactly.

    python benchmarks/slippery_sweep.py --seeds 0-9 --discount-factors 0.9,0.99

Per run, for the network that training saves (the one whose greedy policy was worth the most from
the start): its exact value from the start as a share of V*, its exact success rate within the
test's step limit (the probability, over every slip, of reaching the goal within 51 steps; no
episodes are played), and the share of the 37 standable states whose greedy action is optimal (ties
with Q*'s best count). The optimal policy's success rate over the same limit is printed once per
discount factor."""

import contextlib
import io
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cliff_walking_dqn import CliffWalkingDQN  # noqa: E402
from ours.command_line import OneLineArgumentParser, real_number, whole_number  # noqa: E402
from ours.exact_optimum import compare_with_optimum, policy_values, success_within  # noqa: E402
from ours.model_file import network_from  # noqa: E402
from ours.results import TrainingFailed  # noqa: E402
from seed_sweep import seed_range  # noqa: E402
from ours.speed import q_values_of  # noqa: E402


def exact_measures(q_values, agent: CliffWalkingDQN) -> dict:
    """The greedy policy of ``q_values`` on ``agent``'s slippery grid, with its discount factor:
    value share, success rate, optimal actions."""
    environment = agent.environment
    greedy = q_values.argmax(axis=1)
    values = policy_values(environment.outcomes, environment.discount_factor, greedy)
    return {
        "value_share": values[environment.start_state] / environment.v_star,
        "success": success_within(environment, greedy, agent.test_max_steps + 1),
        "optimal_actions": compare_with_optimum(q_values, environment)[1],
    }


def train_one(seed: int, discount_factor: float, episodes: int) -> dict:
    agent = CliffWalkingDQN(
        seed=seed, discount_factor=discount_factor, slippery=True, model_file=None
    )
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = agent.train(episodes)
    except TrainingFailed:
        return {
            "seed": seed,
            "gamma": discount_factor,
            "seconds": time.perf_counter() - start,
            "saved": None,
        }
    dqn = network_from(result.best_state, result.environment)
    return {
        "seed": seed,
        "gamma": discount_factor,
        "seconds": time.perf_counter() - start,
        "saved": result.best_episode,
        **exact_measures(q_values_of(dqn), agent),
    }


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=seed_range, default=seed_range("0-9"), help="e.g. 0-9 (default)"
    )
    parser.add_argument(
        "--discount-factors",
        type=lambda text: [real_number(0, 1)(g) for g in text.split(",")],
        default=[0.9, 0.99],
        help="comma-separated (default 0.9,0.99)",
    )
    parser.add_argument("--episodes", type=whole_number(1), default=3000)
    parser.add_argument("--workers", type=whole_number(1), default=os.cpu_count())
    args = parser.parse_args()

    jobs = [(seed, gamma) for gamma in args.discount_factors for seed in args.seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(pool.map(train_one, *zip(*jobs), [args.episodes] * len(jobs)))
    agent = CliffWalkingDQN()
    print(
        f"CliffWalkingSlippery-v1, {args.episodes} episodes, the article's other hyperparameters;"
        f" success: exact probability of the goal within {agent.test_max_steps + 1} steps"
    )
    for gamma in args.discount_factors:
        rules = CliffWalkingDQN(slippery=True, discount_factor=gamma)
        optimal = exact_measures(rules.environment.q_star, rules)
        print(
            f"\ndiscount factor {gamma:g}: V*(start) = {rules.environment.v_star:.4g};"
            f" the optimal policy's success {optimal['success']:.1%}"
        )
        print("seed  saved (episode)  value / V*  success  optimal actions  seconds")
        done = [run for run in runs if run["gamma"] == gamma]
        for run in done:
            if run["saved"] is None:
                failed = "training failed: no greedy policy ever reached the goal"
                print(f"{run['seed']:4d}  {failed}  {run['seconds']:7.1f}")
                continue
            print(
                f"{run['seed']:4d}  {run['saved']:15d}  {run['value_share']:10.1%}"
                f"  {run['success']:7.1%}  {run['optimal_actions']:15.0%}  {run['seconds']:7.1f}"
            )
        saved = [run for run in done if run["saved"] is not None]
        if saved:
            value_share, success, optimal_actions = (
                statistics.median(run[key] for run in saved)
                for key in ("value_share", "success", "optimal_actions")
            )
            print(
                f"median over {len(saved)} seeds: value / V* {value_share:.1%},"
                f" success {success:.1%}, optimal actions {optimal_actions:.0%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
