"""The figures of docs/other_environments.md that need no training, computed exactly on the tables.

    python benchmarks/environment_findings.py

1. FrozenLake 8x8, slippery: how often the greedy policy of Q*(gamma) reaches the goal within the
   registry's 200 steps, for gamma from 0.9 to 0.999.
2. Taxi-v4: the best mean return any policy can get within 200 steps over the 300 starts; the
   same with the wall that Taxi-v3 added taken away again.
3. A uniform random walk: how often it succeeds within the limit, on each environment.
All from the environments' own tables (``env.unwrapped.P``), by ours/exact_optimum.py.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import gymnasium.envs.toy_text.taxi as taxi_module  # noqa: E402
import numpy as np  # noqa: E402

from cliff_walking_dqn import CliffWalkingDQN  # noqa: E402
from other_environments import FrozenLakeDQN, TaxiDQN  # noqa: E402
from ours.environment import Environment  # noqa: E402
from ours.exact_optimum import Outcomes, return_within  # noqa: E402


def random_walk(outcomes: Outcomes, starts: np.ndarray, horizon: int, rewards, ends) -> float:
    """The expected return within ``horizon`` steps of a walk that picks each action with the same
    chance: one action per state whose outcomes are every action's, each a share of its chance."""
    states, actions, outcome_count = outcomes.next_states.shape
    merged = Outcomes(
        *(
            table.reshape(states, 1, actions * outcome_count)
            for table in (
                outcomes.probabilities / actions,
                outcomes.next_states,
                rewards,
                ends,
                rewards,
                ends,
            )
        )
    )
    return return_within(merged, starts, np.zeros(states, dtype=int), horizon)


def main() -> int:
    print("1. FrozenLake8x8-v1, slippery: P(goal within 200) of Q*(gamma)'s greedy policy")
    for gamma in (0.9, 0.95, 0.97, 0.975, 0.98, 0.99, 0.995, 0.999):
        lake = FrozenLakeDQN("8x8", discount_factor=gamma).environment
        print(f"   gamma {gamma:<6} {lake.objective(lake.q_star.argmax(axis=1)):.4f}")
    print(f"   the best any policy can do within 200 steps: {lake.best_objective:.4f}")

    print("2. Taxi-v4: the best mean return within 200 steps over the 300 starts")
    taxi = TaxiDQN().environment
    print(f"   as registered: {taxi.best_objective:.4f} (the registry's threshold: 8)")
    original = list(taxi_module.MAP)
    try:  # the map before Taxi-v3's correction: no wall between columns 1 and 2 of row 1
        taxi_module.MAP[2] = "| : : : : |"
        without = Environment("Taxi-v4", {}, taxi.process_episode, 0.9)
        print(f"   without Taxi-v3's extra wall: {without.best_objective:.4f}")
    finally:
        taxi_module.MAP[:] = original

    print("3. A uniform random walk: P(success within the limit)")
    agents = {
        "FrozenLake-v1 (4x4)": FrozenLakeDQN("4x4", is_slippery=False),
        "FrozenLake8x8-v1": FrozenLakeDQN("8x8", is_slippery=False),
        "Taxi-v4": TaxiDQN(),
    }
    for name, agent in agents.items():
        environment = agent.environment
        outcomes = environment.outcomes
        won = (outcomes.env_rewards > 0) & outcomes.env_terminated  # the goal, a delivery
        chance = random_walk(
            outcomes, environment.starts, environment.horizon, won, outcomes.env_terminated
        )
        print(f"   {name}: {chance:.4f} within {environment.horizon} steps")
    cliff = CliffWalkingDQN().environment  # a fall ends the walk, as it ends a training episode
    outcomes = cliff.outcomes
    chance = random_walk(outcomes, cliff.starts, 100, outcomes.rewards, outcomes.terminated)
    print(f"   CliffWalking (a fall ends the walk): {chance:.4f} within 100 steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
