"""claim(): a claim of the text holds, or says what the text says, what was measured and the band."""

import json

import numpy as np
import pytest
import torch

from regutils import ClaimError, claim
from regutils.claims import CLAIMS_LOG_VARIABLE, CLAIMS_VARIABLE, ClaimReport, claims_mode


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setenv(CLAIMS_VARIABLE, "strict")


@pytest.fixture
def report(monkeypatch):
    monkeypatch.setenv(CLAIMS_VARIABLE, "report")


@pytest.mark.parametrize(
    "value, band",
    [
        (8.0, {"between": (7, 9)}),
        (7, {"between": (7, 9)}),  # both ends included
        ([7.5, 8.5], {"between": (7, 9)}),  # every value
        (np.array([0.2, 0.3]), {"at_least": 0.2}),
        (torch.tensor([0.2, 0.3]), {"above": 0.1, "below": 0.4}),
        (0.5, {"at_most": 0.5}),
        (3, {"equals": 3}),
        ([3, 3, 3], {"equals": 3}),
        ({"a": 1}, {"equals": {"a": 1}}),
        (True, {}),
        (np.array([True, True]), {}),
    ],
)
def test_holds(strict, value, band):
    assert claim("a claim", value, **band) is True


@pytest.mark.parametrize(
    "value, band, says",
    [
        (9.5, {"between": (7, 9)}, "measured: 9.5"),
        ([7.5, 9.5], {"between": (7, 9)}, "[7.5, 9.5] (1 of 2 outside)"),
        (0.2, {"above": 0.2}, "> 0.2"),
        (0.4, {"below": 0.4}, "< 0.4"),
        (float("nan"), {"at_least": 0}, "nan"),
        (2, {"equals": 3}, "equal to 3"),
        ([3, 2], {"equals": 3}, "[3, 2]"),
        (np.array([True, False, False]), {}, "false (2 of 3)"),
        (False, {}, "measured: false"),
    ],
)
def test_fails_in_strict_mode_with_the_text_the_value_and_the_band(strict, value, band, says):
    with pytest.raises(ClaimError, match="the text says: a claim") as err:
        claim("a claim", value, **band)
    assert says in str(err.value)
    assert isinstance(err.value, AssertionError)  # pytest and nbval treat it as a failure


def test_report_mode_shows_the_claim_and_goes_on(report, capsys):
    assert claim("about 8 points", 12.0, between=(7, 9)) is False
    shown = capsys.readouterr().out
    assert "did not confirm a claim" in shown and "about 8 points" in shown
    assert "12" in shown and "between 7 and 9" in shown
    assert "another CPU" in shown and "goes on" in shown


def test_report_renders_as_html_in_a_notebook(monkeypatch):
    monkeypatch.setenv("REGUTILS_SEED_SHIFT", "1000")
    page = ClaimReport("x < 1 <b>", "2", "< 1")._repr_html_()
    assert "&lt;b&gt;" in page and "REGUTILS_SEED_SHIFT=1000" in page


def test_default_mode_is_report(monkeypatch):
    monkeypatch.delenv(CLAIMS_VARIABLE, raising=False)
    assert claims_mode() == "report"
    monkeypatch.setenv(CLAIMS_VARIABLE, "loud")
    with pytest.raises(ValueError, match=f"{CLAIMS_VARIABLE}.*strict, report.*'loud'"):
        claim("x", True)


def test_every_claim_is_logged_held_or_not(report, monkeypatch, tmp_path, capsys):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(CLAIMS_LOG_VARIABLE, str(log))
    monkeypatch.setenv("REGUTILS_SEED_SHIFT", "2000")
    claim("logged claim", [1.0, 2.0], at_least=1.5)
    claim("logged claim", 3.0, at_least=1.5)
    claim("exact fact", 4, equals=4)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["ok"] for r in records] == [False, True, True]
    assert records[0]["values"] == [1.0, 2.0] and records[0]["band"] == {"at_least": 1.5}
    assert records[1]["occurrence"] == records[0]["occurrence"] + 1  # same text, counted
    assert records[2]["exact"] and records[0]["shift"] == 2000


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"text": "", "value": 1.0, "at_least": 0}, TypeError, "text"),
        ({"text": "x", "value": 1.0, "between": (2, 1)}, ValueError, "low <= high"),
        ({"text": "x", "value": 1.0, "between": 3}, TypeError, "between must be a pair"),
        ({"text": "x", "value": 1.0, "between": (0, 1), "at_least": 0}, TypeError, "alone"),
        ({"text": "x", "value": 1.0, "at_least": 0, "above": 0}, TypeError, "not both"),
        ({"text": "x", "value": 1.0, "at_least": "0"}, TypeError, "at_least"),
        ({"text": "x", "value": "high", "at_least": 0}, TypeError, "number or an array"),
        ({"text": "x", "value": "yes"}, TypeError, "condition"),
        ({"text": "x", "value": 1, "equals": 1, "at_least": 0}, TypeError, "equals alone"),
    ],
)
def test_malformed_claims_are_errors_in_every_mode(report, kwargs, error, match):
    with pytest.raises(error, match=match):
        claim(**kwargs)
