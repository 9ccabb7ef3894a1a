"""Writing a builder module's tables."""

import pandas as pd

from tools.tables import write_tables


def test_one_csv_per_builder(tmp_path):
    builders = {"a.csv": lambda raw: pd.DataFrame({"x": [1 / 3], "raw": [raw.name]}),
                "b.csv": lambda raw: pd.DataFrame({"y": [2.0]})}
    written = write_tables(builders, tmp_path / "raw", tmp_path / "out", float_format="%.3g")
    assert written == [tmp_path / "out" / "a.csv", tmp_path / "out" / "b.csv"]
    assert (tmp_path / "out" / "a.csv").read_text() == "x,raw\n0.333,raw\n"
