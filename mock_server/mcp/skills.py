"""The skills extension (``io.modelcontextprotocol/skills``, SEP-2640): one demo skill served
as ``skill://`` resources, listed by ``skills/list``, fetched by ``skills/get``, and browsable
with ``resources/directory/read`` (``directoryRead``)."""

from __future__ import annotations

import hashlib
from typing import Any

from mock_server.mcp.protocol import INVALID_PARAMS, RpcError

EXTENSION = "io.modelcontextprotocol/skills"
SETTINGS: dict[str, Any] = {"directoryRead": True}
DIRECTORY = "inode/directory"
NAME = "notes-helper"
DESCRIPTION = "How to keep, list and share notes with the mock server's demo tools"
ROOT = f"skill://mcp-auth-mock/{NAME}"

_FILES: dict[str, str] = {
    f"{ROOT}/SKILL.md": (
        f"---\nname: {NAME}\ndescription: {DESCRIPTION}\n---\n\n"
        "# Notes helper\n\n"
        "Use `write_note` (scope mcp:write) to save a note, `list_notes` (mcp:read) to read them back, "
        "and `share_note` (mcp:write notes:share) to share one. See reference/scopes.md.\n"
    ),
    f"{ROOT}/reference/scopes.md": (
        "# Scopes\n\n"
        "- mcp:read: echo, whoami, list_notes\n- mcp:write: write_note\n- mcp:write notes:share: share_note\n"
    ),
}
SKILL_MD = f"{ROOT}/SKILL.md"


def _entry() -> dict[str, Any]:
    resources = [
        {"uri": uri, "digest": "sha256:" + hashlib.sha256(text.encode()).hexdigest(), "size": len(text.encode())}
        for uri, text in _FILES.items()
    ]
    return {"uri": SKILL_MD, "frontmatter": {"name": NAME, "description": DESCRIPTION}, "resources": resources}


def listed_resources() -> list[dict[str, Any]]:
    """The skill's files as resources/list entries (SKILL.md named after its frontmatter)."""
    out = []
    for uri in _FILES:
        if uri == SKILL_MD:
            out.append({"uri": uri, "name": NAME, "description": DESCRIPTION, "mimeType": "text/markdown"})
        else:
            out.append({"uri": uri, "name": uri.rsplit("/", 1)[1], "description": f"A file of the {NAME} skill",
                        "mimeType": "text/markdown"})
    return out


def read(uri: str) -> dict[str, Any] | None:
    text = _FILES.get(uri)
    if text is None:
        return None
    return {"contents": [{"uri": uri, "mimeType": "text/markdown", "text": text}]}


def list_skills(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("cursor") not in (None, ""):
        raise RpcError(INVALID_PARAMS, "Unknown cursor")
    return {"skills": [_entry()]}


def get_skill(params: dict[str, Any]) -> dict[str, Any]:
    uri = params.get("uri")
    if uri not in (SKILL_MD, ROOT, ROOT + "/"):
        raise RpcError(INVALID_PARAMS, "Unknown skill", data={"uri": uri})
    return {"skill": _entry()}


def read_directory(params: dict[str, Any]) -> dict[str, Any]:
    """The direct children of a skill directory; anything else is -32602."""
    uri = params.get("uri")
    if not isinstance(uri, str):
        raise RpcError(INVALID_PARAMS, "params.uri must be a string")
    base = uri.rstrip("/")
    if params.get("cursor") not in (None, ""):
        raise RpcError(INVALID_PARAMS, "Unknown cursor")
    children: dict[str, dict[str, Any]] = {}
    for file_uri in _FILES:
        if not file_uri.startswith(base + "/"):
            continue
        rest = file_uri[len(base) + 1:]
        head, _, tail = rest.partition("/")
        child = f"{base}/{head}"
        if tail:
            children[child] = {"uri": child, "name": head, "mimeType": DIRECTORY}
        else:
            children[child] = {"uri": child, "name": head, "mimeType": "text/markdown"}
    if not children or uri in _FILES:
        raise RpcError(INVALID_PARAMS, "Not a directory", data={"uri": uri})
    return {"resources": list(children.values())}
