"""POST P/device_authorization (RFC 8628 §3.1-3.2): a device code and the code the user types.

The client authenticates as at the token endpoint; ``scope`` and ``resource`` are checked as
at the authorization endpoint (known scopes within the client's registration; the resource
this server serves, required unless --optional-resource).
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from mock_server.authorize import RedirectError, check_resource_param, check_scope, mock_state
from mock_server.device_store import format_user_code
from mock_server.http_util import OAuthError, json_no_store, read_form
from mock_server.token_endpoint import _client_rate_limit, _prelude, authenticate_client

#: The verification page, under the issuer path (``P/device``).
VERIFICATION_PATH = "/device"
AUTHORIZATION_PATH = "/device_authorization"


async def device_authorization(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("device_authorization_requests")
    try:
        if not mock.knobs.device_grant:
            raise OAuthError("unsupported_grant_type", "this server does not offer the device grant", status=404)
        await _prelude(mock, request, "device")
        form = await read_form(request)
        client = authenticate_client(mock, request, form)
        _client_rate_limit(mock, request, "device", client)
        try:
            scope = check_scope(mock, client, form.get("scope"))
        except RedirectError as exc:
            raise OAuthError(exc.error, exc.description) from None
        resource = check_resource_param(mock, form.get("resource"), OAuthError)
    except OAuthError as exc:
        mock.count(f"device_authorization_error:{exc.error}")
        return exc.response()
    ttl = mock.knobs.device_code_ttl
    interval = mock.knobs.device_interval
    device_code, user_code = mock.devices.create(
        client_id=client.client_id, scope=scope, resource=resource, subject=mock.config.subject,
        now=mock.now(), ttl=ttl, interval=interval,
    )
    mock.count("device_codes_issued")
    shown = format_user_code(user_code)
    verification_uri = mock.issuer + VERIFICATION_PATH
    return json_no_store(
        {
            "device_code": device_code,
            "user_code": shown,
            "verification_uri": verification_uri,
            "verification_uri_complete": verification_uri + "?" + urlencode({"user_code": shown}),
            "expires_in": ttl,
            "interval": interval,
        }
    )
