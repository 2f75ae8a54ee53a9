"""Pure OAuth builders and parsers."""

from __future__ import annotations

import base64
import math
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote_plus, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mcp_auth_desktop.core import oauth
from mcp_auth_desktop.core.errors import (
    AuthorizationDenied,
    CallbackError,
    ConfigurationError,
    InsecureUrlError,
    InvalidClientError,
    InvalidGrantError,
    OAuthError,
    RegistrationError,
    TemporarilyUnavailableError,
    TokenResponseError,
)
from mcp_auth_desktop.core.models import AuthServerMetadata, ClientRegistration, TokenSet

ISSUER = "https://auth.example.com"
META = AuthServerMetadata(
    issuer=ISSUER,
    authorization_endpoint=ISSUER + "/authorize",
    token_endpoint=ISSUER + "/token",
    code_challenge_methods_supported=("S256",),
)
PUBLIC = ClientRegistration(issuer=ISSUER, client_id="cid", method="dcr")
NOW = 1_700_000_000.0


def _auth_url(**kw: Any) -> str:
    args: dict[str, Any] = dict(state="st", code_challenge="ch", scopes=("a", "b:c"), resource="https://mcp.example.com/mcp")
    args.update(kw)
    return oauth.build_authorization_url(META, "cid", "http://127.0.0.1:5000/callback", **args)


def test_build_authorization_url() -> None:
    url = _auth_url(extra_params=(("prompt", "consent"),))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == META.authorization_endpoint
    q = dict(parse_qsl(parts.query))
    assert q == {
        "response_type": "code", "client_id": "cid", "redirect_uri": "http://127.0.0.1:5000/callback",
        "code_challenge": "ch", "code_challenge_method": "S256", "state": "st", "scope": "a b:c",
        "resource": "https://mcp.example.com/mcp", "prompt": "consent",
    }
    assert "+" not in url  # spaces are %20


def test_authorization_url_omits_scope_and_resource_when_not_given() -> None:
    q = parse_qs(urlsplit(_auth_url(scopes=(), resource=None)).query)
    assert "scope" not in q and "resource" not in q


def test_authorization_url_keeps_endpoint_query() -> None:
    meta = AuthServerMetadata(issuer=ISSUER, authorization_endpoint=ISSUER + "/authorize?tenant=x",
                              token_endpoint=ISSUER + "/token", code_challenge_methods_supported=("S256",))
    url = oauth.build_authorization_url(meta, "cid", "http://127.0.0.1:1/cb", state="s", code_challenge="c")
    assert dict(parse_qsl(urlsplit(url).query))["tenant"] == "x"


def test_extra_params_cannot_override_protocol_params() -> None:
    with pytest.raises(ConfigurationError):
        _auth_url(extra_params=(("redirect_uri", "https://evil"),))


def test_hostile_values_are_percent_encoded_and_endpoint_checked() -> None:
    url = _auth_url(extra_params=(("x", "$(rm -rf ~)`id`'\""),))
    assert "$(" not in url and "`" not in url
    meta = AuthServerMetadata(issuer=ISSUER, authorization_endpoint="javascript:alert(1)//",
                              token_endpoint=ISSUER + "/token", code_challenge_methods_supported=("S256",))
    with pytest.raises(InsecureUrlError):
        oauth.build_authorization_url(meta, "cid", "http://127.0.0.1:1/cb", state="s", code_challenge="c")


def test_invalid_scope_token_refused() -> None:
    with pytest.raises(ConfigurationError):
        _auth_url(scopes=('a"b',))


# ---- callback (RFC 9207 table)


def _cb(params: dict[str, str], *, supported: bool) -> str:
    return oauth.parse_callback(params, expected_state="S" * 32, expected_issuer=ISSUER, iss_supported=supported)


@pytest.mark.parametrize("supported", [True, False])
def test_callback_iss_present_and_equal(supported: bool) -> None:
    assert _cb({"code": "c", "state": "S" * 32, "iss": ISSUER}, supported=supported) == "c"


def test_callback_iss_absent_advertised_rejects() -> None:
    with pytest.raises(CallbackError, match="iss"):
        _cb({"code": "c", "state": "S" * 32}, supported=True)


def test_callback_iss_absent_not_advertised_proceeds() -> None:
    assert _cb({"code": "c", "state": "S" * 32}, supported=False) == "c"


@pytest.mark.parametrize("supported", [True, False])
def test_callback_iss_mismatch_rejects(supported: bool) -> None:
    with pytest.raises(CallbackError, match="different authorization server"):
        _cb({"code": "c", "state": "S" * 32, "iss": "https://evil.example.com"}, supported=supported)


@pytest.mark.parametrize("state", [None, "", "S" * 31, "T" * 32])
def test_callback_state_mismatch(state: str | None) -> None:
    params = {"code": "c", "iss": ISSUER}
    if state is not None:
        params["state"] = state
    with pytest.raises(CallbackError, match="state"):
        _cb(params, supported=True)


def test_callback_error_shown_only_after_iss_check() -> None:
    with pytest.raises(AuthorizationDenied) as info:
        _cb({"state": "S" * 32, "iss": ISSUER, "error": "access_denied", "error_description": "User said no\r\n[auth] forged"}, supported=True)
    assert info.value.error == "access_denied"
    assert "\n" not in str(info.value) and "User said no" in str(info.value)
    # mismatched iss: the error text must not surface
    with pytest.raises(CallbackError) as info2:
        _cb({"state": "S" * 32, "iss": "https://evil", "error": "access_denied", "error_description": "CLICK http://phish"}, supported=False)
    assert "phish" not in str(info2.value) and "access_denied" not in str(info2.value)
    # missing iss while advertised: same
    with pytest.raises(CallbackError) as info3:
        _cb({"state": "S" * 32, "error": "x", "error_description": "CLICK http://phish"}, supported=True)
    assert "phish" not in str(info3.value)


def test_callback_without_code() -> None:
    with pytest.raises(CallbackError, match="no authorization code"):
        _cb({"state": "S" * 32, "iss": ISSUER}, supported=True)


_variants = st.sampled_from([
    lambda s: s + "/", lambda s: s.upper(), lambda s: s.replace("https", "HTTPS"), lambda s: s + ":443",
    lambda s: s.replace("auth", "AUTH"), lambda s: s.replace("e", "%65", 1), lambda s: s.replace("https://", "https://auth.example.com@"),
    lambda s: s + "#", lambda s: s + "?", lambda s: " " + s, lambda s: s.replace(".com", ".com."),
])


@settings(deadline=None)
@given(_variants, st.booleans())
def test_property_issuer_comparison_rejects_every_normalisation_variant(variant: Any, supported: bool) -> None:
    other = variant(ISSUER)
    assert other != ISSUER
    with pytest.raises(CallbackError):
        _cb({"code": "c", "state": "S" * 32, "iss": other}, supported=supported)


@settings(deadline=None)
@given(st.text(min_size=1, max_size=60), st.booleans())
@example(ISSUER, True)
def test_property_issuer_accepted_iff_identical(iss: str, supported: bool) -> None:
    params = {"code": "c", "state": "S" * 32, "iss": iss}
    if iss == ISSUER:
        assert _cb(params, supported=supported) == "c"
    else:
        with pytest.raises(CallbackError):
            _cb(params, supported=supported)


# ---- token requests and client auth


def test_code_token_request_public_client() -> None:
    req = oauth.build_code_token_request(META.token_endpoint, PUBLIC, code="CODE", redirect_uri="http://127.0.0.1:1/cb",
                                         code_verifier="V" * 43, resource="https://mcp.example.com/mcp")
    assert req.method == "POST" and req.url == META.token_endpoint
    assert dict(req.form or {}) == {"grant_type": "authorization_code", "code": "CODE", "redirect_uri": "http://127.0.0.1:1/cb",
                                    "code_verifier": "V" * 43, "resource": "https://mcp.example.com/mcp", "client_id": "cid"}
    assert "Authorization" not in req.headers
    assert "CODE" not in repr(req) and "VVVV" not in repr(req)


def test_client_secret_basic_form_encodes_before_base64() -> None:
    reg = ClientRegistration(issuer=ISSUER, client_id="id:with space", method="preregistered",
                             token_endpoint_auth_method="client_secret_basic", client_secret="p@ss:wörd+")
    req = oauth.build_refresh_token_request(META.token_endpoint, reg, refresh_token="RT", resource=None)
    raw = base64.b64decode(req.headers["Authorization"].removeprefix("Basic ")).decode()
    user, pw = raw.split(":")
    assert user == "id%3Awith+space" and unquote_plus(user) == "id:with space"
    assert unquote_plus(pw) == "p@ss:wörd+"
    # The secret only in the header; the id in the body as well (RFC 6749 §3.2.1), which
    # authorization servers built on the MCP SDKs need to find the client.
    assert "client_secret" not in (req.form or {}) and (req.form or {})["client_id"] == "id:with space"
    assert "resource" not in (req.form or {})
    assert "p@ss" not in repr(reg) and "wörd" not in repr(reg)


def test_client_secret_post() -> None:
    reg = ClientRegistration(issuer=ISSUER, client_id="cid", method="preregistered",
                             token_endpoint_auth_method="client_secret_post", client_secret="sec")
    req = oauth.build_refresh_token_request(META.token_endpoint, reg, refresh_token="RT", resource="https://r")
    assert dict(req.form or {}) == {"grant_type": "refresh_token", "refresh_token": "RT", "resource": "https://r",
                                    "client_id": "cid", "client_secret": "sec"}


def test_secret_method_without_secret_is_a_configuration_error() -> None:
    reg = ClientRegistration(issuer=ISSUER, client_id="cid", method="preregistered", token_endpoint_auth_method="client_secret_basic")
    with pytest.raises(ConfigurationError):
        oauth.build_refresh_token_request(META.token_endpoint, reg, refresh_token="RT", resource=None)


def test_httpx_kwargs_form_encoding() -> None:
    req = oauth.build_refresh_token_request(META.token_endpoint, PUBLIC, refresh_token="a&b=c", resource=None)
    body = req.httpx_kwargs()["content"].decode()
    assert dict(parse_qsl(body))["refresh_token"] == "a&b=c"


@pytest.mark.parametrize(
    ("supported", "has_secret", "preferred", "expected"),
    [((), False, None, "none"), (("client_secret_basic",), True, None, "client_secret_basic"),
     (("client_secret_post",), True, None, "client_secret_post"), (("none",), True, "client_secret_post", "client_secret_post"),
     ((), True, None, "client_secret_basic")],
)
def test_choose_auth_method(supported: tuple[str, ...], has_secret: bool, preferred: str | None, expected: str) -> None:
    assert oauth.choose_auth_method(supported, has_secret=has_secret, preferred=preferred) == expected


def test_choose_auth_method_rejects_unknown() -> None:
    with pytest.raises(ConfigurationError):
        oauth.choose_auth_method((), has_secret=True, preferred="private_key_jwt")


# ---- token responses


def _tok(body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None, **kw: Any) -> TokenSet:
    return oauth.parse_token_response(status, headers or {}, body, now=NOW, **kw)


def test_token_response_happy() -> None:
    ts = _tok({"access_token": "AT", "token_type": "bEARER", "expires_in": 3600, "refresh_token": "RT", "scope": "a b"},
              resource="https://r")
    assert ts.access_token == "AT" and ts.token_type == "Bearer" and ts.refresh_token == "RT"
    assert ts.expires_at == NOW + 3600 and ts.issued_at == NOW and ts.scope == ("a", "b") and ts.resource == "https://r"
    assert "'AT'" not in repr(ts) and "'RT'" not in repr(ts)


@pytest.mark.parametrize(("value", "lifetime"), [(None, None), (-5, 1.0), (0, 1.0), ("3600", 3600.0), (1e308, 31536000.0),
                                                 (10**30, 31536000.0), (True, None), ("soon", None), (12.5, 12.5), ([1], None)])
def test_expires_in_clamped(value: Any, lifetime: float | None) -> None:
    body: dict[str, Any] = {"access_token": "AT", "token_type": "Bearer"}
    if value is not None:
        body["expires_in"] = value
    ts = _tok(body)
    assert (ts.expires_at is None) if lifetime is None else ts.expires_at == NOW + lifetime


def test_omitted_scope_means_requested() -> None:
    assert _tok({"access_token": "AT", "token_type": "Bearer"}, requested_scopes=("x",)).scope == ("x",)


@pytest.mark.parametrize("token_type", [None, "mac", "DPoP", 5])
def test_non_bearer_rejected(token_type: Any) -> None:
    body = {"access_token": "AT"}
    if token_type is not None:
        body["token_type"] = token_type
    with pytest.raises(TokenResponseError):
        _tok(body)


@pytest.mark.parametrize("body", [None, {}, {"access_token": ""}, {"access_token": 5, "token_type": "Bearer"},
                                  {"access_token": "AT", "token_type": "Bearer", "refresh_token": 7}])
def test_malformed_token_response(body: Any) -> None:
    with pytest.raises(TokenResponseError):
        _tok(body)


def test_error_in_200_is_an_error() -> None:
    with pytest.raises(InvalidGrantError):
        _tok({"error": "invalid_grant", "access_token": "AT", "token_type": "Bearer"})


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "transient"),
    [
        (400, {"error": "invalid_grant"}, {}, InvalidGrantError, False),
        (401, {"error": "invalid_client"}, {}, InvalidClientError, False),
        (401, None, {}, InvalidClientError, False),
        (503, None, {"Retry-After": "30"}, TemporarilyUnavailableError, True),
        (429, {"error": "slow_down"}, {"retry-after": "999999"}, TemporarilyUnavailableError, True),
        (500, {"error": "invalid_request"}, {}, TemporarilyUnavailableError, True),
        (400, None, {}, OAuthError, False),
        (400, {"error": 5}, {}, OAuthError, False),
    ],
)
def test_error_classification(status: int, body: Any, headers: dict[str, str], cls: type[Exception], transient: bool) -> None:
    with pytest.raises(cls) as info:
        _tok(body, status=status, headers=headers)
    assert info.value.transient is transient  # type: ignore[attr-defined]
    if "Retry-After" in headers:
        assert info.value.retry_after == 30.0  # type: ignore[attr-defined]
    if "retry-after" in headers:
        assert info.value.retry_after == 300.0  # type: ignore[attr-defined]


def test_error_description_is_sanitised() -> None:
    with pytest.raises(InvalidGrantError) as info:
        _tok({"error": "invalid_grant", "error_description": "bad\n[auth] forged line"}, status=400)
    assert "\n" not in str(info.value)


_expires = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=12), st.booleans(), st.lists(st.integers(), max_size=2))


@settings(deadline=None)
@given(_expires, st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
def test_property_token_expiry_is_finite_and_bounded(expires_in: Any, token_type: str, extra: dict[str, Any]) -> None:
    body: dict[str, Any] = {**extra, "access_token": "AT", "token_type": token_type, "expires_in": expires_in}
    body.pop("error", None)
    ts = _tok(body)
    if ts.expires_at is not None:
        assert math.isfinite(ts.expires_at)
        assert NOW + 1 <= ts.expires_at <= NOW + oauth.MAX_EXPIRES_IN


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(["error", "access_token", "token_type", "refresh_token", "scope", "expires_in"]),
                       st.one_of(st.text(max_size=10), st.integers(), st.none()), max_size=6), st.sampled_from([200, 400, 401, 500]))
def test_property_errors_are_never_stored(body: dict[str, Any], status: int) -> None:
    try:
        ts = _tok(body, status=status)
    except (OAuthError, TokenResponseError):
        return
    assert status == 200 and "error" not in body and isinstance(ts.access_token, str) and ts.access_token


# ---- revocation and registration


def test_revocation_request() -> None:
    req = oauth.build_revocation_request(ISSUER + "/revoke", PUBLIC, "RT", "refresh_token")
    assert dict(req.form or {}) == {"token": "RT", "token_type_hint": "refresh_token", "client_id": "cid"}
    with pytest.raises(ValueError):
        oauth.build_revocation_request(ISSUER + "/revoke", PUBLIC, "RT", "id_token")


def test_revocation_response() -> None:
    oauth.check_revocation_response(200, {}, None)
    with pytest.raises(TemporarilyUnavailableError):
        oauth.check_revocation_response(503, {"Retry-After": "5"}, None)
    with pytest.raises(OAuthError, match="unsupported_token_type"):
        oauth.check_revocation_response(400, {}, {"error": "unsupported_token_type"})


def test_registration_request() -> None:
    req = oauth.build_registration_request(ISSUER + "/register", client_name="MCP Auth Desktop",
                                           redirect_uris=["http://127.0.0.1:5000/callback"])
    doc = dict(req.json or {})
    assert doc["application_type"] == "native"
    assert doc["grant_types"] == ["authorization_code", "refresh_token"]
    assert doc["response_types"] == ["code"]
    assert doc["token_endpoint_auth_method"] == "none"
    assert doc["redirect_uris"] == ["http://127.0.0.1:5000/callback"]
    assert doc["client_name"] == "MCP Auth Desktop" and doc["software_id"]


def test_registration_response() -> None:
    reg = oauth.parse_registration_response(
        201, {}, {"client_id": "new", "registration_access_token": "RAT", "registration_client_uri": ISSUER + "/register/new",
                  "redirect_uris": ["http://127.0.0.1:1/cb"], "client_secret_expires_at": 0},
        issuer=ISSUER, now=NOW, requested_redirect_uris=["http://127.0.0.1:2/cb"])
    assert reg.client_id == "new" and reg.issuer == ISSUER and reg.method == "dcr"
    assert reg.registration_access_token == "RAT" and reg.redirect_uris == ("http://127.0.0.1:1/cb",)
    assert reg.client_secret_expires_at is None and reg.registered_at == NOW
    assert "RAT" not in repr(reg)


def test_registration_response_with_secret_method() -> None:
    reg = oauth.parse_registration_response(201, {}, {"client_id": "c", "client_secret": "s", "token_endpoint_auth_method": "client_secret_basic"},
                                            issuer=ISSUER, now=NOW, requested_redirect_uris=["x"], requested_auth_method="client_secret_basic")
    assert reg.token_endpoint_auth_method == "client_secret_basic" and reg.client_secret == "s"


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [(400, {"error": "invalid_redirect_uri", "error_description": "loopback only"}, RegistrationError),
     (400, {"error": "invalid_client_metadata"}, RegistrationError),
     (401, None, RegistrationError),
     (503, None, TemporarilyUnavailableError),
     (201, {"client_secret": "x"}, RegistrationError),
     (201, {"client_id": "c", "token_endpoint_auth_method": "client_secret_basic"}, RegistrationError),
     (201, {"client_id": "c", "token_endpoint_auth_method": "private_key_jwt"}, RegistrationError),
     (201, None, RegistrationError)],
)
def test_registration_errors(status: int, body: Any, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        oauth.parse_registration_response(status, {}, body, issuer=ISSUER, now=NOW, requested_redirect_uris=["x"])


# ---- scopes


@pytest.mark.parametrize(
    ("challenge", "prm", "as_", "configured", "previous", "expected"),
    [
        (("a",), ("b", "c"), None, (), (), ("a",)),
        (None, ("b", "c"), None, (), (), ("b", "c")),
        (None, None, None, (), (), ()),
        (None, None, ("offline_access",), (), (), ()),
        (None, ("b",), ("b", "offline_access"), (), (), ("b", "offline_access")),
        (("a", "offline_access"), None, ("a",), (), (), ("a",)),
        (None, ("b",), None, ("x",), (), ("x",)),
        (("w",), ("r",), None, (), ("r", "x"), ("r", "x", "w")),
    ],
)
def test_select_scopes(challenge: Any, prm: Any, as_: Any, configured: Any, previous: Any, expected: tuple[str, ...]) -> None:
    assert oauth.select_scopes(challenge, prm, as_, configured, previous) == expected


def test_union_scopes() -> None:
    assert oauth.union_scopes(("a", "b"), ("b", "c"), None) == ("a", "b", "c")
