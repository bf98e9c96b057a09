"""The article's closing exercise: the same Deep Q-learning on FrozenLake and Taxi, scored exactly
against the registry's objective and the best any policy can do."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from PIL import Image

import other_environments
from conftest import unwrapped
from other_environments import FrozenLakeDQN, TaxiDQN
from ours import pictures
from ours.episode_replay import play_episode
from ours.model_file import network_from
from ours.speed import q_values_of


def test_the_episode_shown_ends_in_a_hole_as_the_lake_ends_it():
    from ours.results import TestResult

    down = 1  # FrozenLake's actions: left, down, right, up
    lake = FrozenLakeDQN("4x4", is_slippery=False).environment
    tested = TestResult(
        environment=lake, success_rate=0.0, episodes=1, q_values=np.eye(4)[[down] * 16], seed=0,
        step_limit=100,
    )
    episode = play_episode(tested)  # from S down: two frozen cells, then the hole at row 3
    assert episode.path == [0, 4, 8, 12] and episode.ending == "fell into a hole: goal not reached"


def test_a_short_run_on_the_lake_saves_a_network_that_test_loads(tmp_path, capsys):
    agent = FrozenLakeDQN("4x4", is_slippery=False, seed=1, model_file=tmp_path / "lake.pt")
    result = agent.train(200)
    assert result.best_measure == 1.0  # it reaches the goal, surely: the lake does not slip
    assert (tmp_path / "lake.pt").stat().st_size > 0
    tested = agent.test(5)
    assert tested.success_rate == 100.0 and tested.step_limit == 100  # the registry's limit
    assert len(play_episode(tested).actions) == agent.environment.optimal_path_length == 6
    out = unwrapped(capsys.readouterr().out)  # the lines ours/reports.py broke at 80 columns
    assert "its greedy policy reaches the goal with probability 1.000" in out


@pytest.fixture(scope="module")
def short_taxi_run(tmp_path_factory):
    """A Taxi agent after 100 episodes, its last network saved (100 episodes deliver too seldom
    for a network that earns more than it costs), and the TrainingResult."""
    agent = TaxiDQN(seed=0, model_file=tmp_path_factory.mktemp("taxi") / "taxi.pt", save_last=True)
    return agent, agent.train(100)


def test_a_short_run_on_taxi_saves_its_last_network_that_test_loads(short_taxi_run):
    agent, result = short_taxi_run
    saved = torch.load(agent.model_file, weights_only=True)
    assert {name: tuple(t.shape) for name, t in saved.items()} == {
        "block_1.weight": (48, 500),  # the article's DQN, for Taxi's 500 states and 6 actions
        "block_1.bias": (48,),
        "block_2.weight": (6, 48),
        "block_2.bias": (6,),
    }
    tested = agent.test(3)
    last = q_values_of(network_from(result.last_state, agent.environment))
    np.testing.assert_array_equal(tested.q_values, last)
    assert tested.step_limit == 200


def test_the_subclasses_change_only_what_their_environment_needs():
    """The article's methods are inherited; each subclass brings its environment, its reward
    processing and train's episodes (and defaults through the constructor)."""
    for agent_class in (FrozenLakeDQN, TaxiDQN):
        own = {name for name in vars(agent_class) if not name.startswith("__")}
        assert own <= {"map_name", "environment", "_process_episode", "train"}
    taxi = TaxiDQN()
    assert (taxi.max_episode_steps, taxi.test_max_steps, taxi.model_file) == (
        50,
        199,
        "taxi_dql.pt",
    )
    lake = FrozenLakeDQN("8x8")
    assert lake.discount_factor == 0.99 and lake.model_file == "frozen_lake_8x8_slippery_dql.pt"
    assert FrozenLakeDQN("8x8", False).discount_factor == 0.9  # the article's, where it solves


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: FrozenLakeDQN("5x5"), ValueError, r"^map_name must be one of 4x4, 8x8, got '5x5'"),
        (lambda: FrozenLakeDQN(["4x4"]), ValueError, r"^map_name must be one of .*, got \['4x4'\]"),
        (lambda: FrozenLakeDQN(slippery=False), TypeError, r"^FrozenLakeDQN takes is_slippery, "),
        (lambda: TaxiDQN(slippery=True), TypeError, r"^TaxiDQN has no setting 'slippery': "),
        (lambda: FrozenLakeDQN().train(0), ValueError, r"^episodes must be at least 1, got 0$"),
        (lambda: TaxiDQN().train(-5), ValueError, r"^episodes must be at least 1, got -5$"),
    ],
)
def test_a_learners_mistakes_with_the_subclasses_get_one_clear_line(make, error, message):
    with pytest.raises(error, match=message):
        make()


def agents():
    return {
        "FrozenLake 4x4": FrozenLakeDQN("4x4", is_slippery=False),
        "FrozenLake 4x4 slippery": FrozenLakeDQN("4x4"),
        "FrozenLake 8x8 slippery": FrozenLakeDQN("8x8"),
        "Taxi": TaxiDQN(),
    }


@pytest.mark.parametrize(
    "name, episodes",
    [
        ("FrozenLake 4x4", 20),
        ("FrozenLake 4x4 slippery", 1500),
        ("FrozenLake 8x8 slippery", 500),
        ("Taxi", 1500),
    ],
)
def test_the_exact_objective_agrees_with_playing_the_policy(name, episodes):
    """The exact score of Q*'s greedy policy against its mean over episodes played in Gymnasium,
    under the registry's step limit: within four standard errors (exactly, where nothing is
    random)."""
    environment = agents()[name].environment
    actions = environment.q_star.argmax(axis=1)
    env = gym.make(environment.env_id, **environment.kwargs)  # with the registry's TimeLimit
    returns = []
    state = env.reset(seed=0)[0]
    for _ in range(episodes):
        total, done = 0.0, False
        while not done:
            state, reward, terminated, truncated, _ = env.step(int(actions[state]))
            total, done = total + reward, terminated or truncated
        returns.append(total)
        state = env.reset()[0]
    exact = environment.objective(actions)
    mean, error = np.mean(returns), np.std(returns) / np.sqrt(episodes)
    assert abs(mean - exact) <= 4 * error + 1e-12, (mean, error, exact)


def test_taxis_threshold_is_above_what_any_policy_can_do():
    environment = TaxiDQN().environment
    assert environment.best_objective == pytest.approx(7.93, abs=1e-9)
    assert environment.best_objective < environment.reward_threshold == 8


def test_with_gamma_0_9_the_optimum_of_the_slippery_8x8_lake_stays_under_its_threshold():
    """Q*'s own greedy policy for gamma 0.9 prefers a short, risky path: it reaches the goal within
    200 steps with probability 0.7386, under the registry's 0.85; with 0.98 it passes."""
    for gamma, expected in ((0.9, 0.7386), (0.98, 0.8621)):
        environment = FrozenLakeDQN("8x8", discount_factor=gamma).environment
        assert environment.objective(environment.q_star.argmax(axis=1)) == pytest.approx(
            expected, abs=5e-5
        )
    assert FrozenLakeDQN("8x8").environment.reward_threshold == 0.85


def test_a_run_from_the_command_line_draws_the_lake_and_its_holes(tmp_path, capsys):
    model, folder = tmp_path / "lake.pt", tmp_path / "pictures"
    folder.mkdir()
    flags = ["--not-slippery", "--seed", "1", "--episodes", "200", "--test-episodes", "3"]
    code = other_environments.main(
        ["FrozenLake-v1", *flags, "--render", "none", "--model", str(model), "--plots", str(folder)]
    )
    assert code == 0
    out = unwrapped(capsys.readouterr().out)
    assert "Path walked: 6 steps (the optimal path takes 6)" in out
    assert "the registry calls 0.7 solved" in out
    lake = FrozenLakeDQN("4x4", False).environment
    for kind in ("training", "test"):
        for file_name in pictures.file_names(kind, lake).values():
            assert (folder / file_name).stat().st_size > 1000, file_name
    with Image.open(folder / pictures.file_names("test", lake)["Test episode"]) as gif:
        assert gif.n_frames == 7  # the start, then 6 steps


def test_taxi_tests_from_the_command_line_with_its_own_picture(short_taxi_run, tmp_path, capsys):
    model = short_taxi_run[0].model_file
    flags = ["--test-only", "--seed", "0", "--test-episodes", "2", "--render", "none"]
    assert (
        other_environments.main(
            ["Taxi-v4", *flags, "--model", str(model), "--plots", str(tmp_path)]
        )
        == 0
    )
    out = unwrapped(capsys.readouterr().out)
    assert "mean return over the 300 starts" in out and "the best any policy can do: 7.93" in out
    for file_name in pictures.file_names("test", TaxiDQN().environment).values():
        assert (tmp_path / file_name).stat().st_size > 1000


@pytest.mark.parametrize(
    "argv, named",
    [
        (["Taxi-v3"], "invalid choice: 'Taxi-v3'"),
        (["CliffWalking-v1"], "invalid choice"),
        (["Taxi-v4", "--not-slippery"], "--not-slippery: Taxi-v4 has no ice to slip on"),
        (["FrozenLake-v1", "--learning-rate", "-1"], "--learning-rate: must be above 0"),
        (["--episodes", "5"], "the following arguments are required: ENV_ID"),
        (["--test-only", "Taxi-v3"], "invalid choice: 'Taxi-v3'"),
        (["--seed", "3", "Taxi-v4", "--not-slippery"], "Taxi-v4 has no ice to slip on"),
    ],
)
def test_a_bad_id_or_flag_is_one_line(argv, named, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        other_environments.main([*argv, "--model", str(tmp_path / "never.pt")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and named in error
    assert not (tmp_path / "never.pt").exists()


def test_a_missing_model_file_says_how_to_train_one_for_this_environment(tmp_path, capsys):
    missing = tmp_path / "lake.pt"
    argv = ["FrozenLake8x8-v1", "--not-slippery", "--test-only", "--model", str(missing)]
    assert other_environments.main([*argv, "--render", "none", "--no-plots"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "shipped" not in error  # the cliff's model would not fit
    assert f"other_environments.py FrozenLake8x8-v1 --not-slippery --model {missing}'" in error


@pytest.mark.parametrize("argv", [["--help"], ["-h", "--not-slippery"], ["Taxi-v4", "--help"]])
def test_help_needs_no_environment_and_names_every_one(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        other_environments.main(argv)
    assert stopped.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "one of FrozenLake-v1, FrozenLake8x8-v1, Taxi-v4" in help_text
    default_model = "taxi_dql.pt" if "Taxi-v4" in argv else "frozen_lake_4x4_slippery_dql.pt"
    assert f"(default {default_model})" in help_text
