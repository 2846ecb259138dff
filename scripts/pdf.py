"""Print an HTML page to PDF in headless Chromium: ``python scripts/pdf.py PAGE.html OUT.pdf``.

`make pdf` builds the whole book as one page (``jupyter-book build . --builder singlehtml``,
reusing the execution cache of `make book`) and prints it with this script to
``_build/pdf/book.pdf``. Offline, like the site: the page's folder is served on 127.0.0.1, every
request to another host is refused, and the script waits until MathJax has typeset every
formula and every image has loaded before printing.

The browser is Debian's ``chromium`` package (or ``$CHROMIUM``, or a Google Chrome on PATH),
driven by Playwright. Jupyter Book's own ``pdfhtml`` builder is not used: it starts Playwright's
downloaded browser (``playwright install``, a download) with no way to name another, opens the
page from ``file://`` (where Chromium refuses MathJax's web fonts), and writes its single page
into ``_build/html``, over the site.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]  # --no-sandbox: root
TIMEOUT_MS = 120_000  # one long page: MathJax typesets every chapter's formulas before printing
# A single-page build has no search index, which the theme's search box asks for: not an error.
NO_SEARCH_INDEX = "/searchindex.js"
# Printed pages: keep a code cell or an output on one page where it fits, and no link URLs.
PRINT_CSS = """
div.cell_input, div.cell_output, figure, table { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
"""


def find_browser() -> str | None:
    """$CHROMIUM if set; else Debian's ``chromium``; else a Google Chrome on PATH."""
    if "CHROMIUM" in os.environ:
        candidates = [os.environ["CHROMIUM"]]
    else:
        candidates = ["/usr/bin/chromium"]
        candidates += [shutil.which(n) or "" for n in ("google-chrome", "google-chrome-stable")]
    return next((c for c in candidates if c and os.access(c, os.X_OK) and Path(c).is_file()), None)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # `format`: the base class's name
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """``folder`` on 127.0.0.1, on a free port; yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def print_to_pdf(page: Path, out: Path, browser: str | None = None) -> list[str]:
    """Print ``page`` (an HTML file, served with its folder) to the PDF file ``out``.

    Args:
        page: the HTML file.
        out: the PDF to write; its folder is created.
        browser: the Chromium or Chrome executable. Default: ``None``, found by
            ``find_browser``.

    Returns:
        The problems seen while loading: requests to other hosts (refused), failed local
        requests, console errors. Empty when the page loaded cleanly.

    Raises:
        FileNotFoundError: if ``page`` does not exist or no browser is found.
    """
    from playwright.sync_api import sync_playwright

    page = Path(page).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"page must be an HTML file, but {page} does not exist")
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError(
            "no browser to print with: install Debian's chromium (apt-get install chromium) "
            "or set CHROMIUM to a Chromium or Chrome executable"
        )
    problems: list[str] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with serve(page.parent) as base, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser, args=ARGS)
        try:
            context = chromium.new_context()
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script("localStorage.setItem('mode', 'light');")  # paper is white

            def route(route: Any) -> None:
                url = route.request.url
                if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
                    route.continue_()
                else:  # offline: nothing may come from elsewhere
                    problems.append(f"request to another host (refused): {url}")
                    route.abort()

            context.route("**/*", route)
            tab = context.new_page()

            def console(message: Any) -> None:  # a failed request is reported with its URL
                if message.type == "error" and not message.text.startswith("Failed to load"):
                    problems.append(f"console: {message.text}")

            def response(answer: Any) -> None:
                if answer.status >= 400 and not answer.url.endswith(NO_SEARCH_INDEX):
                    problems.append(f"failed request: {answer.url} (HTTP {answer.status})")

            tab.on("console", console)
            tab.on("pageerror", lambda error: problems.append(f"uncaught {error}"))
            tab.on("response", response)
            tab.goto(base + quote(page.name), wait_until="load")
            tab.evaluate(
                """async () => {
                  if (window.MathJax?.startup?.promise) await MathJax.startup.promise;
                  const images = [...document.images];
                  images.forEach(img => { img.loading = 'eager'; });
                  await Promise.all(images.map(img => img.decode().catch(() => null)));
                  await document.fonts.ready;
                }"""
            )
            tab.add_style_tag(content=PRINT_CSS)
            tab.emulate_media(media="print")
            tab.pdf(
                path=str(out),
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            chromium.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the HTML file to print")
    parser.add_argument("out", type=Path, help="the PDF file to write")
    args = parser.parse_args(argv)
    problems = print_to_pdf(args.page, args.out)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"The PDF is written: {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
