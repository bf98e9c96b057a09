"""What each setting of CliffWalkingDQN may be: one set of rules for the constructor and the flags.

``CliffWalkingDQN(discount_factor=5)`` and ``--discount-factor 5`` are refused by the same rule, in
the same words: "discount_factor must be from 0 to 1, got 5".
"""

import math
import os
from typing import NamedTuple

from ours.environment import MAX_SEED


class Rule(NamedTuple):
    """A number's kind and range: ``low`` (itself allowed or not) up to ``high`` (None: no end)."""

    kind: type  # int or float
    low: float
    high: float | None = None
    low_allowed: bool = True

    def allowed(self) -> str:
        """The range in words: "from 0 to 1", "above 0", "at least 13"."""
        if self.high is not None:
            return f"from {shown(self.low)} to {shown(self.high)}"
        return f"at least {shown(self.low)}" if self.low_allowed else f"above {shown(self.low)}"

    def check(self, name: str, value):
        """``value`` if it is a number of this kind in range; else a ValueError naming ``name``."""
        whole = isinstance(value, int) and not isinstance(value, bool)
        if self.kind is int and not whole:
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if not whole and not (isinstance(value, float) and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        too_low = value < self.low if self.low_allowed else value <= self.low
        if too_low or (self.high is not None and value > self.high):
            raise ValueError(f"{name} must be {self.allowed()}, got {shown(value)}")
        return value


def shown(number) -> str:
    """A whole number in full (a seed), any other as short as it reads (0.001, 1e-05)."""
    return str(number) if isinstance(number, int) else f"{number:g}"


# The hyperparameters a reader can change: the article's five, then the time limit, which is ours.
HYPERPARAMETERS = {
    "learning_rate": Rule(float, 0, low_allowed=False),
    "discount_factor": Rule(float, 0, 1),
    "network_sync_rate": Rule(int, 0),
    "replay_memory_size": Rule(int, 1),
    "mini_batch_size": Rule(int, 1),
    "max_episode_steps": Rule(int, 1),  # and at least the shortest way to the goal: rules_for
}
RULES = {
    **HYPERPARAMETERS,
    "test_max_steps": Rule(int, 0),
    "seed": Rule(int, 0, MAX_SEED),
}
SWITCHES = ("slippery", "save_last")  # True or False


def rules_for(agent) -> dict[str, Rule]:
    """The rules of ``agent``'s hyperparameters: a training episode may not be shorter than the
    shortest way to the goal of its environment (the cliff's 13 steps), or it could never reach it.
    """
    shortest = agent.environment.shortest_path_length
    return {**HYPERPARAMETERS, "max_episode_steps": Rule(int, shortest)}


def apply_settings(agent, settings: dict) -> None:
    """Set each of ``settings`` on ``agent``, by attribute name, after checking it against its rule:
    a name the agent does not have is a TypeError, a value out of range a ValueError."""
    for name, value in settings.items():
        if not hasattr(agent, name):
            raise TypeError(f"{type(agent).__name__} has no setting '{name}'")
        if name in RULES and not (name == "seed" and value is None):
            value = RULES[name].check(name, value)
        elif name in SWITCHES and not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        elif name == "model_file" and not (value is None or isinstance(value, (str, os.PathLike))):
            raise ValueError(f"model_file must be a path or None, got {value!r}")
        setattr(agent, name, value)
    rules_for(agent)["max_episode_steps"].check("max_episode_steps", agent.max_episode_steps)
    if agent.mini_batch_size >= agent.replay_memory_size:
        raise ValueError(
            f"mini_batch_size must be smaller than replay_memory_size ({agent.replay_memory_size}),"
            f" which learning waits for the memory to exceed, got {agent.mini_batch_size}"
        )


def settings_of(agent, **more) -> dict:
    """The values a run uses, by name, for its result, summary and picture: the hyperparameters,
    the slippery switch where it is on, then ``more`` and the seed."""
    values = {name: getattr(agent, name) for name in HYPERPARAMETERS}
    if agent.environment.slippery:
        values["slippery"] = True
    return {**values, **more, "seed": agent.seed}


def describe_settings(settings: dict) -> str:
    """The values a run used, in one line: for its summary and its picture."""

    def described(name, value):
        if value is True:  # a switch such as slippery: its name says it
            return name
        return f"{name} {shown(value)}"

    return ", ".join(described(name, value) for name, value in settings.items())


def check_training_call(episodes, render) -> None:
    """The arguments of ``train``: ``episodes`` at least 1; ``render`` is the article's and gone."""
    if render:
        raise ValueError(
            "train(render=True) is gone: the article's window would show every training step"
            " (about 45,000 on the cliff) at 4 frames a second, for hours; watch the learning"
            " animation a run draws (its *_dqn_learning.gif) or test(episodes, render_mode='human')"
            " instead"
        )
    Rule(int, 1).check("episodes", episodes)


RENDER_MODES = (None, "human", "ansi", "rgb_array")  # what every toy-text environment draws


def check_test_call(episodes, render_mode) -> None:
    """The arguments of ``test``: ``episodes`` at least 1, ``render_mode`` one Gymnasium knows."""
    Rule(int, 1).check("episodes", episodes)
    if render_mode not in RENDER_MODES:
        raise ValueError(
            f"render_mode must be one of {', '.join(map(repr, RENDER_MODES))}, got {render_mode!r}"
        )
