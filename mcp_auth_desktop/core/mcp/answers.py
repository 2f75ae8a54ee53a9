"""What an MCP server's HTTP answer means, for the app's client and the bridge alike.

* :func:`token_refusal`: a 401 or a 403 ``insufficient_scope`` as the typed
  error the token manager acts on (refresh or sign in; step up), carrying the
  server's ``WWW-Authenticate`` challenge. One rule for ``core/mcp/transport.py``
  and ``bridge/upstream.py``, so both eras and the bridge refuse alike.
* :func:`match_response`: the JSON-RPC response to our request in a message or batch.
* :func:`media_type` and :func:`read_capped`: the body's type, and the body under a cap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import (
    InsufficientScopeError,
    InvalidTokenError,
    ResourceAccessError,
    ResponseTooLargeError,
)
from ..www_authenticate import describe_challenge

if TYPE_CHECKING:
    import httpx

    from ..www_authenticate import BearerChallenge

__all__ = ["match_response", "media_type", "read_capped", "token_refusal"]


def token_refusal(
    status: int,
    challenge: BearerChallenge | None,
    where: str,
    *,
    method: str | None = None,
    after_refresh: bool = False,
    advice: bool = True,
) -> ResourceAccessError | None:
    """The typed error for a refused token, or None when ``status`` is not such a refusal.

    401 → :class:`InvalidTokenError`; 403 with ``error="insufficient_scope"`` →
    :class:`InsufficientScopeError` with the scopes the server asked for. Both
    carry ``challenge``. ``method`` names the request refused for its scopes;
    ``after_refresh`` says the token was already refreshed once; ``advice``
    ends the message with what to do (off when the caller adds its own).
    """
    err: ResourceAccessError
    if status == 401:
        described = describe_challenge(challenge) or "HTTP 401"
        if after_refresh:
            text = f"did not accept the access token even after a refresh ({described})."
        else:
            text = f"did not accept the access token ({described})."
        if advice:
            text += " Refresh the token or sign in again."
        err = InvalidTokenError(f"The MCP server at {where} {text}", status=401)
    elif status == 403 and challenge is not None and challenge.error == "insufficient_scope":
        scopes = challenge.scope or ()
        text = "needs more permissions" + (f" for {method}" if method else "")
        text += f" (scopes: {' '.join(scopes)})" if scopes else ""
        if advice:
            text += ". Sign in again to grant them."
        err = InsufficientScopeError(f"The MCP server at {where} {text}", scopes=scopes)
    else:
        return None
    err.challenge = challenge
    return err


def match_response(payload: Any, expect_id: int) -> dict[str, Any] | None:
    """The JSON-RPC response with our id in a message or batch, else None."""
    items = payload if isinstance(payload, list) else [payload]
    for item in items:
        if (
            isinstance(item, dict)
            and item.get("id") == expect_id
            and not isinstance(item.get("id"), bool)
            and ("result" in item or "error" in item)
            and "method" not in item
        ):
            return item
    return None


def media_type(response: httpx.Response) -> str:
    """The answer's media type, lower-case, without parameters ('' when none was sent)."""
    return str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()


async def read_capped(response: httpx.Response, limit: int, where: str, what: str) -> bytes:
    """The whole body, refused with ResponseTooLargeError once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            raise ResponseTooLargeError(f"The MCP server at {where} sent a {what} larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
