"""Which protocol revisions each third-party server spoke in the era tests, and the section of
``docs/compatibility.md`` written from that (between markers, so the rest of the file, written
by the interop run of tests/interop/test_interop.py, is left as it is)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.interop.era_servers import EraServer

START = "<!-- protocol-eras:start (written by tests/interop/test_protocol_eras.py) -->"
END = "<!-- protocol-eras:end -->"


@dataclass
class Spoken:
    title: str
    version: str
    eras: dict[str, str] = field(default_factory=dict)  # revision -> what was shown


RESULTS: dict[str, Spoken] = {}


def record(server: EraServer, revision: str, tools: list[str], said: dict[str, str]) -> None:
    entry = RESULTS.setdefault(server.key, Spoken(server.title, server.version))
    entry.eras[revision] = f"{said['Protocol']}; server {said['Server']}; {len(tools)} tools listed, `{server.tool}` called"


def render() -> str:
    lines = [
        START,
        "## MCP protocol revisions spoken",
        "",
        "Each server unmodified on loopback behind an OAuth gateway (tests/interop/era_gateway.py), signed in",
        "through the mock authorization server; `mcp-auth call` lists and calls a tool in each revision the",
        "server speaks (the newest found by the client itself, older ones as a remembered era); the",
        "GUI's Test button lists the tools in each of them too (tests/gui/test_protocol_eras_gui.py).",
        "2026-07-28 is found with `server/discover`; legacy revisions use `initialize` and a session.",
        "",
        "| Server | Revision | What `mcp-auth call` showed |",
        "|---|---|---|",
    ]
    for spoken in RESULTS.values():
        for revision, shown in spoken.eras.items():
            lines.append(f"| {spoken.title} {spoken.version} | {revision} | {shown.replace('|', '/')} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(path: Path) -> bool:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Compatibility\n"
    section = render()
    if START in text and END in text:
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        text = head + section.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
    return True
