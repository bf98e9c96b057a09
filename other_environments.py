"""The article's closing exercise, done: the same Deep Q-learning on FrozenLake and Taxi.

    python other_environments.py FrozenLake-v1                  # the 4x4 lake, slippery ice
    python other_environments.py FrozenLake8x8-v1 --not-slippery
    python other_environments.py Taxi-v4

Each environment is a subclass of the article's ``CliffWalkingDQN`` that changes only what that
environment needs: the environment it plays (``environment``), the reward processing
(``_process_episode``), the test's step limit, the episodes ``train`` needs, and the defaults of
the hyperparameters where the article's do not solve it. The network, the replay memory, the
training loop with its target network and sync, and the test are the article's, inherited. The
run reports against the exact optimum within the registry's step limit; docs/other_environments.md
has the results over ten seeds.
"""

import functools
import sys

from ours.packages import require_installed

require_installed(__name__)  # without the packages: one line, exit 2; Ctrl-C: one line too
import gymnasium as gym

from cliff_walking_dqn import CliffWalkingDQN, train_and_test
from ours.command_line import OneLineArgumentParser, parse_args
from ours.environment import describe


class FrozenLakeDQN(CliffWalkingDQN):
    """Deep Q-learning on FrozenLake: from S to G across a frozen lake, around its holes.

    A move on slippery ice goes the way chosen or to either side of it, a third each. The article's
    rewards are FrozenLake's own (1 at the goal, 0 elsewhere), and its episodes end at the goal and
    in a hole, as the article's end at the goal and off the cliff: ``_process_episode`` has nothing
    to change but the landmarks. The 8x8 lake on slippery ice needs gamma 0.99 (with 0.9 even the
    exact optimum's greedy policy stays under the registry's 0.85) and 10,000 episodes.

    :param map_name: "4x4" (FrozenLake-v1) or "8x8" (FrozenLake8x8-v1)
    :param is_slippery: slippery ice (Gymnasium's default) or not
    """

    map_name = "4x4"

    def __init__(self, map_name: str = "4x4", is_slippery: bool = True, **settings):
        if not isinstance(map_name, str) or map_name not in LAKES:
            raise ValueError(f"map_name must be one of {', '.join(LAKES)}, got {map_name!r}")
        if "slippery" in settings:
            raise TypeError("FrozenLakeDQN takes is_slippery, Gymnasium's name, not slippery")
        solved = {**FROZEN_LAKE_SOLVED[map_name, bool(is_slippery)], **settings}
        super().__init__(map_name=map_name, slippery=is_slippery, **solved)
        if "model_file" not in settings:  # named after the environment, as the article's is
            self.model_file = f"{self.environment.file_stem}_dql.pt"

    @property
    def environment(self):
        """FrozenLake-v1, or FrozenLake8x8-v1, slippery or not, under this agent's reward rule."""
        kwargs = {"is_slippery": self.slippery}
        return describe(LAKES[self.map_name], kwargs, self._process_episode, self.discount_factor)

    def _process_episode(self, reward: int, new_state: int) -> list:
        """1 at the goal and 0 elsewhere, as FrozenLake pays; the episode ends at the goal or in a
        hole (the lake's letters: S start, F frozen, H hole, G goal)."""
        letter = lake_letters(self.map_name)[new_state]
        terminated = letter in "HG"
        output_reward = 1 if letter == "G" else 0
        return [terminated, output_reward]

    def train(self, episodes: int | None = None, render: bool = False):
        """The article's ``train``, for the episodes this lake needs unless told otherwise."""
        return super().train(episodes_needed(self) if episodes is None else episodes, render)


class TaxiDQN(CliffWalkingDQN):
    """Deep Q-learning on Taxi: pick a passenger up at one of four stands and drop them at another.

    Taxi pays 20 for a delivery, which alone ends its episode, -10 for a pickup or drop-off where
    there is none, and -1 a step. The article's processing becomes 1 for a delivery and 0 for every
    other step; Q-values then stay in [0, 1], as on the cliff. Its episodes start in any of 300
    states, and it needs 10,000 episodes, each cut at 50 steps while training (longer ones spend
    their steps wandering, shorter ones rarely deliver).
    """

    def __init__(self, **settings):
        if "slippery" in settings:
            raise TypeError("TaxiDQN has no setting 'slippery': Taxi's moves never slip")
        super().__init__(**{**TAXI_SOLVED, **settings})
        if "model_file" not in settings:  # named after the environment, as the article's is
            self.model_file = f"{self.environment.file_stem}_dql.pt"

    @property
    def environment(self):
        """Taxi-v4 (Taxi-v3 is deprecated in Gymnasium 1.4), under this agent's reward rule."""
        return describe("Taxi-v4", {}, self._process_episode, self.discount_factor)

    def _process_episode(self, reward: int, new_state: int) -> list:
        """1 for a delivery, which ends the episode, and 0 for every other step."""
        terminated = reward == 20
        output_reward = 1 if terminated else 0
        return [terminated, output_reward]

    def train(self, episodes: int | None = None, render: bool = False):
        """The article's ``train``, for the episodes Taxi needs unless told otherwise."""
        return super().train(episodes_needed(self) if episodes is None else episodes, render)


LAKES = {"4x4": "FrozenLake-v1", "8x8": "FrozenLake8x8-v1"}
# The settings that solve each: the test's step limit is the registry's (the test stops an
# episode after test_max_steps + 1 steps), and so is a training episode's; the rest the article's.
FROZEN_LAKE_SOLVED = {
    ("4x4", False): dict(max_episode_steps=100, test_max_steps=99),
    ("8x8", False): dict(max_episode_steps=200, test_max_steps=199),
    ("4x4", True): dict(max_episode_steps=100, test_max_steps=99),
    ("8x8", True): dict(max_episode_steps=200, test_max_steps=199, discount_factor=0.99),
}
TAXI_SOLVED = dict(max_episode_steps=50, test_max_steps=199)
AGENTS = {
    "FrozenLake-v1": lambda slippery, **settings: FrozenLakeDQN("4x4", slippery, **settings),
    "FrozenLake8x8-v1": lambda slippery, **settings: FrozenLakeDQN("8x8", slippery, **settings),
    "Taxi-v4": lambda slippery, **settings: TaxiDQN(**settings),
}


def episodes_needed(agent) -> int:
    """The learning episodes that solve the agent's environment (docs/other_environments.md)."""
    if isinstance(agent, TaxiDQN):
        return 10_000
    return {("4x4", False): 1000, ("8x8", False): 1000, ("4x4", True): 3000, ("8x8", True): 10_000}[
        agent.map_name, agent.slippery
    ]


@functools.cache
def lake_letters(map_name: str) -> str:
    """The lake's map, row by row, as one string: its letter for each state."""
    return b"".join(gym.make(LAKES[map_name]).unwrapped.desc.ravel()).decode()


def main(argv=None) -> int:
    """Train, save and test on the environment named, as cliff_walking_dqn.py does on the cliff."""
    env_id, slippery = chosen_environment(argv)
    defaults = AGENTS[env_id](slippery)
    args = parse_args(
        argv,
        defaults,
        description="Train a Deep Q-network on FrozenLake or Taxi, save it, and test it.",
        episodes=episodes_needed(defaults),
        add_environment_flags=add_environment_flags,
    )
    return train_and_test(args, functools.partial(AGENTS[env_id], slippery))


def add_environment_flags(parser) -> None:
    parser.add_argument(
        "env_id",
        choices=list(AGENTS),
        metavar="ENV_ID",
        help=f"one of {', '.join(AGENTS)} (the defaults below are its own: with --help alone,"
        " FrozenLake-v1's)",
    )
    parser.add_argument(
        "--not-slippery",
        action="store_true",
        help="FrozenLake on ice that does not slip (Gymnasium's default is slippery)",
    )


SWITCHES = ("--not-slippery", "--test-only", "--save-last", "--no-plots")  # flags without a value


def chosen_environment(argv) -> tuple[str, bool]:
    """The environment named on the command line, read first: its agent's defaults are the flags'
    defaults. An unknown id, or --not-slippery for Taxi, is refused in one line."""
    parser = OneLineArgumentParser(add_help=False)
    add_environment_flags(parser)
    arguments = sys.argv[1:] if argv is None else argv
    if {"-h", "--help"} & set(arguments) and not set(AGENTS) & set(arguments):
        return "FrozenLake-v1", True  # the help names every ENV_ID; the defaults: the 4x4 lake
    named = [  # the words that are no flag and no flag's value (--seed 3: 3 is the seed's)
        word
        for before, word in zip(["", *arguments[:-1]], arguments)
        if not word.startswith("-")
        and not (before.startswith("--") and "=" not in before and before not in SWITCHES)
    ]
    if not named:
        parser.error("the following arguments are required: ENV_ID")
    env_id, slippery = named[0], "--not-slippery" not in arguments
    if env_id not in AGENTS:
        choices = ", ".join(map(repr, AGENTS))
        parser.error(f"argument ENV_ID: invalid choice: {env_id!r} (choose from {choices})")
    if not slippery and not env_id.startswith("FrozenLake"):
        parser.error(f"argument --not-slippery: {env_id} has no ice to slip on")
    return env_id, slippery


if __name__ == "__main__":
    sys.exit(main())
