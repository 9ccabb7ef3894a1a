"""The region registry is what the builder computes from the shared raw files."""

import io

import pandas as pd
from shared_files import SHARED, needs_shared

from tools import build_regions


@needs_shared
def test_builder_reproduces_the_shipped_registry(tmp_path):
    rebuilt = build_regions.build_regions(SHARED)
    shipped = pd.read_csv(build_regions.DATA_DIR / "regions.csv", keep_default_na=False,
                          na_values=[""])
    written = pd.read_csv(io.StringIO(rebuilt.to_csv(index=False)),
                          keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(written, shipped)
    assert list(rebuilt.columns) == list(build_regions.COLUMNS)
    assert rebuilt["code"].is_unique and rebuilt["code"].iloc[0] == "USA"
