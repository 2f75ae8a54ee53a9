"""In-memory stores: tests, ``--ephemeral`` runs and ``MCP_AUTH_DESKTOP_KEYRING=memory``.

They honour the same contract as the file stores within one process:
values are copied in and out (a caller mutating a dict changes nothing
stored), ``lock(name)`` serialises tasks, and ``watch()`` yields changes.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from .base import JsonObject, StorageLocation
from .entries import normalise as _normalise
from .entries import validate_name
from .settings import CURRENT_SCHEMA, migrate

__all__ = ["MemoryVault", "MemorySettings"]


class MemoryVault:
    """:class:`~mcp_auth_desktop.storage.base.SecretVault` in a dict; nothing is saved."""

    def __init__(self) -> None:
        self._entries: dict[str, JsonObject] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"MemoryVault(entries={len(self._entries)})"

    @property
    def location(self) -> StorageLocation:
        return StorageLocation(key_source="memory", backend="memory", vault_path=None)

    async def get(self, name: str) -> JsonObject | None:
        validate_name(name)
        value = self._entries.get(name)
        return copy.deepcopy(value) if value is not None else None

    async def put(self, name: str, value: JsonObject) -> None:
        validate_name(name)
        self._entries[name] = _normalise(value)

    async def put_many(self, items: Mapping[str, JsonObject]) -> None:
        clean = {validate_name(n): _normalise(v) for n, v in items.items()}
        self._entries.update(clean)

    async def delete(self, name: str) -> None:
        validate_name(name)
        self._entries.pop(name, None)

    async def delete_prefix(self, prefix: str) -> int:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("delete_prefix needs a non-empty prefix")
        doomed = [n for n in self._entries if n.startswith(prefix)]
        for n in doomed:
            del self._entries[n]
        return len(doomed)

    async def names(self) -> list[str]:
        return sorted(self._entries)

    def lock(self, name: str) -> AbstractAsyncContextManager[None]:
        validate_name(name)
        lock = self._locks.setdefault(name, asyncio.Lock())

        @asynccontextmanager
        async def held() -> AsyncIterator[None]:
            async with lock:
                yield

        return held()

    async def forget_everything(self) -> None:
        self._entries.clear()

    async def aclose(self) -> None:
        return None


class MemorySettings:
    """:class:`~mcp_auth_desktop.storage.base.SettingsStore` in memory."""

    def __init__(self, initial: JsonObject | None = None) -> None:
        self._doc = migrate(copy.deepcopy(initial) if initial else {"schema_version": CURRENT_SCHEMA})
        self._lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._version = 0

    def __repr__(self) -> str:
        return "MemorySettings()"

    @property
    def path(self) -> str | None:
        return None

    async def load(self) -> JsonObject:
        return copy.deepcopy(self._doc)

    async def update(self, change: Callable[[JsonObject], None]) -> JsonObject:
        async with self._lock:
            doc = copy.deepcopy(self._doc)
            change(doc)
            doc["schema_version"] = CURRENT_SCHEMA
            # Same rule as the file store: the document must be plain JSON.
            self._doc = json.loads(json.dumps(doc, allow_nan=False))
        async with self._changed:
            self._version += 1
            self._changed.notify_all()
        return copy.deepcopy(self._doc)

    async def watch(self) -> AsyncIterator[JsonObject]:
        seen = self._version
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda seen=seen: self._version != seen)  # type: ignore[misc]
                seen = self._version
            yield copy.deepcopy(self._doc)

    def snapshot(self) -> dict[str, Any]:
        """The document without copying through the event loop (tests)."""
        return copy.deepcopy(self._doc)
