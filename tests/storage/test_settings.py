"""Settings: schema version, migrations, atomic locked updates, watch, damage."""
# ruff: noqa: ASYNC240  (tests inspect small files directly; blocking is fine here)

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mcp_auth_desktop.core.errors import StorageError, VaultCorruptError
from mcp_auth_desktop.storage import FileSettings, MemorySettings, SettingsStore
from mcp_auth_desktop.storage.paths import AppPaths
from mcp_auth_desktop.storage.settings import CURRENT_SCHEMA, migrate


@pytest.fixture(params=["file", "memory"])
def settings(request: pytest.FixtureRequest, paths: AppPaths) -> SettingsStore:
    if request.param == "file":
        return FileSettings(paths, poll_interval=0.02)
    return MemorySettings()


async def test_default_update_and_reload(settings: SettingsStore) -> None:
    doc = await settings.load()
    assert doc == {"schema_version": CURRENT_SCHEMA}

    def add(d: dict) -> None:
        d.setdefault("servers", []).append({"id": "s1", "url": "https://mcp.example/"})

    out = await settings.update(add)
    assert out["servers"] == [{"id": "s1", "url": "https://mcp.example/"}]
    out["servers"].clear()  # the returned document is a copy
    assert (await settings.load())["servers"][0]["id"] == "s1"


async def test_failed_change_writes_nothing(settings: SettingsStore) -> None:
    await settings.update(lambda d: d.update(a=1))

    def broken(d: dict) -> None:
        d["a"] = 2
        raise RuntimeError("change failed")

    with pytest.raises(RuntimeError):
        await settings.update(broken)
    assert (await settings.load())["a"] == 1


async def test_file_is_human_readable(paths: AppPaths) -> None:
    s = FileSettings(paths)
    await s.update(lambda d: d.update(servers=[{"name": "Élan"}]))
    text = paths.settings_file.read_text(encoding="utf-8")
    assert '"schema_version": 1' in text and "Élan" in text and text.endswith("\n")


async def test_unversioned_document_is_migrated_and_saved_migrated(paths: AppPaths) -> None:
    paths.settings_file.write_text(json.dumps({"servers": [1]}))
    s = FileSettings(paths)
    assert await s.load() == {"schema_version": 1, "servers": [1]}
    await s.update(lambda d: None)
    assert json.loads(paths.settings_file.read_text())["schema_version"] == 1


def test_migration_chain_runs_in_order() -> None:
    steps = {
        0: lambda d: {**d, "a": 1},
        1: lambda d: {**d, "b": d["a"] + 1},
        2: lambda d: {k: v for k, v in d.items() if k != "a"},
    }
    assert migrate({"x": True}, migrations=steps, current=3) == {"x": True, "b": 2, "schema_version": 3}
    with pytest.raises(StorageError):
        migrate({"schema_version": 1}, migrations={}, current=2)


async def test_newer_schema_is_refused_and_left_alone(paths: AppPaths) -> None:
    text = json.dumps({"schema_version": CURRENT_SCHEMA + 1, "future": True})
    paths.settings_file.write_text(text)
    s = FileSettings(paths)
    with pytest.raises(StorageError) as info:
        await s.load()
    assert "newer" in str(info.value)
    with pytest.raises(StorageError):
        await s.update(lambda d: d.update(x=1))
    assert paths.settings_file.read_text() == text


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"schema_version": "one"}', '{"a": NaN}'])
async def test_damaged_settings_are_moved_aside(
    paths: AppPaths, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    paths.settings_file.write_text(content)
    s = FileSettings(paths)
    with pytest.raises(VaultCorruptError) as info:
        await s.load()
    moved = Path(info.value.moved_to or "")
    assert moved.name.startswith("settings.json.corrupt-") and moved.read_text() == content
    assert await s.load() == {"schema_version": CURRENT_SCHEMA}


async def test_update_on_damaged_settings_starts_fresh_and_keeps_the_change(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    paths.settings_file.write_text("{broken")
    s = FileSettings(paths)
    out = await s.update(lambda d: d.update(servers=[]))
    assert out == {"schema_version": 1, "servers": []}
    assert s.corruption is not None
    assert len(list(paths.config_dir.glob("settings.json.corrupt-*"))) == 1


async def test_two_instances_do_not_lose_updates(paths: AppPaths) -> None:
    a, b = FileSettings(paths), FileSettings(paths)

    async def bump(s: FileSettings) -> None:
        for _ in range(25):
            await s.update(lambda d: d.update(n=d.get("n", 0) + 1))

    await asyncio.gather(bump(a), bump(b), bump(a))
    assert (await b.load())["n"] == 75


async def test_watch_yields_changes_from_another_process(paths: AppPaths) -> None:
    mine, other = FileSettings(paths, poll_interval=0.02), FileSettings(paths)
    await mine.update(lambda d: d.update(n=0))
    seen: list[int] = []

    async def watcher() -> None:
        async for doc in mine.watch():
            seen.append(doc["n"])
            if doc["n"] == 2:
                return

    task = asyncio.create_task(watcher())
    await asyncio.sleep(0.05)
    await mine.update(lambda d: d.update(n=-1))  # our own write is not announced
    await asyncio.sleep(0.1)
    await other.update(lambda d: d.update(n=1))
    await asyncio.sleep(0.1)
    other.update_sync(lambda d: d.update(n=2))
    async with asyncio.timeout(10):
        await task
    assert seen == [1, 2]


async def test_memory_settings_watch() -> None:
    s = MemorySettings()
    got: list[int] = []

    async def watcher() -> None:
        async for doc in s.watch():
            got.append(doc["n"])
            if len(got) == 2:
                return

    task = asyncio.create_task(watcher())
    await asyncio.sleep(0)
    await s.update(lambda d: d.update(n=1))
    await asyncio.sleep(0)
    await s.update(lambda d: d.update(n=2))
    async with asyncio.timeout(5):
        await task
    assert got == [1, 2]
