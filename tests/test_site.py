"""The reader's experience: the built site, served on localhost, in a real headless Chromium.

Every page of _toc.yml is opened as a reader's browser would open it, with every request to
another host blocked (the site must work offline, and a script from a CDN is a privacy and
availability risk): no console errors, no failed requests, figures and formulas rendered, the
navigation, the Colab and download buttons, search, the exercise list and the status table.
Screenshots of a chapter in light and dark mode are saved under _build/screenshots for review.

The browser is Debian's `chromium` package driven by Playwright (never `playwright install`,
which downloads a browser). Without it the browser tests skip, except in CI (CI=true), where
.ci/run installs it and a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import urlopen

import pytest

from tests.book import CHAPTERS, ROOT, cells, config, source, toc_files

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def find_browser() -> str | None:
    """$CHROMIUM if set; else Debian's `chromium` package; else a Chrome on PATH.

    The fallback keeps hosted CI images that ship Google Chrome instead (GitHub's Ubuntu
    runners do) working without an install step.
    """
    if "CHROMIUM" in os.environ:
        candidates = [os.environ["CHROMIUM"]]
    else:
        candidates = ["/usr/bin/chromium"]
        candidates += [
            shutil.which(name) or "" for name in ("google-chrome", "google-chrome-stable")
        ]
    return next((c for c in candidates if c and os.access(c, os.X_OK) and Path(c).is_file()), None)


BROWSER = find_browser()
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]  # Playwright adds a fresh, temporary --user-data-dir for every launch
VIEWPORT = {"width": 1280, "height": 900}  # a laptop screen
TIMEOUT_MS = 30_000  # generous: 2-core CI machines, MathJax typesetting a long page
SEARCH_WORD = "overfitting"  # searched for on the search page; must be in a chapter's text
SCREENSHOT_CHAPTER = "chapters/01_overfitting"
# TeX that MathJax should have turned into formulas: display and inline delimiters, or a
# $...$ span holding TeX syntax (a lone dollar sign in prose is fine).
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*[\\^_{}][^$\n]*\$")

PAGES = toc_files()
NOTEBOOK_PAGES = [page for page in PAGES if (ROOT / f"{page}.ipynb").exists()]


# --- serving the site and driving the browser -------------------------------------------------


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves _build/html without logging every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:  # `format`: the base class's name
        pass


@pytest.fixture(scope="module")
def server(built) -> Iterator[str]:
    """The built site on 127.0.0.1, on a free port; yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def require_browser() -> str:
    """The browser's path; without one, skip the test (fail it in CI)."""
    if BROWSER is None:
        message = (
            "no browser for the site test: install Debian's package (apt-get install chromium), "
            "or set CHROMIUM to a Chromium or Chrome executable"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (.ci/run installs it in CI)")
        pytest.skip(message)
    return BROWSER


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=BROWSER, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What the browser saw while loading one page."""

    url: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    failed: list[str] = field(default_factory=list)  # local requests that failed or got >= 400
    external: list[str] = field(default_factory=list)  # requests to other hosts (all blocked)

    def problems(self) -> list[str]:
        return (
            [f"console: {e}" for e in self.errors]
            + [f"failed request: {f}" for f in self.failed]
            + [f"request to another host: {x}" for x in self.external]
        )


def is_local(url: str) -> bool:
    return urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:", "about:"))


@contextmanager
def open_page(browser: Browser, url: str, *, dark: bool = False) -> Iterator[tuple[Page, Visit]]:
    """Load ``url`` in a fresh browser context, wait until MathJax and the network are done."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark" if dark else "light")
    # The theme remembers the reader's choice in localStorage: start each page from it.
    mode = "dark" if dark else "light"
    context.add_init_script(f"localStorage.setItem('mode', '{mode}');")
    context.set_default_timeout(TIMEOUT_MS)
    visit = Visit(url)

    def route(route: Any) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:  # the reader may be offline: nothing may come from elsewhere
            visit.external.append(f"{route.request.resource_type} {route.request.url}")
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and visit.errors.append(m.text))
    page.on("pageerror", lambda e: visit.errors.append(f"uncaught {e}"))
    page.on(
        "requestfailed",
        lambda r: is_local(r.url) and visit.failed.append(f"{r.url} ({r.failure})"),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and visit.failed.append(f"{r.url} (HTTP {r.status})"),
    )
    try:
        page.goto(url, wait_until="load")
        # MathJax typesets after the load event; its promise settles when every formula is done.
        page.evaluate("async () => { if (window.MathJax?.startup?.promise) await MathJax.startup.promise; }")  # fmt: skip
        page.wait_for_load_state("networkidle")  # fonts and images requested late, included
        yield page, visit
    finally:
        context.close()


def docname(url: str, base: str) -> str:
    """``http://127.0.0.1:N/chapters/x.html?q#y`` -> ``chapters/x`` (the _toc.yml name)."""
    path = urlsplit(url).path.removeprefix(urlsplit(base).path)
    return path.removesuffix(".html") or "index"


# --- what one page shows, read in the browser ---------------------------------------------------

READ_PAGE = """
async () => {
  const article = document.querySelector('article') || document.body;
  // Lazy images load only near the viewport: load them all, then wait for each to decode.
  const images = [...article.querySelectorAll('img')];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));

  // Text a reader sees, without code, where `$` and `\\(` are legitimate.
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, mjx-container, .highlight')
       .forEach(node => node.remove());

  const h2 = article.querySelector('h2');
  const strong = text => [...article.querySelectorAll('strong')]
      .find(s => s.textContent.trim() === text);
  const atTop = text => {
    const s = strong(text);
    if (!s) return `no bold "${text}"`;
    if (h2 && (h2.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING))
      return `"${text}" comes after the first section`;
    const box = s.getBoundingClientRect();
    if (box.height === 0) return `"${text}" is hidden`;
    if (box.bottom > window.innerHeight) return `"${text}" is below the first screen`;
    return null;
  };
  const launch = document.querySelector('.dropdown-launch-buttons a[href*="colab"]');
  return {
    images: images.map(img => ({
      src: img.currentSrc || img.src, width: img.naturalWidth, height: img.naturalHeight,
      figure: !!img.closest('figure'),
    })),
    nav: [...document.querySelectorAll('nav.bd-docs-nav a.reference')].map(a => a.href),
    math: document.querySelectorAll('.math').length,
    mathUnrendered: [...document.querySelectorAll('.math')]
      .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    mathjax: window.MathJax?.version || null,
    prose: prose.textContent,
    scripts: [...document.scripts].map(s => s.src).filter(Boolean),
    prerequisites: atTop('Prerequisites:'),
    goals: atTop('You will learn to:'),
    colab: launch ? launch.href : null,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    downloads: [...document.querySelectorAll('.dropdown-download-buttons a')]
      .map(a => a.getAttribute('href')).filter(h => h && h !== '#'),
  };
}
"""


@pytest.fixture(scope="module")
def seen(browser, server) -> dict[str, tuple[Visit, dict]]:
    """Every page of the table of contents, and the search page, opened once."""
    found = {}
    for page_name in [*PAGES, "search"]:
        with open_page(browser, urljoin(server, f"{page_name}.html")) as (page, visit):
            facts = page.evaluate(READ_PAGE)
            if page_name in NOTEBOOK_PAGES:  # the launch menu opens when clicked
                page.click(".dropdown-launch-buttons button")
                facts["colab_visible"] = page.is_visible(
                    ".dropdown-launch-buttons a[href*='colab']"
                )
        found[page_name] = (visit, facts)
    return found


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [*PAGES, "search"])
def test_page_loads_without_errors_or_requests_elsewhere(seen, page):
    visit, facts = seen[page]
    assert not visit.problems(), "\n".join(visit.problems())
    elsewhere = [src for src in facts["scripts"] if not is_local(src)]
    assert not elsewhere, f"scripts from another host: {elsewhere}"


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads(seen, page):
    _, facts = seen[page]
    broken = [i["src"] for i in facts["images"] if not (i["width"] > 0 and i["height"] > 0)]
    assert not broken, f"images that did not load: {broken}"
    if page in NOTEBOOK_PAGES:
        assert any(i["figure"] for i in facts["images"]), "a chapter without a figure"


@pytest.mark.parametrize("page", PAGES)
def test_navigation_lists_every_page_in_toc_order(seen, server, page):
    _, facts = seen[page]
    listed = [docname(href, server) for href in facts["nav"]]
    listed = [name for i, name in enumerate(listed) if name not in listed[:i]]
    assert listed == PAGES, "the sidebar must list _toc.yml's files, in order"


def test_every_link_within_the_site_resolves(seen, server):
    """Every local link of every page answers, and its #fragment is an id on the target page."""
    pages: dict[str, str] = {}  # URL without fragment -> HTML text
    broken = []
    for name, (_, facts) in seen.items():
        for link in facts["links"]:
            if not link.startswith(server):
                continue  # another host (GitHub, Colab...): not ours to check offline
            target, _, fragment = link.partition("#")
            target = target.split("?")[0]
            if target not in pages:
                try:
                    with urlopen(target) as response:  # our own server, on 127.0.0.1
                        pages[target] = response.read().decode("utf-8", "replace")
                except OSError as error:
                    pages[target] = ""
                    broken.append(f"{name}: {link} ({error})")
                    continue
            anchor = unquote(fragment)
            if anchor and pages[target] and f'id="{anchor}"' not in pages[target]:
                broken.append(f"{name}: {link} (no id {anchor!r} there)")
    assert not broken, "\n".join(sorted(set(broken)))


@pytest.mark.parametrize("page", PAGES)
def test_maths_is_rendered_by_mathjax_from_the_site(seen, page):
    _, facts = seen[page]
    if facts["math"]:
        assert facts["mathjax"], "the page has formulas but MathJax did not start"
        mathjax = [src for src in facts["scripts"] if "mathjax" in src.lower()]
        assert mathjax and all(is_local(src) for src in mathjax), mathjax
    assert not facts["mathUnrendered"], (
        f"formulas MathJax did not render: {facts['mathUnrendered']}"
    )
    raw = RAW_TEX.findall(facts["prose"])
    assert not raw, f"raw TeX left in the page: {raw[:5]}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_chapter_shows_prerequisites_and_goals_at_the_top(seen, page):
    _, facts = seen[page]
    assert facts["prerequisites"] is None, facts["prerequisites"]
    assert facts["goals"] is None, facts["goals"]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_colab_button_opens_this_notebook_from_the_repository(seen, page):
    _, facts = seen[page]
    repository = config()["repository"]
    org, repo = urlsplit(repository["url"]).path.strip("/").split("/")[:2]
    path = "/".join(p for p in (repository.get("path_to_book", "").strip("/"), page) if p)
    expected = (
        f"https://colab.research.google.com/github/{org}/{repo}"
        f"/blob/{repository['branch']}/{path}.ipynb"
    )
    assert facts["colab"] == expected
    assert (ROOT / f"{path}.ipynb").is_file(), f"{path}.ipynb is not in the repository"
    assert facts["colab_visible"], "the rocket menu does not show the Colab link when clicked"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_download_button_offers_the_notebook(seen, server, page):
    _, facts = seen[page]
    notebooks = [href for href in facts["downloads"] if href.endswith(".ipynb")]
    assert notebooks, f"download menu offers only {facts['downloads']}"
    url = urljoin(urljoin(server, f"{page}.html"), notebooks[0])
    with urlopen(url) as response:  # our own server, on 127.0.0.1
        offered = response.read()
    assert json.loads(offered)["cells"], "the offered .ipynb is not a notebook"
    assert offered == (ROOT / f"{page}.ipynb").read_bytes(), "it differs from the repository's"


def test_search_finds_the_chapters_that_use_a_word(browser, server):
    mentions = {
        str(path.relative_to(ROOT).with_suffix(""))
        for path in CHAPTERS
        if any(
            SEARCH_WORD in source(cell).lower()
            for cell in cells(path)
            if cell["cell_type"] == "markdown"
        )
    }
    assert mentions, f"no chapter says {SEARCH_WORD!r}: pick another SEARCH_WORD"
    with open_page(browser, urljoin(server, f"search.html?q={SEARCH_WORD}")) as (page, visit):
        page.wait_for_selector("#search-results ul.search li a")
        page.wait_for_function("!document.querySelector('#search-progress')?.textContent")
        hrefs = page.eval_on_selector_all("#search-results ul.search li > a", "a => a.map(x => x.href)")  # fmt: skip
        assert not visit.problems(), visit.problems()
    found = {docname(href, server) for href in hrefs}
    assert mentions <= found, f"search for {SEARCH_WORD!r} misses {mentions - found}"


def starter_exercises() -> dict[str, list[str]]:
    """{chapter docname: the registered names of its exercise-starter cells}."""
    return {
        str(path.relative_to(ROOT).with_suffix("")): [
            cell["metadata"]["exercise"]
            for cell in cells(path)
            if "exercise-starter" in cell["metadata"].get("tags", [])
        ]
        for path in CHAPTERS
    }


def test_exercise_page_links_to_every_exercise(browser, server):
    url = urljoin(server, "appendix/exercises.html")
    with open_page(browser, url) as (page, visit):
        text = page.inner_text("article")
        links = page.eval_on_selector_all(
            "ul.exercise-list ul a", "a => a.map(x => [x.href, x.textContent.trim()])"
        )
        assert not visit.problems(), visit.problems()
    for chapter, names in starter_exercises().items():
        for name in names:
            assert name in text, f"{name} ({chapter}) is missing from the exercise page"
        if names:
            assert any(docname(href, server) == chapter for href, _ in links), chapter
    # Every link lands on its exercise: the section exists and is titled as the link says.
    by_chapter: dict[str, list[tuple[str, str]]] = {}
    for href, title in links:
        chapter, _, target = href.partition("#")
        assert target, f"{href} does not point into the chapter"
        by_chapter.setdefault(chapter, []).append((target, title))
    for chapter, targets in by_chapter.items():  # one visit per chapter
        with open_page(browser, chapter) as (page, _):
            for target, title in targets:
                heading = page.locator(f"section[id='{target}'] > :is(h1, h2, h3, h4)").first
                assert heading.count(), f"{chapter}: no section {target!r}"
                assert heading.inner_text().strip().rstrip("#").strip() == title


def test_status_page_shows_each_chapters_execution_time(browser, server):
    with open_page(browser, urljoin(server, "appendix/status.html")) as (page, visit):
        rows = page.eval_on_selector_all(
            "article table tbody tr",
            "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.innerText.trim()))",
        )
        assert not visit.problems(), visit.problems()
    by_chapter = {row[0]: row for row in rows}
    for chapter in NOTEBOOK_PAGES:
        assert chapter in by_chapter, f"{chapter} is not in the execution table"
        _, _, _, runtime, status = by_chapter[chapter]
        assert float(runtime) > 0 and status == "✅", by_chapter[chapter]


def test_screenshots_of_a_chapter_in_light_and_dark_mode(browser, server):
    """For review by eye: the top of a chapter, a figure, and a table with formulas."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    url = urljoin(server, f"{SCREENSHOT_CHAPTER}.html")
    stem = Path(SCREENSHOT_CHAPTER).name
    for dark in (False, True):
        mode = "dark" if dark else "light"
        with open_page(browser, url, dark=dark) as (page, visit):
            theme = page.evaluate("document.documentElement.dataset.theme")
            assert theme == mode, f"asked for {mode} mode, the page shows {theme!r}"
            page.screenshot(path=SCREENSHOTS / f"{stem}-{mode}-1-top.png")
            page.locator("figure").nth(1).scroll_into_view_if_needed()
            page.screenshot(path=SCREENSHOTS / f"{stem}-{mode}-2-figure.png")
            page.locator("article table").last.scroll_into_view_if_needed()
            page.screenshot(path=SCREENSHOTS / f"{stem}-{mode}-3-table.png")
            assert not visit.problems(), visit.problems()
    assert len(list(SCREENSHOTS.glob(f"{stem}-*.png"))) >= 6


def test_running_page_explains_every_make_target():
    makefile = (ROOT / "Makefile").read_text()
    targets = [t for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for t in line.split()]
    running = (ROOT / "appendix" / "running.md").read_text()
    missing = [t for t in targets if f"`make {t}" not in running]
    assert not missing, f"appendix/running.md does not explain make {missing}"


def test_make_pdf_prints_a_page_offline_with_its_figures(tmp_path):
    """`make pdf`'s printer (scripts/pdf.py) on a tiny page: one PDF page, the local image
    served, the request to another host refused and reported."""
    import matplotlib.pyplot as plt

    from scripts.pdf import print_to_pdf

    browser = require_browser()
    plt.imsave(tmp_path / "figure.png", [[0.0, 1.0], [1.0, 0.0]])
    (tmp_path / "page.html").write_text(
        "<!doctype html><html><body><h1>A printed page</h1><img src='figure.png' width=50>"
        "<script src='https://cdn.example.org/x.js'></script></body></html>"
    )
    problems = print_to_pdf(tmp_path / "page.html", tmp_path / "out" / "page.pdf", browser)
    assert problems == ["request to another host (refused): https://cdn.example.org/x.js"]
    pdf = (tmp_path / "out" / "page.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    assert b"/Subtype /Image" in pdf or b"/Subtype/Image" in pdf, "the figure is not in the PDF"


def test_make_pdf_refuses_a_missing_page(tmp_path):
    from scripts.pdf import print_to_pdf

    with pytest.raises(FileNotFoundError, match="page must be an HTML file"):
        print_to_pdf(tmp_path / "nowhere.html", tmp_path / "out.pdf", browser="/bin/true")
