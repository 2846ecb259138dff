"""Sphinx extension: the ``exercise-list`` directive lists every exercise of the book.

The list is written at build time from the chapters themselves, so it cannot go stale: an
exercise is

- a section whose title starts with "Exercise <number>" (open questions included), or
- the section holding a code cell tagged ``exercise-starter`` (its cell metadata ``exercise``
  names the registered exercise that ``check`` runs).

Each entry links to the exercise's section. Usage, in a MyST page::

    ```{exercise-list}
    ```

Loaded through ``_config.yml`` (``sphinx.local_extensions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors import EnvironmentCollector
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

EXERCISE_TITLE = re.compile(r"Exercise\s+\d+")  # "Exercises" (the parent section) does not match
STARTER_TAG = "exercise-starter"
ENV_EXERCISES = "book_exercises"  # env attribute: {docname: [Exercise, ...]}
ENV_LIST_PAGES = "book_exercise_list_pages"  # env attribute: {docnames using the directive}


@dataclass
class Exercise:
    """One exercise, as found in a chapter's doctree."""

    title: str  # the section title, e.g. "Exercise 1: polynomial features"
    anchor: str  # the section's id, the fragment of the link
    checked_by: list[str] = field(default_factory=list)  # registered names of its starters


def exercises(env: BuildEnvironment) -> dict[str, list[Exercise]]:
    if not hasattr(env, ENV_EXERCISES):
        setattr(env, ENV_EXERCISES, {})
    return getattr(env, ENV_EXERCISES)


def list_pages(env: BuildEnvironment) -> set[str]:
    if not hasattr(env, ENV_LIST_PAGES):
        setattr(env, ENV_LIST_PAGES, set())
    return getattr(env, ENV_LIST_PAGES)


def is_starter(node: nodes.Node) -> bool:
    """A code cell tagged ``exercise-starter`` (myst-nb keeps the cell's metadata on it)."""
    if not isinstance(node, nodes.container):
        return False
    return STARTER_TAG in node.get("cell_metadata", {}).get("tags", [])


def find_exercises(doctree: nodes.document, docname: str) -> list[Exercise]:
    """The exercises of one document, in reading order."""
    found: dict[str, Exercise] = {}  # by anchor; insertion order is document order
    for node in doctree.findall(lambda n: isinstance(n, nodes.section) or is_starter(n)):
        if isinstance(node, nodes.section):
            title = node[0].astext()
            if EXERCISE_TITLE.match(title) and node["ids"]:
                found.setdefault(node["ids"][0], Exercise(title, node["ids"][0]))
            continue
        name = node["cell_metadata"].get("exercise")
        if not name:
            # A starter nobody can check is a bug in the chapter: fail the (-W) build.
            logger.warning(
                "a cell tagged %r has no 'exercise' metadata naming its exercise",
                STARTER_TAG,
                location=node,
            )
            continue
        section = node.parent
        while section is not None and not isinstance(section, nodes.section):
            section = section.parent
        if section is None or not section["ids"]:
            logger.warning("exercise %r is not inside a section", name, location=(docname, None))
            continue
        anchor = section["ids"][0]
        found.setdefault(anchor, Exercise(section[0].astext(), anchor)).checked_by.append(name)
    return list(found.values())


class ExerciseCollector(EnvironmentCollector):
    """Records each document's exercises while it is read, and refreshes the list pages."""

    def clear_doc(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        exercises(env).pop(docname, None)
        list_pages(env).discard(docname)

    def merge_other(
        self, app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
    ) -> None:
        for docname in docnames:
            if docname in exercises(other):
                exercises(env)[docname] = exercises(other)[docname]
            if docname in list_pages(other):
                list_pages(env).add(docname)

    def process_doc(self, app: Sphinx, doctree: nodes.document) -> None:
        found = find_exercises(doctree, app.env.docname)
        if found:
            exercises(app.env)[app.env.docname] = found

    def get_outdated_docs(
        self,
        app: Sphinx,
        env: BuildEnvironment,
        added: set[str],
        changed: set[str],
        removed: set[str],
    ) -> list[str]:
        # Any other page read anew may have gained or lost an exercise: re-read the list pages.
        pages = list_pages(env)
        return sorted(pages) if (added | changed | removed) - pages else []


class exercise_list(nodes.General, nodes.Element):  # lower case, as docutils names nodes
    """Placeholder, replaced by the list once every document has been read."""


class ExerciseListDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        list_pages(self.env).add(self.env.docname)
        return [exercise_list()]


def reading_order(env: BuildEnvironment) -> list[str]:
    """Every document reachable from the root's table of contents, as the navigation lists."""
    order: list[str] = []

    def walk(docname: str) -> None:
        if docname in order:
            return
        order.append(docname)
        for child in env.toctree_includes.get(docname, []):
            walk(child)

    walk(env.config.root_doc)
    return order + sorted(set(exercises(env)) - set(order))


class ExerciseListTransform(SphinxPostTransform):
    """Replace each placeholder by the list: chapter by chapter, a link to each exercise."""

    default_priority = 100

    def link(self, docname: str, anchor: str, text: str) -> nodes.reference:
        uri = self.app.builder.get_relative_uri(self.env.docname, docname)
        return nodes.reference("", text, internal=True, refuri=f"{uri}#{anchor}" if anchor else uri)

    def numbered(self, docname: str, anchor: str, title: str) -> str:
        """The title with its section number ("1.6.1. Exercise 1: ..."), as the page shows it."""
        number = self.env.toc_secnumbers.get(docname, {}).get(f"#{anchor}" if anchor else "")
        return f"{'.'.join(map(str, number))}. {title}" if number else title

    def run(self, **kwargs: Any) -> None:
        for placeholder in list(self.document.findall(exercise_list)):
            placeholder.replace_self(self.build_list())

    def build_list(self) -> nodes.Element:
        chapters = nodes.bullet_list(classes=["exercise-list"])
        for docname in reading_order(self.env):
            found = exercises(self.env).get(docname)
            if not found:
                continue
            title = self.numbered(docname, "", self.env.titles[docname].astext())
            heading = nodes.paragraph()
            heading += nodes.strong("", "", self.link(docname, "", title))
            items = nodes.bullet_list()
            for exercise in found:
                item = nodes.paragraph()
                title = self.numbered(docname, exercise.anchor, exercise.title)
                item += self.link(docname, exercise.anchor, title)
                if exercise.checked_by:
                    item += nodes.Text(" — checks itself: ")
                    for i, name in enumerate(exercise.checked_by):
                        item += nodes.Text(", " if i else "")
                        item += nodes.literal(name, name)
                else:
                    item += nodes.Text(" — open question")
                items += nodes.list_item("", item)
            chapters += nodes.list_item("", heading, items)
        if not chapters.children:
            return nodes.paragraph(text="The book has no exercises yet.")
        return chapters


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(exercise_list)
    app.add_directive("exercise-list", ExerciseListDirective)
    app.add_env_collector(ExerciseCollector)
    app.add_post_transform(ExerciseListTransform)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
