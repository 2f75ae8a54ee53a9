"""/authorize: request validation, the consent page, and the Approve/Deny POST.

Until client_id and redirect_uri are known good, every problem is an error page (never a
redirect: RFC 9700 §4.11.2). After that, errors go back to the client with state and iss.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mock_server import scopes as scope_rules
from mock_server.clients import (
    RegistrationError,
    fetch_cimd,
    looks_like_cimd,
)
from mock_server.http_util import OAuthError, client_ip, parse_form_body, unique_params
from mock_server.pages import decision_form, error_page, page_headers, render
from mock_server.state import MockState, client_source_key, new_secret
from mock_server.store import ClientRecord, digest
from mock_server.validation import (
    check_resource,
    is_loopback_redirect,
    pkce_value_ok,
    redirect_matches,
    url_host,
)

PENDING_TTL = 600.0
MAX_STATE_LENGTH = 1024


def mock_state(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    return state


@dataclass(frozen=True)
class AuthzRequest:
    client: ClientRecord
    redirect_uri: str
    state: str | None
    scope: str
    resource: str
    challenge: str


class RedirectError(Exception):
    """An error the client may see: sent to the validated redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def redirect_to_client(target: str, status: int = 303) -> RedirectResponse:
    """303 (never 307: the consent POST body must not be replayed), without a Referer."""
    return RedirectResponse(
        target, status_code=status, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    )


def build_redirect(redirect_uri: str, params: dict[str, str]) -> str:
    sep = "&" if "?" in redirect_uri else "?"
    return redirect_uri + sep + urlencode(params)


def response_params(mock: MockState, base: dict[str, str], state: str | None) -> dict[str, str]:
    params = dict(base)
    if state is not None:
        params["state"] = state
    if mock.knobs.iss_in_response:
        params["iss"] = mock.issuer
    return params


async def find_client(mock: MockState, client_id: str) -> ClientRecord | None:
    """A registered client, or a CIMD client fetched (and cached) from its URL."""
    if looks_like_cimd(client_id):
        now = mock.now()
        cached = mock.cimd_cache.get(client_id)
        if cached is None or cached[0] <= now:
            try:
                metadata, ttl = await fetch_cimd(
                    client_id,
                    allow_http=mock.config.allow_http_cimd,
                    strict_application_type=mock.config.strict_application_type,
                    allowed_scopes=scope_rules.AS_SCOPES,
                    transport=mock.config.cimd_transport,
                )
            except RegistrationError:
                return None
            mock.count("cimd_fetch")
            mock.cimd_cache[client_id] = (now + ttl, metadata)
            mock.store.put_client(client_id, secret=None, metadata=metadata, source="cimd", rat=None, now=now)
        return mock.store.get_client(client_id)
    return mock.store.get_client(client_id)


def check_scope(mock: MockState, client: ClientRecord, requested: str | None) -> str:
    if requested is None or requested == "":
        return scope_rules.DEFAULT_SCOPE
    parsed = scope_rules.parse_scope(requested)
    if parsed is None:
        raise RedirectError("invalid_scope", "scope is malformed")
    unknown = [s for s in parsed if s not in scope_rules.AS_SCOPES]
    if unknown:
        raise RedirectError("invalid_scope", "unknown scope requested")
    registered = client.metadata.get("scope")
    if isinstance(registered, str):
        allowed = set(registered.split())
        if any(s not in allowed for s in parsed):
            raise RedirectError("invalid_scope", "scope exceeds what this client registered")
    return scope_rules.join(parsed)


def check_resource_param(mock: MockState, value: str | None, error_cls: type[Exception]) -> str:
    if value is None:
        if mock.config.require_resource:
            raise error_cls("invalid_target", "the resource parameter is required (RFC 8707)")
        return mock.resource
    problem = check_resource(value)
    if problem:
        raise error_cls("invalid_target", problem)
    if value != mock.resource:
        raise error_cls("invalid_target", "the resource is not served by this authorization server")
    return value


async def parse_authorization_request(
    mock: MockState, params: dict[str, str]
) -> AuthzRequest | Response:
    """Validate; returns the request, or the error page to show."""
    templates = mock.templates_dir
    client_id = params.get("client_id")
    if not client_id:
        return error_page(templates, "Unknown application", "The request names no client_id.")
    client = await find_client(mock, client_id)
    if client is None:
        return error_page(templates, "Unknown application", "This application is not registered with this server.")
    requested_redirect = params.get("redirect_uri")
    if requested_redirect is None:
        if len(client.redirect_uris) != 1:
            return error_page(templates, "Invalid redirect", "The request has no redirect_uri.")
        requested_redirect = client.redirect_uris[0]
    if not any(redirect_matches(r, requested_redirect) for r in client.redirect_uris):
        return error_page(
            templates,
            "Invalid redirect",
            "The redirect address is not registered for this application.",
        )
    return AuthzRequest(client, requested_redirect, params.get("state"), "", "", "")


def validate_rest(mock: MockState, req: AuthzRequest, params: dict[str, str]) -> AuthzRequest:
    if params.get("response_type") != "code":
        raise RedirectError("unsupported_response_type", "response_type must be code")
    if req.state is not None and len(req.state) > MAX_STATE_LENGTH:
        raise RedirectError("invalid_request", "state is too long")
    challenge = params.get("code_challenge")
    if not challenge:
        raise RedirectError("invalid_request", "code_challenge is required (PKCE)")
    if params.get("code_challenge_method") != "S256":
        raise RedirectError("invalid_request", "code_challenge_method must be S256")
    if not pkce_value_ok(challenge):
        raise RedirectError("invalid_request", "code_challenge is malformed")
    for forbidden in ("request", "request_uri"):
        if forbidden in params:
            raise RedirectError(f"{forbidden}_not_supported", f"{forbidden} is not supported")
    scope = check_scope(mock, req.client, params.get("scope"))
    resource = check_resource_param(mock, params.get("resource"), RedirectError)
    return AuthzRequest(req.client, req.redirect_uri, req.state, scope, resource, challenge)


def issue_code(mock: MockState, req: AuthzRequest) -> str:
    code = "ac_" + secrets.token_urlsafe(32)
    mock.store.create_code(
        code,
        client_id=req.client.client_id,
        redirect_uri=req.redirect_uri,
        resource=req.resource,
        scope=req.scope,
        challenge=req.challenge,
        subject=mock.config.subject,
        now=mock.now(),
    )
    mock.count("codes_issued")
    return code


def rate_limited(mock: MockState, key: str, *, per_client: bool = False) -> float | None:
    limiter = mock.client_limiter if per_client else mock.ip_limiter
    return limiter.hit(key)


async def authorize_get(request: Request) -> Response:
    mock = mock_state(request)
    mock.count("authorize")
    wait = rate_limited(mock, "authorize:" + client_ip(request))
    if wait is not None:
        page = error_page(mock.templates_dir, "Too many requests", "Try again in a moment.", status=429)
        page.headers["Retry-After"] = str(max(1, int(wait) + 1))
        return page
    try:
        params = unique_params(parse_qsl(request.url.query, keep_blank_values=True))
    except OAuthError:
        return error_page(mock.templates_dir, "Invalid request", "A parameter is repeated.")
    parsed = await parse_authorization_request(mock, params)
    if isinstance(parsed, Response):
        return parsed
    wait = rate_limited(
        mock, client_source_key("authorize", parsed.client.client_id, client_ip(request)), per_client=True
    )
    if wait is not None:
        page = error_page(mock.templates_dir, "Too many requests", "Try again in a moment.", status=429)
        page.headers["Retry-After"] = str(max(1, int(wait) + 1))
        return page
    try:
        req = validate_rest(mock, parsed, params)
    except RedirectError as exc:
        target = build_redirect(
            parsed.redirect_uri,
            response_params(mock, {"error": exc.error, "error_description": exc.description}, parsed.state),
        )
        return redirect_to_client(target)
    if mock.knobs.auto_approve:
        code = issue_code(mock, req)
        return redirect_to_client(build_redirect(req.redirect_uri, response_params(mock, {"code": code}, req.state)))
    return consent_page(mock, request, req)


def _origin_of(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{scheme}://{authority}"


def consent_page(mock: MockState, request: Request, req: AuthzRequest) -> Response:
    pending_id = new_secret(18)
    csrf = new_secret(24)
    cookie_name = binding_cookie_name(request)
    browser = request.cookies.get(cookie_name) or new_secret(24)
    params = {
        "client_id": req.client.client_id,
        "redirect_uri": req.redirect_uri,
        "scope": req.scope,
        "resource": req.resource,
        "challenge": req.challenge,
        **({"state": req.state} if req.state is not None else {}),
    }
    mock.store.create_pending(pending_id, params, csrf, browser, mock.now())
    nonce = secrets.token_urlsafe(16)
    loopback_only = all(is_loopback_redirect(u) for u in req.client.redirect_uris)
    warning = ""
    if loopback_only:
        warning = (
            '<p class="warning" id="loopback-warning"><strong>Check this application.</strong> '
            "It can only receive the authorization on this computer (a loopback address). "
            "Any program on this machine could claim to be it, so approve only if you just "
            "started this sign-in yourself.</p>"
        )
    form = decision_form(
        mock.templates_dir, scope=req.scope, form_action=mock.config.issuer_path + "/authorize",
        request_field="pending_id", request_id=pending_id, csrf_token=csrf,
    )
    body = render(
        mock.templates_dir,
        "consent.html",
        {
            "client_name": req.client.name,
            "client_id": req.client.client_id,
            "redirect_host": url_host(req.redirect_uri),
            "redirect_uri": req.redirect_uri,
            "resource": req.resource,
            "subject": mock.config.subject,
            "nonce": nonce,
        },
        raw={"loopback_warning": warning, "decision_form": form},
    )
    response = HTMLResponse(body, headers=page_headers(nonce, (_origin_of(req.redirect_uri),), "same-origin"))
    response.set_cookie(
        cookie_name,
        browser,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        max_age=int(PENDING_TTL),
    )
    return response


def binding_cookie_name(request: Request) -> str:
    return "__Host-mock_consent" if request.url.scheme == "https" else "mock_consent"


async def authorize_post(request: Request) -> Response:
    """The consent decision. Requires the pending id, its CSRF token and the browser cookie."""
    mock = mock_state(request)
    templates = mock.templates_dir
    origin = request.headers.get("origin")
    if origin is not None and origin != mock.config.base_url:
        return error_page(templates, "Request refused", "The form was posted from another site.", 403)
    try:
        form = parse_form_body(await request.body(), request.headers.get("content-type"))
    except OAuthError:
        return error_page(templates, "Invalid request", "The consent form was malformed.")
    pending_id = form.get("pending_id", "")
    csrf = form.get("csrf_token", "")
    decision = form.get("decision")
    pending = mock.store.get_pending(pending_id) if pending_id else None
    if pending is None:
        return error_page(templates, "Request expired", "This authorization request is unknown or expired.")
    params, csrf_hash, browser_hash, created_at, used_at = pending
    browser = request.cookies.get(binding_cookie_name(request), "")
    if (
        not hmac.compare_digest(digest(csrf), csrf_hash)
        or not hmac.compare_digest(digest(browser), browser_hash)
    ):
        return error_page(templates, "Request refused", "The consent form could not be verified.", 403)
    if used_at is not None or mock.now() - created_at > PENDING_TTL:
        return error_page(templates, "Request expired", "This authorization request was already answered or expired.")
    if decision not in ("approve", "deny"):
        return error_page(templates, "Invalid request", "Choose Approve or Deny.")
    if not mock.store.use_pending(pending_id, mock.now()):
        return error_page(templates, "Request expired", "This authorization request was already answered.")
    client = mock.store.get_client(params["client_id"])
    if client is None:
        return error_page(templates, "Unknown application", "This application is no longer registered.")
    state = params.get("state")
    if decision == "deny":
        mock.count("consent_denied")
        target = build_redirect(
            params["redirect_uri"],
            response_params(
                mock, {"error": "access_denied", "error_description": "The user denied the request"}, state
            ),
        )
        return redirect_to_client(target)
    mock.count("consent_approved")
    req = AuthzRequest(
        client, params["redirect_uri"], state, params["scope"], params["resource"], params["challenge"]
    )
    code = issue_code(mock, req)
    return redirect_to_client(build_redirect(req.redirect_uri, response_params(mock, {"code": code}, state)))
