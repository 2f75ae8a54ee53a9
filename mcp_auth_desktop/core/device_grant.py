"""The OAuth 2.0 Device Authorization Grant (RFC 8628): requests, answers, and the poll loop.

Sign-in where the browser cannot reach this machine (SSH, containers, remote desktops):
the app asks the authorization server for a device code, shows the user a short user code
and a verification URI to open on any device, and polls the token endpoint until the user
approved or denied there, or the code expired.

Pure functions build the requests and judge the answers; :func:`poll_for_tokens` is the
thin async loop over them (HTTP client and clock passed in, ``core/ports.py``). Everything
the server sends is untrusted: the verification URI must be https (or http to a loopback
address), the user code printable and short, and both are still escaped when shown
(``core.safetext.terminal_safe``).
"""

from __future__ import annotations

import asyncio
import enum
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import (
    AuthorizationDenied,
    DeviceAuthorizationResponseError,
    DeviceCodeExpiredError,
    NetworkError,
    TemporarilyUnavailableError,
)
from .models import ClientRegistration, TokenSet
from .oauth.client_auth import authenticated_form_request
from .oauth.request import HttpRequest
from .oauth.responses import error_from_response
from .oauth.scopes import scope_param
from .oauth.tokens import parse_token_response
from .ports import Clock
from .urls import is_loopback_host, redact_url

__all__ = [
    "GRANT_TYPE",
    "DeviceAuthorization",
    "PollAnswer",
    "build_device_authorization_request",
    "build_device_token_request",
    "check_verification_uri",
    "classify_poll",
    "parse_device_authorization_response",
    "poll_for_tokens",
]

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
DEFAULT_INTERVAL = 5.0
#: §3.5: each slow_down adds 5 seconds to the interval, for this and later polls.
SLOW_DOWN_STEP = 5.0
#: Bounds on what a server may ask for: never faster than once a second, never so slowly that
#: an approval goes unnoticed for minutes, and no code believed for more than a day.
MIN_INTERVAL, MAX_INTERVAL = 1.0, 120.0
MAX_EXPIRES_IN = 24 * 3600
#: §3.5: back off on a connection failure or a 5xx; the interval doubles up to this.
MAX_BACKOFF = 60.0
_MAX_CODE = 2048
_MAX_URI = 2048
#: A user code is typed by a person: printable ASCII, a few groups at most.
_USER_CODE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?")
_VSCHARS = re.compile(r"[\x20-\x7e]+")


@dataclass(frozen=True)
class DeviceAuthorization:
    """A validated device authorization answer (RFC 8628 §3.2)."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    #: The URI with the code in it (None when absent or not on the verification URI's origin).
    verification_uri_complete: str | None
    expires_in: float
    interval: float
    #: Monotonic time the answer arrived; the code expires ``expires_in`` later.
    received_at: float

    @property
    def deadline(self) -> float:
        return self.received_at + self.expires_in

    @property
    def lifetime(self) -> str:
        """The code's lifetime in words ("10 minutes", "45 seconds"), for messages."""
        seconds = round(self.expires_in)
        if seconds < 120:
            return f"{seconds} second{'s' if seconds != 1 else ''}"
        return f"{round(seconds / 60)} minutes"


class PollAnswer(enum.Enum):
    """What one token-endpoint poll said (RFC 8628 §3.5)."""

    TOKENS = "tokens"
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    DENIED = "access_denied"
    EXPIRED = "expired_token"


def build_device_authorization_request(
    endpoint: str,
    registration: ClientRegistration,
    *,
    scopes: Sequence[str],
    resource: str | None,
    client_secret: str | None = None,
) -> HttpRequest:
    """§3.1: the client authenticates as at the token endpoint; scope and resource as for a code."""
    form: dict[str, str] = {}
    if scopes:
        form["scope"] = scope_param(scopes)
    if resource is not None:
        form["resource"] = resource  # RFC 8707, as in the authorization request
    return authenticated_form_request(endpoint, form, registration, client_secret)


def build_device_token_request(
    token_endpoint: str,
    registration: ClientRegistration,
    *,
    device_code: str,
    resource: str | None,
    client_secret: str | None = None,
) -> HttpRequest:
    """§3.4: one poll of the token endpoint."""
    form = {"grant_type": GRANT_TYPE, "device_code": device_code}
    if resource is not None:
        form["resource"] = resource
    return authenticated_form_request(token_endpoint, form, registration, client_secret)


def check_verification_uri(value: Any, what: str) -> str:
    """An https URI, or http to a loopback address; no userinfo, no fragment, printable ASCII."""
    if not isinstance(value, str) or not value or len(value) > _MAX_URI or not _VSCHARS.fullmatch(value):
        raise DeviceAuthorizationResponseError(f"The authorization server sent an unusable {what}.")
    parts = urlsplit(value)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host))
    if not secure or not host or "@" in parts.netloc or parts.fragment or " " in value:
        raise DeviceAuthorizationResponseError(
            f"The authorization server's {what} {redact_url(value)} is not an https:// address "
            "(plain http only to this machine); it was not shown."
        )
    return value


def _number(body: Mapping[str, Any], key: str) -> float | None:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def parse_device_authorization_response(
    status: int, headers: Mapping[str, str], body: Mapping[str, Any] | None, *, received_at: float
) -> DeviceAuthorization:
    """Validate a §3.2 answer, or raise the OAuth error it carries."""
    err = error_from_response(status, headers, body, what="device authorization endpoint")
    if err is not None:
        raise err
    if body is None:
        raise DeviceAuthorizationResponseError("The device authorization endpoint answered without JSON.")
    device_code = body.get("device_code")
    if not isinstance(device_code, str) or len(device_code) > _MAX_CODE or not _VSCHARS.fullmatch(device_code):
        raise DeviceAuthorizationResponseError("The device authorization answer has no usable device_code.")
    user_code = body.get("user_code")
    if not isinstance(user_code, str) or not _USER_CODE.fullmatch(user_code):
        raise DeviceAuthorizationResponseError(
            "The device authorization answer has no usable user_code (printable, at most 64 characters)."
        )
    uri = check_verification_uri(body.get("verification_uri"), "verification_uri")
    complete = body.get("verification_uri_complete")
    if complete is not None:
        complete = check_verification_uri(complete, "verification_uri_complete")
        a, b = urlsplit(uri), urlsplit(complete)
        if (a.scheme, a.netloc.lower()) != (b.scheme, b.netloc.lower()):
            complete = None  # a link elsewhere than the page the user is told to open: not shown
    expires_in = _number(body, "expires_in")
    if expires_in is None or expires_in <= 0:
        raise DeviceAuthorizationResponseError("The device authorization answer has no usable expires_in.")
    interval = _number(body, "interval")
    interval = DEFAULT_INTERVAL if interval is None else min(max(interval, MIN_INTERVAL), MAX_INTERVAL)
    return DeviceAuthorization(
        device_code=device_code,
        user_code=user_code,
        verification_uri=uri,
        verification_uri_complete=complete,
        expires_in=min(expires_in, MAX_EXPIRES_IN),
        interval=interval,
        received_at=received_at,
    )


def classify_poll(status: int, headers: Mapping[str, str], body: Mapping[str, Any] | None) -> PollAnswer:
    """§3.5: the four answers that keep or end the loop, or the OAuth error to raise."""
    error = body.get("error") if body else None
    if isinstance(error, str):
        for answer in PollAnswer:
            if answer is not PollAnswer.TOKENS and error == answer.value:
                return answer
    err = error_from_response(status, headers, body, what="token endpoint")
    if err is not None:
        raise err
    return PollAnswer.TOKENS


def _expired(authorization: DeviceAuthorization, host: str) -> DeviceCodeExpiredError:
    return DeviceCodeExpiredError(
        f"The sign-in code from {host} expired after {authorization.lifetime} without being "
        "approved. Start the sign-in again."
    )


Send = Callable[[HttpRequest], Awaitable[tuple[int, Mapping[str, str], Mapping[str, Any] | None]]]
Sleep = Callable[[float], Awaitable[None]]


#: How much longer each catch-up sleep is than what is left, so it does not wake early again.
CATCH_UP_MARGIN = 0.01
#: Catch-up sleeps at most (a clock that never moves must not hold the loop forever).
MAX_CATCH_UPS = 5


async def _sleep_fully(sleep: Sleep, clock: Clock, seconds: float) -> None:
    """Sleep until ``seconds`` have passed on ``clock``, measured from now.

    An event loop's timer may wake a little early (Qt's coarse timers under qasync fire up
    to 5 % early, and delays are rounded to whole milliseconds), and a strict server
    answers a poll that arrives even a millisecond inside the interval with ``slow_down``:
    5 seconds more, each time (seen against our mock: two early wakes made a sign-in 10 s
    slower). Measured from the previous answer, which the server timed before sending it.
    """
    until = clock.monotonic() + seconds
    await sleep(seconds)
    for _ in range(MAX_CATCH_UPS):
        left = until - clock.monotonic()
        if left <= 0:
            return
        await sleep(left + CATCH_UP_MARGIN)


async def poll_for_tokens(
    send: Send,
    clock: Clock,
    authorization: DeviceAuthorization,
    request: HttpRequest,
    *,
    host: str,
    requested_scopes: Sequence[str],
    resource: str | None,
    sleep: Sleep = asyncio.sleep,
) -> TokenSet:
    """Poll until approved (the tokens), denied, or expired; honour ``interval`` and ``slow_down``.

    ``send`` performs one request and returns (status, headers, JSON body). A network
    failure or a 5xx doubles the wait (up to a minute) and the loop goes on until the code
    expires, as §3.5 asks; any other OAuth error ends it.
    """
    interval = authorization.interval
    wait = interval
    while True:
        remaining = authorization.deadline - clock.monotonic()
        if remaining <= 0:
            raise _expired(authorization, host)
        await _sleep_fully(sleep, clock, min(wait, remaining))
        if clock.monotonic() >= authorization.deadline:
            continue  # the check above reports it
        try:
            status, headers, body = await send(request)
            answer = classify_poll(status, headers, body)
        except (NetworkError, TemporarilyUnavailableError):
            wait = min(max(wait * 2, interval), MAX_BACKOFF)
            continue
        wait = interval
        if answer is PollAnswer.PENDING:
            continue
        if answer is PollAnswer.SLOW_DOWN:
            interval += SLOW_DOWN_STEP
            wait = interval
            continue
        if answer is PollAnswer.DENIED:
            raise AuthorizationDenied(f"The sign-in was denied at {host} (access_denied).")
        if answer is PollAnswer.EXPIRED:
            raise _expired(authorization, host)
        return parse_token_response(
            status, headers, body, now=clock.time(), requested_scopes=requested_scopes, resource=resource
        )
