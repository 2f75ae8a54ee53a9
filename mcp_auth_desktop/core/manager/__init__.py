"""The token manager, split by what each part owns (see ``token_manager.py`` for the API).

``record`` (a server's live record, shared rules), ``shared`` (collaborators and events),
``views``, ``loading`` (reconcile with storage), ``servers`` (registry, discovery),
``sign_in`` (sign-in and step-up), ``refresh`` (serving and refreshing tokens, backoff),
``background`` (the loop's steps), ``revocation``, ``removal``, ``calls`` (MCP calls).
"""

from mcp_auth_desktop.core.manager.record import (
    MAX_AUTHORIZATIONS_PER_CALL,
    MIN_WAKE_DELAY,
    REVOCATION_RETRY_BASE,
    REVOCATION_RETRY_CAP,
    SERVE_LEEWAY,
    WAKE_CHECK_INTERVAL,
    normalize_server_url,
)
from mcp_auth_desktop.core.manager.token_manager import TokenManager
from mcp_auth_desktop.core.ports import McpClientFactory, McpClientLike, OAuthClientLike

__all__ = [
    "MAX_AUTHORIZATIONS_PER_CALL",
    "MIN_WAKE_DELAY",
    "REVOCATION_RETRY_BASE",
    "REVOCATION_RETRY_CAP",
    "SERVE_LEEWAY",
    "WAKE_CHECK_INTERVAL",
    "McpClientFactory",
    "McpClientLike",
    "OAuthClientLike",
    "TokenManager",
    "normalize_server_url",
]
