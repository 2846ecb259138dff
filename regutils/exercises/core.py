"""The exercise mechanism: :func:`regutils.check` a learner's function, :func:`regutils.show_solution` on request.

An :class:`Exercise` holds the cases to try, a reference solution and a
tolerance. In a chapter, the learner edits a starter cell that defines a function,
and the next cell calls ``check("chapter.name", their_function)``:

* the check never raises: it returns a :class:`CheckResult` that says which case
  failed, with the input, the expected and the received value, so "Run all"
  works with the starter untouched;
* nothing ever writes into the learner's cell, so "Run all" keeps their answer;
* ``show_solution(name)`` displays the reference solution folded (an HTML
  ``<details>`` element): it opens only when the reader clicks, in JupyterLab,
  Colab and the built book alike.
"""

from __future__ import annotations

import copy
import html
import inspect
import re
import textwrap
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

REGISTRY: dict[str, Exercise] = {}


@dataclass(frozen=True)
class Case:
    """One input to try: ``function(*args, **kwargs)``."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def describe(self, entry_point: str) -> str:
        parts = [_short(a) for a in self.args] + [
            f"{k}={_short(v)}" for k, v in self.kwargs.items()
        ]
        return f"{entry_point}({', '.join(parts)})"


@dataclass(frozen=True)
class Exercise:
    """An auto-checked exercise.

    Args:
        name (str): ``"<chapter>.<entry_point>"``, e.g. ``"overfitting.polynomial_features"``.
        entry_point (str): the name of the function the learner writes.
        reference (callable): the reference solution, shown by :func:`regutils.show_solution`.
        cases (sequence of Case): the inputs to compare on.
        rtol, atol (float): tolerances for numbers and arrays.
        hint (str): a nudge shown with the first failure.
    """

    name: str
    entry_point: str
    reference: Callable
    cases: Sequence[Case]
    rtol: float = 1e-5
    atol: float = 1e-8
    hint: str = ""


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry (each name once)."""
    if exercise.name in REGISTRY:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    REGISTRY[exercise.name] = exercise
    return exercise


def _readable(values: object) -> object:
    """Floats rounded to 6 significant digits, in nested lists: what a reader compares by eye."""
    if isinstance(values, list):
        return [_readable(v) for v in values]
    if isinstance(values, float):
        return float(f"{values:.6g}")
    return values


def _short(value: object, limit: int = 70) -> str:
    if isinstance(value, torch.Tensor):
        text = f"tensor({_readable(value.tolist())}, dtype={value.dtype})"
    elif isinstance(value, np.ndarray):
        text = f"array({_readable(value.tolist())})"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(e: np.ndarray, r: np.ndarray, rtol: float, atol: float) -> str:
    """Where two arrays of numbers differ most, by how much, and the tolerance allowed there."""
    e, r = e.astype(float), r.astype(float)
    allowed = atol + rtol * np.abs(e)
    with np.errstate(invalid="ignore"):
        excess = np.abs(r - e) - allowed
    excess = np.where(np.isnan(excess), np.inf, excess)  # a NaN is as wrong as it gets
    position = np.unravel_index(int(np.argmax(excess)), e.shape) if e.ndim else ()
    wrong = int((excess > 0).sum())
    at = f" at index {tuple(int(i) for i in position)}" if e.ndim else ""
    count = f"{wrong} of {e.size} values differ; " if e.size > 1 else ""
    exp, rec = float(e[position]), float(r[position])
    return (
        f"{count}the largest difference is{at}: expected {exp:.6g}, received {rec:.6g} "
        f"(off by {abs(rec - exp):.3g}, tolerance {float(allowed[position]):.2g})"
    )


def _compare(expected: object, received: object, rtol: float, atol: float) -> str | None:
    """None when ``received`` matches ``expected``, else what differs, in words."""
    if isinstance(expected, str):  # a name or a verdict: exactly that text
        if isinstance(received, str) and received == expected:
            return None
        return f"expected {expected!r}, received {_short(received)}"
    if isinstance(expected, (tuple, list)):
        if not isinstance(received, (tuple, list)) or len(received) != len(expected):
            return f"expected a tuple of {len(expected)} values, received {_short(received)}"
        for i, (e, r) in enumerate(zip(expected, received)):
            problem = _compare(e, r, rtol, atol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(expected, torch.Tensor) and not isinstance(received, torch.Tensor):
        return f"expected a torch.Tensor, received {type(received).__name__}: {_short(received)}"
    try:
        e = np.asarray(expected.detach().cpu() if isinstance(expected, torch.Tensor) else expected)
        r = np.asarray(received.detach().cpu() if isinstance(received, torch.Tensor) else received)
    except Exception:  # noqa: BLE001 - anything unconvertible is simply "different"
        return f"expected {_short(expected)}, received {_short(received)}"
    if r.dtype == object:
        return f"expected a number or array, received {_short(received)}"
    if e.shape != r.shape:
        return f"expected shape {tuple(e.shape)}, received shape {tuple(r.shape)}"
    if e.dtype == bool or r.dtype == bool:
        same = np.array_equal(e, r)
    else:
        same = np.allclose(r.astype(float), e.astype(float), rtol=rtol, atol=atol, equal_nan=True)
    if same:
        return None
    summary = f"expected {_short(expected)}, received {_short(received)}"
    if e.dtype == bool or r.dtype == bool:
        return summary
    return f"{summary}\n  {_where(e, r, rtol, atol)}"


@dataclass
class CheckResult:
    """What :func:`regutils.check` found. ``passed`` is True only when every case matched."""

    name: str
    passed: bool
    n_passed: int
    n_cases: int
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✅" if self.passed else "❌"
        return f"{mark} {self.name}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#b42318"
        mark = "✅" if self.passed else "❌"
        body = html.escape(self.message).replace("\n", "<br>")
        body = re.sub(r"`([^`]+)`", r"<code>\1</code>", body)  # `code` in the message
        return (
            f'<div style="border-left:4px solid {color};padding:0.3em 0.8em">'
            f"{mark} <b>{html.escape(self.name)}</b>: {body}</div>"
        )


def check(name: str, candidate: object) -> CheckResult:
    """Check the learner's function against exercise ``name``. Never raises.

    Each case calls the reference solution and ``candidate`` on fresh copies of the
    same inputs and compares the results; the first mismatch is reported with
    the input, the expected value and the received one.

    Args:
        name (str): the exercise, e.g. ``"overfitting.polynomial_features"``.
        candidate: the learner's function.

    Returns:
        CheckResult: true when every case passes; it displays itself in a notebook.

    Example::

        >>> result = check("overfitting.polynomial_features", lambda x, degree: None)
        >>> result.passed, result.n_passed
        (False, 0)
    """
    exercise = REGISTRY.get(name)
    if exercise is None:
        known = ", ".join(sorted(REGISTRY))
        return CheckResult(str(name), False, 0, 0, f"no exercise of that name; known: {known}")
    n = len(exercise.cases)
    if not callable(candidate):
        return CheckResult(
            name,
            False,
            0,
            n,
            f"expected your function {exercise.entry_point}, received {_short(candidate)}",
        )
    for i, case in enumerate(exercise.cases, start=1):
        call = case.describe(exercise.entry_point)
        expected = exercise.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        try:
            received = candidate(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        except NotImplementedError as err:
            # The starter that raised may be another one the candidate calls (exercise 2
            # building on exercise 1): name the function whose body raised.
            where = traceback.extract_tb(err.__traceback__)[-1].name
            where = exercise.entry_point if where == "<module>" else where
            return CheckResult(
                name,
                False,
                i - 1,
                n,
                f"not attempted yet: replace `raise NotImplementedError` in "
                f"{where} with your code.",
            )
        except Exception as err:  # noqa: BLE001 - report the learner's error, never raise
            return CheckResult(
                name,
                False,
                i - 1,
                n,
                f"case {i} of {n} raised {type(err).__name__}: {err}\n  input: {call}",
            )
        problem = _compare(expected, received, exercise.rtol, exercise.atol)
        if problem:
            hint = f"\n  hint: {exercise.hint}" if exercise.hint else ""
            return CheckResult(
                name,
                False,
                i - 1,
                n,
                f"case {i} of {n} failed.\n  input: {call}\n  {problem}{hint}",
            )
    return CheckResult(name, True, n, n, f"all {n} cases pass. Well done!")


@dataclass
class Solution:
    """A reference solution that stays folded until the reader clicks it open."""

    name: str
    source: str

    def __repr__(self) -> str:
        return f"Solution({self.name!r}): print(show_solution({self.name!r}).source) to read it"

    def _repr_html_(self) -> str:
        return (
            "<details><summary><b>Reference solution</b> "
            f"({html.escape(self.name)}): click to reveal</summary>"
            f"<pre><code>{html.escape(self.source)}</code></pre></details>"
        )


def show_solution(name: str) -> Solution:
    """The reference solution of exercise ``name``, folded until the reader opens it.

    Example::

        >>> print(show_solution("overfitting.polynomial_features").source.splitlines()[0])
        def polynomial_features(x, degree):
    """
    exercise = REGISTRY.get(name)
    if exercise is None:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"name must be a registered exercise ({known}), but got {name!r}")
    return Solution(name, textwrap.dedent(inspect.getsource(exercise.reference)))
