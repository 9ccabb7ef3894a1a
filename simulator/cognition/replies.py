"""Replies: turn a model's raw output into a distribution over a question's options.

Two readings, both pure functions. Token probabilities: the top log-probabilities of the first
generated token, restricted to the tokens that name the options (their numbers, or the first
token of each option text) and renormalised. Verbalised JSON: an object
such as ``{"1": 0.2, "2": 0.8}`` written by the model, validated against the options and repaired
only when the intent is unambiguous (prose or code fences around it, option labels as keys,
percentages, a sum a little off 1); anything else is rejected with :class:`ElicitationError`, so
that a bad answer is retried or counted as failed, never read as zeros.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_TOKEN_OPTIONS = 9
"""Questions with more options cannot be read from one token ("1" would also start "10")."""

ROUNDING = 0.01
"""Probabilities summing to within this of 1 are only rounded: renormalised, not repaired."""

SUM_TOLERANCE = 0.05
"""Relative distance from 1 (or 100) within which a sum is renormalised as a repair."""

_OPTION_KEY = re.compile(r"(?:option\s*)?(\d+)\s*[.):]?(?:\s+(.*))?")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class ElicitationError(ValueError):
    """The model's output is not a distribution over the question's options."""


@dataclass(frozen=True)
class ParsedDistribution:
    """A verbalised distribution that passed validation.

    Attributes:
        distribution: probabilities of shape (n_options,), summing to 1.
        repaired: the output needed an unambiguous repair to be read.
    """

    distribution: np.ndarray
    repaired: bool


def first_token_logprobs(logprobs: Any) -> list[tuple[str, float]] | None:
    """The top alternatives of the first generated token, from a response choice's ``logprobs``.

    Reads the chat format (``content[0].top_logprobs``, a list of ``{token, logprob}``) and the
    legacy completions format (``top_logprobs[0]``, a mapping token -> logprob), as objects or
    dicts.

    Args:
        logprobs: the ``logprobs`` field of the first choice of a completion response.

    Returns:
        (token, logprob) pairs, or ``None`` when the response carries no top log-probabilities.
    """
    if not logprobs:
        return None
    content = _field(logprobs, "content")
    if content:
        top = _field(content[0], "top_logprobs") or []
        pairs = [(_field(t, "token"), _field(t, "logprob")) for t in top]
    else:
        legacy = _field(logprobs, "top_logprobs")
        pairs = list(legacy[0].items()) if legacy and isinstance(legacy[0], Mapping) else []
    pairs = [(str(token), float(lp)) for token, lp in pairs if token is not None and lp is not None]
    return pairs or None


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def option_numbers(n_options: int) -> tuple[str, ...]:
    """The tokens that name numbered options: ``"1".."n"``.

    Raises:
        ValueError: more options than a single token can name.
    """
    if n_options > MAX_TOKEN_OPTIONS:
        raise ValueError(f"{n_options} options cannot be read from one token "
                         f"(at most {MAX_TOKEN_OPTIONS})")
    return tuple(str(i) for i in range(1, n_options + 1))


def token_distribution(top_logprobs: Iterable[tuple[str, float]],
                       targets: Sequence[str], exact: bool = False) -> np.ndarray | None:
    """Distribution over options from the top log-probabilities of the first generated token.

    Tokens that name an option are kept, the others dropped, and the kept probabilities
    renormalised (a softmax over the options' log-probabilities). Options absent from the top
    alternatives get probability 0.

    Args:
        top_logprobs: (token, logprob) pairs of the first generated token.
        targets: the token naming each option, in option order (see :func:`option_numbers`).
        exact: compare tokens exactly, as the continuation of a raw prompt is scored (text
            completions); otherwise compare them without surrounding whitespace, so that
            ``"3"`` and ``" 3"`` add up (a chat reply starts without the space).

    Returns:
        Array of shape (len(targets),) summing to 1, or ``None`` if no option is among the
        tokens.
    """
    def key(text: str) -> str:
        return text if exact else text.strip()

    index_of = {key(target): i for i, target in enumerate(targets)}
    logits = np.full(len(targets), -np.inf)
    for token, logprob in top_logprobs:
        index = index_of.get(key(token))
        if index is not None and not math.isnan(logprob):
            logits[index] = np.logaddexp(logits[index], logprob)
    if not np.isfinite(logits.max()):
        return None
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def parse_verbalised(text: str, labels: Sequence[str]) -> ParsedDistribution:
    """Read a verbalised distribution such as ``{"1": 0.2, "2": 0.8}``.

    Accepted with a repair: prose or code fences around the object, single quotes or a trailing
    comma, one wrapping key (``{"probabilities": {...}}``), option labels (or
    ``"2. Label"``) as keys, numbers written as strings or percentages, values summing to
    about 1 or about 100. Rejected: no object, unknown, repeated or missing options, values that
    are not finite non-negative numbers, all zeros, any other sum.

    Args:
        text: the model's reply.
        labels: the option labels in order (the model answers with their numbers ``1..n``).

    Returns:
        The distribution and whether it needed a repair.

    Raises:
        ElicitationError: the reply is not a distribution over the options.
    """
    obj, repaired = _json_object(text)
    if len(obj) == 1:
        (inner,) = obj.values()
        if isinstance(inner, Mapping):
            obj, repaired = inner, True
    weights, relabelled = _option_weights(obj, labels)
    distribution, rescaled = _normalise(weights)
    return ParsedDistribution(distribution, repaired or relabelled or rescaled)


def _json_object(text: str) -> tuple[Mapping, bool]:
    """The object in a reply, and whether anything around or inside it had to be repaired."""
    text = text.strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ElicitationError(f"no JSON object in the reply {_excerpt(text)}")
    body = text[start:end + 1]
    loosened = _TRAILING_COMMA.sub(r"\1", body.replace("'", '"'))
    for candidate, repaired in ((body, body != text), (loosened, True)):
        try:
            return json.loads(candidate, object_pairs_hook=_unique_keys), repaired
        except json.JSONDecodeError:
            continue
    raise ElicitationError(f"not valid JSON: {_excerpt(body)}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members; a repeated key makes the object ambiguous."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ElicitationError(f"a key is repeated in {keys}")
    return dict(pairs)


def _option_weights(obj: Mapping, labels: Sequence[str]) -> tuple[np.ndarray, bool]:
    """One weight per option, in option order, and whether keys or values needed a repair."""
    weights: list[float | None] = [None] * len(labels)
    repaired = False
    for key, value in obj.items():
        index, renamed = _option_index(key, labels)
        if weights[index] is not None:
            raise ElicitationError(f"option {index + 1} is given twice")
        weights[index], converted = _number(key, value)
        repaired = repaired or renamed or converted
    missing = [str(i + 1) for i, w in enumerate(weights) if w is None]
    if missing:
        raise ElicitationError(f"missing option(s) {', '.join(missing)} "
                               f"(expected keys 1..{len(labels)})")
    return np.array(weights, dtype=float), repaired


def _option_index(key: Any, labels: Sequence[str]) -> tuple[int, bool]:
    """Index of the option a key names, and whether the key was not the plain option number."""
    text = " ".join(str(key).split()).casefold()
    folded = [" ".join(label.split()).casefold() for label in labels]
    match = _OPTION_KEY.fullmatch(text)
    if match:
        index, rest = int(match.group(1)) - 1, match.group(2)
        if 0 <= index < len(labels) and (rest is None or rest == folded[index]):
            return index, text != str(index + 1)
    if folded.count(text) == 1:
        return folded.index(text), True
    raise ElicitationError(f"unknown option {str(key)!r} (expected keys 1..{len(labels)})")


def _number(key: Any, value: Any) -> tuple[float, bool]:
    """A probability value as a float, and whether it had to be converted from a string."""
    converted = isinstance(value, str)
    if converted:
        text = value.strip()
        scale = 100.0 if text.endswith("%") else 1.0
        try:
            value = float(text.removesuffix("%")) / scale
        except ValueError:
            raise ElicitationError(f"option {key}: {value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ElicitationError(f"option {key}: {value!r} is not a number")
    if not math.isfinite(value) or value < 0:
        raise ElicitationError(f"option {key}: {value!r} is not a finite non-negative number")
    return float(value), converted


def _normalise(weights: np.ndarray) -> tuple[np.ndarray, bool]:
    """Weights divided by their sum, and whether the sum was off 1 by more than rounding."""
    total = float(weights.sum())
    if total == 0:
        raise ElicitationError("all probabilities are zero")
    if round(abs(total - 1), 9) <= ROUNDING:
        return weights / total, False
    if abs(total - 1) <= SUM_TOLERANCE or abs(total - 100) <= 100 * SUM_TOLERANCE:
        return weights / total, True
    raise ElicitationError(f"probabilities sum to {total:g}, not 1 (or 100%)")


def _excerpt(text: str, size: int = 80) -> str:
    return repr(text if len(text) <= size else text[:size] + "...")
