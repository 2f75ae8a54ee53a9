"""Loopback-only test control endpoint: POST /__mock__/control with X-Mock-Control-Token.

Disabled (404) unless the config carries a control token; the token is compared in constant
time and never logged or printed. Body (JSON, every key optional):
``{"knobs": {...}, "advance_clock": seconds, "revoke_all": true}``; the answer holds the
knobs, the counters and the number of grants revoked.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.authorize import mock_state
from mock_server.http_util import parse_json_object
from mock_server.validation import is_loopback_ip

CONTROL_PATH = "/__mock__/control"
CONTROL_HEADER = "x-mock-control-token"


async def control_endpoint(request: Request) -> Response:
    mock = mock_state(request)
    token = mock.config.control_token
    peer = request.client.host if request.client else ""
    if not token or not is_loopback_ip(peer):
        return Response(status_code=404)
    supplied = request.headers.get(CONTROL_HEADER, "")
    if not hmac.compare_digest(supplied.encode(), token.encode()):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    body = parse_json_object(await request.body())
    if body is None:
        return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
    revoked = 0
    try:
        knobs = body.get("knobs", {})
        if not isinstance(knobs, dict):
            raise ValueError("knobs must be an object")
        snapshot = mock.knobs.update(knobs)
        advance = body.get("advance_clock")
        if advance is not None:
            if isinstance(advance, bool) or not isinstance(advance, int | float):
                raise ValueError("advance_clock must be a number of seconds")
            clock_advance = getattr(mock.clock, "advance", None)
            if clock_advance is None:
                raise ValueError("this server's clock cannot be moved")
            clock_advance(float(advance))
        if body.get("revoke_all") is True:
            revoked = mock.revoke_all()
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(
        {"knobs": snapshot, "stats": dict(mock.stats), "revoked": revoked, "now": mock.now(),
         # Device-grant polls as the server saw them (monotonic seconds, answer): poll spacing.
         "device_polls": [[p.at, p.answer] for p in mock.devices.polls]},
        headers={"Cache-Control": "no-store"},
    )
