import numpy as np
import pandas as pd
import pytest

from calibration.inputs import available, complete, indicator_columns
from simulator.sources.indicators import stringency_index


def frame():
    return pd.DataFrame({
        "region": ["KM", "KM", "FR", "FR"],
        "week": pd.to_datetime(["2020-03-02", "2020-03-09"] * 2),
        "window": ["train", "test", "train", "test"],
        "c1_school_closing": [3.0, np.nan, 2.0, 2.0],
        "c6_stay_at_home_requirements": [1.0, 1.0, 0.0, 2.0],
        "e1_income_support": np.nan,
        "stringency_index": [np.nan, np.nan, 40.0, 50.0],
        "temperature_f": [np.nan, np.nan, np.nan, 60.0],
        "vaccinated_pct": [0.0, 0.0, 1.0, 2.0],
    })


def test_unrecorded_indicator_weeks_count_as_0_and_a_missing_index_comes_from_its_formula():
    completed, notes = complete(frame())
    assert completed.loc[1, "c1_school_closing"] == 0.0
    assert completed["e1_income_support"].isna().all()  # no value at all: left for available()
    assert completed.loc[0, "stringency_index"] == pytest.approx(
        stringency_index({"c1_school_closing": 3.0, "c6_stay_at_home_requirements": 1.0}))
    assert completed.loc[2:, "stringency_index"].tolist() == [40.0, 50.0]
    assert len(notes) == 2 and "c1_school_closing 1" in notes[0] and "KM" in notes[1]
    assert complete(completed)[1] == []


def test_columns_without_a_value_in_the_training_rows_are_named():
    inputs = frame()
    kept, left_out = available(inputs, ["temperature_f", "vaccinated_pct", "holiday",
                                        *indicator_columns(inputs)])
    assert kept == ["vaccinated_pct", "c1_school_closing", "c6_stay_at_home_requirements"]
    assert left_out == ["temperature_f", "holiday", "e1_income_support"]
