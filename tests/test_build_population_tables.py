"""The US population tables are what the builders compute from the shared raw files."""

import pandas as pd
import pytest
from shared_files import SHARED

from tools import build_population_tables, build_psychographic_tables


@pytest.mark.parametrize("build_tables", [build_population_tables, build_psychographic_tables])
@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data is not available")
def test_builders_reproduce_the_shipped_tables(tmp_path, build_tables):
    written = build_tables.build_all(SHARED, tmp_path)
    assert {path.name for path in written} == set(build_tables.BUILDERS)
    for path in written:
        shipped = pd.read_csv(build_tables.DATA_DIR / path.name)
        rebuilt = pd.read_csv(path)
        pd.testing.assert_frame_equal(rebuilt, shipped, rtol=1e-4, check_dtype=False)
