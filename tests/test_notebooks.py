"""The chapters as files: clean, listed in the table of contents, readable everywhere."""

import re

import pytest

from tests.book import CHAPTERS, ROOT, cells, config, source, toc_files

CHAPTER_IDS = [p.stem for p in CHAPTERS]


def test_there_are_chapters():
    assert CHAPTERS, "chapters/ holds no notebook"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_committed_without_outputs(path):
    for cell in cells(path):
        if cell["cell_type"] == "code":
            assert not cell["outputs"], f"{path.name}: a cell has outputs; clear them"
            assert cell["execution_count"] is None, f"{path.name}: clear execution counts"


def test_toc_and_chapters_agree():
    entries = toc_files()
    for entry in entries:
        assert any((ROOT / f"{entry}{s}").exists() for s in (".md", ".ipynb")), entry
    for path in CHAPTERS:
        assert str(path.relative_to(ROOT).with_suffix("")) in entries, f"{path} not in _toc.yml"
    assert len(entries) == len(set(entries)), "a file is listed twice in _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_setup_cell_installs_from_the_configured_repository_in_colab_only(path):
    setup = cells(path)[0]
    text = source(setup)
    assert setup["cell_type"] == "code" and "remove-cell" in setup["metadata"].get("tags", [])
    urls = re.findall(r'^REPOSITORY_URL = "([^"]*)"  # fmt: skip', text, re.M)
    assert urls == [config()["repository"]["url"]], "run: make repoint URL=<repository url>"
    assert '"google.colab" in sys.modules' in text
    # Colab already has torch, numpy, matplotlib...: the cell installs regutils and nothing else
    assert "git+{REPOSITORY_URL}" in text
    assert not re.search(r"torch|numpy|matplotlib|==", text.split("if ")[-1])


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_markdown_has_no_directive_syntax(path):
    """Jupyter and Colab show MyST directives and roles raw, so chapters use none."""
    raw = re.compile(r"```\{|:::\s*\{|\{[a-z:-]+\}`")
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            match = raw.search(source(cell))
            assert match is None, f"{path.name}: raw MyST syntax {match.group()!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_chapter_opens_with_title_prerequisites_and_goals(path):
    first_markdown = next(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    assert first_markdown.startswith("# ")
    assert "**Prerequisites:**" in first_markdown and "**You will learn to:**" in first_markdown
