"""The comment-preserving editor, property-tested against Python's json and VS Code's jsonc-parser.

Random documents (nested values, random whitespace, ``//`` and ``/* */``
comments and trailing commas where JSONC allows them, LF or CRLF) get one
server entry set and then deleted. Each result must parse, as the client
parses it, to exactly the expected data; every comment of the original
must still be there; setting twice changes nothing; deleting what was set
gives back the original text byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.clients.jsonc import Document, JsoncError
from tests.clients.conftest import VsCodeParser

KEYS = st.text(alphabet="abcxyz-_/ é\"\\", min_size=1, max_size=6)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.text(alphabet="ab /\\\"'é\n", max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)), max_leaves=8)
ENTRY = {"type": "stdio", "command": "/opt/mcp-auth", "args": ["bridge", "abc123"]}


@st.composite
def documents(draw: st.DrawFn, comments: bool) -> tuple[str, dict[str, Any], list[str]]:
    """(text, data, comment texts) of a random configuration file."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    found: list[str] = []
    counter = iter(range(10**6))

    def gap() -> str:
        choices = ["", " ", newline, newline + "  ", "\t"]
        if comments:
            choices += ["//c", "/*c*/"]
        pick = draw(st.sampled_from(choices))
        if pick == "//c":
            text = f"// note {next(counter)}"
            found.append(text)
            return " " + text + newline
        if pick == "/*c*/":
            text = f"/* note {next(counter)} */"
            found.append(text)
            return text
        return pick

    def render(value: Any) -> str:
        if isinstance(value, dict):
            parts = [gap() + json.dumps(k) + gap() + ":" + gap() + render(v) + gap() for k, v in value.items()]
            trailing = "," if parts and comments and draw(st.booleans()) else ""
            return "{" + ",".join(parts) + trailing + gap() + "}"
        if isinstance(value, list):
            parts = [gap() + render(v) + gap() for v in value]
            trailing = "," if parts and comments and draw(st.booleans()) else ""
            return "[" + ",".join(parts) + trailing + gap() + "]"
        return json.dumps(value)

    data: dict[str, Any] = draw(st.dictionaries(KEYS.filter(lambda k: k != "servers"), VALUES, max_size=3))
    if draw(st.booleans()):
        data["servers"] = draw(st.dictionaries(KEYS.filter(lambda k: k != "ours"), VALUES, max_size=3))
    return gap() + render(data) + gap() + draw(st.sampled_from(["", newline])), data, found


def _parses_as(text: str, comments: bool, vscode: VsCodeParser) -> Any:
    if comments:
        errors, value = vscode.parse(text)
        assert errors == 0, text
        return value
    return json.loads(text)


@pytest.mark.parametrize("comments", [False, True], ids=["strict", "jsonc"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_set_then_delete_round_trip(vscode_parser: VsCodeParser, comments: bool, data: st.DataObject) -> None:
    text, expected, comment_texts = data.draw(documents(comments))
    doc = Document(text, comments=comments)
    assert doc.data() == expected
    assert _parses_as(text, comments, vscode_parser) == expected

    assert doc.set(("servers",), "ours", ENTRY)
    added = doc.dump()
    want = json.loads(json.dumps(expected))
    want.setdefault("servers", {})["ours"] = ENTRY
    assert _parses_as(added, comments, vscode_parser) == want
    for comment in comment_texts:
        assert comment in added

    again = Document(added, comments=comments)
    assert not again.set(("servers",), "ours", ENTRY)
    assert again.dump() == added

    assert again.delete(("servers",), "ours")
    removed = again.dump()
    if expected.get("servers"):
        assert removed == text  # the inverse edit: the original, byte for byte
    else:  # an object that was empty or absent is left empty (blanks inside it may differ)
        left = json.loads(json.dumps(expected))
        left["servers"] = {}
        assert _parses_as(removed, comments, vscode_parser) == left
    for comment in comment_texts:
        assert comment in removed


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_replacing_an_entry_keeps_everything_else(vscode_parser: VsCodeParser, data: st.DataObject) -> None:
    text, expected, comment_texts = data.draw(documents(True))
    doc = Document(text, comments=True)
    doc.set(("servers",), "ours", ENTRY)
    newer = {**ENTRY, "args": ["bridge", "def456"]}
    assert doc.set(("servers",), "ours", newer)
    want = json.loads(json.dumps(expected))
    want.setdefault("servers", {})["ours"] = newer
    assert _parses_as(doc.dump(), True, vscode_parser) == want
    for comment in comment_texts:
        assert comment in doc.dump()


@pytest.mark.parametrize("text", [
    '{"a": 1,}', '{"a": 1 // c\n}', "{'a': 1}", '{"a": 1', '[]', '"x"', '{"a": 1} {}', "{a: 1}",
    '{"a": NaN}', '{"a": 01}', '{"servers": 1}', '{"servers": {}, "servers": {}}',
])
def test_strict_files_the_clients_cannot_read_are_refused(text: str) -> None:
    with pytest.raises(JsoncError):
        doc = Document(text, comments=False)
        doc.set(("servers",), "ours", ENTRY)


@pytest.mark.parametrize("text", ['{"a": 1,,}', '{"a" 1}', "{/* open", '{"servers": []}', "[1,]"])
def test_jsonc_files_vscode_cannot_read_are_refused(vscode_parser: VsCodeParser, text: str) -> None:
    with pytest.raises(JsoncError):
        doc = Document(text, comments=True)
        doc.set(("servers",), "ours", ENTRY)


def test_empty_and_bom_files() -> None:
    doc = Document("", comments=False)
    doc.set(("mcpServers",), "ours", ENTRY)
    assert json.loads(doc.dump()) == {"mcpServers": {"ours": ENTRY}}
    bom = Document('\ufeff{"x": 1}', comments=True)
    bom.set(("servers",), "ours", ENTRY)
    assert bom.dump().startswith('\ufeff{"x": 1,')
