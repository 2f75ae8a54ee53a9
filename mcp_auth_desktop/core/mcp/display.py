"""A :class:`~.era.ServerDescription` as labelled lines, for the CLI and the GUI.

The values are the server's own text, made single-line and length-capped with
``sanitize_server_text`` (control and escape characters become spaces), so a
server cannot drive the terminal or forge lines. The GUI shows them as plain
text.
"""

from __future__ import annotations

from typing import Any

from ..errors import sanitize_server_text
from .era import Era, ServerDescription

__all__ = ["protocol_label", "description_fields"]

_MAX_INSTRUCTIONS = 1000


def protocol_label(desc: ServerDescription) -> str:
    how = "stateless, server/discover" if desc.era is Era.MODERN else "session, initialize"
    return f"MCP {sanitize_server_text(desc.protocol_version, 40)} ({how})"


def _capabilities(caps: dict[str, Any]) -> str:
    names = []
    for name, value in caps.items():
        flags = [k for k, v in value.items() if v is True] if isinstance(value, dict) else []
        names.append(f"{name} ({', '.join(flags)})" if flags else name)
    return sanitize_server_text(", ".join(names), 300) if names else "none"


def description_fields(desc: ServerDescription) -> list[tuple[str, str]]:
    """(label, text) pairs: protocol, server, capabilities, instructions."""
    who = " ".join(p for p in (desc.name, desc.version) if p) or "did not say"
    fields = [
        ("Protocol", protocol_label(desc)),
        ("Server", sanitize_server_text(who, 200)),
        ("Capabilities", _capabilities(desc.capabilities)),
    ]
    if desc.instructions:
        fields.append(("Instructions", sanitize_server_text(desc.instructions, _MAX_INSTRUCTIONS)))
    return fields
