"""Exercises: every reference solution passes, every untouched starter fails, feedback is specific."""

import pytest
import torch

from regutils import check, show_solution
from regutils.exercises import REGISTRY
from tests.book import CHAPTERS, cells, source


def starters():
    """(notebook, exercise name, starter source) for every starter cell of every chapter."""
    found = []
    for path in CHAPTERS:
        for cell in cells(path):
            if "exercise-starter" in cell["metadata"].get("tags", []):
                found.append((path.name, cell["metadata"]["exercise"], source(cell)))
    return found


STARTERS = starters()


def test_every_chapter_has_two_exercises_and_every_exercise_a_starter():
    per_chapter = {path.name: 0 for path in CHAPTERS}
    for notebook, _, _ in STARTERS:
        per_chapter[notebook] += 1
    assert min(per_chapter.values()) >= 2, per_chapter
    names = [name for _, name, _ in STARTERS]
    assert sorted(names) == sorted(REGISTRY), "each registered exercise has one starter cell"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_reference_solution_passes(name):
    result = check(name, REGISTRY[name].reference)
    assert result.passed, str(result)
    assert result.n_passed == result.n_cases >= 3


@pytest.mark.parametrize("notebook, name, code", STARTERS, ids=[s[1] for s in STARTERS])
def test_untouched_starter_fails_without_raising(notebook, name, code):
    namespace = {"torch": torch}
    exec(compile(code, f"{notebook}:{name}", "exec"), namespace)
    candidate = namespace[REGISTRY[name].entry_point]
    result = check(name, candidate)
    assert not result.passed
    assert "not attempted yet" in result.message


@pytest.mark.parametrize("notebook, name, code", STARTERS, ids=[s[1] for s in STARTERS])
def test_starter_is_checked_and_solution_offered_right_after(notebook, name, code):
    chapter = next(p for p in CHAPTERS if p.name == notebook)
    sources = [source(c) for c in cells(chapter)]
    i = sources.index(code)
    assert sources[i + 1].strip().startswith(f'check("{name}"')
    assert sources[i + 2].strip() == f'show_solution("{name}")'


def test_feedback_names_the_case_the_expected_and_the_received():
    def off_by_one(x, degree):
        return torch.stack([x**k for k in range(degree)], dim=1)

    result = check("overfitting.polynomial_features", off_by_one)
    assert not result.passed and result.n_passed == 0
    assert "case 1 of 4" in result.message
    assert "input: polynomial_features(tensor([0.5, -1.0, 2.0, 0.0]" in result.message
    assert "expected shape (4, 2), received shape (4, 1)" in result.message
    assert "hint:" in result.message


def test_wrong_values_show_both():
    def doubled(x, degree):
        return 2 * torch.stack([x**k for k in range(degree + 1)], dim=1)

    result = check("overfitting.polynomial_features", doubled)
    assert "expected tensor([[1.0, 0.5]" in result.message
    assert "received tensor([[2.0, 1.0]" in result.message


@pytest.mark.parametrize(
    "candidate, says",
    [
        (None, "expected your function polynomial_features, received None"),
        (lambda x, degree: 1 / 0, "raised ZeroDivisionError: division by zero"),
        (lambda x, degree: "text", "expected a torch.Tensor, received str"),
        (lambda x, degree: x.numpy(), "expected a torch.Tensor, received ndarray"),
        (lambda x: x, "raised TypeError"),
    ],
)
def test_checker_never_raises(candidate, says):
    result = check("overfitting.polynomial_features", candidate)
    assert not result.passed and says in result.message


def test_partial_credit_counts_the_cases_passed():
    def only_linear(x, degree):
        return torch.stack([torch.ones_like(x), x], dim=1)

    result = check("overfitting.polynomial_features", only_linear)
    assert result.n_passed == 1 and "case 2 of 4" in result.message


def test_unknown_exercise_is_reported_not_raised():
    result = check("overfitting.nope", lambda: None)
    assert not result.passed and "known: " in result.message
    assert "overfitting.least_squares_fit" in result.message


def test_solution_is_folded_html_and_readable_source():
    solution = show_solution("overfitting.least_squares_fit")
    page = solution._repr_html_()
    assert page.startswith("<details>") and "click to reveal" in page
    assert "torch.linalg.lstsq" in solution.source
    assert "show_solution" in repr(solution)  # no solution in the plain-text fallback
    with pytest.raises(ValueError, match="registered exercise"):
        show_solution("nope")


def test_result_displays_in_notebooks():
    result = check(
        "overfitting.polynomial_features", REGISTRY["overfitting.polynomial_features"].reference
    )
    assert bool(result) and "✅" in str(result) and "✅" in result._repr_html_()


def test_reference_solutions_agree_with_scikit_learn():
    """The oracles behind the L1 and L2 exercises: scikit-learn's Lasso and Ridge."""
    from sklearn.linear_model import Lasso, Ridge

    from regutils.exercises import l1, l2

    X, y = l2._X, l2._y
    n, lam = len(y), 0.1
    w, b = l2.ridge_with_intercept(X, y, lam)
    ridge = Ridge(alpha=n * lam).fit(X.numpy(), y.numpy())  # sklearn: ||.||^2 + alpha ||w||^2
    assert torch.allclose(w, torch.from_numpy(ridge.coef_), rtol=1e-8)
    assert abs(b.item() - ridge.intercept_) < 1e-8

    X, y = l1._X, l1._y
    lam_max = l1.lasso_lambda_max(X, y).item()
    for factor, all_zero in ((1.0001, True), (0.9, False)):
        coef = Lasso(alpha=factor * lam_max, fit_intercept=False, tol=1e-12).fit(X, y).coef_
        assert (coef == 0).all() == all_zero


def test_l2_exercise_catches_a_penalty_that_includes_norm_layers():
    from regutils import l2_penalty

    result = check("l2.l2_weights_only", lambda m, lam: l2_penalty(m, lam, include_bias=True))
    assert not result.passed and "case 1 of 3 failed" in result.message


def test_html_feedback_renders_code_spans():
    result = check("overfitting.polynomial_features", polynomial_starter)
    assert "<code>raise NotImplementedError</code>" in result._repr_html_()
    assert "`raise NotImplementedError`" in str(result)


def polynomial_starter(x, degree):
    raise NotImplementedError


def test_not_attempted_names_the_starter_that_raised():
    def polynomial_features(x, degree):
        raise NotImplementedError

    def least_squares_fit(x, y, degree):  # builds on exercise 1, still a starter
        A = polynomial_features(x, degree)
        return torch.linalg.lstsq(A, y.unsqueeze(1)).solution.squeeze(1)

    result = check("overfitting.least_squares_fit", least_squares_fit)
    assert "not attempted yet" in result.message
    assert "in polynomial_features with your code" in result.message

    def own_starter(x, y, degree):
        raise NotImplementedError

    result = check("overfitting.least_squares_fit", own_starter)
    assert "in own_starter with your code" in result.message


def test_a_near_miss_says_where_and_by_how_much_at_a_readable_precision():
    from regutils.exercises import REGISTRY

    reference = REGISTRY["overfitting.least_squares_fit"].reference

    def slightly_off(x, y, degree):
        c = reference(x, y, degree)
        c[-1] = c[-1] * (1 + 1e-4)  # the highest coefficient, a little off
        return c

    message = check("overfitting.least_squares_fit", slightly_off).message
    assert "the largest difference is at index (1,)" in message
    assert "off by 0.0002" in message and "tolerance 2e-06" in message
    assert "1.99999999" not in message and "2.0002" in message  # 6 digits, not 16


def test_keep_ridge_minimizes_the_expected_loss_over_every_mask():
    """The dropout exercise's reference solution, against the expectation computed by brute
    force: every 0/1 mask of a row, weighted by its probability (the paper's convention, no
    rescaling); the gradient of that exact expected loss vanishes at the solution."""
    import itertools

    from regutils.exercises.dropout import keep_ridge

    g = torch.Generator().manual_seed(0)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    keep = 0.7
    masks = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=torch.float64)
    probs = (keep**masks * (1 - keep) ** (1 - masks)).prod(dim=1)  # (8,)
    w = keep_ridge(X, y, keep).clone().requires_grad_(True)
    outputs = (masks[:, None, :] * X[None]) @ w  # (masks, rows)
    expected = (probs[:, None] * (y - outputs) ** 2).sum(dim=0).mean() / 2
    expected.backward()
    assert w.grad.abs().max() < 1e-10
    least_squares = torch.linalg.lstsq(X, y[:, None]).solution.squeeze(1)
    assert torch.allclose(keep_ridge(X, y, 1.0), least_squares)  # nothing dropped


def test_a_verdict_in_words_is_compared_as_text():
    from regutils.exercises.combining import combination_verdict

    def always_distinguishable(combination, parts):
        best, _ = combination_verdict(combination, parts)
        return best, "adds up"

    result = check("combining.combination_verdict", always_distinguishable)
    assert not result.passed
    assert "expected 'not distinguishable', received 'adds up'" in result.message
    assert check("combining.combination_verdict", lambda c, p: (3, "worse")).n_passed == 0
