"""The token endpoint's device_code grant (RFC 8628 §3.4-3.5): poll answers and the redemption."""

from __future__ import annotations

from typing import Any

from mock_server.authorize import check_resource_param
from mock_server.http_util import OAuthError
from mock_server.records import ClientRecord
from mock_server.state import MockState, new_secret
from mock_server.store import digest
from mock_server.token_body import new_grant_tokens

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"

_DESCRIPTIONS = {
    "authorization_pending": "the user has not yet approved or denied the request",
    "slow_down": "polling too fast; the interval is now 5 seconds longer",
    "expired_token": "the device code expired; start a new sign-in",
    "access_denied": "the user denied the request",
    "invalid_grant": "the device code was already used",
}


def redeem(mock: MockState, client: ClientRecord, form: dict[str, str]) -> dict[str, Any]:
    """One poll: the tokens once approved, else the RFC 8628 §3.5 error it calls for."""
    device_code = form.get("device_code")
    if not device_code:
        raise OAuthError("invalid_request", "device_code is required")
    record = mock.devices.by_device_code(device_code)
    if record is None:
        raise OAuthError("invalid_grant", "the device code is unknown")
    # A wrong client is refused before the poll is counted, so it cannot slow the real one down.
    if record.client_id != client.client_id:
        raise OAuthError("invalid_grant", "the device code was issued to another client")
    resource = check_resource_param(mock, form.get("resource"), OAuthError)
    if resource != record.resource:
        raise OAuthError("invalid_target", "resource differs from the device authorization request")
    now = mock.now()
    outcome = mock.devices.poll(digest(device_code), now, mock.knobs.take_slow_down())
    mock.devices.note_poll(outcome)
    mock.count(f"device_poll:{outcome}")
    if outcome != "approved":
        raise OAuthError(outcome, _DESCRIPTIONS[outcome])
    body, tokens = new_grant_tokens(
        mock, client, subject=record.subject, scope=record.scope, resource=record.resource, now=now
    )
    if not mock.devices.redeem(record, grant_id="g_" + new_secret(12), now=now, tokens=tokens):
        mock.count("device_code_replays")
        raise OAuthError("invalid_grant", _DESCRIPTIONS["invalid_grant"])
    mock.count("tokens_issued")
    return body
