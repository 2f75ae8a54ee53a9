"""Pure OAuth 2.1 building blocks, one module per protocol step.

Nothing here does I/O. Each function takes plain values and either returns
a request description (:class:`HttpRequest`) or a validated model, or raises
one of :mod:`..errors`. The modules:

=================  =========================================================
``authorization``  authorization URL with PKCE S256, ``state``, ``scope`` and
                   RFC 8707 ``resource``; the loopback callback (``state``,
                   then RFC 9207 ``iss``, then ``error``)
``client_auth``    client authentication: ``none``, ``client_secret_basic``,
                   ``client_secret_post``, and which one a client uses
``tokens``         code and refresh token requests; the token response
``revocation``     RFC 7009 requests and answers
``dcr``            RFC 7591 dynamic registration requests and answers
``responses``      the OAuth error an endpoint's answer carries
``scopes``         scope selection (MCP "Scope Selection Strategy"), step-up union
``request``        :class:`HttpRequest`, what every step returns
=================  =========================================================

The names below are also importable from this package, as they were from
the single module it replaces.
"""

from __future__ import annotations

from .authorization import RESERVED_AUTHORIZE_PARAMS, build_authorization_url, parse_callback
from .client_auth import AUTH_METHODS, choose_auth_method, client_auth
from .dcr import build_registration_request, parse_registration_response
from .request import HttpRequest
from .responses import error_from_response
from .revocation import build_revocation_request, check_revocation_response
from .scopes import select_scopes, union_scopes
from .tokens import (
    MAX_EXPIRES_IN,
    build_code_token_request,
    build_refresh_token_request,
    clamp_expires_in,
    parse_token_response,
)

__all__ = [
    "HttpRequest",
    "AUTH_METHODS",
    "MAX_EXPIRES_IN",
    "RESERVED_AUTHORIZE_PARAMS",
    "build_authorization_url",
    "client_auth",
    "build_code_token_request",
    "build_refresh_token_request",
    "parse_token_response",
    "parse_callback",
    "build_revocation_request",
    "check_revocation_response",
    "build_registration_request",
    "parse_registration_response",
    "choose_auth_method",
    "select_scopes",
    "union_scopes",
    "clamp_expires_in",
    "error_from_response",
]
