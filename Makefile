# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# the app listens on this machine only; HOST=0.0.0.0 shares it on the network (README)
HOST   ?= 127.0.0.1
# the browser tests drive Debian's chromium at this path (tests/e2e/conftest.py; Playwright
# cannot download its own browsers here)
CHROMIUM := /usr/bin/chromium
# apt-get as root; through sudo only when not root and sudo exists
SUDO   := $(shell if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then echo sudo; fi)

.PHONY: run test install install-test chromium java bench bench-browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

install: $(PY)
	$(PY) -m pip install -q -e '.[keras]'

install-test: $(PY)
	$(PY) -m pip install -q -e '.[test]'

run: install
	@echo "evalcore: serving on http://$(HOST):$(PORT)"
	$(VENV)/bin/streamlit run app.py --server.address $(HOST) --server.port $(PORT) --server.headless true

test: install-test chromium java
	$(PY) -m pytest

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium for the browser tests (tests/e2e)"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# the Spark engine's tests run a real local Spark session: Java 17 (Debian's headless JRE)
java:
	@if ! command -v java >/dev/null 2>&1 && [ -z "$$JAVA_HOME" ]; then \
		echo "installing Debian's openjdk-17-jre-headless for the Spark tests"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y openjdk-17-jre-headless; \
	fi

bench: install-test
	$(PY) benchmarks/bench_curves.py
	$(PY) benchmarks/bench_io.py
	$(PY) benchmarks/bench_app.py
	$(PY) benchmarks/bench_stats.py
	$(PY) benchmarks/bench_calibration.py

bench-browser: install-test chromium
	$(PY) benchmarks/bench_browser.py

clean:
	rm -rf $(VENV) build *.egg-info
