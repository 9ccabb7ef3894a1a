"""Elicitation: the items a behaviour is asked as, and how their answers combine."""

import numpy as np
import pytest

from helpers import MOBILITY
from simulator.behaviours import Behaviour, Option
from simulator.cognition.elicitation import Elicitation, Item

YES_NO = MOBILITY[0]
SCALE = Behaviour(name="b", question="How likely?", reverse_question="How unlikely?",
                  options=tuple(Option(label=str(v), value=v)
                                for v in (0.0, 0.25, 0.5, 0.75, 1.0)))


def logit(p):
    return np.log(p / (1 - p))


def test_items_follow_the_options_chosen():
    assert Elicitation("cloze").items(YES_NO) == [Item()]
    assert Elicitation("cloze", balanced=True).items(YES_NO) == [Item(), Item(True)]
    no_reverse = Behaviour(name="x", question="Will you?")
    assert Elicitation("cloze", balanced=True).items(no_reverse) == [Item()]
    both = Elicitation("option_tokens", option_orders="both").items(YES_NO)
    assert both == [Item(), Item(False, True)]


def test_shown_options_map_to_the_options_they_stand_for():
    assert list(Item().shown_options(SCALE)) == [0, 1, 2, 3, 4]
    assert list(Item(False, True).shown_options(SCALE)) == [4, 3, 2, 1, 0]
    assert list(Item(True).shown_options(SCALE)) == [4, 3, 2, 1, 0]
    assert list(Item(True, True).shown_options(SCALE)) == [0, 1, 2, 3, 4]


def test_balanced_yes_no_is_the_mean_of_the_two_keyings_in_logit_space():
    yes, reverse_yes = 0.8, 0.4
    p, distribution = Elicitation("cloze", balanced=True).combine(
        YES_NO, [np.array([yes, 1 - yes]), np.array([reverse_yes, 1 - reverse_yes])])
    assert logit(p) == pytest.approx(0.5 * (logit(yes) - logit(reverse_yes)))
    assert distribution.sum() == pytest.approx(1.0)


def test_a_pure_yes_bias_cancels_between_keyings():
    bias = 1.3
    truth = 0.3
    keyed = 1 / (1 + np.exp(-(logit(truth) + bias)))
    reverse = 1 / (1 + np.exp(-(logit(1 - truth) + bias)))
    p, _ = Elicitation("cloze", balanced=True).combine(
        YES_NO, [np.array([keyed, 1 - keyed]), np.array([reverse, 1 - reverse])])
    assert p == pytest.approx(truth)


def test_debiasing_divides_out_the_prior_answer():
    elicitation = Elicitation("cloze", debias="reference")
    prior = [np.array([0.9, 0.1])]
    p, _ = elicitation.combine(YES_NO, prior, prior)
    assert p == pytest.approx(0.5)
    p, _ = elicitation.combine(YES_NO, [np.array([0.8, 0.2])], prior)
    assert logit(p) == pytest.approx(logit(0.8) - logit(0.9))


def test_order_averaging_cancels_a_position_prior():
    truth = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    prior = np.array([3.0, 1.0, 1.0, 1.0, 0.5])
    forward = truth * prior / (truth * prior).sum()
    shown_reversed = truth[::-1] * prior / (truth[::-1] * prior).sum()
    _, distribution = Elicitation("option_tokens", option_orders="both").combine(
        SCALE, [forward, shown_reversed])
    symmetric = np.sqrt(prior * prior[::-1])
    expected = truth * symmetric / (truth * symmetric).sum()
    np.testing.assert_allclose(distribution, expected)


def test_an_option_never_chosen_is_floored_not_minus_infinity():
    p, distribution = Elicitation("cloze").combine(YES_NO, [np.array([1.0, 0.0])])
    assert np.all(np.isfinite(distribution)) and p > 0.99


def test_problems_and_label():
    assert Elicitation("cloze", balanced=True, debias="reference").label == \
        "cloze+balanced+reference"
    assert Elicitation("option_tokens", option_orders="both").label == \
        "option_tokens+both_orders"
    assert Elicitation("cloze").problems() == []
    assert "elicitation: 'tokens'" in Elicitation("tokens").problems()[0]


def test_all_wordings_ask_every_paraphrase_and_the_reverse_question_once():
    worded = Behaviour(name="w", question="Will you?", reverse_question="Will you not?",
                       options=YES_NO.options,
                       paraphrases=("Do you plan to?", "This week, will you?"))
    items = Elicitation("option_tokens", balanced=True, wordings="all").items(worded)
    assert items == [Item(), Item(False, False, 1), Item(False, False, 2), Item(True)]
    assert [item.question(worded) for item in items] == [
        "Will you?", "Do you plan to?", "This week, will you?", "Will you not?"]
    assert Elicitation("option_tokens", wordings="first").items(worded) == [Item()]


def test_each_keying_weighs_half_however_many_wordings_it_has():
    worded = Behaviour(name="w", question="Will you?", reverse_question="Will you not?",
                       options=YES_NO.options,
                       paraphrases=("Do you plan to?",))
    elicitation = Elicitation("option_tokens", balanced=True, wordings="all")
    forward = [np.array([0.8, 0.2]), np.array([0.6, 0.4])]
    reverse = [np.array([0.3, 0.7])]  # "No" to "will you not" stands for "Yes"
    probability, _ = elicitation.combine(worded, forward + reverse)
    forward_logit = (logit(0.8) + logit(0.6)) / 2
    assert probability == pytest.approx(1 / (1 + np.exp(-(forward_logit + logit(0.7)) / 2)))
    assert "wordings: 'some'" in Elicitation("cloze", wordings="some").problems()[0]
    assert Elicitation("option_tokens", wordings="all").label == "option_tokens+all_wordings"
