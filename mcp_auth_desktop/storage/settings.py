"""The settings file: servers, names, options and what discovery found (nothing secret).

A human-readable JSON document with a ``schema_version``. Older documents
are migrated step by step through :data:`MIGRATIONS` when loaded and saved
in the new form at the next update; a document from a newer version is
refused rather than silently downgraded. Updates take a cross-process lock,
re-read, apply the caller's change and replace the file atomically, so the
GUI and any number of ``mcp-auth`` processes never lose each other's edits.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from mcp_auth_desktop.core.errors import StorageError, VaultCorruptError

from .atomic import atomic_write, moved_aside_error, quarantine, read_private, remove_stale_temps
from .base import JsonObject
from .filelock import FileLock
from .paths import AppPaths

__all__ = ["CURRENT_SCHEMA", "MIGRATIONS", "FileSettings", "migrate", "default_settings"]


CURRENT_SCHEMA = 1


def _v0_to_v1(doc: JsonObject) -> JsonObject:
    # Version 0 is a document written before versioning existed: same shape, no number.
    doc["schema_version"] = 1
    return doc


#: ``MIGRATIONS[v]`` turns a version-``v`` document into a version ``v + 1`` one.
MIGRATIONS: dict[int, Callable[[JsonObject], JsonObject]] = {0: _v0_to_v1}


def default_settings() -> JsonObject:
    return {"schema_version": CURRENT_SCHEMA}


class _Unreadable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def migrate(
    doc: JsonObject,
    *,
    migrations: dict[int, Callable[[JsonObject], JsonObject]] | None = None,
    current: int = CURRENT_SCHEMA,
) -> JsonObject:
    """``doc`` brought to schema ``current``; StorageError for a newer document."""
    steps = MIGRATIONS if migrations is None else migrations
    version = doc.get("schema_version", 0)
    if type(version) is not int or version < 0:
        raise _Unreadable("its schema_version is not a whole number")
    if version > current:
        raise StorageError(
            f"The settings were written by a newer MCP Auth Desktop (schema {version}; this "
            f"version reads up to {current}). Update the app; the file was left as it is."
        )
    while version < current:
        step = steps.get(version)
        if step is None:
            raise StorageError(f"No migration from settings schema {version}.")
        doc = step(doc)
        version += 1
        doc["schema_version"] = version
    return doc


def _reject_constant(name: str) -> None:
    raise ValueError(f"invalid JSON constant {name}")


def _parse(raw: bytes) -> JsonObject:
    try:
        doc = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError):
        raise _Unreadable("it is not valid JSON") from None
    if not isinstance(doc, dict):
        raise _Unreadable("it is not a JSON object")
    return doc


def _dump(doc: JsonObject) -> bytes:
    try:
        text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError("settings hold only str, int, float, bool, None, list and dict") from None
    return (text + "\n").encode("utf-8")


class FileSettings:
    """:class:`~mcp_auth_desktop.storage.base.SettingsStore` in ``settings.json``."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        lock_timeout: float = 30.0,
        poll_interval: float = 0.5,
    ) -> None:
        self._file = paths.settings_file
        self._lock_path = paths.settings_lock
        self._lock_timeout = lock_timeout
        self.poll_interval = poll_interval
        self._last_written: bytes | None = None
        #: The last damaged settings file moved aside, for the UI to show.
        self.corruption: VaultCorruptError | None = None

    def __repr__(self) -> str:
        return f"FileSettings(path={str(self._file)!r})"

    @property
    def path(self) -> str | None:
        return str(self._file)

    def _lock(self) -> FileLock:
        return FileLock(self._lock_path, timeout=self._lock_timeout, what="settings file")

    def _read_sync(self) -> JsonObject:
        raw = read_private(self._file)
        if raw is None:
            return default_settings()
        return migrate(_parse(raw))

    def _quarantine_sync(self, exc: _Unreadable) -> VaultCorruptError:
        self.corruption = moved_aside_error(
            "settings file", exc.reason, quarantine(self._file),
            "empty settings are used; add your servers again or restore them from that file.",
        )
        return self.corruption

    def load_sync(self) -> JsonObject:
        try:
            return self._read_sync()
        except _Unreadable:
            pass
        with self._lock().hold_sync():
            try:
                return self._read_sync()
            except _Unreadable as exc:
                raise self._quarantine_sync(exc) from None

    def _update_locked(self, change: Callable[[JsonObject], None]) -> JsonObject:
        try:
            doc = self._read_sync()
        except _Unreadable as exc:
            self._quarantine_sync(exc)
            doc = default_settings()
        change(doc)
        doc["schema_version"] = CURRENT_SCHEMA
        data = _dump(doc)
        self._last_written = data  # before the write: see update()
        remove_stale_temps(self._file)
        atomic_write(self._file, data)
        return _parse(data)

    def update_sync(self, change: Callable[[JsonObject], None]) -> JsonObject:
        with self._lock().hold_sync():
            return self._update_locked(change)

    async def load(self) -> JsonObject:
        try:
            return await asyncio.to_thread(self._read_sync)
        except _Unreadable:
            pass
        async with self._lock():
            try:
                return await asyncio.to_thread(self._read_sync)
            except _Unreadable as exc:
                raise self._quarantine_sync(exc) from None

    async def update(self, change: Callable[[JsonObject], None]) -> JsonObject:
        # ``change`` runs on the event loop thread (it may touch loop-bound state);
        # only the file work goes to a thread.
        async with self._lock():
            try:
                doc = await asyncio.to_thread(self._read_sync)
            except _Unreadable as exc:
                await asyncio.to_thread(self._quarantine_sync, exc)
                doc = default_settings()
            change(doc)
            doc["schema_version"] = CURRENT_SCHEMA
            data = _dump(doc)

            def write() -> None:
                remove_stale_temps(self._file)
                atomic_write(self._file, data)

            # Noted before the write: a watcher's poll may read the new file and resume
            # before this coroutine does, and must know these bytes for our own.
            self._last_written = data
            await asyncio.to_thread(write)
            return _parse(data)

    async def watch(self) -> AsyncIterator[JsonObject]:
        """Poll the file; yield the migrated document when another process changed it.

        Compares bytes rather than timestamps (the file is small), so two
        quick writes in one timestamp tick are not missed.
        """
        last: Any = await asyncio.to_thread(self._safe_raw)
        while True:
            await asyncio.sleep(self.poll_interval)
            raw = await asyncio.to_thread(self._safe_raw)
            if raw == last:
                continue
            last = raw
            if raw is None or raw == self._last_written:
                continue
            try:
                doc = migrate(_parse(raw))
            except (_Unreadable, StorageError):
                continue  # load() reports it; a watcher only announces good documents
            yield copy.deepcopy(doc)

    def _safe_raw(self) -> bytes | None:
        try:
            return read_private(self._file)
        except StorageError:
            return None
