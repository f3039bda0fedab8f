"""The README and docs/ hold together: every relative link resolves inside the
repository (to a file, and to a heading when it names one), nothing points at a
path beside the repository, the README stays short, and `.env.example` and the
settings table in docs/operations.md name every setting the code reads.

The README's bound is 150 lines: two screenfuls of a laptop terminal or a GitHub
page, room for what a newcomer needs first (what the service is, the two commands,
calling the API, the Better Auth config of both signing modes, the Neon settings
table) and too little for internals to creep back in; those belong in docs/.
"""

import re
from pathlib import Path

import pytest

from testing.live import ROOT

README_MAX_LINES = 150

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`]*`")
# [text](target) and ![alt](target), with an optional "title".
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# [label]: target
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def prose(text: str) -> str:
    """The text without fenced code blocks and code spans, where brackets aren't links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    text = prose(path.read_text())
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower-cased, punctuation dropped,
    spaces turned into hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = text.replace("`", "").replace("*", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = anchor = slug(heading)
        number = 0
        while anchor in found:  # GitHub numbers repeated headings: x, x-1, x-2...
            number += 1
            anchor = f"{base}-{number}"
        found.add(anchor)
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    broken = []
    for target in links(document):
        if SCHEME.match(target):
            continue  # https:, mailto:: not a file of this repository
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.is_relative_to(ROOT.resolve()):
            broken.append(f"{target}: outside the repository")
        elif not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_nothing_names_a_path_beside_the_repository(document: Path) -> None:
    """A reader of the repository has nothing beside it (no ../shared)."""
    assert "../shared" not in document.read_text()


def test_the_readme_fits_in_two_screenfuls() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()

    assert len(lines) <= README_MAX_LINES


def test_the_readme_leads_to_every_guide_in_docs() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(ROOT / "README.md")}

    assert [path.name for path in DOCUMENTS[1:] if path.resolve() not in linked] == []


def settings_the_code_reads() -> set[str]:
    """Every environment variable the settings, gunicorn.conf.py and the ASGI app read."""
    read = re.compile(
        r"""(?:env\.\w+|_secret|_rate|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    )
    sources = ["todo_project/settings.py", "gunicorn.conf.py", "todo_project/asgi.py"]
    return {name for source in sources for name in read.findall((ROOT / source).read_text())}


def test_env_example_and_the_settings_table_name_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    table = (ROOT / "docs" / "operations.md").read_text()
    names = settings_the_code_reads()

    assert {"SECRET_KEY", "DATABASE_URL", "GUNICORN_THREADS", "WEB_CONCURRENCY"} <= names
    assert sorted(name for name in names if not re.search(rf"\b{name}=", example)) == []
    assert sorted(name for name in names if f"`{name}`" not in table) == []
