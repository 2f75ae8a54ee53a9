"""A hand-edited settings file of the wrong shape costs that part, never the manager."""

from __future__ import annotations

from dataclasses import replace
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


def test_a_public_registration_is_typed_and_reads_back_as_written() -> None:
    from mcp_auth_desktop.core.models import ClientRegistration
    from mcp_auth_desktop.core.registry import PublicRegistration

    reg = ClientRegistration(
        issuer="https://as.example.com", client_id="c1", method="dcr",
        client_secret="s3cret", redirect_uris=("http://127.0.0.1:5000/callback",),
        registration_access_token="rat", registration_client_uri="https://as.example.com/reg/c1",
        registered_at=12.0,
    )
    public = PublicRegistration.of(reg)
    stored = public.to_json()
    assert "s3cret" not in repr(stored) and "rat" not in str(stored.values())
    assert stored["has_client_secret"] is True and stored["deletable"] is True
    doc = {"servers": [GOOD_SERVER], "registrations_public": {"s1": stored}}
    assert snapshot_from_document(doc).registrations == {"s1": public}
    # Deletable says what removal will do: only our own dynamic registration is deleted.
    pre = PublicRegistration.of(replace(reg, method="preregistered"))
    assert pre.deletable is False and reg.deletable is True


@pytest.mark.parametrize("raw", ["x", {}, {"client_id": 7}, {"method": "dcr"}])
def test_a_public_registration_naming_no_client_is_skipped(raw: object) -> None:
    doc = {"servers": [GOOD_SERVER], "registrations_public": {"s1": raw}}
    assert snapshot_from_document(doc).registrations == {}


def test_junk_fields_of_a_public_registration_read_as_unset() -> None:
    raw = {"client_id": "c1", "method": 3, "redirect_uris": "x", "registered_at": True,
           "has_client_secret": "yes"}
    doc = {"servers": [GOOD_SERVER], "registrations_public": {"s1": raw}}
    public = snapshot_from_document(doc).registrations["s1"]
    assert (public.method, public.redirect_uris, public.registered_at, public.has_client_secret) == (
        None, (), None, False)
