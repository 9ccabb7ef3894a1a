import numpy as np
import pandas as pd
import pytest

from simulator.parallel import limited_threads
from simulator.population import Population
from simulator.subgroups import _CHUNK, SUBGROUPS, CellSubgroups, SubgroupMeans


@pytest.fixture(scope="module")
def population():
    return Population.synthesize("US_TX", 3000, np.random.default_rng(4))


def test_rows_are_the_population_and_every_subgroup_mean(population):
    values = np.random.default_rng(1).random((len(population), 3)).astype(np.float32)
    rows = SubgroupMeans(population).rows(values)
    assert rows[0][:2] == ("all", "all") and rows[0][3] == len(population)
    np.testing.assert_allclose(rows[0][2], values.astype(float).mean(axis=0), rtol=1e-12)
    frame = pd.DataFrame(values.astype(float))
    expected = [("all", "all")]
    for group in SUBGROUPS:
        labels = population.labels(group)
        means = frame.groupby(labels).mean()
        counts = pd.Series(labels).value_counts()
        for label in Population.CATEGORIES[group]:
            if label not in counts:
                continue
            expected.append((group, label))
            row = next(r for r in rows if r[:2] == (group, label))
            np.testing.assert_allclose(row[2], means.loc[label].to_numpy(), rtol=1e-12)
            assert row[3] == counts[label]
    assert [r[:2] for r in rows] == expected


def test_a_country_reports_only_the_subgroups_it_records():
    country = Population.synthesize("IND", 500, np.random.default_rng(2))
    rows = SubgroupMeans(country).rows(np.ones((500, 1), dtype=np.float32))
    assert {group for group, *_ in rows} == {"all", "age_band", "urbanicity", "sex",
                                              "education"}
    assert all(means[0] == pytest.approx(1.0) for *_, means, _ in rows)


def test_sums_do_not_depend_on_the_number_of_threads(population):
    n = 3 * _CHUNK + 17
    index = np.random.default_rng(3).integers(0, len(population), n)
    values = np.random.default_rng(5).random((n, 6)).astype(np.float32)
    means = SubgroupMeans(population)
    means.code = means.code[index]
    runs = []
    for count in (1, 2, 3):
        with limited_threads(count):
            runs.append(b"".join(row[2].tobytes() for row in means.rows(values)))
    assert runs[0] == runs[1] == runs[2]


def test_cell_subgroups_weigh_cells_by_agents_and_leave_out_failures():
    labels = {"sex": ("female", "male"), "party": ("democrat", "independent", "republican")}
    codes = {"sex": np.array([0, 0, 1, 1]), "party": np.array([0, 2, 0, 2])}
    groups = CellSubgroups(labels, codes, np.array([1, 3, 2, 2]))
    assert groups.keys == [("all", "all"), ("sex", "female"), ("sex", "male"),
                           ("party", "democrat"), ("party", "republican")]
    answers = np.array([[0.2, np.nan], [0.6, np.nan], [0.5, 0.1], [0.1, 0.3]])
    means = groups.means(answers)
    assert means[0, 0] == pytest.approx((0.2 + 1.8 + 1.0 + 0.2) / 8)
    assert means[1, 0] == pytest.approx((0.2 + 1.8) / 4) and np.isnan(means[1, 1])
    assert means[2, 1] == pytest.approx(0.2) and means[0, 1] == pytest.approx(0.2)
    assert means[3, 0] == pytest.approx((0.2 + 1.0) / 3)
