import numpy as np
import pandas as pd

from calibration.cross_validation import CV_BLOCKS, held_out_predictions, training_blocks

WEEKS = pd.date_range("2020-03-02", periods=30, freq="7D")


def panel(seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for region in ("A", "B"):
        x = rng.normal(size=len(WEEKS))
        frames.append(pd.DataFrame({"region": region, "week": WEEKS, "sim_parks": x,
                                    "window": ["train"] * 25 + ["test"] * 5}))
    inputs = pd.concat(frames, ignore_index=True)
    targets = pd.DataFrame({"parks": 3 * inputs["sim_parks"] + rng.normal(0, 0.1, len(inputs))})
    return inputs, targets


def test_training_weeks_fall_in_contiguous_blocks_and_test_weeks_in_none():
    inputs, _ = panel()
    block = training_blocks(inputs)
    assert set(block[inputs["window"] == "test"]) == {-1}
    per_week = pd.Series(block, index=inputs["week"]).groupby(level=0).first()
    train = per_week[per_week >= 0]
    assert list(train) == sorted(train) and set(train) == set(range(CV_BLOCKS))


def test_a_row_is_predicted_by_a_calibrator_that_never_saw_its_block():
    inputs, targets = panel()
    honest = held_out_predictions(inputs, targets, ["sim_parks"], 1.0, 0, "none")
    block = training_blocks(inputs)
    poisoned = targets.copy()
    poisoned.loc[block == 2, "parks"] = 1e6
    moved = held_out_predictions(inputs, poisoned, ["sim_parks"], 1.0, 0, "none")
    rows = inputs.index[block == 2]
    pd.testing.assert_frame_equal(honest.loc[rows], moved.loc[rows])
    other = inputs.index[block == 1]
    assert not np.allclose(honest.loc[other], moved.loc[other])
    assert list(honest.index) == list(inputs.index[block >= 0])
