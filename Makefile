# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test install install-test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

install: $(PY)
	$(PY) -m pip install -q -e '.[keras]'

install-test: $(PY)
	$(PY) -m pip install -q -e '.[test]'

run: install
	@echo "evalcore: serving on http://localhost:$(PORT)"
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

test: install-test
	$(PY) -m pytest

bench: install-test
	$(PY) benchmarks/bench_curves.py

clean:
	rm -rf $(VENV) build *.egg-info
