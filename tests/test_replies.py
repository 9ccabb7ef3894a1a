import math

import numpy as np
import pytest

from simulator.cognition.replies import (
    ElicitationError,
    first_token_logprobs,
    option_numbers,
    parse_verbalised,
    token_distribution,
)

LABELS = ("No, not at all", "Unlikely", "Maybe", "Likely", "Yes, as usual")


def test_token_distribution_keeps_option_digits_and_renormalises():
    top = [("3", math.log(0.5)), (" 3", math.log(0.1)), ("4", math.log(0.2)),
           ("Maybe", math.log(0.15)), ("7", math.log(0.05))]
    np.testing.assert_allclose(token_distribution(top, option_numbers(5)), [0, 0, 0.75, 0.25, 0])


def test_token_distribution_without_option_digit_is_none():
    assert token_distribution([("Yes", -0.1), ("No", -2.0), ("0", -3.0)], option_numbers(5)) is None
    assert token_distribution([], option_numbers(5)) is None


def test_token_distribution_survives_very_small_logprobs():
    distribution = token_distribution([("1", -900.0), ("2", -901.0)], option_numbers(2))
    np.testing.assert_allclose(distribution,
                               [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1))])


def test_option_texts_are_read_from_their_first_token():
    top = [(" Yes", -0.2), ("Yes", -3.0), (" No", -1.9), (" Maybe", -0.5)]
    distribution = token_distribution(top, (" Yes", " No"))
    yes = np.logaddexp(-0.2, -3.0)
    np.testing.assert_allclose(distribution, np.exp([yes, -1.9]) / np.exp([yes, -1.9]).sum())
    exact = token_distribution(top, (" Yes", " No"), exact=True)
    np.testing.assert_allclose(exact, np.exp([-0.2, -1.9]) / np.exp([-0.2, -1.9]).sum())


def test_token_distribution_refuses_two_digit_options():
    with pytest.raises(ValueError, match="one token"):
        option_numbers(10)


def test_first_token_logprobs_reads_chat_and_legacy_formats():
    chat = {"content": [{"token": "2", "logprob": -0.2,
                         "top_logprobs": [{"token": "2", "logprob": -0.2},
                                          {"token": "3", "logprob": -1.8}]}]}
    assert first_token_logprobs(chat) == [("2", -0.2), ("3", -1.8)]
    legacy = {"tokens": ["2"], "top_logprobs": [{"2": -0.2, " 3": -1.8}]}
    assert first_token_logprobs(legacy) == [("2", -0.2), (" 3", -1.8)]
    assert first_token_logprobs(None) is None
    assert first_token_logprobs({"content": [{"token": "2", "logprob": -0.2,
                                              "top_logprobs": []}]}) is None


def test_plain_json_is_read_without_repair():
    parsed = parse_verbalised('{"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.3, "5": 0.1}', LABELS)
    np.testing.assert_allclose(parsed.distribution, [0.1, 0.2, 0.3, 0.3, 0.1])
    assert not parsed.repaired


def test_rounding_is_not_a_repair():
    parsed = parse_verbalised('{"1": 0.2, "2": 0.2, "3": 0.2, "4": 0.2, "5": 0.19}', LABELS)
    assert not parsed.repaired
    assert parsed.distribution.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("text", [
    'Sure! Here is my answer:\n```json\n{"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.3, "5": 0.1}\n```',
    '{"1": "10%", "2": "20%", "3": "30%", "4": "30%", "5": "10%"}',
    '{"1": 10, "2": 20, "3": 30, "4": 30, "5": 10}',
    '{"No, not at all": 0.1, "unlikely": 0.2, "Maybe": 0.3, "Likely": 0.3, '
    '"Yes,  as usual": 0.1}',
    '{"1. No, not at all": 0.1, "2. Unlikely": 0.2, "3. Maybe": 0.3, "4. Likely": 0.3, '
    '"5. Yes, as usual": 0.1}',
    "{'1': 0.1, '2': 0.2, '3': 0.3, '4': 0.3, '5': 0.1,}",
    '{"probabilities": {"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.3, "5": 0.1}}',
    '{"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.28, "5": 0.1}',
])
def test_unambiguous_outputs_are_repaired(text):
    parsed = parse_verbalised(text, LABELS)
    assert parsed.repaired
    assert parsed.distribution.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(parsed.distribution, [0.1, 0.2, 0.3, 0.3, 0.1], atol=0.015)


@pytest.mark.parametrize(("text", "problem"), [
    ("I would probably go, maybe.", "no JSON object"),
    ('{"1": 0.1, "2": 0.2, "3": 0.3', "no JSON object"),
    ('{"1": 0.1 "2": 0.9}', "not valid JSON"),
    ('{"1": 0.5} or maybe {"2": 0.5}', "not valid JSON"),
    ('{"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.3, "6": 0.1}', "unknown option '6'"),
    ('{"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.4}', "missing option"),
    ('{"1": 0.1, "1": 0.2, "3": 0.3, "4": 0.3, "5": 0.1}', "repeated"),
    ('{"1": 0.1, "Unlikely": 0.2, "2": 0.3, "4": 0.3, "5": 0.1}', "given twice"),
    ('{"1": -0.1, "2": 0.3, "3": 0.3, "4": 0.4, "5": 0.1}', "non-negative"),
    ('{"1": NaN, "2": 0.3, "3": 0.3, "4": 0.3, "5": 0.1}', "finite"),
    ('{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}', "zero"),
    ('{"1": 0.1, "2": 0.1, "3": 0.1, "4": 0.1, "5": 0.1}', "sum to 0.5"),
    ('{"1": "a lot", "2": 0.3, "3": 0.3, "4": 0.3, "5": 0.1}', "not a number"),
    ('{"1": true, "2": 0.3, "3": 0.3, "4": 0.3, "5": 0.1}', "not a number"),
    ('{"1": null, "2": 0.3, "3": 0.3, "4": 0.3, "5": 0.1}', "not a number"),
])
def test_ambiguous_or_invalid_outputs_are_rejected(text, problem):
    with pytest.raises(ElicitationError, match=problem):
        parse_verbalised(text, LABELS)


def test_option_numbers_take_precedence_over_numeric_labels():
    parsed = parse_verbalised('{"1": 0.7, "2": 0.3}', ("2", "1"))
    np.testing.assert_allclose(parsed.distribution, [0.7, 0.3])
