"""The verification page of the device grant (RFC 8628 §3.3): enter the code, then approve or deny.

Hardened like the authorization consent page: every value escaped (``pages.render``), no
framing, no script, no caching; each form carries a CSRF token tied to a browser cookie
(SameSite=Strict) and a POST from another origin is refused. The user code is short, so
wrong codes are counted per address and, past the limit, every code is refused for a while
(RFC 8628 §5.1). Approving needs the token of the consent page shown for that very request.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mock_server.authorize import mock_state
from mock_server.device_store import DeviceRecord, format_user_code, normalise_user_code
from mock_server.http_util import OAuthError, client_ip, parse_form_body
from mock_server.pages import decision_form, error_page, page_headers, render
from mock_server.state import MockState, new_secret
from mock_server.store import digest

COOKIE_TTL = 900


def _cookie_name(request: Request) -> str:
    return "__Host-mock_device" if request.url.scheme == "https" else "mock_device"


def _entry_csrf(mock: MockState, browser: str) -> str:
    return hmac.new(mock.devices.form_key, browser.encode(), hashlib.sha256).hexdigest()


def _html(request: Request, body: str, nonce: str, browser: str, status: int = 200) -> HTMLResponse:
    # same-origin (not no-referrer): Chromium sends Origin: null on a POST from a
    # no-referrer page, and the POST handlers insist on our own Origin.
    response = HTMLResponse(body, status_code=status, headers=page_headers(nonce, (), "same-origin"))
    response.set_cookie(
        _cookie_name(request), browser, httponly=True, samesite="strict",
        secure=request.url.scheme == "https", path="/", max_age=COOKIE_TTL,
    )
    return response


def _entry_page(
    mock: MockState, request: Request, browser: str, typed: str = "", problem: str = "", status: int = 200
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    body = render(
        mock.templates_dir,
        "device_entry.html",
        {
            "nonce": nonce,
            "csrf_token": _entry_csrf(mock, browser),
            "user_code": typed[:20],
            "form_action": mock.config.issuer_path + "/device",
        },
        raw={"problem": f'<p class="problem" id="problem">{html.escape(problem)}</p>' if problem else ""},
    )
    return _html(request, body, nonce, browser, status)


def _too_many(mock: MockState, wait: float) -> Response:
    page = error_page(mock.templates_dir, "Too many wrong codes", "Wait a few minutes, then try again.", 429)
    page.headers["Retry-After"] = str(max(1, int(wait) + 1))
    return page


async def device_get(request: Request) -> Response:
    mock = mock_state(request)
    if not mock.knobs.device_grant:
        return error_page(mock.templates_dir, "Not offered", "This server does not offer device sign-in.", 404)
    wait = mock.ip_limiter.hit("device_page:" + client_ip(request))
    if wait is not None:
        return _too_many(mock, wait)
    browser = request.cookies.get(_cookie_name(request)) or new_secret(24)
    return _entry_page(mock, request, browser, request.query_params.get("user_code", ""))


async def _checked_form(mock: MockState, request: Request) -> dict[str, str] | Response:
    origin = request.headers.get("origin")
    if origin is not None and origin != mock.config.base_url:
        return error_page(mock.templates_dir, "Request refused", "The form was posted from another site.", 403)
    try:
        return parse_form_body(await request.body(), request.headers.get("content-type"))
    except OAuthError:
        return error_page(mock.templates_dir, "Invalid request", "The form was malformed.")


async def device_post(request: Request) -> Response:
    """The code the user typed: the consent page for its request, or the entry page again."""
    mock = mock_state(request)
    if not mock.knobs.device_grant:
        return error_page(mock.templates_dir, "Not offered", "This server does not offer device sign-in.", 404)
    form = await _checked_form(mock, request)
    if isinstance(form, Response):
        return form
    browser = request.cookies.get(_cookie_name(request), "")
    if not browser or not hmac.compare_digest(form.get("csrf_token", ""), _entry_csrf(mock, browser)):
        return error_page(mock.templates_dir, "Request refused", "The form could not be verified.", 403)
    source = client_ip(request)
    wait = mock.wrong_user_codes.blocked(source)
    if wait is not None:
        mock.count("device_code_lockout")
        return _too_many(mock, wait)
    typed = form.get("user_code", "")
    code = normalise_user_code(typed)
    record = mock.devices.by_user_code(code) if code else None
    now = mock.now()
    if record is None or code is None:
        mock.wrong_user_codes.record(source)
        mock.count("device_wrong_code")
        return _entry_page(mock, request, browser, typed, "That code is not valid. Check it and try again.", 400)
    if record.status != "pending" or now >= record.expires_at:
        return _entry_page(
            mock, request, browser, typed,
            "That code has expired or was already used. Start the sign-in again on your device.", 400,
        )
    return _consent_page(mock, request, browser, record, code)


def _consent_page(
    mock: MockState, request: Request, browser: str, record: DeviceRecord, code: str
) -> HTMLResponse:
    client = mock.store.get_client(record.client_id)
    csrf = new_secret(24)
    mock.devices.bind_consent(record.device_hash, csrf, browser)
    nonce = secrets.token_urlsafe(16)
    body = render(
        mock.templates_dir,
        "device_consent.html",
        {
            "client_name": client.name if client else record.client_id,
            "client_id": record.client_id,
            "user_code_shown": format_user_code(code),
            "resource": record.resource,
            "subject": record.subject,
            "nonce": nonce,
        },
        raw={"decision_form": decision_form(
            mock.templates_dir, scope=record.scope, form_action=mock.config.issuer_path + "/device/decision",
            request_field="user_code", request_id=code, csrf_token=csrf,
        )},
    )
    return _html(request, body, nonce, browser)


async def device_decision(request: Request) -> Response:
    """Approve or Deny, from the consent page shown for this request in this browser."""
    mock = mock_state(request)
    templates = mock.templates_dir
    form = await _checked_form(mock, request)
    if isinstance(form, Response):
        return form
    code = normalise_user_code(form.get("user_code", ""))
    record = mock.devices.by_user_code(code) if code else None
    browser = request.cookies.get(_cookie_name(request), "")
    if (
        record is None
        or record.csrf_hash is None
        or record.browser_hash is None
        or not hmac.compare_digest(digest(form.get("csrf_token", "")), record.csrf_hash)
        or not hmac.compare_digest(digest(browser), record.browser_hash)
    ):
        return error_page(templates, "Request refused", "The consent form could not be verified.", 403)
    decision = form.get("decision")
    if decision not in ("approve", "deny"):
        return error_page(templates, "Invalid request", "Choose Approve or Deny.")
    if not mock.devices.decide(record.device_hash, decision == "approve", mock.now()):
        return error_page(templates, "Request expired", "This request was already answered or expired.")
    mock.count("device_approved" if decision == "approve" else "device_denied")
    nonce = secrets.token_urlsafe(16)
    title, message = (
        ("Device connected", "You approved the request. Return to your device: it continues by itself.")
        if decision == "approve"
        else ("Request denied", "You denied the request. The device gets no access.")
    )
    body = render(templates, "device_done.html", {"title": title, "message": message, "nonce": nonce})
    return HTMLResponse(body, headers=page_headers(nonce))
