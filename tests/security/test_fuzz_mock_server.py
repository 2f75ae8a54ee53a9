"""Property-based fuzzing of the mock server's parsers and validators (catalogue §3 F5, F8, F12).

Pure validators are fuzzed directly (no exception other than their typed
errors, and the security invariant of what they accept); the public
endpoints ``/register``, ``/token`` and ``/revoke`` are fuzzed through the
ASGI app: never a 5xx, every error shaped like RFC 6749 §5.2 / RFC 7591 §3.2.2.

Deep nesting (finding M-1, fixed: ``jose.split_token`` now refuses a
segment of ~3000 nested ``[`` with a typed error, so ``/mcp`` answers 401)
has its own tests in tests/mock/test_jose_depth.py; the JWT strategies below
keep their JSON shallow so each example stays cheap.

Ports of non-ASCII digits (``http://127.0.0.1:²/cb``) are in the URI
strategies: they used to make ``validation._valid_port`` raise (finding M-2,
fixed in 211357a).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.testclient import TestClient

from mock_server import MockConfig, create_app
from mock_server import scopes as scope_rules
from mock_server.clients import (
    AUTH_METHODS,
    GRANT_TYPES,
    MAX_REDIRECT_URIS,
    RegistrationError,
    _max_age,
    check_cimd_url,
    validate_client_metadata,
)
from mock_server.config import Knobs
from mock_server.http_util import OAuthError, client_credentials, parse_form_body, parse_json_object
from mock_server.jose import JoseError, SigningKey, b64url_encode, split_token
from mock_server.validation import (
    LOOPBACK_HOSTS,
    check_metadata_url,
    check_redirect_uri,
    check_resource,
    is_loopback_ip,
    pkce_matches,
    pkce_value_ok,
    redirect_matches,
    s256,
    url_host,
)

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
BASE = "http://127.0.0.1:8000"

ascii_text = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=40)
uri_piece = st.sampled_from(
    [
        "http://127.0.0.1",
        "http://127.0.0.1:53122",
        "http://[::1]",
        "http://localhost",
        "http://LOCALHOST",
        "HTTP://127.0.0.1",
        "http://127.000.000.001",
        "https://app.example.com",
        "https://app.example.com:8443",
        "http://app.example.com",
        "http://127.0.0.1:53122@evil",
        "javascript:alert(1)//",
        "data:text/html,",
        "file:///",
        "vbscript:x",
        "blob:https://x",
        "about:blank",
        "https://*.example.com",
        "http://127.0.0.1:0",
        "http://127.0.0.1:99999",
        "http://[::1",
    ]
)
path_piece = st.sampled_from(["", "/cb", "/callback", "/x/../cb", "/cb?x=1", "/cb#f", "/cb/", "?q", "/c b", "\\cb"])
port_piece = st.one_of(st.just(""), st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=5).map(lambda p: ":" + p))
hostile_uri = st.one_of(
    st.tuples(uri_piece, path_piece).map("".join),
    st.tuples(st.sampled_from(["http://127.0.0.1", "http://[::1]", "https://app.example.com"]), port_piece, path_piece).map("".join),
    ascii_text,
    st.text(max_size=40),
)
json_leaf = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | ascii_text
json_value = st.recursive(
    json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(ascii_text, c, max_size=3), max_leaves=10
)


# ---------------------------------------------------------------- redirect URIs (F5)


@FUZZ
@given(st.one_of(hostile_uri, json_value))
def test_fuzz_check_redirect_uri_accepts_only_https_or_loopback_http(uri: Any) -> None:
    problem = check_redirect_uri(uri)
    if problem is None:
        assert isinstance(uri, str)
        assert uri.startswith("https://") or url_host(uri) in LOOPBACK_HOSTS
        assert "#" not in uri and "*" not in uri and "@" not in uri.split("/")[2]
    else:
        assert isinstance(problem, str) and problem


@FUZZ
@given(hostile_uri, hostile_uri, st.integers(1, 65535))
@example("http://127.0.0.1/cb", "http://localhost:53122/cb", 1)
@example("http://127.0.0.1/cb", "http://127.0.0.1:53122@evil/cb", 1)
@example("https://app.example.com/cb", "https://app.example.com:444/cb", 1)
def test_fuzz_redirect_matches_is_exact_except_loopback_port(registered: str, requested: str, port: int) -> None:
    if redirect_matches(registered, requested):
        if registered != requested:
            # Only the port of an http loopback URI may differ; host forms never cross-match.
            assert registered.startswith("http://") and requested.startswith("http://")
            assert url_host(registered) == url_host(requested) and url_host(registered) in (
                "127.0.0.1",
                "[::1]",
                "localhost",
            )
            assert "@" not in requested
    if check_redirect_uri(registered) is None and registered.startswith("http://") and url_host(registered) in (
        "127.0.0.1",
        "[::1]",
    ):
        host = url_host(registered)
        tail = registered[len("http://") :].split("/", 1)
        rest = "/" + tail[1] if len(tail) > 1 else ""
        if "?" not in tail[0]:
            assert redirect_matches(registered, f"http://{host}:{port}{rest}")


@FUZZ
@given(st.one_of(hostile_uri, json_value))
def test_fuzz_resource_and_metadata_url_checks_never_raise(value: Any) -> None:
    if isinstance(value, str):
        problem = check_resource(value)
        if problem is None:
            assert "#" not in value and "://" in value
        is_loopback_ip(value)
        url_host(value)
    problem = check_metadata_url(value)
    if problem is None:
        assert isinstance(value, str)
        assert value.startswith("https://") or url_host(value) in LOOPBACK_HOSTS


# ---------------------------------------------------------------- PKCE (F8)


@FUZZ
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=43, max_size=128))
@example("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
def test_fuzz_pkce_grammar_values_round_trip(verifier: str) -> None:
    assert pkce_value_ok(verifier)
    challenge = s256(verifier)
    assert pkce_value_ok(challenge) and pkce_matches(verifier, challenge)
    assert not pkce_matches(verifier + "A" if len(verifier) < 128 else verifier[:-1], challenge)


@FUZZ
@given(st.text(max_size=140))
def test_fuzz_pkce_outside_the_grammar_is_refused(value: str) -> None:
    ok = pkce_value_ok(value)
    grammar = 43 <= len(value) <= 128 and all(
        c.isascii() and (c.isalnum() or c in "-._~") for c in value
    )
    assert ok == grammar


def test_pkce_rfc7636_appendix_b_vector() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# ---------------------------------------------------------------- client metadata (RFC 7591)


registration_body = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {"redirect_uris": st.lists(hostile_uri, min_size=0, max_size=12)},
        optional={
            "application_type": st.one_of(st.sampled_from(["native", "web", "desktop"]), json_value),
            "client_name": st.one_of(
                st.sampled_from(["<script>x</script>", "a\u202eb", "x" * 201, "ok name", " "]), ascii_text, json_value
            ),
            "grant_types": st.one_of(
                st.lists(st.sampled_from(["authorization_code", "refresh_token", "password", "implicit"]), max_size=3),
                json_value,
            ),
            "response_types": st.one_of(st.sampled_from([["code"], ["token"], []]), json_value),
            "token_endpoint_auth_method": st.one_of(
                st.sampled_from(["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]), json_value
            ),
            "scope": st.one_of(st.sampled_from(["mcp:read", "mcp:read evil", "", "mcp:read  mcp:write"]), json_value),
            "logo_uri": st.one_of(hostile_uri, json_value),
            "client_uri": hostile_uri,
            "contacts": json_value,
            "software_id": json_value,
        },
    ),
)


@FUZZ
@given(registration_body)
@example({"redirect_uris": ["http://127.0.0.1/cb"]})  # web default on loopback: refused
@example({"redirect_uris": ["http://127.0.0.1/cb"] * 11, "application_type": "native"})
@example(None)
def test_fuzz_validate_client_metadata_stores_only_safe_metadata(body: Any) -> None:
    try:
        out = validate_client_metadata(body, strict_application_type=True, allowed_scopes=scope_rules.AS_SCOPES)
    except RegistrationError as exc:
        assert exc.error in ("invalid_redirect_uri", "invalid_client_metadata")
        return
    assert 1 <= len(out["redirect_uris"]) <= MAX_REDIRECT_URIS
    assert all(check_redirect_uri(u) is None for u in out["redirect_uris"])
    if out["application_type"] == "web":
        assert not any(u.startswith("http://") for u in out["redirect_uris"])
    assert set(out["grant_types"]) <= set(GRANT_TYPES) and "authorization_code" in out["grant_types"]
    assert out["token_endpoint_auth_method"] in AUTH_METHODS
    assert out["response_types"] == ["code"]
    name = out.get("client_name")
    assert name is None or ("<" not in name and "\u202e" not in name and len(name) <= 200)
    for scope in str(out.get("scope", "")).split():
        assert scope in scope_rules.AS_SCOPES


@FUZZ
@given(st.one_of(hostile_uri, st.sampled_from(["https://app.example.com/", "https://app.example.com/c.json#x"])), st.booleans())
def test_fuzz_cimd_url_check_never_raises(url: str, allow_http: bool) -> None:
    if check_cimd_url(url, allow_http=allow_http) is None:
        assert url.lower().startswith("https://") or (allow_http and url.lower().startswith("http://"))
        assert "#" not in url and "@" not in url


@FUZZ
@given(st.one_of(ascii_text, st.text(max_size=30).map(lambda t: "max-age=" + t)))
@example("max-age=\u00b2")
def test_fuzz_cimd_cache_control_parsing_is_bounded(value: str) -> None:
    assert 0 <= _max_age(value) <= 3600


# ---------------------------------------------------------------- forms, JSON, client credentials


@FUZZ
@given(st.binary(max_size=200), st.sampled_from(["application/x-www-form-urlencoded", "application/json", "", "text/plain; x"]))
@example(b"code=a&code=b", "application/x-www-form-urlencoded")
@example(b"\xff\xfe", "application/x-www-form-urlencoded")
def test_fuzz_parse_form_body_rejects_repeats_and_raises_only_oauth_errors(body: bytes, content_type: str) -> None:
    try:
        form = parse_form_body(body, content_type)
    except OAuthError as exc:
        assert exc.error == "invalid_request" and exc.status in (400, 415)
        return
    assert content_type == "application/x-www-form-urlencoded"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())


@FUZZ
@given(st.one_of(st.binary(max_size=200), json_value.map(lambda v: json.dumps(v).encode())))
@example(b'{"a":1,"a":2}')
@example(b'{"a": NaN}')
@example(b"[" * 3000)
def test_fuzz_parse_json_object_never_raises(body: bytes) -> None:
    value = parse_json_object(body)
    assert value is None or isinstance(value, dict)


def _request(headers: list[tuple[bytes, bytes]]) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/token", "headers": headers, "query_string": b""})


basic_value = st.one_of(
    ascii_text,
    st.tuples(ascii_text, ascii_text).map(lambda p: base64.b64encode(f"{p[0]}:{p[1]}".encode()).decode()),
)


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(["Basic", "basic", "Bearer", ""]), basic_value), max_size=2),
    st.dictionaries(st.sampled_from(["client_id", "client_secret", "x"]), ascii_text, max_size=3),
)
def test_fuzz_client_credentials_never_mix_methods(auth: list[tuple[str, str]], form: dict[str, str]) -> None:
    headers = [(b"authorization", f"{scheme} {value}".encode("latin-1")) for scheme, value in auth]
    try:
        creds = client_credentials(_request(headers), form)
    except OAuthError as exc:
        assert exc.error in ("invalid_request", "invalid_client")
        return
    assert len(headers) <= 1
    if creds.method == "client_secret_basic":
        assert headers and "client_secret" not in form
    elif creds.method == "client_secret_post":
        assert not headers and creds.secret == form["client_secret"]
    else:
        assert not headers and "client_secret" not in form and creds.secret is None


@FUZZ
@given(st.one_of(ascii_text, st.none()))
def test_fuzz_scope_parser_follows_rfc6749(value: str | None) -> None:
    if value is None:
        return
    parsed = scope_rules.parse_scope(value)
    if parsed is not None:
        assert parsed and len(parsed) == len(set(parsed))
        assert all(p and " " not in p and '"' not in p and "\\" not in p for p in parsed)


@FUZZ
@given(st.dictionaries(st.sampled_from(["fail_next", "latency", "auto_approve", "fail_with", "bogus", "_lock",
                                        "authorization_server", "resource"]), json_value, max_size=3))
def test_fuzz_knob_updates_raise_only_value_error(changes: dict[str, Any]) -> None:
    knobs = Knobs.from_config(MockConfig())
    try:
        snap = knobs.update(changes)
    except ValueError:
        return
    assert isinstance(snap["auto_approve"], bool) and snap["fail_next"] >= 0
    assert 0 <= snap["latency"] <= 120
    for url_knob in ("authorization_server", "resource"):
        value = snap[url_knob]
        assert isinstance(value, str) and (value == "" or value.startswith(("http://", "https://")))


# ---------------------------------------------------------------- JWT (RFC 9068) verification


KEY = SigningKey.generate("ES256")
OTHER_KEY = SigningKey.generate("ES256")
segment = st.one_of(
    ascii_text,
    json_value.map(lambda v: b64url_encode(json.dumps(v).encode())),
    st.binary(max_size=80).map(b64url_encode),
)


@FUZZ
@given(st.one_of(ascii_text, st.tuples(segment, segment, segment).map(".".join)))
@example("a.b.c")
@example("e30.e30.")
def test_fuzz_jwt_split_and_verify_raise_only_jose_error(token: str) -> None:
    try:
        header, claims, _, _ = split_token(token)
    except JoseError:
        return
    assert isinstance(header, dict) and isinstance(claims, dict)
    with pytest.raises(JoseError):
        KEY.verify(token)  # nothing generated at random is signed by our key


@FUZZ
@given(st.dictionaries(ascii_text, json_leaf, max_size=4), st.integers(0, 200), st.sampled_from(["alg", "typ", "kid", "sig", "claims"]))
def test_fuzz_tampered_jwts_never_verify(claims: dict[str, Any], position: int, what: str) -> None:
    token = KEY.sign({"sub": "u", **claims})
    assert KEY.verify(token)["sub"] == claims.get("sub", "u")
    header_b64, claims_b64, sig = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    if what in ("alg", "typ", "kid"):
        header[what] = {"alg": "none", "typ": "JWT", "kid": OTHER_KEY.kid}[what]
        forged = b64url_encode(json.dumps(header).encode()) + "." + claims_b64 + "." + sig
    elif what == "sig":
        raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
        raw[position % len(raw)] ^= 0x01
        forged = header_b64 + "." + claims_b64 + "." + b64url_encode(bytes(raw))
    else:
        forged = header_b64 + "." + b64url_encode(json.dumps({"sub": "admin", **claims, "x": position}).encode()) + "." + sig
    with pytest.raises(JoseError):
        KEY.verify(forged)
    with pytest.raises(JoseError):
        OTHER_KEY.verify(token)


# ---------------------------------------------------------------- endpoints (F12)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(
        MockConfig(base_url=BASE, auto_approve=True, rate_limit_per_ip=10**6, rate_limit_per_client=10**6)
    )
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def _assert_error_shape(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("error"), str) and body["error"]
        assert response.headers.get("cache-control") == "no-store"


@FUZZ
@given(registration_body)
def test_fuzz_register_endpoint_never_5xx(client: TestClient, body: Any) -> None:
    response = client.post("/register", content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    _assert_error_shape(response)
    if response.status_code == 201:
        data = response.json()
        assert data["client_id"] and data["registration_access_token"]
        assert all(check_redirect_uri(u) is None for u in data["redirect_uris"])


form_pairs = st.lists(
    st.tuples(
        st.sampled_from(
            ["grant_type", "code", "refresh_token", "client_id", "client_secret", "code_verifier", "redirect_uri", "resource", "scope", "token", "token_type_hint"]
        ),
        st.one_of(
            ascii_text,
            st.sampled_from(["authorization_code", "refresh_token", "password", BASE + "/mcp", "mcp:read", "mcp:admin"]),
        ),
    ),
    max_size=8,
)


@FUZZ
@given(st.sampled_from(["/token", "/revoke", "/introspect"]), form_pairs, st.sampled_from(["application/x-www-form-urlencoded", "application/json"]), st.one_of(st.none(), basic_value))
def test_fuzz_token_revoke_introspect_never_5xx(client: TestClient, path: str, pairs: list[tuple[str, str]], content_type: str, basic: str | None) -> None:
    from urllib.parse import urlencode

    headers = {"Content-Type": content_type}
    if basic is not None:
        headers["Authorization"] = "Basic " + basic
    response = client.post(path, content=urlencode(pairs).encode(), headers=headers)
    if path == "/revoke" and response.status_code == 200:
        return  # RFC 7009: 200 with an empty body
    _assert_error_shape(response)
    if response.status_code == 200:
        assert path == "/introspect" and response.json() == {"active": False}
