"""Sphinx extension: write each inline ``<script>`` once per page.

Sphinx 7.4 registers an inline script (``app.add_js_file(None, body=...)``) added after the
builder started twice: once as given, and again when ``prepare_writing`` re-adds the
registry's scripts with the file name ``''`` instead of ``None``, so the two no longer compare
equal. sphinx-thebe adds ``const THEBE_JS_URL = ...`` that way, and its second copy is a
``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared`` in every reader's
console on every page (tests/test_site.py fails on console errors).

This drops the repeats from each page's script list, keeping the first of each.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def drop_repeated_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""  # None and "" are the same: inline
        attributes = getattr(script, "attributes", {})
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    # Late (priority 900, default 500): after any extension adds page-specific scripts.
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
