"""Every citation in code and docs points inside the repository: a file that exists, an anchor it has.

Wire facts are cited as ``docs/protocol.md#<anchor>``. Refused: a ``.md`` file that is not in the repository
(relative to the citing file or to the root), an anchor its target does not have, section numbers (``§``), and
names or source tags of notes that live outside the repository.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TEXT_SUFFIXES = {".py", ".md", ".js", ".mjs", ".html", ".bicep", ".sh", ".ps1", ".yaml", ".yml", ".toml", ".json"}
SKIPPED = (
    "web/vendor/",
    "package-lock.json",
    "node_modules/",
    "tests/unit/test_citations.py",
)  # (its own bad examples)

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
_MD_REFERENCE = re.compile(r"(?<![\w/.\-\"'])((?:\.{1,2}/|[\w-]+/)*[\w-]+(?:\.[\w-]+)*\.md)(?:#([\w-]+))?")
_OUTSIDE_NOTES = re.compile(r"\b(open-questions|local-tooling|protocol-open-questions)\b|\breference/\w")
# Source aliases of notes kept outside the repository (a citation by tag cannot be followed).
_SOURCE_TAGS = re.compile(
    r"\b(?:D-(?:PROTO|BIND|TUT|OVR|CE|ODATA|APIS|ENUM|INT|EH|UPS|LOGS|SIOTS)"
    r"|X-(?:DISP|CONST|UTIL|SIG|VAL|CFG|TBP?|TATTR|KEY|MODEL|EIO|SIO|COLL|ACT|NEG|API|README|LIFE|CREQ|CHG|T-[A-Z]+)"
    r"|C-(?:CERT|CONV|JSON)|N-(?:AUTH|VER|JWT|CHG)|P-PATCH|S-(?:DEPLOY|BICEP)"
    r"|A-(?:ADP|REST|OPS|CM|CCC|TR|CONST|NEG|PARAM)|E-(?:README|FEAT|DISP|CWS|TOK|ABUSE|TRIG|OPT)"
    r"|Q-POLL|I-877|PR-653|SIO-SPEC|EIO-SPEC|SIO-31|SIO-OPT)\b"
)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")


def slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped (``-`` and ``_`` kept), spaces to ``-``."""
    text = heading.strip().replace("`", "").replace("*", "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = "".join(char for char in text.lower() if char.isalnum() or char in " -_")
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors a markdown text offers (headings outside code fences, with GitHub's -1, -2 for repeats)."""
    found: set[str] = set(_EXPLICIT_ANCHOR.findall(markdown))
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


@cache
def _anchors_of(path: Path) -> frozenset[str]:
    return frozenset(anchors(path.read_text(encoding="utf-8")))


def problems(relative: str, text: str, root: Path = ROOT) -> list[str]:
    """What is wrong with the citations of one file's text (``relative`` is its path under ``root``)."""
    found = []
    folder = (root / relative).parent
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{relative}:{number}"
        line = _URL.sub("", line)
        if "§" in line:
            found.append(f"{where}: a section number (§); cite docs/<file>.md#<anchor> instead: {line.strip()}")
        for match in _OUTSIDE_NOTES.finditer(line):
            found.append(f"{where}: cites {match.group(0)!r}, which is not in the repository: {line.strip()}")
        for match in _SOURCE_TAGS.finditer(line):
            found.append(f"{where}: source tag {match.group(0)!r} of notes outside the repository: {line.strip()}")
        for match in _MD_REFERENCE.finditer(line):
            name, anchor = match.group(1), match.group(2)
            target = next((base / name for base in (folder, root) if (base / name).is_file()), None)
            if target is None:
                found.append(f"{where}: cites {name}, which is not in the repository")
            elif anchor and anchor not in _anchors_of(target.resolve()):
                found.append(f"{where}: {name} has no anchor #{anchor}")
    return found


def _tracked_text_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return sorted(
        name
        for name in listing
        if (Path(name).suffix in TEXT_SUFFIXES or Path(name).name == "Makefile")
        and not name.startswith(SKIPPED)
        and (ROOT / name).is_file()
    )


def test_every_citation_points_inside_the_repository() -> None:
    found = []
    for name in _tracked_text_files():
        found.extend(problems(name, (ROOT / name).read_text(encoding="utf-8", errors="replace")))
    assert not found, "citations that cannot be followed:\n" + "\n".join(found)


def test_protocol_doc_has_the_anchors_the_code_relies_on() -> None:
    offered = _anchors_of((ROOT / "docs/protocol.md").resolve())
    for anchor in ("group-names", "signatures", "user-events", "output-actions", "unknowns-and-our-choices"):
        assert anchor in offered, anchor


def test_the_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "protocol.md").write_text("# Wire\n\n## Group names\n\n```\n## not a heading\n```\n")
    text = "\n".join(
        [
            "ok: docs/protocol.md#group-names and docs/protocol.md",
            "bad anchor: docs/protocol.md#not-a-heading",
            "missing file: functions.md#x",
            "section: protocol.md §3.6",
            "outside: open-questions Q3, local-tooling, X-DISP",
            "a url is not a citation: https://example.com/README.md",
        ]
    )
    found = problems("code.py", text, root=tmp_path)
    assert len([p for p in found if p.startswith("code.py:1:")]) == 0, found
    assert any("no anchor #not-a-heading" in p for p in found), found
    assert any("functions.md, which is not in the repository" in p for p in found), found
    assert any("(§)" in p for p in found), found
    assert sum("code.py:5:" in p for p in found) == 3, found
    assert not any("code.py:6:" in p for p in found), found


def test_slugs_follow_github() -> None:
    assert slug("The Python worker and the host") == "the-python-worker-and-the-host"
    assert slug("Actions to REST calls") == "actions-to-rest-calls"
    assert slug("`shared.protocol` (pure stdlib)") == "sharedprotocol-pure-stdlib"
    assert slug("Engine.IO versions and handshake") == "engineio-versions-and-handshake"
    assert anchors("# A\n## A\n") == {"a", "a-1"}
