"""core/device_grant.py: RFC 8628 requests, answers, poll classification and the poll loop."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.device_grant import (
    GRANT_TYPE,
    DeviceAuthorization,
    PollAnswer,
    build_device_authorization_request,
    build_device_token_request,
    classify_poll,
    parse_device_authorization_response,
    poll_for_tokens,
)
from mcp_auth_desktop.core.models import ClientRegistration
from mcp_auth_desktop.core.oauth.request import HttpRequest

PUBLIC = ClientRegistration(issuer="https://as.example", client_id="app-1", method="dcr")
CONFIDENTIAL = ClientRegistration(
    issuer="https://as.example", client_id="app-2", method="preregistered",
    token_endpoint_auth_method="client_secret_basic", client_secret="s3cret",
)
GOOD: dict[str, Any] = {
    "device_code": "dc_" + "x" * 40,
    "user_code": "BCDF-GHJK",
    "verification_uri": "https://as.example/device",
    "verification_uri_complete": "https://as.example/device?user_code=BCDF-GHJK",
    "expires_in": 600,
    "interval": 5,
}


def parse(body: dict[str, Any] | None, status: int = 200) -> DeviceAuthorization:
    return parse_device_authorization_response(status, {}, body, received_at=100.0)


def test_authorization_request_public_client() -> None:
    request = build_device_authorization_request(
        "https://as.example/device_authorization", PUBLIC, scopes=("mcp:read", "openid"),
        resource="https://mcp.example/mcp",
    )
    assert request.method == "POST" and request.url == "https://as.example/device_authorization"
    assert request.form == {"client_id": "app-1", "scope": "mcp:read openid", "resource": "https://mcp.example/mcp"}
    assert "Authorization" not in request.headers


def test_token_request_confidential_client_uses_basic() -> None:
    request = build_device_token_request(
        "https://as.example/token", CONFIDENTIAL, device_code="dc_1", resource=None
    )
    assert request.form is not None and request.form["grant_type"] == GRANT_TYPE
    assert request.form["device_code"] == "dc_1" and "resource" not in request.form
    assert base64.b64decode(request.headers["Authorization"].split()[1]) == b"app-2:s3cret"


def test_parse_good_answer() -> None:
    got = parse(GOOD)
    assert got.user_code == "BCDF-GHJK" and got.verification_uri == GOOD["verification_uri"]
    assert got.verification_uri_complete == GOOD["verification_uri_complete"]
    assert (got.expires_in, got.interval, got.deadline, got.lifetime) == (600, 5, 700, "10 minutes")
    assert parse({**GOOD, "expires_in": 1}).lifetime == "1 second"
    assert "dc_" not in repr(got)  # the device code is a secret: never in a repr or a log


def test_interval_default_and_bounds() -> None:
    assert parse({**GOOD, "interval": None}).interval == 5
    assert parse({k: v for k, v in GOOD.items() if k != "interval"}).interval == 5
    assert parse({**GOOD, "interval": 0}).interval == 1
    assert parse({**GOOD, "interval": 10_000}).interval == 120
    assert parse({**GOOD, "expires_in": 10**9}).expires_in == 24 * 3600


@pytest.mark.parametrize(
    "uri",
    [
        "http://as.example/device",  # plain http off loopback
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://user@as.example/device",
        "https://as.example/device#frag",
        "https://as.example/de vice",
        "https://as.example/\x1b[2Jdevice",
        "https://as.example/" + "a" * 3000,
        "",
        None,
        42,
    ],
)
def test_verification_uri_refused(uri: Any) -> None:
    with pytest.raises(errors.DeviceAuthorizationResponseError):
        parse({**GOOD, "verification_uri": uri})


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8123/device", "http://[::1]:9/device", "http://localhost/d"])
def test_loopback_http_verification_uri_accepted(uri: str) -> None:
    assert parse({**GOOD, "verification_uri": uri, "verification_uri_complete": None}).verification_uri == uri


def test_complete_uri_on_another_origin_is_dropped() -> None:
    got = parse({**GOOD, "verification_uri_complete": "https://evil.example/device?user_code=BCDF-GHJK"})
    assert got.verification_uri_complete is None
    with pytest.raises(errors.DeviceAuthorizationResponseError):
        parse({**GOOD, "verification_uri_complete": "http://as.example/device"})


@pytest.mark.parametrize("code", ["", " BCDF", "BCDF\x1b[2J", "BCDF\u202eKHGF", "A" * 65, None, 7])
def test_user_code_refused(code: Any) -> None:
    with pytest.raises(errors.DeviceAuthorizationResponseError, match="user_code"):
        parse({**GOOD, "user_code": code})


@pytest.mark.parametrize("missing", ["device_code", "expires_in"])
def test_required_fields(missing: str) -> None:
    with pytest.raises(errors.DeviceAuthorizationResponseError, match=missing):
        parse({k: v for k, v in GOOD.items() if k != missing})


def test_error_answer_is_the_oauth_error() -> None:
    with pytest.raises(errors.InvalidClientError):
        parse({"error": "invalid_client", "error_description": "who?"}, status=401)
    with pytest.raises(errors.InvalidScopeError):
        parse({"error": "invalid_scope"}, status=400)


@pytest.mark.parametrize("answer", [a for a in PollAnswer if a is not PollAnswer.TOKENS])
def test_classify_the_four_poll_errors(answer: PollAnswer) -> None:
    assert classify_poll(400, {}, {"error": answer.value}) is answer


def test_classify_tokens_and_other_errors() -> None:
    assert classify_poll(200, {}, {"access_token": "a", "token_type": "Bearer"}) is PollAnswer.TOKENS
    with pytest.raises(errors.InvalidGrantError):
        classify_poll(400, {}, {"error": "invalid_grant"})
    with pytest.raises(errors.TemporarilyUnavailableError):
        classify_poll(503, {}, None)


# ---------------------------------------------------------------- the poll loop


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def monotonic(self) -> float:
        return self.now


class Server:
    """Answers polls from a script; records when each arrived (on the fake clock)."""

    def __init__(self, clock: Clock, script: list[tuple[int, dict[str, Any] | None]]) -> None:
        self.clock = clock
        self.script = script
        self.times: list[float] = []

    async def send(self, request: HttpRequest) -> tuple[int, Mapping[str, str], Mapping[str, Any] | None]:
        self.times.append(self.clock.now)
        status, body = self.script.pop(0) if self.script else (400, {"error": "authorization_pending"})
        return status, {}, body


async def run(server: Server, clock: Clock, auth: DeviceAuthorization, *, early: float = 0.0) -> Any:
    async def sleep(seconds: float) -> None:
        # ``early``: the share of each sleep a real event loop's timer may cut short.
        clock.now += seconds * (1 - early)

    request = build_device_token_request("https://as.example/token", PUBLIC, device_code="dc", resource=None)
    return await poll_for_tokens(
        server.send, clock, auth, request, host="as.example", requested_scopes=("mcp:read",),
        resource="https://mcp.example/mcp", sleep=sleep,
    )


PENDING = (400, {"error": "authorization_pending"})
TOKENS = (200, {"access_token": "at", "token_type": "Bearer", "expires_in": 60, "refresh_token": "rt"})


async def test_interval_and_slow_down_spacing() -> None:
    clock = Clock()
    server = Server(clock, [PENDING, (400, {"error": "slow_down"}), PENDING, (400, {"error": "slow_down"}), TOKENS])
    tokens = await run(server, clock, parse(GOOD))
    gaps = [b - a for a, b in zip([100.0, *server.times], server.times, strict=False)]
    assert gaps == [5, 5, 10, 10, 15]  # waits before the first poll; +5 s per slow_down, kept
    assert tokens.access_token == "at" and tokens.refresh_token == "rt"
    assert tokens.scope == ("mcp:read",) and tokens.resource == "https://mcp.example/mcp"


async def test_a_timer_that_wakes_early_never_polls_inside_the_interval() -> None:
    # Qt's coarse timers (qasync) may fire 5 % early; a poll inside the interval earns a
    # slow_down (+5 s) from a strict server, which made the GUI's code sign-in flaky.
    clock = Clock()
    server = Server(clock, [PENDING, PENDING, TOKENS])
    await run(server, clock, parse(GOOD), early=0.05)
    gaps = [b - a for a, b in zip([100.0, *server.times], server.times, strict=False)]
    assert len(gaps) == 3 and all(gap >= 5 for gap in gaps), gaps
    assert all(gap < 5.1 for gap in gaps), gaps  # and not much later either


async def test_denied() -> None:
    clock = Clock()
    with pytest.raises(errors.AuthorizationDenied, match="denied at as.example"):
        await run(Server(clock, [PENDING, (400, {"error": "access_denied"})]), clock, parse(GOOD))


async def test_server_says_expired() -> None:
    clock = Clock()
    with pytest.raises(errors.DeviceCodeExpiredError, match="expired after 10 minutes"):
        await run(Server(clock, [(400, {"error": "expired_token"})]), clock, parse(GOOD))


async def test_stops_at_expires_in_by_itself() -> None:
    clock = Clock()
    server = Server(clock, [])  # pending forever
    with pytest.raises(errors.DeviceCodeExpiredError, match="expired after 60 seconds without"):
        await run(server, clock, parse({**GOOD, "expires_in": 60}))
    assert len(server.times) == 11 and server.times[-1] < 160  # 5 s apart, none at or after expiry
    assert clock.now == 160


async def test_network_trouble_backs_off_and_goes_on() -> None:
    clock = Clock()
    server = Server(clock, [(503, None), (503, None), PENDING, TOKENS])
    await run(server, clock, parse(GOOD))
    gaps = [b - a for a, b in zip([100.0, *server.times], server.times, strict=False)]
    assert gaps == [5, 10, 20, 5]


async def test_other_errors_end_the_loop() -> None:
    clock = Clock()
    with pytest.raises(errors.InvalidGrantError):
        await run(Server(clock, [(400, {"error": "invalid_grant"})]), clock, parse(GOOD))
