"""The demo tools, the scopes each one needs, and what they return."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_server import scopes as S
from mock_server.state import MockState, TokenCheck


class ToolInputError(Exception):
    """Arguments that do not match the tool's input schema (JSON-RPC -32602)."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    scopes: tuple[str, ...]
    input_schema: dict[str, Any]
    run: Callable[[MockState, TokenCheck, dict[str, Any]], str]

    def listing(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": f"{self.description} Requires scope: {' '.join(self.scopes)}.",
            "inputSchema": self.input_schema,
            "_meta": {"mcp-auth-mock/requiredScopes": list(self.scopes)},
        }


def _text_arg(args: dict[str, Any], name: str, limit: int = 4096) -> str:
    value = args.get(name)
    if not isinstance(value, str) or len(value) > limit:
        raise ToolInputError(f"argument {name!r} must be a string of at most {limit} characters")
    return value


def _echo(_: MockState, __: TokenCheck, args: dict[str, Any]) -> str:
    return _text_arg(args, "text")


def _whoami(mock: MockState, check: TokenCheck, _: dict[str, Any]) -> str:
    claims = check.claims
    return json.dumps(
        {
            "sub": claims.get("sub"),
            "client_id": claims.get("client_id"),
            "scope": claims.get("scope"),
            "aud": claims.get("aud"),
            "iss": claims.get("iss"),
            "exp": claims.get("exp"),
        },
        sort_keys=True,
    )


def _notes_for(mock: MockState, check: TokenCheck) -> list[str]:
    return mock.notes.setdefault(str(check.claims.get("sub")), [])


def _list_notes(mock: MockState, check: TokenCheck, _: dict[str, Any]) -> str:
    return json.dumps(_notes_for(mock, check))


def _write_note(mock: MockState, check: TokenCheck, args: dict[str, Any]) -> str:
    text = _text_arg(args, "text", 1000)
    notes = _notes_for(mock, check)
    if len(notes) >= 100:
        del notes[0]
    notes.append(text)
    return f"saved note {len(notes)}"


def _share_note(mock: MockState, check: TokenCheck, args: dict[str, Any]) -> str:
    index = args.get("index")
    notes = _notes_for(mock, check)
    if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= len(notes):
        raise ToolInputError("argument 'index' must name an existing note (1-based)")
    return f"shared note {index}"


def _admin_stats(mock: MockState, _: TokenCheck, __: dict[str, Any]) -> str:
    return json.dumps(dict(sorted(mock.stats.items())))


_TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
_EMPTY: dict[str, Any] = {"type": "object", "properties": {}}

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool("echo", "Returns the text it is given.", (S.READ,), _TEXT, _echo),
        Tool("whoami", "Describes the access token the call was made with.", (S.READ,), _EMPTY, _whoami),
        Tool("list_notes", "Lists your notes.", (S.READ,), _EMPTY, _list_notes),
        Tool("write_note", "Saves a note.", (S.WRITE,), _TEXT, _write_note),
        Tool(
            "share_note",
            "Shares one of your notes.",
            (S.WRITE, S.SHARE),
            {"type": "object", "properties": {"index": {"type": "integer"}}, "required": ["index"]},
            _share_note,
        ),
        Tool("admin_stats", "Shows server counters.", (S.ADMIN,), _EMPTY, _admin_stats),
    )
}

LIST_SCOPES: tuple[str, ...] = (S.READ,)
"""What tools/list needs."""
