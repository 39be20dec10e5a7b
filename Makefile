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

NOTEBOOKS := $(wildcard notebooks/*.py)
NB_BUILD  := build/notebooks

test: $(VENV)/.installed-test
	rm -rf $(NB_BUILD) && mkdir -p $(NB_BUILD)
	for nb in $(NOTEBOOKS); do $(VENV)/bin/jupytext --quiet --to ipynb --output $(NB_BUILD)/$$(basename $$nb .py).ipynb $$nb || exit 1; done
	$(PY) -m pytest -n 2 --nbmake --nbmake-timeout=60 tests $(NB_BUILD)

sample: $(VENV)/.installed
	$(PY) -m detect.data.synthetic --out data/sample

bench: $(VENV)/.installed-test
	$(PY) benchmarks/quality.py reports/sample

clean:
	rm -rf $(VENV) reports/sample
