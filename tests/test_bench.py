"""The benchmark harness of `make bench`, checked fast: the benchmark itself is not run here.

The contenders must train the same thing (else their times are not comparable), the chapter
timer must see the kernel's memory, and the committed results must be what the book shows.
"""

import json
import warnings

import nbformat
import pytest
import torch

from benchmarks import busy, report, training
from benchmarks.chapters import chapter_paths, time_chapter
from regutils import fit, load_digits, reference_model, set_seed
from tests.book import CHAPTERS, ROOT

RESULTS = ROOT / "benchmarks" / "results"


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def trained(contender, data, *, epochs, batch_size):
    set_seed(0)
    model = reference_model()
    contender(model, data, epochs=epochs, batch_size=batch_size)
    return model


@pytest.mark.parametrize("batch_size", [32, None], ids=["batch32", "full"])
def test_hand_written_loop_trains_exactly_what_fit_trains(digits, batch_size):
    hand = trained(training.train_hand, digits, epochs=2, batch_size=batch_size)
    fit = trained(training.train_regutils, digits, epochs=2, batch_size=batch_size)
    for a, b in zip(hand.parameters(), fit.parameters()):
        assert torch.equal(a, b), "same seed, same batches: the weights must be identical"


def assert_same_weights(model, reference, name):
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=f"{name} trains another model")


def test_full_batch_contenders_make_the_same_updates(digits):
    # With the full batch, the order of the rows is all that differs between contenders.
    hand = trained(training.train_hand, digits, epochs=2, batch_size=None)
    loader = trained(training.train_dataloader, digits, epochs=2, batch_size=None)
    assert_same_weights(loader, hand, training.DATALOADER)


def test_peers_make_the_same_updates(digits):
    pytest.importorskip("skorch")
    pytest.importorskip("lightning")
    from benchmarks import peers

    hand = trained(training.train_hand, digits, epochs=2, batch_size=None)
    for name, contender in (
        (training.SKORCH, peers.train_skorch),
        ("Lightning", peers.train_lightning),
    ):
        assert_same_weights(trained(contender, digits, epochs=2, batch_size=None), hand, name)


def test_contenders_without_peers_start_with_the_baseline():
    found = training.contenders(peers=False)
    assert list(found)[:2] == [training.HAND, training.REGUTILS]


def test_rotation_puts_each_contender_first_once():
    names = ["a", "b", "c"]
    firsts = [training.rotated(names, rep)[0] for rep in range(3)]
    assert sorted(firsts) == names
    assert all(sorted(training.rotated(names, rep)) == names for rep in range(5))


def fake_runs():
    runs = []
    for rep, (hand_s, fit_s, slow_s) in enumerate(
        [(1.0, 1.1, 3.0), (2.0, 2.0, 5.0), (1.5, 1.4, 4.0)]
    ):
        runs += [
            training.Run(training.HAND, 32, rep, hand_s, 0.90 + rep / 100),
            training.Run(training.REGUTILS, 32, rep, fit_s, 0.90 + rep / 100),
            training.Run(training.LIGHTNING, 32, rep, slow_s, 0.895),
        ]
    return runs


def test_summary_ratios_and_accuracy_agreement():
    rows = {row["contender"]: row for row in training.summarize(fake_runs())}
    assert rows[training.HAND]["ratio"] == 1.0
    assert rows[training.REGUTILS]["median_s"] == 1.4
    assert rows[training.REGUTILS]["ratio"] == pytest.approx(1.4 / 1.5)
    assert rows[training.LIGHTNING]["ratio"] == pytest.approx(4.0 / 1.5)
    assert rows[training.REGUTILS]["same_acc"] == "identical"
    assert rows[training.LIGHTNING]["same_acc"] == "within 2 pts"  # 0.895 vs a median of 0.91


def test_training_table_has_the_columns_and_one_line_per_row():
    rows = training.summarize(fake_runs())
    header, rule, *lines = report.training_table(rows)
    assert [c.strip() for c in header.strip("|").split("|")] == list(report.TRAINING_COLUMNS)
    assert rule.count("---") == len(report.TRAINING_COLUMNS)
    assert len(lines) == len(rows)
    assert lines[1].split("|")[4].strip() == "0.93"  # regutils.fit: 1.4 s / 1.5 s


def test_goals_report_a_miss():
    rows = training.summarize(fake_runs())
    chapters = {"rows": [], "total_s": 61.0, "reference_run_s": 1.0}
    results = {"training": {"rows": rows}, "chapters": chapters}
    chapters["rows"] = [
        {"chapter": "x.ipynb", "wall_s": 61.0, "reference_runs": 61.0, "peak_rss_mb": 1.0,
         "error": None},
        {"chapter": "y.ipynb", "wall_s": 1.0, "reference_runs": 1.0, "peak_rss_mb": 1.0,
         "error": "CellExecutionError"},
    ]  # fmt: skip
    met = {g["goal"]: g["met"] for g in report.goals(results)}
    assert met["every chapter executes within its budget, in reference runs"] is False  # 61
    assert met["every chapter executes to the end"] is False
    assert met["`regutils.fit` vs the hand-written loop, batches of 32"] is True


def test_chapters_are_found_by_glob():
    assert chapter_paths() == CHAPTERS


def test_chapter_timer_measures_the_kernel(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('big = b"x" * (300 * 2**20)  # 300 MiB, all written')]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    timing = time_chapter(path)
    assert timing.chapter == "tiny.ipynb" and timing.wall_s > 0 and timing.error is None
    assert timing.peak_rss_mb > 300, "the kernel's peak memory must include the 300 MiB"


def test_a_failing_chapter_is_reported_not_raised(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("assert 1 == 2, 'a claim stopped being true'")]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    assert time_chapter(path).error == "CellExecutionError"


def test_committed_results_are_what_the_book_shows():
    results = json.loads((RESULTS / "latest.json").read_text())
    assert (RESULTS / "latest.md").read_text() == report.render_markdown(results), (
        "benchmarks/results/latest.md must be rendered from latest.json: run make bench"
    )
    measured = {row["chapter"] for row in results.get("chapters", {}).get("rows", [])}
    missing = [path.name for path in CHAPTERS if path.name not in measured]
    if missing:  # not a failure (the benchmark is slow), but a warning in every test run
        warnings.warn(
            f"benchmarks/results predate {missing}: run make bench and commit its results",
            stacklevel=1,
        )


def test_competing_process_runs_during_the_block_only():
    with busy.competing_process() as hog:
        assert hog.poll() is None, "the competing process must be running"
    assert hog.poll() is not None, "and ended after the block"


def test_busy_settings_train_the_same_model(digits):
    # The two settings differ in threads and Adam kernel, not in what they compute.
    models = []
    for setting in busy.SETTINGS:
        set_seed(0)
        model = reference_model()
        fit(model, digits.train, epochs=2, batch_size=32, **busy.options(setting, model))
        models.append(model)
    assert_same_weights(models[1], models[0], busy.BOOK)


def fake_busy(book_ratio):
    rows = [
        {"setting": busy.DEFAULTS, "idle_s": 1.0, "busy_s": 9.0, "busy_ratio": 9.0},
        {"setting": busy.BOOK, "idle_s": 1.05, "busy_s": 1.05 * book_ratio,
         "busy_ratio": book_ratio},
    ]  # fmt: skip
    return {"epochs": 100, "reps": 3, "cores": 2, "torch_threads": 2, "rows": rows}


@pytest.mark.parametrize("book_ratio, met", [(1.1, True), (1.6, False)])
def test_busy_goals_and_section(book_ratio, met):
    results = {"busy": fake_busy(book_ratio)}
    goals = {g["goal"]: g for g in report.goals(results)}
    on_busy = goals["`regutils.fit` on a busy machine (one other CPU-bound process)"]
    assert on_busy["met"] is met and on_busy["measured"].startswith(f"{book_ratio:.2f}×")
    idle = goals["`regutils.fit` on an idle machine, against torch defaults"]
    assert idle["met"] is True and idle["measured"] == "1.05×"
    markdown = report.render_markdown({"machine": report.machine(1), **results})
    assert (
        "## A busy machine" in markdown and "| torch defaults | 1.000 | 9.000 | 9.00 |" in markdown
    )
