"""A stale client (issue 12, item 6): the authorization server forgot this app's registration.

Refresh answered ``invalid_client`` (or ``unauthorized_client``, or ``invalid_request``
"Client ID not found") leads to exactly one new registration at the next sign-in, told
to the user in words; an interactive ``call`` recovers by itself with one sign-in;
``sign_in(re_register=True)`` does it by hand; a client the user entered is never replaced.
"""

from __future__ import annotations

import logging

import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.events import LogEvent
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.core.stale_client import is_stale_client
from mcp_auth_desktop.core.state import ServerState
from tests.manager.conftest import URL, Harness
from tests.manager.fakes import FakeMcp

STALE_ANSWERS = [
    errors.InvalidClientError("invalid_client", "Invalid client_id", status=401),
    errors.UnauthorizedClientError("unauthorized_client", "Invalid client_id", status=401),
    errors.OAuthError("invalid_request", "Client ID not found", status=400),
]


@pytest.mark.parametrize(
    ("exc", "stale"),
    [
        *((e, True) for e in STALE_ANSWERS),
        (errors.OAuthError("invalid_request", "client_id: unknown client", status=400), True),
        (errors.OAuthError("invalid_request", "missing code_verifier", status=400), False),
        (errors.OAuthError("invalid_request", None, status=400), False),
        (errors.InvalidGrantError("invalid_grant", "expired", status=400), False),
        (errors.TemporarilyUnavailableError("server_error", status=503), False),
    ],
)
def test_stale_client_answers_are_recognised(exc: errors.McpAuthError, stale: bool) -> None:
    assert is_stale_client(exc) is stale


@pytest.mark.parametrize("answer", STALE_ANSWERS, ids=lambda e: e.error)
async def test_refresh_refused_client_means_one_new_registration_at_next_sign_in(
    h: Harness, answer: errors.McpAuthError, caplog: pytest.LogCaptureFixture
) -> None:
    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a", options=ServerOptions())
    await m.sign_in("a")
    first = m.get("a").client_id
    h.oauth.fail_refresh.append(answer)
    with caplog.at_level(logging.WARNING), pytest.raises(errors.StaleClientError) as info:
        await m.refresh("a")
    assert "no longer knows this app" in info.value.user_message
    assert m.get("a").state is ServerState.SIGN_IN_NEEDED
    # Another process (a new manager on the same data) knows it too.
    m2 = h.manager()
    await m2.start(background=False)
    await m2.sign_in("a")
    assert h.oauth.re_register_calls[-1] is True
    assert m2.get("a").client_id != first and m2.get("a").state is ServerState.SIGNED_IN
    told = [e.message for e in h.of(LogEvent) if "registering this app again" in e.message]
    assert len(told) == 1
    # Once registered again, later sign-ins reuse the new registration.
    await m2.sign_in("a")
    assert h.oauth.re_register_calls[-1] is False


async def test_interactive_call_recovers_from_a_forgotten_client_with_one_sign_in(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    def unauthorized(token: str) -> object:
        raise errors.InvalidTokenError("401", status=401)

    made: list[FakeMcp] = []
    script = [unauthorized, lambda t: {"tools": [t]}]  # consumed across the call's attempts

    def factory(http, url, provider):  # type: ignore[no-untyped-def]
        client = FakeMcp(script, provider)
        made.append(client)
        return client

    m = h.manager(mcp_client_factory=factory)
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    first = m.get("a").client_id
    before = len(h.oauth.sign_in_calls)
    h.oauth.fail_refresh.append(errors.InvalidClientError("invalid_client", status=401))
    with caplog.at_level(logging.WARNING):
        result = await m.call("a", "tools/list", interactive=True)
    assert result == {"tools": [f"AT-{h.oauth.counter}-secret"]}
    assert len(h.oauth.sign_in_calls) - before == 1  # one sign-in, one consent screen
    assert h.oauth.re_register_calls[-1] is True and m.get("a").client_id != first


async def test_sign_in_re_register_by_hand(h: Harness) -> None:
    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    first = m.get("a").client_id
    await m.sign_in("a", re_register=True)
    assert h.oauth.re_register_calls == [False, True]
    assert m.get("a").client_id != first


async def test_a_client_the_user_entered_is_never_replaced(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a", client_id="pre")
    await m.sign_in("a")
    h.oauth.fail_refresh.append(errors.InvalidClientError("invalid_client", status=401))
    with caplog.at_level(logging.WARNING), pytest.raises(errors.InvalidClientError):
        await m.refresh("a")
    await m.sign_in("a")
    assert h.oauth.re_register_calls[-1] is False and m.get("a").client_id == "pre"


async def test_revocation_refused_for_a_forgotten_client_is_not_retried_and_next_sign_in_registers(
    h: Harness,
) -> None:
    from mcp_auth_desktop.core.stale_client import REVOCATION_CLIENT_UNKNOWN
    from mcp_auth_desktop.core.state import RevocationReport

    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    first = m.get("a").client_id

    async def refused(discovery, registration, tokens):  # type: ignore[no-untyped-def]
        return RevocationReport(supported=True, errors=(REVOCATION_CLIENT_UNKNOWN,), client_unknown=True)

    h.oauth.revoke = refused  # type: ignore[method-assign]
    report = await m.revoke("a")
    assert report.client_unknown and not m.get("a").pending_revocation
    assert await m.retry_pending_revocations() == []
    await m.sign_in("a")
    assert h.oauth.re_register_calls[-1] is True and m.get("a").client_id != first


async def test_a_client_refused_after_approval_is_registered_again_at_the_next_sign_in(
    h: Harness,
) -> None:
    m = h.manager()
    await m.start(background=False)
    await m.add_server(URL, name="a")
    await m.sign_in("a")
    first = m.get("a").client_id
    real = h.oauth.sign_in

    async def refused_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        h.oauth.sign_in = real  # type: ignore[method-assign]
        raise errors.StaleClientError("refused after approval")

    h.oauth.sign_in = refused_once  # type: ignore[method-assign]
    with pytest.raises(errors.StaleClientError):
        await m.sign_in("a")
    await m.sign_in("a")
    assert h.oauth.re_register_calls[-1] is True and m.get("a").client_id != first
