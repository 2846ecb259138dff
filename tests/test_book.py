"""The book builds with zero warnings (-W -n), offline, and holds its pages and figures."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.book import ROOT, toc_files

HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def built():
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run(
        [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]
    return run


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
