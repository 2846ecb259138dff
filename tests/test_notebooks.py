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


def markdown_cells(path):
    return [source(c) for c in cells(path) if c["cell_type"] == "markdown"]


def prose(text: str) -> str:
    """Markdown without its maths and code spans: what a reader sees as words."""
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    return re.sub(r"`[^`]*`", " ", text)


def captions(path):
    found = []
    for cell in cells(path):
        figure = cell["metadata"].get("mystnb", {}).get("figure", {})
        if "caption" in figure:
            found.append(figure["caption"])
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_markdown_has_no_literal_backslash_n(path):
    """A "\\n" typed into a markdown cell shows on the site as the two characters."""
    for text in markdown_cells(path) + captions(path):
        match = re.search(r".{0,30}\\n.{0,30}", prose(text))
        assert match is None, f"{path.name}: a literal backslash-n in {match.group()!r}"


def defined_names(code: str) -> set[str]:
    """The top-level names a cell defines: functions, classes and assignments."""
    found = re.findall(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=", code, re.M)
    return {name for pair in found for name in pair if name}


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_exercises_define_no_name_the_chapter_uses_elsewhere(path):
    """After "Run all", a starter must not replace a function the chapter itself calls."""
    code = [(i, source(c), c) for i, c in enumerate(cells(path)) if c["cell_type"] == "code"]
    for i, text, cell in code:
        if "exercise-starter" not in cell["metadata"].get("tags", []):
            continue
        exercise = cell["metadata"]["exercise"]
        for name in defined_names(text):
            for j, other, _ in code:
                if j == i or f'"{exercise}"' in other:  # the starter, its check and solution
                    continue
                assert not re.search(rf"\b{name}\b", other), (
                    f"{path.name}: exercise {exercise} defines {name}, which cell {j} also "
                    "uses; give the exercise's function a name of its own"
                )


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_open_exercises_have_a_cell_of_their_own(path):
    """An open exercise is edited in its own cell, whose names no other cell uses: editing it
    can never make a hidden assert of the chapter fail."""
    all_cells = cells(path)
    for i, cell in enumerate(all_cells):
        text = source(cell)
        if cell["cell_type"] == "markdown" and re.search(r"^#+ Exercise.*\(open\)", text, re.M):
            after = all_cells[i + 1] if i + 1 < len(all_cells) else None
            assert after is not None and after["cell_type"] == "code", (
                f"{path.name}: open exercise in cell {i} has no code cell of its own after it"
            )
            assert "exercise-open" in after["metadata"].get("tags", []), (
                f"{path.name}: tag the code cell after open exercise {i} 'exercise-open'"
            )
    for i, cell in enumerate(all_cells):
        if "exercise-open" not in cell["metadata"].get("tags", []):
            continue
        names = defined_names(source(cell))
        for j, other in enumerate(all_cells):
            if j != i and other["cell_type"] == "code":
                for name in names:
                    assert not re.search(rf"\b{name}\b", source(other)), (
                        f"{path.name}: the open exercise's {name} is also used in cell {j}"
                    )


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_figure_cells_hide_their_input(path):
    """A figure's layout code is folded on the site; the lesson's code stays visible."""
    for i, cell in enumerate(cells(path)):
        if "figure" in cell["metadata"].get("mystnb", {}):
            assert "hide-input" in cell["metadata"].get("tags", []), (
                f"{path.name}: figure cell {i} should be tagged hide-input"
            )


BRITISH = re.compile(
    r"\b\w*(?:optimis|minimis|maximis|regularis|normalis|penalis|memoris|generalis|standardis"
    r"|initialis|summaris|recognis|vectoris|parameteris|randomis|characteris|emphasis(?=e)"
    r"|behaviour|colour|favour|neighbour|centre|centred|modelling|labelled|travelled"
    r"|analys(?=e))\w*",
    re.I,
)


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_american_spelling(path):
    for text in markdown_cells(path) + captions(path):
        match = BRITISH.search(prose(text))
        assert match is None, f"{path.name}: the book spells American English: {match.group()!r}"


def test_american_spelling_in_pages():
    pages = [ROOT / "intro.md", *sorted((ROOT / "appendix").glob("*.md"))]
    for page in pages:
        match = BRITISH.search(prose(page.read_text()))
        assert match is None, f"{page.name}: the book spells American English: {match.group()!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_other_chapters_are_named_by_links(path):
    """ "the L1 chapter" is a relative link to its notebook: it works on the site, in
    JupyterLab and in Colab."""
    for text in markdown_cells(path):
        match = re.search(r"(?<!\[)\bthe (?:[A-Z][\w-]*|L\d) chapter\b", text)
        assert match is None, f"{path.name}: link {match.group()!r} to its .ipynb"
        for target in re.findall(r"\]\(([^)#]+\.ipynb)(?:#[^)]*)?\)", text):
            assert (path.parent / target).exists(), f"{path.name}: broken link to {target}"


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_the_half_is_written_one_way(path):
    """The book writes the half of the L2 convention as $\\tfrac12$, never as the glyph."""
    for text in markdown_cells(path) + captions(path):
        assert "½" not in text, f"{path.name}: write $\\tfrac12$ instead of ½"


def notebook_metadata(path) -> dict:
    import json

    return json.loads(path.read_text()).get("metadata", {})


CALIBRATED = [p for p in CHAPTERS if notebook_metadata(p).get("book", {}).get("claims_calibrated")]


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_hidden_checks_fold_where_readers_run_them(path):
    """A hidden cell (the claims of the text) is folded in Colab and JupyterLab, titled."""
    for i, cell in enumerate(cells(path)):
        if i == 0 or "remove-cell" not in cell["metadata"].get("tags", []):
            continue  # the setup cell is Colab's own business
        where = f"{path.name}: hidden cell {i}"
        assert source(cell).startswith("# @title "), f"{where} starts with '# @title ...'"
        assert cell["metadata"].get("cellView") == "form", f"{where} needs cellView: form"
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, (
            f"{where} needs jupyter.source_hidden: true"
        )


SEEDING = re.compile(
    r"torch\.manual_seed\(|torch\.Generator\(|np\.random\.default_rng\(|np\.random\.seed\("
    r"|random\.seed\(|torch\.random\.manual_seed\("
)


@pytest.mark.parametrize("path", CHAPTERS, ids=CHAPTER_IDS)
def test_seeds_come_from_regutils(path):
    """Every seed goes through regutils (set_seed, torch_generator, numpy_generator), so that REGUTILS_SEED_SHIFT
    moves all of them."""
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code":
            match = SEEDING.search(source(cell))
            assert match is None, (
                f"{path.name}: cell {i} seeds with {match.group()!r}; use regutils.set_seed, "
                "torch_generator(seed) or numpy_generator(seed), which the seed shift moves"
            )


@pytest.mark.parametrize("path", CALIBRATED, ids=[p.stem for p in CALIBRATED])
def test_calibrated_chapters_check_claims_with_claim(path):
    """In a chapter whose claims are calibrated, every check goes through regutils.claim: a
    bare assert stops a reader's chapter and says nothing of the band."""
    import ast

    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse(source(cell))
        found = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)]
        assert not found, f"{path.name}: cell {i} has a bare assert (line {found[0]}); use claim"


def test_some_chapters_are_calibrated():
    """The robustness run of make test needs at least one chapter (all of them, in the end)."""
    assert CALIBRATED


def test_readers_are_told_which_chapters_are_calibrated():
    """appendix/running.md names exactly the chapters whose bands were calibrated."""
    text = (ROOT / "appendix" / "running.md").read_text()
    section = text.split("## When a claim does not hold", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\]\(\.\./chapters/(\w+)\.ipynb\)", section))
    assert named == {p.stem for p in CALIBRATED}, "list the calibrated chapters in running.md"
