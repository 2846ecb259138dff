"""The book builds with zero warnings (-W -n), offline, and holds its pages and figures."""

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
