# socialtwin: two commands do all the set-up.
#   make run   create .venv, install, run the COVID-19 case study on the embedded LLM
#   make test  install what the tests need and run the whole suite (slow tests included; a bare
#              `pytest` runs the fast tier only)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared/data

# llama.cpp is compiled from source by pip: a portable build (a native one dies with SIGILL on
# CPUs that lack instructions of the build machine) of the text library only: the project never
# loads the multimodal library (LLAVA_BUILD, llama.cpp's mtmd), llama.cpp's tests, tools,
# examples or server binaries (the server extra is Python), nor fetches anything through it
# (LLAMA_OPENSSL). No network at run time: litellm reads its bundled model cost map.
export CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
	-DLLAMA_OPENSSL=OFF
export LITELLM_LOCAL_MODEL_COST_MAP := True
export RAY_AUTH_MODE ?= disabled
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: run test tables bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[llm]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/socialtwin run scenarios/covid_us_2020.yaml --out runs/covid_us_2020 --overwrite

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -m ""

tables: $(VENV)/.run-installed
	$(BIN)/socialtwin data build-tables --from $(SHARED)

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_llm.py
	$(BIN)/python benchmarks/bench_accuracy.py
	$(BIN)/python benchmarks/bench_evaluate_world.py
	$(BIN)/python benchmarks/bench_sweep.py

clean:
	rm -rf $(VENV) runs .pytest_cache
