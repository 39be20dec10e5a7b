"""The command line: exit codes, messages without tracebacks, outputs of a run, determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from detect.cli import main
from detect.findings import FINDING_COLUMNS, REGION_COLUMNS


def _panel_csv(tmp_path, n_regions=30, years=range(2006, 2021), bump=None):
    import numpy as np

    rng = np.random.default_rng(3)
    rows = []
    for r in range(n_regions):
        lvl = 100.0 * (r + 1)
        for y in years:
            lvl *= np.exp(0.07 + rng.normal(0, 0.02))
            v = lvl * (1.6 if bump and r == 0 and y in bump else 1.0)
            rows.append((f"9{r:05d}", f"地区{r}", "", "gdp", str(y), f"{v:.2f}", "亿元"))
    df = pd.DataFrame(rows, columns=["region_code", "region_name", "parent_code", "indicator", "period", "value", "unit"])
    p = tmp_path / "panel.csv"
    df.to_csv(p, index=False)
    return p


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert "detect" in capsys.readouterr().out


def test_run_writes_contract_files(tmp_path, capsys):
    p = _panel_csv(tmp_path, bump={2012})
    out = tmp_path / "out"
    assert main(["run", str(p), "--out", str(out), "--quiet"]) == 0
    f = pd.read_csv(out / "findings.csv", dtype=str)
    assert tuple(f.columns) == FINDING_COLUMNS
    r = pd.read_csv(out / "regions.csv", dtype=str)
    assert tuple(r.columns) == REGION_COLUMNS
    m = json.loads((out / "manifest.json").read_text())
    assert m["rows_in"] == m["rows_used"] + m["rows_excluded"] == 30 * 15
    assert m["inputs"][0]["sha256"]
    assert (out / "exclusions.csv").read_text().startswith("file,row,column,raw_value,reason")
    # the planted jump and its correction are found for region 0
    assert ((f["region_code"] == "900000") & (f["period_start"] == "2012")).any()


def test_two_runs_byte_identical(tmp_path, monkeypatch):
    # two whole `detect run`s (same input, same register, report date fixed by SOURCE_DATE_EPOCH):
    # every output file, the PDF report and the Excel worklist included, is the same bytes
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    p = _panel_csv(tmp_path, bump={2012, 2013})
    for d in ("a", "b"):
        assert main(["run", str(p), "--out", str(tmp_path / d), "--quiet"]) == 0
    for name in ("findings.csv", "regions.csv", "exclusions.csv", "evidence.jsonl", "manifest.json",
                 "report.pdf", "worklist.xlsx"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_no_report_writes_the_tables_only(tmp_path):
    p = _panel_csv(tmp_path, bump={2012})
    out = tmp_path / "o"
    assert main(["run", str(p), "--out", str(out), "--quiet", "--no-register", "--no-report"]) == 0
    assert (out / "findings.csv").is_file() and (out / "manifest.json").is_file()
    assert not (out / "report.pdf").exists() and not (out / "worklist.xlsx").exists()


def test_fail_on_exit_1(tmp_path):
    p = _panel_csv(tmp_path, bump={2012})
    assert main(["run", str(p), "--out", str(tmp_path / "o"), "--quiet", "--fail-on", "low"]) == 1


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\x00\x01\x02garbage\xff" * 50, "binary"),
    (b"foo,bar\n1,2\n", "no recognisable columns"),
])
def test_bad_input_exit_2_no_traceback(tmp_path, capsys, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    assert main(["run", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_missing_path_exit_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_bad_config_exit_2(tmp_path, capsys):
    p = _panel_csv(tmp_path)
    cfg = tmp_path / "detect.toml"
    cfg.write_text("seeed = 3\n")
    assert main(["run", str(p), "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "unknown key" in capsys.readouterr().err


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run"])
    assert e.value.code == 2


def test_console_script_subprocess(tmp_path):
    """The installed entry point, as a user runs it: one line on stderr, exit 2."""
    r = subprocess.run([sys.executable, "-m", "detect.cli", "run", str(tmp_path / "none.csv")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "no such file" in r.stderr


def test_debug_shows_the_traceback_and_internal_errors_exit_3(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    # --debug: the error propagates (a traceback) instead of the one-line message
    from detect.exceptions import DetectError
    with pytest.raises(DetectError):
        main(["run", str(bad), "--out", str(tmp_path / "o"), "--debug"])
    # a bug inside a command: one line naming it, exit 3, no traceback
    import detect.pipeline

    def boom(*a, **k):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(detect.pipeline, "run", boom)
    p = _panel_csv(tmp_path)
    assert main(["run", str(p), "--out", str(tmp_path / "o2"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: planted" in err and "Traceback" not in err
    with pytest.raises(ZeroDivisionError):
        main(["run", str(p), "--out", str(tmp_path / "o3"), "--quiet", "--debug"])


def test_progress_bar_on_a_terminal_and_quiet(tmp_path):
    """The tqdm bar ("detectors") is drawn when stderr is a terminal; --quiet writes nothing to stderr."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    p = _panel_csv(tmp_path, n_regions=12)
    cmd = [sys.executable, "-m", "detect.cli", "run", str(p), "--out", str(tmp_path / "o"), "--no-register",
           "--no-report"]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a terminal has a width
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    import select
    import time

    chunks, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 4096)
        except OSError:           # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    if proc.poll() is None:
        proc.kill()
    assert proc.wait(timeout=120) == 0
    tty_err = b"".join(chunks).decode("utf-8", "replace")
    import re
    assert re.search(r"detectors:\s+\d+%\|.*\| \d+/\d+ \[", tty_err)   # "detectors:  50%|███  | 8/16 [..."
    assert "rows in" in tty_err
    quiet = subprocess.run(cmd + ["--quiet"], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""


# --- hostile command lines found by the CLI audit -----------------------------------------------------

def _small_csv(tmp_path):
    p = tmp_path / "small.csv"
    p.write_text("region_code,region_name,indicator,period,value\n110000,北京,gdp,2015,100\n"
                 "110000,北京,gdp,2016,110\n120000,天津,gdp,2015,90\n120000,天津,gdp,2016,95\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("toml, message", [
    ("thresholds = 5\n", "thresholds must be a table"),                  # was AttributeError, exit 3
    ("options = 5\n", "options must be a table"),                        # was AttributeError, exit 3
    ("[options]\ngrowth = 5\n", "[options.growth] must be a table"),
    ('detectors = "growth"\n', "detectors must be a list"),              # was "unknown detector 'g'"
    ("detectors = [1]\n", "detectors must be a list"),
    ('[options.grwoth]\npeers = "none"\n', "unknown detector 'grwoth' in [options.grwoth]"),  # was ignored
    ("[thresholds.scoring]\nreport_p = nan\n", "must be a finite number"),
    ("[thresholds.scoring]\nreport_p = true\n", "must be a number"),
])
def test_malformed_config_exit_2_one_line(tmp_path, capsys, toml, message):
    cfg = tmp_path / "detect.toml"
    cfg.write_text(toml, encoding="utf-8")
    out = tmp_path / "o"
    assert main(["run", str(_small_csv(tmp_path)), "--config", str(cfg), "--out", str(out), "--no-register"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err
    assert not out.exists()                                               # refused before any work


@pytest.mark.parametrize("make_out", ["file", "under_a_file", "empty"])
def test_output_dir_that_cannot_be_a_directory_exit_2(tmp_path, capsys, monkeypatch, make_out):
    # was FileExistsError / NotADirectoryError reported as an internal error (exit 3) after the whole run
    f = tmp_path / "afile"
    f.write_text("x")
    out = {"file": str(f), "under_a_file": str(f / "sub"), "empty": ""}[make_out]   # "": wrote into the cwd
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(_small_csv(tmp_path)), "--out", out, "--no-register", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert ("afile" in err or "--out is empty" in err) and "internal error" not in err and err.count("\n") == 1, err
    assert not (tmp_path / "findings.csv").exists()


def test_rerun_into_a_run_directory_leaves_no_stale_report(tmp_path):
    # a --no-report run into a previous run's directory left that run's report.pdf, worklist.xlsx and
    # panel.parquet beside the new tables (and `detect report DIR` charted the old panel)
    out = tmp_path / "run"
    first = _panel_csv(tmp_path, bump={2012})
    assert main(["run", str(first), "--out", str(out), "--quiet", "--no-register"]) == 0
    assert (out / "report.pdf").is_file() and (out / "worklist.xlsx").is_file()
    assert main(["run", str(_small_csv(tmp_path)), "--out", str(out), "--quiet", "--no-register", "--no-report"]) == 0
    assert not (out / "report.pdf").exists() and not (out / "worklist.xlsx").exists()
    panel = pd.read_parquet(out / "panel.parquet")                     # this run's values, for a later report
    assert sorted(set(panel["region_code"])) == ["110000", "120000"] and len(panel) == 4


def test_no_report_into_a_users_directory_keeps_their_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.pdf").write_bytes(b"%PDF- not ours")
    assert main(["run", str(_small_csv(tmp_path)), "--out", str(out), "--quiet", "--no-register", "--no-report"]) == 0
    assert (out / "report.pdf").read_bytes() == b"%PDF- not ours"


def test_a_detector_named_twice_runs_once(tmp_path):
    # --detectors level_shift,level_shift ran it twice: "two findings share the id", exit 3
    p = _panel_csv(tmp_path, bump={2012})
    once, twice = tmp_path / "once", tmp_path / "twice"
    assert main(["run", str(p), "--out", str(once), "--quiet", "--no-register", "--no-report",
                 "--detectors", "level_shift"]) == 0
    assert main(["run", str(p), "--out", str(twice), "--quiet", "--no-register", "--no-report",
                 "--detectors", "level_shift,level_shift"]) == 0
    assert (once / "findings.csv").read_bytes() == (twice / "findings.csv").read_bytes()
    assert len(pd.read_csv(once / "findings.csv")) > 0
