"""The book builds with zero warnings (-W -n), offline, and holds its pages and figures."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.book import ROOT, toc_files

HTML = ROOT / "_build" / "html"

# The `built` fixture (the book built once per test run, shared with tests/test_site.py) is in
# tests/conftest.py.


def test_every_toc_page_is_built(built):
    for entry in toc_files():
        assert (HTML / f"{entry}.html").exists(), entry


def test_chapters_are_executed_with_figures(built):
    for page in (HTML / "chapters").glob("*.html"):
        text = page.read_text()
        assert "<img" in text and ".png" in text, f"{page.name} shows no figure"
        assert "Traceback" not in text


def test_api_page_documents_the_package(built):
    text = (HTML / "appendix" / "api.html").read_text()
    for name in ("fit", "EarlyStopping", "l2_penalty", "load_digits", "compare", "check"):
        assert f'id="regutils.{name}"' in text, name


def test_setup_cell_is_hidden_and_colab_button_present(built):
    text = (HTML / "chapters" / "01_overfitting.html").read_text()
    assert "REPOSITORY_URL" not in text
    assert "colab.research.google.com/github/" in text


def test_printed_output_fits_the_page(built):
    """The site's code column shows about 80 characters: printed lines stay within it."""
    import json

    for path in sorted((ROOT / "_build" / "jupyter_execute" / "chapters").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    for line in "".join(output["text"]).splitlines():
                        assert len(line) <= 80, f"{path.name}: {line!r} ({len(line)} chars)"


# --- one execution per chapter (tests/conftest.py): nbval's run is the build's -----------------


def test_the_build_renders_the_chapters_nbval_ran_without_running_them_again(built):
    if not built["reused"]:
        pytest.skip("nbval ran no chapter whole in this session (e.g. pytest tests/test_book.py)")
    for path in built["reused"]:
        name = str(path.relative_to(ROOT).with_suffix(""))
        lines = [line for line in built["output"].splitlines() if name in line]
        assert any("Using cached notebook" in line for line in lines), f"{name} was not reused"
        assert not any("Executing notebook" in line for line in lines), f"{name} ran twice"


TINY = [  # text on both streams; clear_output, a display between prints; a result
    "import sys\nprint('one')\nprint('two', file=sys.stderr)",
    "from IPython.display import clear_output, display\ndisplay('gone')\nclear_output()\n"
    "print('a')\ndisplay({'x': 1})\nprint('b')",
    "6 * 7",
]


def tiny_notebook(folder: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_markdown_cell("# A tiny chapter")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    folder.mkdir(exist_ok=True)
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def nbval_with_the_recorder(paths: list[Path], cache: Path) -> subprocess.CompletedProcess:
    """pytest's nbval on notebooks, with tests/conftest.py's hooks, storing into ``cache``."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", os.devnull, "--rootdir", str(cache.parent),
         "-p", "tests.conftest", "-p", "no:cacheprovider", "--nbval-lax", "-q", *map(str, paths)],
        cwd=ROOT, env={**os.environ, "BOOK_EXECUTION_CACHE": str(cache)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def visible(outputs: list) -> list:
    """What a reader sees of a cell's outputs: kinds and texts, in order, streams joined."""
    shown: list = []
    for out in outputs:
        if out["output_type"] == "stream":
            if shown and shown[-1][:2] == ("stream", out["name"]):
                shown[-1] = ("stream", out["name"], shown[-1][2] + out["text"])
            else:
                shown.append(("stream", out["name"], out["text"]))
        elif out["output_type"] == "error":
            shown.append(("error", out["ename"], out["evalue"]))
        else:
            shown.append((out["output_type"], dict(out["data"])))
    return shown


def test_a_chapter_nbval_passed_is_stored_as_the_build_would_have_run_it(tmp_path):
    from jupyter_cache import get_cache
    from jupyter_cache.executors.utils import single_nb_execution

    path = tiny_notebook(tmp_path, TINY)
    run = nbval_with_the_recorder([path], tmp_path / "cache")
    assert run.returncode == 0, run.stdout + run.stderr
    cache = get_cache(str(tmp_path / "cache"))
    notebook = nbformat.read(path, as_version=4)  # as the build reads it
    record = cache.match_cache_notebook(notebook)  # raises KeyError if the build would not match
    assert record.data["execution_seconds"] > 0
    _, stored = cache.merge_match_into_notebook(notebook)
    # The oracle: the build's own executor (nbclient via jupyter-cache) on the same notebook.
    built_run = single_nb_execution(nbformat.read(path, as_version=4), cwd=str(tmp_path),
                                    allow_errors=False, timeout=120, meta_override=True)  # fmt: skip
    assert built_run.err is None, built_run.exc_string
    theirs = [c for c in built_run.nb.cells if c.cell_type == "code"]
    ours = [c for c in stored.cells if c.cell_type == "code"]
    assert [c.execution_count for c in ours] == [c.execution_count for c in theirs] == [1, 2, 3]
    for mine, reference in zip(ours, theirs):
        assert visible(mine.outputs) == visible(reference.outputs)
    assert visible(ours[1].outputs)[0] == ("stream", "stdout", "a\n")  # cleared: no 'gone'
    assert visible(ours[2].outputs) == [("execute_result", {"text/plain": "42"})]


def test_a_chapter_nbval_did_not_pass_whole_is_left_for_the_build_to_run(tmp_path):
    from jupyter_cache import get_cache

    failing = tiny_notebook(tmp_path / "failing", ["x = 1", "raise ValueError('no')", "x"])
    skipped = tiny_notebook(tmp_path / "skipped", ["x = 1", "# NBVAL_SKIP\nx", "x"])
    run = nbval_with_the_recorder([failing, skipped], tmp_path / "cache")
    assert "1 failed, 4 passed, 1 skipped" in run.stdout, run.stdout
    cache = get_cache(str(tmp_path / "cache"))
    for path in (failing, skipped):
        with pytest.raises(KeyError, match="Cache record not found"):
            cache.match_cache_notebook(nbformat.read(path, as_version=4))


def test_api_page_names_every_public_name():
    """appendix/api.md documents all of regutils.__all__ (checked on the source: no build)."""
    import re

    import regutils

    text = (ROOT / "appendix" / "api.md").read_text()
    missing = [n for n in regutils.__all__ if not re.search(rf"regutils(\.\w+)*\.{n}\b", text)]
    assert not missing, f"add to appendix/api.md: {missing}"
