"""Property-based fuzzing of every parser in ``mcp_auth_desktop.core`` (catalogue §3 F1-F8).

Each test feeds hostile, generated input to one parser and checks two things:

* the only exceptions are the typed ones of ``core/errors/`` (for functions
  documented as "never raises": no exception at all);
* whatever is accepted satisfies the parser's security invariant (issuer byte
  equality, finite bounded expiry, https-only URLs, ...).

Non-ASCII digit strings (``"²"``, ``"٣"``) are part of every numeric strategy:
they used to escape ``clamp_expires_in`` and ``parse_retry_after`` as a bare
``ValueError`` (audit finding F-1, fixed in 211357a).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core import jsonutil
from mcp_auth_desktop.core.discovery import challenge_fields
from mcp_auth_desktop.core.errors import (
    AuthorizationDenied,
    CallbackError,
    InsecureUrlError,
    InvalidJsonError,
    McpAuthError,
    MetadataError,
    OAuthError,
    ResponseTooLargeError,
    TokenResponseError,
)
from mcp_auth_desktop.core.http import RETRY_AFTER_CAP, parse_retry_after
from mcp_auth_desktop.core.mcp_client import McpClient, SseEvent, SseParser
from mcp_auth_desktop.core.metadata import (
    SCOPE_TOKEN_RE,
    parse_as_metadata,
    parse_protected_resource_metadata,
)
from mcp_auth_desktop.core.models import ClientRegistration, TokenSet
from mcp_auth_desktop.core.oauth import (
    MAX_EXPIRES_IN,
    check_revocation_response,
    clamp_expires_in,
    error_from_response,
    parse_callback,
    parse_registration_response,
    parse_token_response,
)
from mcp_auth_desktop.core.registration import redirect_uri_covered
from mcp_auth_desktop.core.urls import (
    UrlGuard,
    canonical_resource_uri,
    check_authorization_url,
    classify_address,
    classify_host,
    host_of,
    is_loopback_ip_literal,
    origin_of,
    redact_url,
    resource_matches,
)
from mcp_auth_desktop.core.www_authenticate import (
    MAX_SCOPE_CHARS,
    bearer_challenge,
    parse_scope,
    parse_www_authenticate,
)

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ISSUER = "https://auth.example.com"
SERVER = "https://mcp.example.com/mcp"
NOW = 1_700_000_000.0

ascii_text = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=40)
any_text = st.text(max_size=60)
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_value = st.recursive(
    json_leaf,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(any_text, c, max_size=4),
    max_leaves=15,
)
url_parts = st.sampled_from(
    [
        "https://auth.example.com",
        "https://auth.example.com/",
        "HTTPS://auth.example.com",
        "https://AUTH.example.com",
        "https://auth.example.com:443",
        "http://auth.example.com",
        "http://127.0.0.1:8000",
        "http://[::1]:9",
        "https://169.254.169.254",
        "https://[::ffff:169.254.169.254]",
        "https://2852039166",
        "https://0251.0376.0251.0376",
        "https://localhost.",
        "https://user:pw@auth.example.com",
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "https://auth.example.com/$(id)",
        "https://auth.example.com/a#frag",
        "https://auth.example.com?q=1",
        "",
    ]
)
hostile_url = st.one_of(
    url_parts,
    st.tuples(url_parts, st.sampled_from(["", "/authorize", "/token", "/x y", "/%zz", "/\n", "/a?b=c"])).map("".join),
    any_text,
)


def guard() -> UrlGuard:
    async def resolver(host: str, port: int) -> list[str]:  # pragma: no cover - syntax checks only
        return ["93.184.216.34"]

    return UrlGuard.for_server(SERVER, resolver=resolver)


# ---------------------------------------------------------------- jsonutil


@FUZZ
@given(st.binary(max_size=300))
@example(b"[" * 5000 + b"]" * 5000)
@example(b'{"issuer":"a","issuer":"b"}')
@example(b'{"x": NaN}')
@example(b"1" * 5000)
@example(b"1e400")
@example(b"\xff\xfe{}")
def test_fuzz_jsonutil_loads_bytes_raises_only_invalid_json(data: bytes) -> None:
    try:
        value = jsonutil.loads(data)
    except InvalidJsonError:
        return
    # Whatever is accepted round-trips through the strict serializer (no NaN, finite).
    jsonutil.dumps(value)


@FUZZ
@given(json_value)
def test_fuzz_jsonutil_loads_object_accepts_only_objects(value: Any) -> None:
    try:
        text = jsonutil.dumps(value)
    except ValueError:
        return  # NaN/inf in the generated value: not JSON we could receive
    try:
        parsed = jsonutil.loads_object(text)
    except InvalidJsonError:
        assert not isinstance(value, dict) or text.count("[") + text.count("{") > jsonutil.MAX_DEPTH
        return
    assert isinstance(parsed, dict) and parsed == value


# ---------------------------------------------------------------- WWW-Authenticate


_challenge_piece = st.sampled_from(
    [
        "Bearer",
        "bearer",
        "Basic realm=\"x\"",
        ",",
        " ",
        "=",
        '"',
        "\\",
        'scope="a b"',
        "scope=\"a\\\"b\"",
        'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"',
        'error="insufficient_scope"',
        'error_description="\r\n[auth] forged"',
        "token68==",
        "realm=",
    ]
)
challenge_text = st.one_of(
    any_text,
    st.lists(st.one_of(_challenge_piece, ascii_text), max_size=12).map(" ".join),
    st.lists(st.one_of(_challenge_piece, ascii_text), max_size=12).map("".join),
)


@FUZZ
@given(st.one_of(challenge_text, st.lists(challenge_text, max_size=4)))
def test_fuzz_www_authenticate_never_raises_and_bearer_fields_are_safe(value: Any) -> None:
    challenges = parse_www_authenticate(value)
    for ch in challenges:
        assert ch.scheme == ch.scheme.lower() and ch.scheme
        assert all(k == k.lower() for k in ch.params)
    bearer = bearer_challenge(value)
    if bearer is not None:
        for text in (bearer.error, bearer.error_description):
            assert text is None or not any(c in text for c in "\r\n\x00")
        if bearer.scope is not None:
            assert bearer.scope and all(SCOPE_TOKEN_RE.match(s) for s in bearer.scope)


@FUZZ
@given(st.one_of(st.none(), any_text, st.text(min_size=MAX_SCOPE_CHARS, max_size=MAX_SCOPE_CHARS + 5)))
def test_fuzz_parse_scope_tokens_follow_rfc6750(value: str | None) -> None:
    scopes = parse_scope(value)
    if scopes is not None:
        assert value is not None and len(value) <= MAX_SCOPE_CHARS
        assert scopes and len(set(scopes)) == len(scopes)
        assert all(SCOPE_TOKEN_RE.match(s) for s in scopes)


@FUZZ
@given(st.one_of(st.none(), challenge_text.map(bearer_challenge), challenge_text.map(parse_www_authenticate).map(lambda cs: cs[0] if cs else None)))
def test_fuzz_challenge_fields_never_raises(challenge: Any) -> None:
    rm, scopes = challenge_fields(challenge)
    assert rm is None or (isinstance(rm, str) and rm)
    assert scopes is None or all(isinstance(s, str) and s for s in scopes)


# ---------------------------------------------------------------- metadata (F1, F2)


def _as_doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "issuer": ISSUER,
        "authorization_endpoint": ISSUER + "/authorize",
        "token_endpoint": ISSUER + "/token",
        "registration_endpoint": ISSUER + "/register",
        "revocation_endpoint": ISSUER + "/revoke",
        "code_challenge_methods_supported": ["S256"],
    }
    doc.update(over)
    return doc


_as_keys = st.sampled_from(
    [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "jwks_uri",
        "code_challenge_methods_supported",
        "response_types_supported",
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "scopes_supported",
        "authorization_response_iss_parameter_supported",
        "client_id_metadata_document_supported",
    ]
)
as_doc = st.one_of(
    st.dictionaries(_as_keys, st.one_of(json_value, hostile_url), max_size=8).map(lambda d: _as_doc(**d)),
    st.dictionaries(any_text, json_value, max_size=6),
)


@FUZZ
@given(as_doc, st.booleans())
def test_fuzz_parse_as_metadata_invariants_or_typed_error(doc: dict[str, Any], with_guard: bool) -> None:
    try:
        meta = parse_as_metadata(doc, ISSUER, guard=guard() if with_guard else None)
    except (MetadataError, InsecureUrlError):
        return
    assert meta.issuer == ISSUER  # byte-identical (RFC 8414 §3.3)
    assert "S256" in meta.code_challenge_methods_supported
    for url in (
        meta.authorization_endpoint,
        meta.token_endpoint,
        meta.registration_endpoint,
        meta.revocation_endpoint,
        meta.introspection_endpoint,
        meta.jwks_uri,
    ):
        assert url is None or (url.lower().startswith("https://") and "#" not in url and "@" not in url.split("/")[2])
    for s in meta.scopes_supported or ():
        assert SCOPE_TOKEN_RE.match(s)


_prm_keys = st.sampled_from(
    ["resource", "authorization_servers", "scopes_supported", "bearer_methods_supported", "resource_name"]
)
prm_doc = st.one_of(
    st.dictionaries(
        _prm_keys,
        st.one_of(json_value, hostile_url, st.lists(hostile_url, max_size=3)),
        max_size=5,
    ).map(lambda d: {"resource": SERVER, "authorization_servers": [ISSUER], **d}),
    st.dictionaries(any_text, json_value, max_size=5),
)


@FUZZ
@given(prm_doc, st.booleans())
def test_fuzz_parse_prm_invariants_or_typed_error(doc: dict[str, Any], with_guard: bool) -> None:
    try:
        prm = parse_protected_resource_metadata(doc, SERVER, guard=guard() if with_guard else None)
    except (MetadataError, InsecureUrlError):
        return
    assert resource_matches(prm.resource, SERVER)
    assert prm.authorization_servers
    assert all(s.lower().startswith("https://") and "?" not in s for s in prm.authorization_servers)
    assert prm.resource_name is None or "\n" not in prm.resource_name


# ---------------------------------------------------------------- token response (F7)


unicode_digits = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=6)
numeric_values = st.one_of(
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 10**15).map(str),
    unicode_digits,
    any_text,
    st.none(),
    st.booleans(),
)
token_body = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "access_token": st.one_of(ascii_text, json_value),
            "token_type": st.one_of(st.sampled_from(["Bearer", "bearer", "bEARER", "mac", "DPoP", ""]), json_value),
            "expires_in": numeric_values,
            "refresh_token": st.one_of(ascii_text, json_value),
            "scope": st.one_of(ascii_text, json_value),
            "error": st.one_of(st.sampled_from(["invalid_grant", "invalid_client", "server_error", ""]), json_value),
            "error_description": st.one_of(any_text, json_value),
        },
    ),
)
status = st.one_of(st.sampled_from([200, 201, 400, 401, 403, 429, 500, 503]), st.integers(100, 599))
headers = st.dictionaries(
    st.sampled_from(["Retry-After", "retry-after", "Content-Type", "X-Other"]),
    st.one_of(ascii_text, unicode_digits, st.integers(-5, 10**12).map(str), st.just("Wed, 21 Oct 2015 07:28:00 GMT")),
    max_size=3,
)


@FUZZ
@given(status, headers, token_body)
@example(200, {}, {"error": "invalid_grant", "access_token": "x", "token_type": "Bearer"})
@example(200, {}, {"access_token": "x", "token_type": "bEARER", "expires_in": 1e308})
@example(200, {}, {"access_token": "x", "token_type": "Bearer", "expires_in": -1})
@example(503, {"Retry-After": "1000000000"}, None)
@example(503, {"Retry-After": "\u00b2"}, None)
@example(200, {}, {"access_token": "x", "token_type": "Bearer", "expires_in": "\u00b2"})
def test_fuzz_parse_token_response_never_stores_an_error(code: int, hdrs: dict[str, str], body: Any) -> None:
    try:
        tokens = parse_token_response(code, hdrs, body, now=NOW, requested_scopes=("mcp:read",))
    except OAuthError as exc:
        assert exc.retry_after is None or 0 <= exc.retry_after <= RETRY_AFTER_CAP
        return
    except TokenResponseError:
        return
    assert 200 <= code < 300 and isinstance(body, dict) and "error" not in body
    assert isinstance(tokens, TokenSet) and tokens.access_token == body["access_token"]
    assert tokens.token_type == "Bearer"
    if tokens.expires_at is not None:
        assert math.isfinite(tokens.expires_at)
        assert NOW + 1 <= tokens.expires_at <= NOW + MAX_EXPIRES_IN


@FUZZ
@given(numeric_values)
def test_fuzz_clamp_expires_in_is_finite_and_bounded(value: Any) -> None:
    seconds = clamp_expires_in(value)
    assert seconds is None or (math.isfinite(seconds) and 1 <= seconds <= MAX_EXPIRES_IN)


@FUZZ
@given(st.one_of(st.none(), any_text, unicode_digits, st.integers(-(10**15), 10**15).map(str), st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))))
@example("\u00b2")
def test_fuzz_parse_retry_after_is_capped_and_never_raises(value: str | None) -> None:
    seconds = parse_retry_after(value, now=NOW)
    assert seconds is None or (math.isfinite(seconds) and 0 <= seconds <= RETRY_AFTER_CAP)


@FUZZ
@given(status, headers, st.one_of(st.none(), st.dictionaries(any_text, json_value, max_size=4)))
def test_fuzz_error_and_revocation_responses_are_typed(code: int, hdrs: dict[str, str], body: Any) -> None:
    err = error_from_response(code, hdrs, body, what="endpoint", now=NOW)
    assert err is None or isinstance(err, OAuthError)
    if err is not None:
        assert "\n" not in str(err) and "\r" not in str(err)
    try:
        check_revocation_response(code, hdrs, body, now=NOW)
    except OAuthError:
        assert code != 200
    else:
        assert code == 200


# ---------------------------------------------------------------- callback (catalogue 1, 2)


callback_params = st.dictionaries(
    st.sampled_from(["code", "state", "iss", "error", "error_description", "error_uri", "x"]),
    st.one_of(any_text, st.sampled_from(["STATE", ISSUER, ISSUER + "/", "HTTPS://auth.example.com", "access_denied"])),
    max_size=6,
)


@FUZZ
@given(callback_params, st.booleans())
@example({"code": "c", "state": "STATE", "iss": ISSUER + "/"}, False)
@example({"code": "c", "state": "STATE"}, True)
@example({"error": "access_denied", "state": "STATE", "iss": "https://evil"}, False)
def test_fuzz_parse_callback_returns_a_code_only_for_the_right_state_and_issuer(
    params: dict[str, str], iss_supported: bool
) -> None:
    try:
        code = parse_callback(params, expected_state="STATE", expected_issuer=ISSUER, iss_supported=iss_supported)
    except CallbackError:
        return
    except AuthorizationDenied as exc:
        # Only ever after state and iss passed (MCP: never show a mix-up's error).
        assert params.get("state") == "STATE"
        assert params.get("iss", ISSUER) == ISSUER
        assert "\n" not in exc.user_message
        return
    assert code and code == params["code"]
    assert params["state"] == "STATE" and "error" not in params
    if "iss" in params or iss_supported:
        assert params["iss"] == ISSUER


# ---------------------------------------------------------------- registration response


reg_body = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "client_id": st.one_of(ascii_text, json_value),
            "client_secret": st.one_of(ascii_text, json_value),
            "token_endpoint_auth_method": st.one_of(
                st.sampled_from(["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]), json_value
            ),
            "client_secret_expires_at": json_value,
            "redirect_uris": st.one_of(st.lists(hostile_url, max_size=3), json_value),
            "registration_access_token": st.one_of(ascii_text, json_value),
            "registration_client_uri": st.one_of(hostile_url, json_value),
            "error": st.one_of(st.sampled_from(["invalid_redirect_uri", "invalid_client_metadata"]), json_value),
            "error_description": any_text,
        },
    ),
)


@FUZZ
@given(status, headers, reg_body)
def test_fuzz_parse_registration_response_binds_issuer_or_raises_typed(code: int, hdrs: dict[str, str], body: Any) -> None:
    try:
        reg = parse_registration_response(
            code, hdrs, body, issuer=ISSUER, now=NOW, requested_redirect_uris=("http://127.0.0.1/callback",)
        )
    except McpAuthError:
        return
    assert isinstance(reg, ClientRegistration)
    assert reg.issuer == ISSUER and reg.client_id and reg.method == "dcr"
    assert code in (200, 201)
    assert reg.token_endpoint_auth_method in ("none", "client_secret_basic", "client_secret_post")
    assert reg.token_endpoint_auth_method == "none" or reg.client_secret


# ---------------------------------------------------------------- URL classifiers (F4, F6)


@FUZZ
@given(hostile_url)
def test_fuzz_url_helpers_raise_only_insecure_url_error(url: str) -> None:
    assert "user:pw@" not in redact_url(url)  # never shows userinfo
    host_of(url)
    resource_matches(url, SERVER)
    for fn in (canonical_resource_uri, origin_of):
        try:
            out = fn(url)
        except InsecureUrlError:
            continue
        assert out.startswith(("https://", "http://")) and "#" not in out
    try:
        checked = check_authorization_url(url)
    except InsecureUrlError:
        pass
    else:
        assert checked.lower().startswith("https://")
        assert not any(c in checked for c in "$()'\"`<> \n#")
    try:
        parts = guard().check_syntax(url, "fuzzed")
    except InsecureUrlError:
        pass
    else:
        assert parts.scheme.lower() == "https" and "@" not in parts.netloc


@FUZZ
@given(st.one_of(st.ip_addresses().map(str), any_text, hostile_url.map(host_of)))
def test_fuzz_host_classifiers_never_raise(host: str) -> None:
    kind = classify_host(host)
    assert kind in (None, "public", "loopback", "private", "link-local", "forbidden")
    if is_loopback_ip_literal(host):
        assert kind == "loopback"


@FUZZ
@given(st.ip_addresses())
def test_fuzz_classify_address_same_decision_for_mapped_forms(ip: Any) -> None:
    kind = classify_address(ip)
    if ip.version == 4:
        assert classify_address(f"::ffff:{ip}") == kind
        assert classify_host(f"[::ffff:{ip}]") == kind
    if kind == "public":
        assert ip.is_global


@FUZZ
@given(st.lists(hostile_url, max_size=3).map(tuple), st.one_of(st.none(), hostile_url))
def test_fuzz_redirect_uri_covered_never_raises(registered: tuple[str, ...], wanted: str | None) -> None:
    covered = redirect_uri_covered(registered, wanted)
    if covered and wanted is not None and wanted not in registered:
        # Port variance is allowed for loopback IP literals only (RFC 8252 §7.3).
        assert is_loopback_ip_literal(host_of(wanted))


# ---------------------------------------------------------------- MCP client: SSE and JSON-RPC matching


sse_line = st.one_of(
    st.tuples(st.sampled_from(["data:", "data: ", "event: ", "id: ", ": ", "retry: ", "x"]), st.text(max_size=20)).map(
        lambda p: p[0] + p[1].replace("\r", "").replace("\n", "")
    ),
    st.just(""),
)
sse_stream = st.tuples(
    st.lists(sse_line, max_size=12),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
).map(lambda t: ("\ufeff" if t[2] else "") + "".join(line + t[1] for line in t[0]))


def _feed_all(parser: SseParser, chunks: list[bytes]) -> list[SseEvent]:
    events: list[SseEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events


@FUZZ
@given(sse_stream, st.lists(st.integers(0, 400), max_size=6))
def test_fuzz_sse_parser_is_independent_of_chunk_boundaries(stream: str, cuts: list[int]) -> None:
    data = stream.encode("utf-8")
    whole = _feed_all(SseParser(), [data])
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _feed_all(SseParser(), chunks) == whole  # also splits inside UTF-8 sequences and CRLF
    for event in whole:
        assert event.event and (event.id is None or "\x00" not in event.id)


@FUZZ
@given(st.lists(st.text(max_size=30).map(lambda s: s.replace("\r", "").replace("\n", "")), min_size=1, max_size=5))
def test_fuzz_sse_data_lines_round_trip(lines: list[str]) -> None:
    stream = "".join(f"data: {line}\n" for line in lines) + "\n"
    events = _feed_all(SseParser(), [stream.encode()])
    assert events == [SseEvent("\n".join(lines))]


@FUZZ
@given(st.binary(max_size=400), st.integers(1, 64))
def test_fuzz_sse_parser_raises_only_response_too_large(data: bytes, cap: int) -> None:
    parser = SseParser(max_event_bytes=cap)
    try:
        events = _feed_all(parser, [data[i : i + 7] for i in range(0, len(data), 7)])
    except ResponseTooLargeError:
        return
    for event in events:
        assert len(event.data) <= cap


@FUZZ
@given(json_value, st.integers(0, 5))
def test_fuzz_jsonrpc_reply_matching_returns_only_our_response(payload: Any, expect_id: int) -> None:
    reply = McpClient._match(payload, expect_id)
    if reply is not None:
        assert reply["id"] == expect_id and not isinstance(reply["id"], bool)
        assert ("result" in reply or "error" in reply) and "method" not in reply
