"""PRM / AS metadata: well-known URL order and validation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core.errors import InsecureUrlError, MetadataError
from mcp_auth_desktop.core.metadata import (
    as_metadata_urls,
    legacy_as_metadata,
    parse_as_metadata,
    parse_protected_resource_metadata,
    prm_urls,
)

from ._helpers import guard

ISSUER = "https://auth.example.com"


def as_doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "issuer": ISSUER,
        "authorization_endpoint": ISSUER + "/authorize",
        "token_endpoint": ISSUER + "/token",
        "registration_endpoint": ISSUER + "/register",
        "revocation_endpoint": ISSUER + "/revoke",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
        "scopes_supported": ["files:read", "offline_access"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def test_prm_urls_order_with_header() -> None:
    assert prm_urls("https://example.com/public/mcp", "https://example.com/custom/prm") == [
        "https://example.com/custom/prm",
        "https://example.com/.well-known/oauth-protected-resource/public/mcp",
        "https://example.com/.well-known/oauth-protected-resource",
    ]


def test_prm_urls_at_root_skip_path_insertion() -> None:
    assert prm_urls("https://Example.com/") == ["https://example.com/.well-known/oauth-protected-resource"]


def test_prm_urls_trailing_slash_and_dedupe() -> None:
    assert prm_urls("https://example.com/mcp/", "https://example.com/.well-known/oauth-protected-resource") == [
        "https://example.com/.well-known/oauth-protected-resource",
        "https://example.com/.well-known/oauth-protected-resource/mcp",
    ]


def test_as_metadata_urls_with_path() -> None:
    assert as_metadata_urls("https://auth.example.com/tenant1") == [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]


def test_as_metadata_urls_without_path() -> None:
    for issuer in ("https://auth.example.com", "https://auth.example.com/"):
        assert as_metadata_urls(issuer) == [
            "https://auth.example.com/.well-known/oauth-authorization-server",
            "https://auth.example.com/.well-known/openid-configuration",
        ]


def test_parse_as_metadata_happy() -> None:
    meta = parse_as_metadata(as_doc(), ISSUER, guard=guard())
    assert meta.issuer == ISSUER
    assert meta.code_challenge_methods_supported == ("S256",)
    assert meta.authorization_response_iss_parameter_supported is True
    assert meta.client_id_metadata_document_supported is True
    assert meta.revocation_endpoint == ISSUER + "/revoke"


@pytest.mark.parametrize(
    "variant", ["https://auth.example.com/", "HTTPS://auth.example.com", "https://AUTH.example.com",
                "https://auth.example.com:443", "https://evil.example.com", "https://auth.example.com/tenant2"]
)
def test_issuer_must_be_byte_identical(variant: str) -> None:
    with pytest.raises(MetadataError, match="different issuer"):
        parse_as_metadata(as_doc(issuer=variant), ISSUER)


@pytest.mark.parametrize("methods", [None, [], ["plain"], "S256", [1]])
def test_refuses_without_s256(methods: Any) -> None:
    with pytest.raises(MetadataError):
        parse_as_metadata(as_doc(code_challenge_methods_supported=methods), ISSUER)


@pytest.mark.parametrize(
    ("key", "value", "exc"),
    [
        ("authorization_endpoint", None, MetadataError),
        ("token_endpoint", 42, MetadataError),
        ("token_endpoint", "http://auth.example.com/token", InsecureUrlError),
        ("authorization_endpoint", "javascript:alert(1)", InsecureUrlError),
        ("registration_endpoint", "https://169.254.169.254/register", InsecureUrlError),
        ("revocation_endpoint", ["x"], MetadataError),
        ("response_types_supported", ["token"], MetadataError),
        ("authorization_response_iss_parameter_supported", "true", MetadataError),
        ("scopes_supported", ["ok", "bad scope"], MetadataError),
    ],
)
def test_parse_as_metadata_rejects(key: str, value: Any, exc: type[Exception]) -> None:
    doc = as_doc()
    if value is None:
        doc.pop(key)
    else:
        doc[key] = value
    with pytest.raises(exc):
        parse_as_metadata(doc, ISSUER, guard=guard())


def test_issuer_with_query_is_rejected() -> None:
    with pytest.raises(InsecureUrlError):
        parse_as_metadata(as_doc(issuer=ISSUER + "?x=1"), ISSUER + "?x=1")


def test_as_defaults_follow_rfc8414() -> None:
    doc = as_doc(token_endpoint_auth_methods_supported=None, authorization_response_iss_parameter_supported=None)
    meta = parse_as_metadata(doc, ISSUER)
    assert meta.token_endpoint_auth_methods_supported == ("client_secret_basic",)
    assert meta.authorization_response_iss_parameter_supported is False


def test_http_loopback_metadata_allowed_with_opt_in() -> None:
    iss = "http://127.0.0.1:9000"
    doc = as_doc(issuer=iss, authorization_endpoint=iss + "/authorize", token_endpoint=iss + "/token",
                 registration_endpoint=None, revocation_endpoint=None)
    meta = parse_as_metadata(doc, iss, guard=guard("http://127.0.0.1:8000/mcp", allow_insecure_loopback=True))
    assert meta.token_endpoint == iss + "/token"
    with pytest.raises(InsecureUrlError):
        parse_as_metadata(doc, iss, guard=guard("http://127.0.0.1:8000/mcp"))


def prm_doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "resource": "https://mcp.example.com/mcp",
        "authorization_servers": [ISSUER],
        "scopes_supported": ["files:read"],
        "bearer_methods_supported": ["header"],
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def test_parse_prm_happy() -> None:
    prm = parse_protected_resource_metadata(prm_doc(), "https://mcp.example.com/mcp", guard=guard())
    assert prm.authorization_servers == (ISSUER,)
    assert prm.scopes_supported == ("files:read",)


@pytest.mark.parametrize(
    "over",
    [
        {"resource": "https://evil.example.com/mcp"},
        {"resource": None},
        {"resource": 5},
        {"authorization_servers": []},
        {"authorization_servers": None},
        {"authorization_servers": [7]},
        {"authorization_servers": "https://auth.example.com"},
        {"scopes_supported": "files:read"},
    ],
)
def test_parse_prm_rejects(over: dict[str, Any]) -> None:
    with pytest.raises(MetadataError):
        parse_protected_resource_metadata(prm_doc(**over), "https://mcp.example.com/mcp")


def test_parse_prm_rejects_insecure_authorization_server() -> None:
    with pytest.raises(InsecureUrlError):
        parse_protected_resource_metadata(prm_doc(authorization_servers=["http://auth.example.com"]), "https://mcp.example.com/mcp")


def test_legacy_defaults() -> None:
    meta = legacy_as_metadata("https://MCP.example.com:443/v1/mcp")
    assert meta.issuer == "https://mcp.example.com"
    assert meta.authorization_endpoint == "https://mcp.example.com/authorize"
    assert meta.token_endpoint == "https://mcp.example.com/token"
    assert meta.registration_endpoint == "https://mcp.example.com/register"
    assert meta.legacy_defaults and "S256" in meta.code_challenge_methods_supported


# ---- property tests (catalogue F1/F2)

_json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
_json = st.recursive(_json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=3), max_leaves=10)


def _mutations(doc: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = sorted(doc)

    def drop(k: str) -> dict[str, Any]:
        return {kk: v for kk, v in doc.items() if kk != k}

    def retype(k: str, v: Any) -> dict[str, Any]:
        return {**doc, k: v}

    issuer_variants = st.sampled_from([ISSUER + "/", ISSUER.upper(), ISSUER + ":443", "https://auth.example.com%2F", "https://auth.example.co"])
    return st.one_of(
        st.sampled_from(keys).map(drop),
        st.tuples(st.sampled_from(keys), _json).map(lambda kv: retype(*kv)),
        issuer_variants.map(lambda i: {**doc, "issuer": i}),
        st.dictionaries(st.text(max_size=10), _json, max_size=3).map(lambda extra: {**extra, **doc}),
    )


@settings(deadline=None)
@given(_mutations(as_doc()))
def test_property_as_metadata_invariants_or_metadata_error(doc: dict[str, Any]) -> None:
    try:
        meta = parse_as_metadata(doc, ISSUER, guard=guard())
    except (MetadataError, InsecureUrlError):
        return
    assert meta.issuer == ISSUER
    assert "S256" in meta.code_challenge_methods_supported
    for url in (meta.authorization_endpoint, meta.token_endpoint, meta.registration_endpoint, meta.revocation_endpoint):
        assert url is None or url.startswith("https://")


@settings(deadline=None)
@given(st.one_of(_mutations(prm_doc()), st.dictionaries(st.text(max_size=10), _json, max_size=4)))
def test_property_prm_invariants_or_metadata_error(doc: dict[str, Any]) -> None:
    try:
        prm = parse_protected_resource_metadata(doc, "https://mcp.example.com/mcp", guard=guard())
    except (MetadataError, InsecureUrlError):
        return
    assert prm.resource in ("https://mcp.example.com/mcp",) or prm.resource.lower().startswith("https://mcp.example.com")
    assert prm.authorization_servers and all(s.startswith("https://") for s in prm.authorization_servers)
