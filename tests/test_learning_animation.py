"""The learning animation: the Q-values recorded during training, the moments shown, the GIF."""

import numpy as np
import pytest
import torch

import q_learning
from cliff_walking_dqn import CliffWalkingDQN
from ours import animation, pictures
from ours.results import TrainingFailed
from ours.speed import q_values_of
from ours.training import QValueRecorder, TrainingHistory

CLIFF = CliffWalkingDQN().environment


def train_briefly(seed=0, episodes=40):
    """Seed 0 explores 347 episodes before its first goal, then learns ``episodes`` episodes."""
    try:
        return CliffWalkingDQN(seed=seed).train(episodes)
    except TrainingFailed as failure:
        return failure.result


def test_the_recorder_keeps_every_step_then_every_other_one_without_copying():
    recorder = QValueRecorder(kept=3)
    arrays = [np.full((48, 4), float(step)) for step in range(11)]
    for array in arrays:
        recorder.record(array)
    # 6 held after step 5: every other one goes, then every 2nd step is recorded, and after step 10
    # 6 are held again: every 4th step is left
    assert recorder.steps == [0, 4, 8]
    assert all(recorder.q_values[i] is arrays[step] for i, step in enumerate(recorder.steps))


def test_recording_leaves_the_weights_and_history_as_they_were(monkeypatch):
    recorded = train_briefly()
    monkeypatch.setattr(QValueRecorder, "record", lambda self, q_values: None)
    unrecorded = train_briefly()
    assert len(recorded.recorded_steps) == len(recorded.epsilon_history) == 40
    assert len(unrecorded.recorded_steps) == 0
    for name, tensor in recorded.last_state.items():
        assert torch.equal(tensor, unrecorded.last_state[name])
    assert np.array_equal(recorded.steps_per_episode, unrecorded.steps_per_episode)
    assert np.array_equal(recorded.loss_history, unrecorded.loss_history)


def test_the_recorded_q_values_are_the_network_after_each_optimize_step(monkeypatch):
    after_each_step = []
    real_step = TrainingHistory.optimize_step

    def optimize_step(self, loss, policy_dqn):
        after_each_step.append(q_values_of(policy_dqn))
        real_step(self, loss, policy_dqn)

    monkeypatch.setattr(TrainingHistory, "optimize_step", optimize_step)
    result = train_briefly(episodes=10)
    assert np.array_equal(result.recorded_steps, np.arange(10))
    assert np.array_equal(result.recorded_q_values, np.array(after_each_step))


def test_the_moments_include_the_first_and_crowd_where_the_values_change():
    q_values = np.zeros((200, 48, 4))
    standable = CLIFF.standable_states
    q_values[100:110, standable, 0] = np.linspace(0.1, 1, 10)[:, None]  # a burst of learning
    q_values[110:] = q_values[109]
    moments = animation.animation_moments(q_values, standable, 20)
    assert moments[0] == 0 and moments == sorted(set(moments)) and len(moments) <= 20
    assert moments[-1] == 199  # the share spread evenly over the steps reaches the last one
    assert sum(100 <= m < 110 for m in moments) >= 6  # evenly over the steps: 1
    assert animation.animation_moments(q_values[:5], standable, 20) == [0, 1, 2, 3, 4]


def test_the_q_matrix_animation_shows_its_recorded_tables_and_ends_with_the_tested_one(
    tmp_path, monkeypatch
):
    result = q_learning.train(episodes=30, lr=1, seed=0)
    assert len(result.recorded_steps) == 30
    assert np.array_equal(result.recorded_q_values[-1], result.Q_matrix)
    # after the first goal only the move into it has a value: the Bellman backup starts there
    assert np.count_nonzero(result.recorded_q_values[0]) == 1
    frames = []
    monkeypatch.setattr(
        animation, "save_learning_animation", lambda shown, *args: frames.extend(shown)
    )
    assert animation.write_learning_animation(result, tmp_path / "unused.gif")
    assert len(frames) == animation.LEARNING_FRAMES
    assert frames[-1][0] is result.Q_matrix and "(the table tested)" in frames[-1][1][0]
    for (q_values, _, _), recorded in zip(frames[:-1], result.recorded_q_values):
        assert np.array_equal(q_values, recorded)  # 30 learning episodes: every table is shown


@pytest.mark.parametrize("no_plots", [["--no-plots"], []])
def test_q_learning_py_writes_its_animation_unless_told_not_to(no_plots, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flags = ["--seed", "0", "--episodes", "20", "--lr", "1", *no_plots]
    monkeypatch.setattr(
        animation, "save_learning_animation", lambda frames, environment, path, titles: path.touch()
    )
    assert q_learning.main(flags) == 0
    written = {path.name for path in tmp_path.iterdir()}
    (animation_file,) = [name for _, name, _ in pictures.PICTURES["q_matrix"]]
    test_files = [name for _, name, _ in pictures.PICTURES["q_matrix test"]]
    assert animation_file == "cliff_walking_q_matrix_learning.gif"
    assert test_files == ["q_learning_policy.png", "q_learning_test.gif"]
    assert written == (set() if no_plots else {animation_file, *test_files})
    if not no_plots:  # the table's policy picture and test episode, drawn for real
        assert all((tmp_path / name).stat().st_size > 1000 for name in test_files)
