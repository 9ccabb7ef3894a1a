"""``socialtwin run`` in a child process whose model calls are logged, and can be frozen.

Usage: ``python logged_run.py LOG FREEZE_AT ARGS...``. Every answered call appends a line
``done <id>`` to LOG (the id identifies the question: a hash of its prompt). With FREEZE_AT > 0,
the FREEZE_AT-th call and every call after it never return (the line ``frozen`` is written): the
process then stands as a run killed in the middle of a call, with every earlier answer already
handed to the engine. Calls already under way when the freeze comes still finish; once the last
of them has, the line ``settled`` is written, and from then on no answer arrives. The engine is
whatever ARGS name: ``--engine local`` logs the embedded model's evaluations;
``--engine litellm:scripted/m`` answers through a litellm provider in this process, with a short
delay per call so that calls overlap.
"""

import asyncio
import hashlib
import json
import math
import os
import sys
import threading
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

LOG = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 - open for the life of the process
FREEZE_AT = int(sys.argv[2])
ARGS = sys.argv[3:]
_lock = threading.Lock()
_calls = 0
_under_way = 0


def _next_call() -> bool:
    """Count a call; whether it must freeze."""
    global _calls, _under_way
    with _lock:
        _calls += 1
        frozen = bool(FREEZE_AT) and _calls >= FREEZE_AT
        if not frozen:
            _under_way += 1
        elif _calls == FREEZE_AT:
            LOG.write("frozen\n")
            if not _under_way:
                LOG.write("settled\n")
        return frozen


def _done(identity: str) -> None:
    global _under_way
    with _lock:
        LOG.write(f"done {identity}\n")
        _under_way -= 1
        if FREEZE_AT and _calls >= FREEZE_AT and not _under_way:
            LOG.write("settled\n")


def _local() -> None:
    from simulator.cognition import local

    original = local.LocalModel.answer

    def answer(self, questions):
        answers = original(self, questions)
        for index, reply in answers:
            if _next_call():  # the answer was evaluated but never returns
                time.sleep(3600)
            _done(questions[index].key)
            yield index, reply

    local.LocalModel.answer = answer


def _litellm() -> None:
    import litellm
    from litellm import CustomLLM, ModelResponse

    class Provider(CustomLLM):
        async def acompletion(self, model, messages, optional_params, **kwargs):
            identity = hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:16]
            if _next_call():
                await asyncio.sleep(3600)
            await asyncio.sleep(0.02)
            yes = 0.2 + 0.6 * int(identity[:4], 16) / 0xFFFF
            # The first options' digits (option tokens) and texts (cloze), whichever is asked.
            top = [{"token": "1", "logprob": math.log(yes / 2)},
                   {"token": "2", "logprob": math.log((1 - yes) / 2)},
                   {"token": "Yes", "logprob": math.log(yes / 2)},
                   {"token": " No", "logprob": math.log((1 - yes) / 2)}]
            _done(identity)
            return ModelResponse(
                choices=[{"index": 0, "finish_reason": "length",
                          "message": {"role": "assistant", "content": "Yes"},
                          "logprobs": {"content": [{**top[0], "top_logprobs": top}]}}],
                usage={"prompt_tokens": 50, "completion_tokens": 1, "total_tokens": 51})

    litellm.custom_provider_map = [{"provider": "scripted", "custom_handler": Provider()}]


if __name__ == "__main__":
    _local() if "local" in ARGS else _litellm()
    from socialtwin.main import main

    sys.exit(main(ARGS))
