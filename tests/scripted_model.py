"""A language model for tests: answers from the prompt's text, records what it was asked."""

import numpy as np

from simulator.cognition.language_model import Answer, LanguageModel


class ScriptedModel(LanguageModel):
    """Answers every question from its text, deterministically.

    The first option gets probability ``yes`` and the rest share the remainder. For a question
    about going out, ``yes`` falls with each word of ``restrictive`` in the situation line and
    rises with "warm"; a question about staying away or at home gets ``1 - yes``, so balanced
    keying sees a consistent model. Questions whose prompt contains ``fail`` get no answer.
    """

    engine = "scripted"
    model = "scripted-1"

    def __init__(self, restrictive=("close", "must", "cancelled", "banned", "many"),
                 fail="fail", stop_after=None):
        self.restrictive = restrictive
        self.fail = fail
        self.stop_after = stop_after
        self.asked = []

    def yes(self, prompt):
        lines = prompt.splitlines()
        situation = next((x for x in lines if x.startswith("Situation this week:")), "").lower()
        question = next((x for x in lines if x.startswith("Question:")), "")
        logit = 1.0 - 0.3 * sum(situation.count(w) for w in self.restrictive)
        logit += 0.5 * situation.count("warm")
        if "stay away" in question or "stay at home" in question:
            logit = -logit
        return 1.0 / (1.0 + np.exp(-logit))

    def answer(self, questions):
        for index, question in enumerate(questions):
            if self.stop_after is not None and len(self.asked) >= self.stop_after:
                raise RuntimeError("the provider stopped")
            self.asked.append(question)
            if self.fail and self.fail in question.prompt:
                yield index, Answer(None, tokens_in=3, error="unreadable")
                continue
            n = len(question.options)
            yes = self.yes(question.prompt)
            distribution = np.r_[yes, np.full(n - 1, (1 - yes) / (n - 1))]
            yield index, Answer(distribution, tokens_in=len(question.prompt), cost_usd=0.01)
