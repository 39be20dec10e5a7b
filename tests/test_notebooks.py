"""Static checks of the analyst notebooks (issue 9).

The notebooks themselves are executed by ``make test`` (jupytext -> build/notebooks/*.ipynb ->
pytest --nbmake, with nbmake's per-cell timeout and a per-notebook limit of 60 s from the root
conftest.py via pytest-timeout); these fast checks keep their sources in the committed,
diff-friendly form and on the public API.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.py"))
EXPECTED = ["01_quickstart", "02_digits", "03_series_and_panel", "04_debt", "05_followup"]

#: Imports of private modules or names of detect (a leading underscore after ``detect.``).
_PRIVATE = re.compile(r"^\s*(from\s+detect(\.\w+)*\._\w*|import\s+detect(\.\w+)*\._\w*"
                      r"|from\s+detect[\w.]*\s+import\s+.*\b_\w+)", re.M)


def test_the_five_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_jupytext_percent(path):
    jupytext = pytest.importorskip("jupytext")
    text = path.read_text(encoding="utf-8")
    header = text.split("# ---", 2)[1] if text.startswith("# ---") else ""
    assert "formats: py:percent" in header, "the jupytext header must pin formats: py:percent"
    nb = jupytext.reads(text, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown", "a notebook opens with a markdown cell saying what it does"
    assert kinds.count("code") >= 5 and kinds.count("markdown") >= 5
    # a round trip through ipynb gives the same source: the committed file is the canonical form
    assert jupytext.writes(jupytext.reads(jupytext.writes(nb, fmt="ipynb"), fmt="ipynb"), fmt="py:percent") \
        == jupytext.writes(nb, fmt="py:percent")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_only_the_public_api(path):
    hits = [m.group(0).strip() for m in _PRIVATE.finditer(path.read_text(encoding="utf-8"))]
    assert not hits, f"private imports: {hits}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_writes_only_to_a_temporary_folder(path):
    text = path.read_text(encoding="utf-8")
    writes = re.findall(r"write_run\(|render_result\(|render_run\(|export_xlsx\(|Register\(|\.save\(|--out", text)
    if writes:
        assert "tempfile.mkdtemp" in text, "a notebook that writes files must write them to a temporary folder"
    writers = re.compile(r"write_run|render_result|render_run|export_xlsx|Register\(|to_csv|to_excel|to_parquet|"
                         r"mkdir|write_text|write_bytes|\.save\(|open\(.*[\"']w")
    into_repo = [line.strip() for line in text.splitlines() if "REPO" in line and writers.search(line)]
    assert not into_repo, f"writes into the repository: {into_repo}"


def test_make_test_runs_the_notebooks_with_a_timeout():
    make = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "jupytext" in make and "notebooks/*.py" in make
    m = re.search(r"--nbmake-timeout=(\d+)", make)
    assert m and int(m.group(1)) <= 60      # per cell (nbmake)


def _root_conftest():
    spec = importlib.util.spec_from_file_location("detect_root_conftest", REPO / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Plugins:
    def __init__(self, names):
        self.names = set(names)

    def hasplugin(self, name):
        return name in self.names


class _Item:
    def __init__(self, path):
        self.path = Path(path)
        self.markers = []

    def add_marker(self, marker):
        self.markers.append(marker)


def test_each_notebook_as_a_whole_has_a_60_second_limit(monkeypatch):
    """The root conftest marks every .ipynb item (and nothing else) with pytest-timeout's 60 s."""
    monkeypatch.delenv("DETECT_NOTEBOOK_TIMEOUT", raising=False)
    conftest = _root_conftest()
    assert conftest.NOTEBOOK_TIMEOUT == 60
    config = type("Config", (), {"pluginmanager": _Plugins(["timeout"])})()
    notebook, unit = _Item("build/notebooks/01_quickstart.ipynb"), _Item("tests/test_config.py")
    conftest.pytest_collection_modifyitems(config, [notebook, unit])
    assert [(m.name, m.args) for m in notebook.markers] == [("timeout", (60.0,))]
    assert unit.markers == []
    # without pytest-timeout the limit would silently not apply: that is a usage error instead
    config.pluginmanager = _Plugins([])
    with pytest.raises(pytest.UsageError, match="pytest-timeout"):
        conftest.pytest_collection_modifyitems(config, [_Item("build/notebooks/02_digits.ipynb")])
    assert "pytest-timeout" in (REPO / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_digits_notebook_falls_back_to_the_public_domain_census(tmp_path, monkeypatch):
    """02_digits without ../shared/data: census from data/benford (public domain), payments skipped.

    The notebook's first-digit test on the census is checked against Benford's law computed here from
    the shipped CSV (first digit of each population; MAD = mean |observed - log10(1 + 1/d)|).
    """
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    import json

    import numpy as np
    import pandas as pd

    census_csv = REPO / "data" / "benford" / "census2009_pop.csv"
    census = pd.read_csv(census_csv)
    assert list(census.columns) == ["state", "town", "pop.2009"] and len(census) == 19509
    assert (REPO / "data" / "benford" / "SOURCE.md").is_file()

    (tmp_path / "benford").mkdir()                       # an empty reference folder: forces the fallback
    monkeypatch.setenv("DETECT_SHARED_DATA", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = jupytext.read(REPO / "notebooks" / "02_digits.py")
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json\n"
        "print('RESULT=' + json.dumps({'source': SOURCE, 'census_file': str(CENSUS_FILE), "
        "'payments': payments is not None, 'n': int(pop_first.n), 'mad': float(pop_first.mad), "
        "'observed': [float(x) for x in pop_first.table['observed']]}))"))
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()

    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "skipped: no corporate payments" in text
    got = json.loads(text.split("RESULT=", 1)[1].splitlines()[0])
    assert got["source"] == "fallback" and not got["payments"]
    assert Path(got["census_file"]).resolve() == census_csv.resolve()

    pop = census["pop.2009"].to_numpy()
    assert (pop >= 1).all()
    first = np.array([int(str(int(v))[0]) for v in pop])
    observed = np.array([(first == d).mean() for d in range(1, 10)])
    expected = np.log10(1 + 1 / np.arange(1, 10))
    assert got["n"] == 19509
    np.testing.assert_allclose(got["observed"], observed, rtol=0, atol=1e-12)
    assert got["mad"] == pytest.approx(np.abs(observed - expected).mean(), abs=1e-12)
