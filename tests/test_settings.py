"""The best settings live in one place, regutils.BEST, and every technique chapter agrees with it.

Each entry of ``BEST`` is asserted by exactly one technique chapter (chapters 2 to 10), in a
hidden cell (tag ``remove-cell``) that compares the chapter's own choice with
``BEST["<key>"]``; nbval runs that assert. The tests here check the wiring statically, from the
files present, so a chapter or an entry added later is covered without editing them.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest

import regutils
from regutils import settings
from regutils.settings import BEST, best
from tests.book import CHAPTERS, ROOT, cells, source

TECHNIQUE_CHAPTERS = [p for p in CHAPTERS if 2 <= int(p.stem[:2]) <= 10]
BEST_KEY = re.compile(r"""\bBEST\[\s*(["'])(\w+)\1\s*\]""")


def best_keys(code: str) -> set[str]:
    """The keys of ``BEST["key"]`` subscripts in code, comments and strings left out."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # an IPython magic: fall back to the text, comments dropped
        return {m.group(2) for m in BEST_KEY.finditer(re.sub(r"#.*", "", code))}
    return {
        node.slice.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "BEST"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    }


def has_assert(code: str) -> bool:
    """Whether the code checks something: an ``assert`` or a call of ``claim(...)``."""
    try:
        return any(
            isinstance(n, ast.Assert)
            or (isinstance(n, ast.Call) and getattr(n.func, "id", None) == "claim")
            for n in ast.walk(ast.parse(code))
        )
    except SyntaxError:
        return re.search(r"^\s*assert\b|\bclaim\(", code, re.M) is not None


def asserted_keys(path: Path) -> set[str]:
    """The BEST entries a chapter asserts: referenced in a hidden cell holding an assert."""
    keys = set()
    for cell in cells(path):
        code = source(cell)
        hidden = "remove-cell" in cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "code" and hidden and has_assert(code):
            keys |= best_keys(code)
    return keys


def asserting_chapters() -> dict[str, list[str]]:
    """BEST key -> the technique chapters (file names) that assert it."""
    found: dict[str, list[str]] = {}
    for path in TECHNIQUE_CHAPTERS:
        for key in asserted_keys(path):
            found.setdefault(key, []).append(path.name)
    return found


def test_best_keys_finds_subscripts_only():
    code = '# BEST["comment"]\nx = BEST["l2"]["lam"]\nassert BEST[\'l1\'], "BEST[\\"s\\"]"'
    assert best_keys(code) == {"l2", "l1"}
    assert best_keys('%time x = BEST["dropout"]  # BEST["no"]') == {"dropout"}


def test_every_entry_is_asserted_by_exactly_one_technique_chapter():
    found = asserting_chapters()
    for key in BEST:
        chapters = found.get(key, [])
        assert len(chapters) == 1, (
            f'BEST["{key}"] must be asserted by exactly one technique chapter, in a hidden '
            f"(remove-cell) cell with an assert, but is asserted by {chapters or 'none'}"
        )


def test_chapters_assert_only_entries_that_exist():
    unknown = {k: v for k, v in asserting_chapters().items() if k not in BEST}
    assert not unknown, f"chapters assert entries that BEST lacks: {unknown}"


def test_entries_are_in_chapter_order():
    found = asserting_chapters()
    order = [found[key][0] for key in BEST if len(found.get(key, [])) == 1]
    assert order == sorted(order), f"BEST's entries are not in chapter order: {order}"


def test_each_entry_has_a_comment_naming_its_chapter():
    lines = Path(settings.__file__).read_text().splitlines()
    found = asserting_chapters()
    for key in BEST:
        rows = [i for i, line in enumerate(lines) if re.match(rf'\s+"{key}": \{{', line)]
        assert len(rows) == 1, f'one line "{key}": {{...}} in the literal of BEST, found {rows}'
        row, comment = rows[0], []
        while row > 0 and lines[row - 1].strip().startswith("#"):
            row -= 1
            comment.append(lines[row])
        assert comment, f'BEST["{key}"] needs a comment above it: the chapter and the sweep'
        for chapter in found.get(key, []):
            assert chapter in "\n".join(comment), f'the comment of "{key}" names {chapter}'


@pytest.mark.parametrize("key", list(BEST))
def test_values_are_plain_numbers_strings_or_bools(key):
    setting = BEST[key]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", key), f"{key!r}: a short snake_case name"
    assert isinstance(setting, dict) and setting, f"{key}: a non-empty dict"
    for name, value in setting.items():
        assert isinstance(name, str) and name.isidentifier(), f"{key}: keyword {name!r}"
        assert type(value) in (bool, int, float, str), f"{key}.{name} = {value!r}"
        if isinstance(value, float):
            assert math.isfinite(value), f"{key}.{name} = {value!r}"


def test_best_returns_an_equal_copy():
    for key in BEST:
        setting = best(key)
        assert setting == BEST[key] and setting is not BEST[key]
    setting = best("l2")
    setting["lam"] = -1.0
    assert BEST["l2"]["lam"] != -1.0, "changing the copy leaves BEST alone"


def test_best_rejects_an_unknown_name_listing_the_keys():
    allowed = ", ".join(repr(k) for k in BEST)
    with pytest.raises(ValueError, match=re.escape(f"one of {allowed}, but got 'l3'")):
        best("l3")
    with pytest.raises(ValueError, match=r"name must be one of 'l1'.*but got \['l2'\]"):
        best(["l2"])


def test_exported_from_regutils():
    assert regutils.BEST is BEST and regutils.best is best
    assert {"BEST", "best"} <= set(regutils.__all__)


def test_technique_chapters_exist():
    assert TECHNIQUE_CHAPTERS, f"no technique chapter (02 to 10) in {ROOT / 'chapters'}"
