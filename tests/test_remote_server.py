"""The litellm engine over HTTP against a real llama.cpp server on 127.0.0.1 (slow).

The server is llama-cpp-python's own OpenAI-compatible server with the embedded GGUF model.
Its text-completions endpoint returns the log-probabilities of the first generated token, so
the ``litellm:`` engine (``api: auto``) reads the same distribution over the options that the
in-process ``local`` engine computes from its logits: equal within 1e-4 when the server
evaluates the prompt from scratch.

Why not always: the server keeps the previous request's key-value cache and evaluates only
the tokens after the longest shared prefix, in a short batch that starts wherever the prefix
ends. llama.cpp's CPU kernels compute a row along a path that depends on where it falls in its
batch (see simulator/cognition/local.py, which aligns its batches for this reason), so a prompt
evaluated after a related one can differ from the same prompt evaluated from scratch: by up to
0.05 in probability for Gemma 3 270M here. Every prompt starts with the same BOS token, so
only a server's first request is evaluated from scratch: the exact comparison asks each
question of a freshly started server; the batch comparison checks a looser bound and reports
the largest difference.
"""

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from helpers import MOBILITY, request
from simulator.cognition import make_engine
from simulator.sources.indicators import OXCGRT_INDICATORS

pytest.importorskip("llama_cpp")
pytest.importorskip("uvicorn")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def llama_server(log_dir):
    """A llama-cpp-python server with the packaged model on a free port of 127.0.0.1."""
    from simulator.cognition.packaged_model import packaged_model_path

    port = free_port()
    log = log_dir / f"server-{port}.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_model_path()),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
               "--model_alias", "gemma", "--seed", "0"]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


REQUESTS = [request({"c6_stay_at_home_requirements": 3}, new_cases_per_100k=40.0),
            request({}, new_cases_per_100k=0.5, temperature_f=75.0)]


def engines(server, tmp_path, **options):
    # llama-cpp-python's server answers one request at a time (a new request interrupts the
    # one in progress unless it runs with --interrupt_requests false): one call in flight.
    remote = make_engine("litellm:openai/gemma",
                         {"api_base": server, "concurrency": 1, **options},
                         OXCGRT_INDICATORS, tmp_path / "remote.sqlite")
    local = make_engine("local", options, OXCGRT_INDICATORS, tmp_path / "local.sqlite")
    return remote, local


@pytest.mark.slow
@pytest.mark.parametrize("case", [(0, 0, "cloze"), (0, 5, "option_tokens"), (1, 2, "cloze")])
def test_over_http_the_answers_equal_the_local_engines(case, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "not-needed-by-a-local-server")
    single = dataclasses.replace(REQUESTS[case[0]], behaviours=(MOBILITY[case[1]],))
    with llama_server(tmp_path) as server:
        remote, local = engines(server, tmp_path, balanced=False, elicitation=case[2])
        try:
            over_http = remote.decide([single])
            in_process = local.decide([single])
        finally:
            remote.close()
            local.close()
    assert not over_http.failed.any() and remote.stats.llm_calls == 1
    assert remote.describe()["api"] == "text" and remote.describe()["reading"] == "logprobs"
    np.testing.assert_allclose(over_http.distributions[0][0], in_process.distributions[0][0],
                               atol=1e-4)


@pytest.mark.slow
def test_a_batch_over_http_agrees_within_the_servers_prefix_reuse(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "not-needed-by-a-local-server")
    with llama_server(tmp_path) as server:
        remote, local = engines(server, tmp_path)
        try:
            over_http = remote.decide(REQUESTS)
            in_process = local.decide(REQUESTS)
        finally:
            remote.close()
            local.close()
    assert not over_http.failed.any()
    assert remote.stats.llm_calls == len(REQUESTS) * len(MOBILITY)
    difference = np.abs(over_http.probabilities - in_process.probabilities).max()
    with capsys.disabled():
        print(f"\nlargest difference server (prefix reuse) vs local: {difference:.4f}")
    assert difference < 0.05
