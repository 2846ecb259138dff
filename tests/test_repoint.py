import json
import shutil

import pytest

from scripts.repoint import repoint
from tests.book import CHAPTERS, ROOT


def test_repoint_rewrites_config_and_every_setup_cell(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "chapters").mkdir()
    for path in CHAPTERS:
        shutil.copy(path, tmp_path / "chapters" / path.name)
    url = "https://github.com/someone/my-fork"
    changed = repoint(url, root=tmp_path)
    assert len(changed) == 1 + len(CHAPTERS)
    assert f"  url: {url}\n" in (tmp_path / "_config.yml").read_text()
    for path in (tmp_path / "chapters").glob("*.ipynb"):
        setup = "".join(json.loads(path.read_text())["cells"][0]["source"])
        assert f'REPOSITORY_URL = "{url}"' in setup
    assert repoint(url, root=tmp_path) == []  # idempotent
    with pytest.raises(ValueError, match="URL must look like"):
        repoint("not a url", root=tmp_path)
