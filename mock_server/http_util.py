"""Small HTTP helpers shared by the endpoints: strict forms, OAuth error bodies, client auth."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 §5.2 style error; rendered as JSON by the endpoint that raised it."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers={**NO_STORE, **self.headers},
        )


def json_no_store(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=dict(NO_STORE))


def parse_form_body(body: bytes, content_type: str | None) -> dict[str, str]:
    """Parse an application/x-www-form-urlencoded body; repeated parameters are an error."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise OAuthError(
            "invalid_request",
            "the request body must be application/x-www-form-urlencoded",
            status=415 if body else 400,
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OAuthError("invalid_request", "the request body is not UTF-8") from exc
    return unique_params(parse_qsl(text, keep_blank_values=True))


def unique_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise OAuthError("invalid_request", f"parameter {key!r} is repeated")
        out[key] = value
    return out


async def read_form(request: Request) -> dict[str, str]:
    return parse_form_body(await request.body(), request.headers.get("content-type"))


def parse_json_object(body: bytes) -> dict[str, Any] | None:
    """Strict JSON: no NaN/Infinity, no duplicate keys; None unless it is an object."""

    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ValueError("duplicate key")
            out[k] = v
        return out

    def no_constants(_: str) -> Any:
        raise ValueError("non-finite number")

    try:
        value = json.loads(body, object_pairs_hook=no_dupes, parse_constant=no_constants)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    return value


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str | None
    secret: str | None
    method: str  # "none", "client_secret_basic" or "client_secret_post"


def client_credentials(request: Request, form: dict[str, str]) -> ClientCredentials:
    """Extract how the client authenticated; mixing methods is rejected (RFC 6749 §2.3)."""
    headers = request.headers.getlist("authorization")
    if len(headers) > 1:
        raise OAuthError("invalid_request", "more than one Authorization header")
    basic = headers[0] if headers else None
    if basic is not None:
        scheme, _, value = basic.partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError("invalid_client", "unsupported client authentication scheme", status=401,
                             headers={"WWW-Authenticate": 'Basic realm="token"'})
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401,
                             headers={"WWW-Authenticate": 'Basic realm="token"'}) from exc
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401,
                             headers={"WWW-Authenticate": 'Basic realm="token"'})
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use only one client authentication method")
        client_id = unquote_plus(raw_id)
        if "client_id" in form and form["client_id"] != client_id:
            raise OAuthError("invalid_request", "client_id does not match the Basic credentials")
        return ClientCredentials(client_id, unquote_plus(raw_secret), "client_secret_basic")
    if "client_secret" in form:
        return ClientCredentials(form.get("client_id"), form["client_secret"], "client_secret_post")
    return ClientCredentials(form.get("client_id"), None, "none")


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_https_request(request: Request) -> bool:
    return request.url.scheme == "https"


def plain_response(text: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(text, status_code=status, media_type="text/plain", headers=headers)
