"""A hand-edited settings file of the wrong shape costs that part, never the manager."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_auth_desktop.core.registry import snapshot_from_document

GOOD_SERVER = {"id": "s1", "name": "one", "url": "https://mcp.example.com/mcp"}


@pytest.mark.parametrize(
    "doc",
    [
        {"servers": "x"},
        {"servers": 7},
        {"servers": {"a": 1}},
        {"servers": ["not an object", 3, None]},
        {"servers": [{"id": "s1"}]},
        {"servers": [GOOD_SERVER | {"options": "oops"}]},
        {"discovery": ["x"]},
        {"registrations": "x"},
        {"status": 5},
    ],
)
def test_wrong_shapes_are_skipped_not_fatal(doc: dict[str, Any]) -> None:
    snap = snapshot_from_document(doc)
    assert snap.servers == [] or all(s.id for s in snap.servers)
    assert snap.discovery == {}


def test_good_entries_survive_bad_neighbours() -> None:
    doc = {
        "servers": [GOOD_SERVER, "junk", {"id": "s2"}],
        "discovery": {"s1": {"resource": 1}},
        "registrations": {"s1": "not an object"},
        "status": ["x"],
    }
    snap = snapshot_from_document(doc)
    assert [s.id for s in snap.servers] == ["s1"]
    assert snap.discovery == {} and snap.registrations == {} and snap.status == {}
