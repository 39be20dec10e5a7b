# Two commands for a new user: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DETECT := $(VENV)/bin/detect
SAMPLE := data/sample/panel.csv

.PHONY: demo test venv test-venv sample bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed
test-venv: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(DETECT) run $(SAMPLE) --out reports/sample
	@echo "report: reports/sample/report.pdf"

test: $(VENV)/.installed-test
	$(PY) -m pytest -n 2 --nbmake-timeout=120 tests notebooks/*.ipynb

sample: $(VENV)/.installed
	$(PY) -m detect.data.synthetic --out data/sample

bench: $(VENV)/.installed-test
	$(PY) benchmarks/quality.py reports/sample

clean:
	rm -rf $(VENV) reports/sample
