"""Point the book at another repository (a fork): ``python scripts/repoint.py URL``.

Rewrites ``repository.url`` in ``_config.yml`` (the Colab, repository and issue
buttons) and the ``REPOSITORY_URL`` line of every chapter's setup cell (what Colab
installs ``regutils`` from). ``tests/test_notebooks.py`` checks the two agree.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the line stays whole (a URL cannot wrap): `# fmt: skip` keeps ruff format off it
URL_LINE = re.compile(r'^REPOSITORY_URL = "[^"]*"(?=  # fmt: skip)', re.M)
CONFIG_LINE = re.compile(r"^(  url: ).*$", re.M)


def repoint(url: str, root: Path = ROOT) -> list[Path]:
    """Rewrite the repository URL everywhere; return the files changed."""
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"URL must look like https://github.com/<owner>/<repo>, but got {url!r}")
    changed = []
    config = root / "_config.yml"
    text = config.read_text()
    start = text.index("\nrepository:")  # only the url under repository:
    head, tail = text[:start], text[start:]
    new = head + CONFIG_LINE.sub(rf"\g<1>{url}", tail, count=1)
    if new != text:
        config.write_text(new)
        changed.append(config)
    for path in sorted((root / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        setup = nb["cells"][0]
        source = "".join(setup["source"])
        updated = URL_LINE.sub(f'REPOSITORY_URL = "{url}"', source)
        if updated != source:
            setup["source"] = updated.splitlines(keepends=True)
            path.write_text(
                json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
            )  # as nbformat writes
            changed.append(path)
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/repoint.py https://github.com/<owner>/<repo>")
    for path in repoint(sys.argv[1]):
        print("updated", path.relative_to(ROOT))
