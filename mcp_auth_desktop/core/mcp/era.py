"""Which MCP protocol revision a server speaks, and how to tell from its answers.

MCP 2026-07-28 ("modern", SEP-2575) is stateless: every request carries its
protocol version and the client's capabilities in ``params._meta`` (and, over
HTTP, in headers); there is no ``initialize``. Revisions up to 2025-11-25
("legacy") open a session with ``initialize``.

The specification's own rule for a client that speaks both (versioning,
"Backward Compatibility"; Streamable HTTP, "Backward Compatibility"): send a
modern request first; a recognised modern JSON-RPC error in the body (header
mismatch, missing capability, unsupported version) means the server is modern
and the request is corrected and retried; any other 4xx (an empty body, a
legacy server's "Server not initialized" or "Missing session ID") means legacy,
and the client falls back to ``initialize``. The result is a property of the
server: :class:`ProtocolEra` is small, JSON-serialisable and meant to be kept
with the server's non-secret settings so the next run makes no probe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Era",
    "ProtocolEra",
    "ServerDescription",
    "MODERN_VERSIONS",
    "LEGACY_VERSIONS",
    "LATEST_MODERN",
    "LATEST_LEGACY",
    "HEADER_MISMATCH",
    "MISSING_CLIENT_CAPABILITY",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "MODERN_ERROR_CODES",
    "modern_error_code",
    "supported_versions_from_error",
    "era_of_version",
]

#: Modern revisions this client speaks, newest first.
MODERN_VERSIONS: tuple[str, ...] = ("2026-07-28",)
#: Legacy revisions this client speaks through ``initialize``, newest first.
LEGACY_VERSIONS: tuple[str, ...] = ("2025-11-25", "2025-06-18", "2025-03-26")
LATEST_MODERN = MODERN_VERSIONS[0]
LATEST_LEGACY = LEGACY_VERSIONS[0]

# Error codes the 2026-07-28 specification reserves (basic/index, "Error Codes").
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022
MODERN_ERROR_CODES = frozenset({HEADER_MISMATCH, MISSING_CLIENT_CAPABILITY, UNSUPPORTED_PROTOCOL_VERSION})


class Era(StrEnum):
    MODERN = "modern"
    LEGACY = "legacy"


def era_of_version(version: str) -> Era | None:
    """The era a revision we speak belongs to; None for one we do not speak."""
    if version in MODERN_VERSIONS:
        return Era.MODERN
    if version in LEGACY_VERSIONS:
        return Era.LEGACY
    return None


@dataclass(frozen=True)
class ProtocolEra:
    """The revision a server spoke last time: stored per server, reused, re-probed on failure."""

    era: Era
    version: str
    #: Unix time of the detection (display only).
    detected_at: float = 0.0

    @classmethod
    def modern(cls, version: str = LATEST_MODERN) -> ProtocolEra:
        return cls(Era.MODERN, version, time.time())

    @classmethod
    def legacy(cls, version: str = LATEST_LEGACY) -> ProtocolEra:
        return cls(Era.LEGACY, version, time.time())

    @property
    def is_modern(self) -> bool:
        return self.era is Era.MODERN

    def to_dict(self) -> dict[str, Any]:
        return {"era": self.era.value, "version": self.version, "detected_at": self.detected_at}

    @classmethod
    def from_dict(cls, raw: object) -> ProtocolEra | None:
        """Parse a stored record; None for anything unusable (the settings file is hand-editable)."""
        if not isinstance(raw, dict):
            return None
        version = raw.get("version")
        if not isinstance(version, str) or era_of_version(version) is None:
            return None
        era = era_of_version(version)
        assert era is not None
        when = raw.get("detected_at")
        detected = float(when) if isinstance(when, int | float) and not isinstance(when, bool) else 0.0
        return cls(era, version, detected)


@dataclass(frozen=True)
class ServerDescription:
    """What ``server/discover`` (modern) or ``initialize`` (legacy) said about the server.

    Every string is the server's own, unsanitised: escape it for the place it is shown.
    """

    era: Era
    protocol_version: str
    name: str | None = None
    version: str | None = None
    title: str | None = None
    instructions: str | None = None
    capabilities: dict[str, Any] = field(default_factory=dict)
    #: ``supportedVersions`` from ``server/discover``; () for legacy servers.
    supported_versions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "era": self.era.value,
            "protocol_version": self.protocol_version,
            "server_name": self.name,
            "server_version": self.version,
            "server_title": self.title,
            "instructions": self.instructions,
            "capabilities": self.capabilities,
            "supported_versions": list(self.supported_versions),
        }

    @classmethod
    def from_dict(cls, raw: object) -> ServerDescription | None:
        if not isinstance(raw, dict):
            return None
        version = raw.get("protocol_version")
        era = era_of_version(version) if isinstance(version, str) else None
        if era is None or not isinstance(version, str):
            return None
        info = {"name": raw.get("server_name"), "version": raw.get("server_version"), "title": raw.get("server_title")}
        return cls._checked(era, version, info, raw.get("instructions"), raw.get("capabilities"),
                            raw.get("supported_versions"))

    @classmethod
    def from_result(cls, era: Era, protocol_version: str, result: dict[str, Any]) -> ServerDescription:
        """Build from a ``DiscoverResult`` or an ``InitializeResult``.

        2026-07-28 puts the server's identity in ``_meta["io.modelcontextprotocol/serverInfo"]``;
        legacy results (and some modern servers) use a top-level ``serverInfo``.
        """
        meta = result.get("_meta")
        info: Any = meta.get("io.modelcontextprotocol/serverInfo") if isinstance(meta, dict) else None
        if not isinstance(info, dict):
            info = result.get("serverInfo")
        info = info if isinstance(info, dict) else {}
        return cls._checked(era, protocol_version, info, result.get("instructions"), result.get("capabilities"),
                            result.get("supportedVersions"))

    @classmethod
    def _checked(
        cls,
        era: Era,
        protocol_version: str,
        info: dict[str, Any],
        instructions: object,
        capabilities: object,
        supported: object,
    ) -> ServerDescription:
        """One description from fields of any origin, each kept only when of the right type."""
        return cls(
            era=era,
            protocol_version=protocol_version,
            name=_opt_str(info.get("name")),
            version=_opt_str(info.get("version")),
            title=_opt_str(info.get("title")),
            instructions=_opt_str(instructions),
            capabilities=capabilities if isinstance(capabilities, dict) else {},
            supported_versions=tuple(v for v in supported if isinstance(v, str))
            if isinstance(supported, list)
            else (),
        )


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def modern_error_code(body: object) -> int | None:
    """The code of a recognised modern JSON-RPC error in a response body, else None."""
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if not isinstance(err, dict):
        return None
    code = err.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and code in MODERN_ERROR_CODES:
        return code
    return None


def supported_versions_from_error(body: object) -> tuple[str, ...]:
    """``error.data.supported`` of an UnsupportedProtocolVersion error (strings only)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return ()
    data = body["error"].get("data")
    supported = data.get("supported") if isinstance(data, dict) else None
    if not isinstance(supported, list):
        return ()
    return tuple(v for v in supported if isinstance(v, str))
