"""Archetypes: the cells of a population, each answered as itself or through the design."""

import numpy as np
import pandas as pd
import pytest
from scripted_model import ScriptedModel

from helpers import MOBILITY, PROMPTS, signals
from simulator.cognition import RulesEngine
from simulator.cognition.cells import Cells, PopulationCells, _cells
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.personas import persona_bins
from simulator.population import Population
from simulator.sources.indicators import OXCGRT_INDICATORS


@pytest.fixture(scope="module")
def population():
    return Population.synthesize("US_GA", 4000, np.random.default_rng(11))


@pytest.fixture(scope="module")
def cells(population):
    return PopulationCells.build(population, 24)


def test_a_cell_is_exactly_the_agents_sharing_every_persona_attribute(population, cells):
    bins = persona_bins(population)
    for cell in cells.cells[:30]:
        members = cells.assignment == cell.index
        for name, (codes, labels) in bins.items():
            assert set(np.asarray(labels)[codes[members]]) == {cell.attributes[name]}
    sizes = [a.size for a in cells.cells]
    assert sum(sizes) == len(population) and sizes == sorted(sizes, reverse=True)
    assert np.array_equal(np.bincount(cells.assignment), sizes)


def test_traits_are_member_means(population, cells):
    first = cells.cells[0]
    members = cells.assignment == 0
    assert first.traits["risk_tolerance"] == pytest.approx(
        float(population["risk_tolerance"][members].mean()))
    assert first.traits["republican"] in (0.0, 1.0)


def test_rules_answers_every_cell_and_asks_each_as_itself(cells):
    answers, asked, _ = cells.answers(RulesEngine(OXCGRT_INDICATORS), signals(),
                                           MOBILITY, PROMPTS)
    assert answers.shape == (len(cells), len(MOBILITY)) and len(asked) == len(cells)
    assert set(cells.match(factorised=False).values()) == {1.0}


def test_a_language_model_is_asked_the_design_personas_only(tmp_path, cells):
    model = ScriptedModel()
    engine = LanguageEngine(model, Elicitation("cloze"))
    answers, asked, decisions = cells.answers(engine, signals(), MOBILITY, PROMPTS)
    assert len(asked) == len(cells.design.personas) < len(cells)
    assert len(model.asked) == len(asked) * len(MOBILITY)
    np.testing.assert_allclose(answers, cells.design.combine(cells.weights,
                                                                  decisions.probabilities))


def test_the_base_persona_comes_from_the_reference(population):
    other = Population.synthesize("US_GA", 300, np.random.default_rng(99))
    a = PopulationCells.build(other, 24, reference=population)
    b = PopulationCells.build(population, 24)
    assert a.design.personas == b.design.personas
    assert sum(x.size for x in a.cells) == 300


def test_summary_lists_the_personas_asked(cells):
    summary = cells.summary(factorised=True)
    assert len(summary) == len(cells.design.personas)
    # A cell differing from the base in one attribute is its variant: the base does not enter.
    sizes = np.array([a.size for a in cells.cells])
    assert summary["agents"].iloc[0] == sizes[cells.weights[:, 0] != 0].sum()
    assert (summary["agents"] > 0).all()


@pytest.mark.parametrize("levels", [(4, 2, 5, 3), (60, 50, 40, 30, 20)])
def test_cells_are_the_unique_rows_in_order(levels):
    # The second shape has more combinations than agents: cells are then found by sorting.
    rng = np.random.default_rng(0)
    codes = [rng.integers(0, k, 5000) for k in levels]
    cells, assignment, counts = _cells(codes, list(levels), 5000)
    expected = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True,
                         return_counts=True)
    assert np.array_equal(cells, expected[0])
    assert np.array_equal(assignment, expected[1].reshape(-1))
    assert np.array_equal(counts, expected[2])


def test_cells_are_made_when_read(cells):
    cells = cells.cells
    assert isinstance(cells, Cells) and len(cells) == len(cells)
    last = cells[-1]
    assert last.index == len(cells) - 1 and last == cells[len(cells) - 1]
    assert [a.index for a in cells[2:5]] == [2, 3, 4]
    with pytest.raises(IndexError):
        _ = cells[len(cells)]


def test_the_cell_summary_lists_every_cell(cells):
    summary = cells.summary(factorised=False)
    expected = pd.DataFrame([{"respondent": a.index, "agents": a.size, "share": a.size / 4000,
                              **a.attributes} for a in cells.cells])
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False)
