r"""The text's claims, checked in the chapter: :func:`regutils.claim`.

A sentence of the book such as "validation accuracy stays about 8 points lower" is checked in a
hidden cell of its chapter by ``claim("about 8 points lower", 100 * gap.mean(), between=(7, 9))``.
Two kinds of claim go through it:

* **exact** facts (a from-scratch layer equals the PyTorch built-in to 1e-6, a count fixed by
  the data), checked tightly;
* **measured** facts (accuracies, losses, epochs, orderings over seeds), whose band comes from
  the spread of the quantity over many seed sets (``make claims``), so that it holds on any
  reader's machine, not only on the one where the chapter was written.

What happens when a claim does not hold depends on where the chapter runs, set by the
environment variable ``REGUTILS_CLAIMS``:

* ``strict`` (the test suite and ``make book`` set it): :class:`regutils.ClaimError`, an
  ``AssertionError``, so the build fails;
* ``report`` (the default: a reader's JupyterLab or Colab): a box under the cell says what the
  text claims, what this run measured and the band it should lie in, and that another machine,
  library version or seed can move such numbers; the chapter goes on.

When ``REGUTILS_CLAIMS_LOG`` names a file, every claim (held or not) is appended to it as one
line of JSON: what ``make claims`` reads to show each band beside the
range of values observed over many seed sets.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
import torch

from regutils.seed import SEED_SHIFT_VARIABLE, seed_shift

#: The environment variable that chooses what a claim that does not hold does.
CLAIMS_VARIABLE = "REGUTILS_CLAIMS"
#: The environment variable naming a file where every claim is logged (JSON lines).
CLAIMS_LOG_VARIABLE = "REGUTILS_CLAIMS_LOG"
MODES = ("strict", "report")

_seen: Counter = Counter()  # how often each text has been claimed in this process


class ClaimError(AssertionError):
    """A claim of the text did not hold (raised in ``strict`` mode)."""


def claims_mode() -> str:
    """``"strict"`` or ``"report"``, from ``REGUTILS_CLAIMS`` (unset: ``"report"``).

    Raises:
        ValueError: if the variable holds anything else.
    """
    mode = os.environ.get(CLAIMS_VARIABLE, "").strip().lower() or "report"
    if mode not in MODES:
        raise ValueError(
            f"the environment variable {CLAIMS_VARIABLE} must be one of {', '.join(MODES)}, "
            f"but got {mode!r}"
        )
    return mode


def _as_array(value: object) -> np.ndarray | None:
    """``value`` as a flat float array, or ``None`` when it is not numbers."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # ragged sequences
        return None
    if array.dtype == object or array.dtype.kind not in "biuf":
        return None
    return array.astype(float).ravel()


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(float(value)):
        raise TypeError(f"{name} must be a real number, but got {value!r}")
    return float(value)


def _fmt(x: float) -> str:
    if x == 0 or math.isinf(x) or math.isnan(x):
        return str(x)
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4g}"


def _show(values: np.ndarray, limit: int = 12) -> str:
    if values.size == 1:
        return _fmt(values[0])
    if values.size <= limit:
        return "[" + ", ".join(_fmt(v) for v in values) + "]"
    return f"{values.size} values from {_fmt(values.min())} to {_fmt(values.max())}"


def _band(
    between: Sequence[float] | None,
    at_least: float | None,
    at_most: float | None,
    above: float | None,
    below: float | None,
) -> dict[str, float]:
    """The band as a dict of its bounds, checked."""
    if between is not None:
        if at_least is not None or at_most is not None or above is not None or below is not None:
            raise TypeError("give between=(low, high) alone, or bounds without between")
        if not isinstance(between, (tuple, list)) or len(between) != 2:
            raise TypeError(f"between must be a pair (low, high), but got {between!r}")
        at_least, at_most = (_number("between", b) for b in between)
        if at_least > at_most:
            raise ValueError(f"between must have low <= high, but got {tuple(between)}")
    if at_least is not None and above is not None:
        raise TypeError("give at_least or above, not both")
    if at_most is not None and below is not None:
        raise TypeError("give at_most or below, not both")
    band = {}
    for name, bound in (
        ("at_least", at_least),
        ("above", above),
        ("at_most", at_most),
        ("below", below),
    ):
        if bound is not None:
            band[name] = _number(name, bound)
    return band


_SYMBOLS = {"at_least": ">=", "above": ">", "at_most": "<=", "below": "<"}


def describe_band(band: dict[str, Any]) -> str:
    """The band in words, e.g. ``"between 7 and 9"`` or ``">= 0.5"``."""
    if "equals" in band:
        return f"equal to {band['equals']!r}"
    if "at_least" in band and "at_most" in band:
        return f"between {_fmt(band['at_least'])} and {_fmt(band['at_most'])}"
    if not band:
        return "true"
    return " and ".join(f"{_SYMBOLS[k]} {_fmt(v)}" for k, v in band.items())


def _inside(values: np.ndarray, band: dict[str, float]) -> np.ndarray:
    ok = np.isfinite(values)
    if "at_least" in band:
        ok &= values >= band["at_least"]
    if "above" in band:
        ok &= values > band["above"]
    if "at_most" in band:
        ok &= values <= band["at_most"]
    if "below" in band:
        ok &= values < band["below"]
    return ok


def claim(
    text: str,
    value: object,
    *,
    between: Sequence[float] | None = None,
    at_least: float | None = None,
    at_most: float | None = None,
    above: float | None = None,
    below: float | None = None,
    equals: object = None,
) -> bool:
    r"""Check one claim of the text: every value of ``value`` lies in the band.

    With a band (``between``, or a lower bound ``at_least``/``above`` and an upper one
    ``at_most``/``below``), ``value`` is a number or an array of numbers (one per seed, say),
    and *every* entry must lie in the band. With ``equals``, ``value`` must equal it (arrays
    entry by entry, anything else by ``==``). With neither, ``value`` is a condition: a bool,
    or an array of them, all true.

    Args:
        text (str): the claim as the text words it, e.g. ``"every seed fits perfectly"``.
        value: the measured number(s), or a condition.
        between (pair of float, optional): ``(low, high)``, both included.
        at_least, above (float, optional): a lower bound, included or not.
        at_most, below (float, optional): an upper bound, included or not.
        equals (optional): the exact value expected.

    Returns:
        bool: whether the claim held. In ``report`` mode a claim that does not hold is shown
        under the cell and the chapter goes on; in ``strict`` mode it raises.

    Raises:
        ClaimError: in ``strict`` mode (``REGUTILS_CLAIMS=strict``), when the claim does not
            hold; the message says what the text says, what was measured and the band.
        TypeError, ValueError: for a malformed claim (no text, a band that is not numbers, a
            value that is neither numbers nor a condition).

    Example::

        >>> gap = torch.tensor([0.079, 0.081, 0.076])
        >>> claim("validation about 8 points lower", 100 * gap.mean(), between=(7, 9))
        True
        >>> claim("every seed above 7 points", 100 * gap, above=7)
        True
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"text must be the claim in words (a non-empty str), but got {text!r}")
    mode = claims_mode()
    band: dict[str, Any] = _band(between, at_least, at_most, above, below)
    if equals is not None:
        if band:
            raise TypeError("give equals alone, without a band")
        band = {"equals": equals}
    values = _as_array(value)
    if "equals" in band:
        target = _as_array(equals)
        if values is not None and target is not None:
            ok = values.shape == target.shape or target.size == 1
            ok = ok and bool(np.all(values == target))
        else:
            ok = bool(value == equals)
        shown = _show(values) if values is not None else repr(value)
    elif band:
        if values is None or values.size == 0:
            raise TypeError(
                f"claim {text!r}: with a band, value must be a number or an array of numbers, "
                f"but got {type(value).__name__}"
            )
        inside = _inside(values, band)
        ok = bool(inside.all())
        shown = _show(values)
        if values.size > 1 and not ok:
            shown += f" ({int((~inside).sum())} of {values.size} outside)"
    else:
        if values is None or values.size == 0:
            raise TypeError(
                f"claim {text!r}: without a band, value must be a condition (a bool or an "
                f"array of bools), but got {type(value).__name__}"
            )
        conditions = values != 0
        ok = bool(conditions.all())
        shown = "true" if ok else f"false ({int((~conditions).sum())} of {values.size})"
        if values.size == 1 and not ok:
            shown = "false"
    _seen[text] += 1
    _log(text, values, band, ok)
    if ok:
        return True
    every = " (every value)" if values is not None and values.size > 1 and band else ""
    message = (
        f"the text says: {text}\n"
        f"  this run measured: {shown}\n"
        f"  the claim's band: {describe_band(band)}{every}"
    )
    if mode == "strict":
        raise ClaimError(message)
    _report(text, shown, describe_band(band) + every)
    return False


def _log(text: str, values: np.ndarray | None, band: dict, ok: bool) -> None:
    path = os.environ.get(CLAIMS_LOG_VARIABLE, "").strip()
    if not path:
        return
    record = {
        "text": text,
        "occurrence": _seen[text],
        "values": None if values is None else [v if math.isfinite(v) else None for v in values],
        "band": {k: v for k, v in band.items() if k != "equals"},
        "exact": "equals" in band,
        "ok": ok,
        "shift": seed_shift(),
        "mkl_cbwr": os.environ.get("MKL_CBWR", ""),
    }
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


class ClaimReport:
    """What a reader sees under a cell when a claim did not hold in their run."""

    def __init__(self, text: str, shown: str, band: str) -> None:
        self.text, self.shown, self.band = text, shown, band
        shift = seed_shift()
        self.shift = f" (with {SEED_SHIFT_VARIABLE}={shift})" if shift else ""

    def __str__(self) -> str:
        return (
            f"⚠ This run did not confirm a claim of the text{self.shift}.\n"
            f"  The text says: {self.text}\n"
            f"  This run measured: {self.shown}\n"
            f"  The band the claim allows: {self.band}\n"
            "  The book's measured claims are calibrated over many seeds, but another CPU "
            "(which rounds matrix products differently), another library version or other "
            "seeds can move such numbers. The chapter goes on."
        )

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        return (
            '<div style="border-left:4px solid #b54708;background:#fffaeb;'
            'padding:0.4em 0.8em;margin:0.3em 0">'
            f"⚠ <b>This run did not confirm a claim of the text</b>{html.escape(self.shift)}."
            f"<br>The text says: <i>{html.escape(self.text)}</i>"
            f"<br>This run measured: <code>{html.escape(self.shown)}</code>; the claim allows "
            f"<code>{html.escape(self.band)}</code>."
            "<br><small>The book's measured claims are calibrated over many seeds, but another "
            "CPU (which rounds matrix products differently), another library version or other "
            "seeds can move such numbers. The chapter goes on.</small></div>"
        )


def _report(text: str, shown: str, band: str) -> None:
    report = ClaimReport(text, shown, band)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        print(report)
        return
    if get_ipython() is None:
        print(report)
    else:
        display(report)


__all__ = [
    "CLAIMS_LOG_VARIABLE",
    "CLAIMS_VARIABLE",
    "ClaimError",
    "ClaimReport",
    "claim",
    "claims_mode",
    "describe_band",
]
