"""make claims (scripts/claims.py): chapters rerun with other seeds, every claim's band reported."""

import json
import sys

import nbformat
import pytest

from scripts import claims as run
from tests.book import ROOT


def record(text, values, band, ok, occurrence=1):
    return {"text": text, "occurrence": occurrence, "values": values, "band": band,
            "exact": False, "ok": ok, "chapter": "01_x.ipynb"}  # fmt: skip


def result(name_shift, records, returncode=0):
    return run.PassResult(run.Pass(name_shift, False), returncode, 1.0, "", records)


def test_margin_counts_the_passes_extremes_in_standard_deviations():
    band = {"at_least": 7.0, "at_most": 9.0}
    results = [
        result(1000, [record("gap", [7.9, 8.1], band, True)]),
        result(2000, [record("gap", [7.7, 8.3], band, True)]),
        result(3000, [record("gap", [7.8, 8.0], band, True)]),
    ]
    summary = run.summarize(results)["01_x.ipynb"]["gap"]
    # lows 7.9, 7.7, 7.8: mean 7.8, sd 0.1 -> 8 sd; highs 8.1, 8.3, 8.0: mean 8.133 -> 5.2 sd
    assert summary.margin() == pytest.approx((9 - 8.1333333) / 0.1527525, rel=1e-4)
    text = run.report(results, run.summarize(results))
    assert "| gap | [7, 9] | 7.7 to 8.3 | 5.7 | 3/3 |" in text


def test_a_failed_or_thin_claim_is_flagged():
    band = {"above": 0.0}
    results = [
        result(1000, [record("gain", [0.5], band, True), record("gain", [1.0], band, True, 2)]),
        result(2000, [record("gain", [-0.1], band, False), record("gain", [1.1], band, True, 2)]),
    ]
    text = run.report(results, run.summarize(results))
    assert "| (!) gain | (0, inf) | -0.1 to 0.5 |" in text and "| 1/2 |" in text
    assert "| gain [#2] | (0, inf) | 1 to 1.1 | 14.8 | 2/2 |" in text


def test_passes():
    assert [p.name for p in run.passes([1000, 2000], "extra", False)] == [
        "shift1000", "shift2000", "shift0-compat"]  # fmt: skip
    assert [p.name for p in run.passes([7000], "all", True)] == ["shift0", "shift7000-compat"]
    env = run.Pass(7000, True).env(ROOT / "log", threads_one=True)
    assert env["REGUTILS_SEED_SHIFT"] == "7000" and env["MKL_CBWR"] == "COMPATIBLE"
    assert env["REGUTILS_CLAIMS"] == "report" and env["OMP_NUM_THREADS"] == "1"


def test_end_to_end_on_a_tiny_chapter(tmp_path):
    """A claim true at the book's seeds and false under a shift: the run fails and says so."""
    folder = ROOT / "_build" / "test-claims"
    folder.mkdir(parents=True, exist_ok=True)
    notebook = folder / "tiny.ipynb"
    cells = [
        "from regutils import claim, seed_shift, set_seed\nimport torch\nset_seed(0)",
        'claim("the shift is small", seed_shift(), at_most=500)\n'
        'claim("a draw in [0, 1)", torch.rand(3), between=(0, 1))',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.write_text(json.dumps(nb))
    out = tmp_path / "report"
    code = run.main([str(notebook), "--shifts", "1000", "--compat", "none", "--baseline",
                     "--out", str(out)])  # fmt: skip
    assert code == 1
    saved = json.loads((out / "claims.json").read_text())["tiny.ipynb"]
    assert saved["the shift is small"]["held"] == [True, False]
    assert saved["a draw in [0, 1)"]["held"] == [True, True]
    assert len(saved["a draw in [0, 1)"]["values"][0]) == 3
    assert "(!) the shift is small" in (out / "claims.md").read_text()


def test_the_command_alongside_runs_and_its_status_counts(tmp_path):
    """make test runs the suite alongside the pass: a failing suite fails the whole."""
    notebook = ROOT / "_build" / "test-claims" / "tiny.ipynb"  # written by the test above
    if not notebook.exists():
        pytest.skip("needs the tiny chapter of test_end_to_end_on_a_tiny_chapter")
    marker = tmp_path / "ran"
    code = run.main([str(notebook), "--shifts", "0", "--compat", "none", "--out",
                     str(tmp_path / "r"), "--alongside", sys.executable, "-c",
                     f"open({str(marker)!r}, 'w'); raise SystemExit(3)"])  # fmt: skip
    assert marker.exists() and code == 1
