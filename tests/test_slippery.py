"""The slippery cliff: Q* over every slip, --slippery end to end, the plain grid a special case."""

import gymnasium as gym
import numpy as np
import pytest

import cliff_walking_dqn
from cliff_walking_dqn import CliffWalkingDQN
from conftest import SHIPPED_MODEL, unwrapped
from ours import animation, pictures
from ours.environment import SLIPPERY_ID
from ours.episode_replay import play_episode, show_episode
from ours.exact_optimum import (
    Outcomes,
    outcome_table,
    policy_values,
    success_within,
    value_iteration,
)
from ours.model_file import load_model, network_from, save_model
from ours.results import TrainingFailed
from ours.speed import q_values_of

UP, RIGHT, DOWN, LEFT = range(4)
ACTION_NAMES = ("up", "right", "down", "left")
START_STATE = 36
needs_slippery = pytest.mark.skipif(
    SLIPPERY_ID not in gym.registry, reason=f"{SLIPPERY_ID} needs Gymnasium 1.2 or later"
)
process_episode = CliffWalkingDQN()._process_episode
CLIFF = CliffWalkingDQN().environment


def slippery_cliff(discount_factor=0.9):
    """The slippery cliff's description, under the article's rewards and this discount factor."""
    return CliffWalkingDQN(slippery=True, discount_factor=discount_factor).environment


def three_state_chain() -> Outcomes:
    """State 0: action 0 moves to state 1; action 1 is a coin flip ending the episode with 1 or 0.
    State 1: action 0 ends it with 1 (probability 0.8) or goes back to state 0; action 1 stays put.
    State 2 is never reached. Two outcomes per move (a probability 0 pads the one-outcome moves)."""
    rewards = np.array([[[0, 0], [1, 0]], [[1, 0], [0, 0]], [[0, 0], [0, 0]]])
    terminated = np.array(
        [
            [[False, False], [True, True]],
            [[True, False], [False, False]],
            [[True, True], [True, True]],
        ]
    )
    return Outcomes(
        probabilities=np.array([[[1, 0], [0.5, 0.5]], [[0.8, 0.2], [1, 0]], [[1, 0], [1, 0]]]),
        next_states=np.array([[[1, 1], [0, 0]], [[0, 0], [1, 1]], [[2, 2], [2, 2]]]),
        rewards=rewards,
        terminated=terminated,
        env_rewards=rewards,  # the environment's own: here the same
        env_terminated=terminated,
    )


def test_value_iteration_on_a_three_state_chain_matches_values_worked_out_by_hand():
    # V1 = 0.8 + 0.2 * 0.9 * V0 and V0 = 0.9 * V1 (better than the coin's 0.5): V1 = 0.8 / 0.838
    v1 = 0.8 / 0.838
    expected = [[0.9 * v1, 0.5], [v1, 0.9 * v1], [0, 0]]
    np.testing.assert_allclose(value_iteration(three_state_chain(), 0.9), expected, atol=1e-12)


@pytest.mark.parametrize(
    "actions, gamma, expected",
    [
        # the coin at state 0: V1 = 0.8 + 0.2 * 0.9 * 0.5
        ([1, 0, 0], 0.9, [0.5, 0.8 + 0.18 * 0.5, 0]),
        ([1, 0, 0], 1.0, [0.5, 0.8 + 0.2 * 0.5, 0]),
        ([0, 0, 0], 1.0, [1, 1, 0]),  # undiscounted, the episode ends with 1 sooner or later
        # state 1 stays put forever: no episode ever ends, nothing is earned
        ([0, 1, 0], 1.0, [0, 0, 0]),
    ],
)
def test_policy_evaluation_on_the_chain_matches_values_worked_out_by_hand(actions, gamma, expected):
    np.testing.assert_allclose(
        policy_values(three_state_chain(), gamma, actions), expected, atol=1e-12
    )


def todays_deterministic_q_star(discount_factor):
    """The deterministic value iteration this project had before the slippery grid, written out."""
    table = CLIFF.unwrapped.P
    next_states = np.array([[table[s][a][0][1] for a in range(4)] for s in range(48)])
    env_rewards = np.array([[table[s][a][0][2] for a in range(4)] for s in range(48)])
    rows = zip(env_rewards, next_states)
    processed = [[process_episode(*step) for step in zip(*row)] for row in rows]
    terminated, rewards = np.moveaxis(np.array(processed), 2, 0)
    terminated = terminated.astype(bool)
    q_values = np.zeros(next_states.shape)
    while True:
        updated = rewards + discount_factor * q_values.max(axis=1)[next_states] * ~terminated
        if np.array_equal(updated, q_values):
            return q_values
        q_values = updated


@pytest.mark.parametrize("gamma", [0.9, 0.99, 1.0])
def test_on_the_deterministic_grid_the_stochastic_code_gives_todays_q_star(gamma):
    q_star = CliffWalkingDQN(discount_factor=gamma).environment.q_star
    assert np.array_equal(q_star, todays_deterministic_q_star(gamma))


@needs_slippery
@pytest.mark.parametrize("gamma, v_star", [(0.9, 0.0071), (0.99, 0.54)])
def test_the_optimal_slippery_policy_keeps_off_the_edge_and_its_value_is_v_star(gamma, v_star):
    slippery = slippery_cliff(gamma)
    outcomes = outcome_table(slippery.unwrapped, process_episode)
    assert outcomes.probabilities.shape == (48, 4, 3) and np.allclose(
        outcomes.probabilities.sum(axis=2), 1
    )
    q_star = value_iteration(outcomes, gamma)
    assert np.array_equal(slippery.q_star, q_star) and slippery.v_star == q_star[START_STATE].max()
    optimal = q_star.argmax(axis=1)
    np.testing.assert_allclose(
        policy_values(outcomes, gamma, optimal)[:37], q_star[:37].max(axis=1), atol=1e-10
    )
    assert q_star[START_STATE].max() == pytest.approx(v_star, abs=5e-5 if gamma == 0.9 else 5e-3)
    # into the wall: it can only slip upwards, never into the cliff
    assert optimal[START_STATE] == LEFT
    assert optimal[24:35].tolist() == [UP] * 11  # the row above the cliff steps away from it
    assert success_within(slippery, optimal, 10_000) == pytest.approx(1)  # it never falls


def test_on_the_deterministic_grid_a_policys_value_and_success_follow_its_walk():
    outcomes = outcome_table(CLIFF.unwrapped, process_episode)
    greedy = q_values_of(load_model(SHIPPED_MODEL, 48, 4)).argmax(axis=1)  # the 13-step path
    assert policy_values(outcomes, 0.9, greedy)[START_STATE] == pytest.approx(0.9**12)
    assert success_within(CLIFF, greedy, 13) == 1.0 and success_within(CLIFF, greedy, 12) == 0.0


def test_slippery_without_a_gymnasium_that_has_it_exits_2_in_one_line(
    monkeypatch, capsys, tmp_path
):
    # as under the article's pin, Gymnasium 0.29.1
    monkeypatch.delitem(gym.registry, SLIPPERY_ID, raising=False)
    assert (
        cliff_walking_dqn.main(["--slippery", "--model", str(tmp_path / "m.pt"), "--no-plots"]) == 2
    )
    captured = capsys.readouterr()
    assert (
        captured.err.count("\n") == 1
        and "Gymnasium 1.2 or later" in captured.err
        and SLIPPERY_ID in captured.err
    )
    assert "--- Training ---" not in captured.out and not (tmp_path / "m.pt").exists()


@pytest.fixture(scope="module")
def slippery_training():
    return CliffWalkingDQN(seed=3, slippery=True, model_file=None).train(150)


@needs_slippery
def test_slippery_training_keeps_its_most_valuable_network(slippery_training):
    result = slippery_training
    environment = result.environment
    assert environment.slippery and environment.optimal_path_length is None
    v_star = environment.v_star
    assert v_star == pytest.approx(0.00706, abs=1e-5)
    # the exact value from the start after each optimize step (no more than V*), not a walk's steps
    assert len(result.measures) == 150
    assert ((0 <= result.measures) & (result.measures <= v_star + 1e-15)).all()
    assert result.best_measure == result.measures.max() > 0
    assert result.best_measure < v_star
    saved = network_from(result.best_state, environment)
    outcomes = outcome_table(environment.unwrapped, process_episode)
    exact = policy_values(outcomes, 0.9, q_values_of(saved).argmax(axis=1))[START_STATE]
    assert exact == pytest.approx(result.best_measure, abs=1e-15)


@needs_slippery
def test_the_slippery_sweep_measures_what_training_recorded(slippery_training):
    from slippery_sweep import train_one

    run = train_one(3, 0.9, 150)  # the fixture's seed, discount factor and episodes
    assert run["saved"] == slippery_training.best_episode
    assert run["value_share"] == pytest.approx(
        slippery_training.best_measure / slippery_training.environment.v_star, abs=1e-12
    )
    assert 0 < run["success"] < 0.336 and 0 < run["optimal_actions"] < 1


@needs_slippery
def test_a_slippery_episode_replays_with_its_slips(capsys):
    result = CliffWalkingDQN(seed=4, slippery=True, model_file=SHIPPED_MODEL).test(episodes=3)
    episode = play_episode(result)
    capsys.readouterr()
    show_episode(episode, "ansi", result.environment, reset_seed=result.seed)
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if len(line.split()) == 12]  # the grids
    steps = len(episode.actions)  # each step says what the agent chose, as the GIF does
    first = f"step 1 of {steps}: chose {ACTION_NAMES[episode.actions[0]]}"
    assert any(line.startswith(first) for line in out.splitlines())
    # where the agent stands
    replayed = [sum(rows[i : i + 4], []).index("x") for i in range(0, len(rows), 4)]
    assert replayed == episode.path
    deterministic = CLIFF.unwrapped.P
    # it slipped
    assert any(
        deterministic[s][a][0][1] != t
        for s, a, t in zip(episode.path, episode.actions, episode.path[1:])
    )


@needs_slippery
def test_test_only_crosses_grids_both_ways(tmp_path, slippery_training, capsys):
    model = tmp_path / "slippery.pt"
    save_model(slippery_training.best_state, model)
    common = [
        "--test-only",
        "--render",
        "none",
        "--test-episodes",
        "20",
        "--no-plots",
        "--seed",
        "1",
    ]
    assert cliff_walking_dqn.main([*common, "--slippery", "--model", str(SHIPPED_MODEL)]) == 0
    printed = capsys.readouterr().out
    out = unwrapped(printed)
    assert (
        "Exact, over every slip, within the test's 51 steps:" in out
        and "the optimal policy with 33.6%" in out
    )
    # 80 columns, but for the line naming the model file, whose path is the checkout's
    assert all(len(line) <= 80 for line in printed.splitlines() if str(SHIPPED_MODEL) not in line)
    assert "Episode shown:" in out and "Path walked" not in out
    assert cliff_walking_dqn.main([*common, "--model", str(model)]) == 0
    out = capsys.readouterr().out
    assert "Success rate:" in out and "over every slip" not in out


@needs_slippery
def test_a_slippery_run_writes_its_pictures_with_one_test_episode(tmp_path, capsys):
    from PIL import Image

    slippery = CliffWalkingDQN(slippery=True).environment
    training_plot, learning_gif = map(
        pictures.file_names("training", slippery).get, ("Training curves", "Learning animation")
    )
    policy_plot, test_gif = map(
        pictures.file_names("test", slippery).get, ("Policy", "Test episode")
    )
    code = cliff_walking_dqn.main(
        [
            "--slippery",
            "--seed",
            "3",
            "--episodes",
            "150",
            "--model",
            str(tmp_path / "m.pt"),
            "--render",
            "none",
            "--test-episodes",
            "2",
            "--plots",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "its greedy policy is worth" in out and "of V* = 0.007065" in out
    steps = int(out.split("Episode shown: ")[1].split(" steps")[0])
    with Image.open(tmp_path / test_gif) as image:
        assert image.n_frames == steps + 1
    for picture in (training_plot, policy_plot):
        assert (tmp_path / picture).stat().st_size > 10_000
    with Image.open(tmp_path / learning_gif) as gif:  # values against the slippery Q*
        assert gif.n_frames == animation.LEARNING_FRAMES


def test_default_runs_do_not_touch_the_slippery_grid(monkeypatch, tmp_path):
    """Without --slippery the agent is the deterministic one, and training never asks for the
    slippery grid."""
    monkeypatch.delitem(gym.registry, SLIPPERY_ID, raising=False)
    # 20 episodes are too few: what matters is what it recorded
    with pytest.raises(TrainingFailed) as failure:
        CliffWalkingDQN(seed=6).train(20)
    result = failure.value.result
    assert not result.environment.slippery and result.environment.optimal_path_length == 13
    # the greedy walk's steps after each optimize step: inf, or 13 or more; no values
    assert len(result.measures) == 20 and (result.measures >= 13).all()
