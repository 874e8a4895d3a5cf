# Two commands do all set-up from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Use the machine's local wheel directory when it has one (the CPU torch build lives there).
PIP_FLAGS := -q $(if $(wildcard /opt/wheels),--find-links /opt/wheels)

.PHONY: demo test lint bench bench-serving clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) torch==2.13.0
	$(BIN)/pip install $(PIP_FLAGS) -e '.[dev]'
	$(BIN)/pip check
	touch $@

demo: $(STAMP)             # the whole lifecycle on an embedded AWS (moto): plan, train, register, approve, deploy, invoke
	$(BIN)/python -m platform_lib.demo

test: $(STAMP)
	$(BIN)/pytest -n 2

lint: $(STAMP)             # ruff (style, import order, bugbear) and mypy (with the pydantic plugin)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)            # offline plan: wall time, overhead vs bare SDK, scaling
	$(BIN)/python benchmarks/plan.py

bench-serving: $(STAMP)    # serving vs TorchServe (needs wrk: apt-get install -y wrk)
	$(BIN)/python benchmarks/serving.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
