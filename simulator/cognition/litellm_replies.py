"""What a litellm call is asked and what is read from its reply, apart from the calls themselves.

The system instruction of a call read through its first token, the prompt asking for a JSON
distribution, the text of a chat or text completion, and the :class:`Answer` with the tokens and
cost of every call it took.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.cognition.language_model import Answer, Question
from simulator.cognition.prompts import CLOZE_SUFFIX, JSON_SUFFIX, TOKEN_SUFFIX, numbered


def token_instruction(question: Question) -> str:
    """System message of a chat call read through its first token."""
    if question.method == "option_tokens":
        return "Answer with the number of one option only."
    return "Answer with one of: " + ", ".join(question.labels) + "."


def verbalised_prompt(question: Question) -> str:
    """The question asking for a JSON distribution over its numbered options."""
    if question.method == "verbalised_json":
        return question.prompt
    body = question.prompt.removesuffix(TOKEN_SUFFIX).removesuffix(CLOZE_SUFFIX)
    if question.method == "cloze":
        body += numbered(question.labels)
    return body + JSON_SUFFIX


def reply_text(response: Any) -> str:
    """The text of a chat or text completion."""
    choice = response.choices[0]
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None) if message is not None else None
    return text if text is not None else (getattr(choice, "text", None) or "")


def closed_reply(text: str) -> str:
    """A reply cut at a stop sequence, with the braces it opened closed again."""
    opened = text.count("{") - text.count("}")
    return text + "}" * max(opened, 0)


def answer_of(responses: Sequence[Any], distribution: np.ndarray | None, repaired: bool = False,
            error: str | None = None, retries: int = 0) -> Answer:
    """An answer with the tokens and cost of every call it took (cost ``None`` if unknown)."""
    costs = [getattr(r, "_hidden_params", {}).get("response_cost") for r in responses]
    usages = [getattr(r, "usage", None) for r in responses]
    return Answer(
        distribution=distribution,
        tokens_in=sum(getattr(u, "prompt_tokens", 0) or 0 for u in usages),
        tokens_out=sum(getattr(u, "completion_tokens", 0) or 0 for u in usages),
        cost_usd=None if None in costs else float(sum(costs)),
        repaired=repaired,
        error=error,
        retries=retries,
    )
