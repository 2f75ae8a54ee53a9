"""What a browser does with the app's single-use loopback start page: GET it, follow its 302.

Headless user agents in tests use this before talking to the authorization
server, so they take the same path as real Chromium (issue 15 #4).
"""

from __future__ import annotations

import httpx

from mcp_auth_desktop.core.loopback import is_start_page


async def through_start_page(url: str) -> str:
    """The authorization URL behind ``url`` (``url`` itself when it is no start page)."""
    if not is_start_page(url):
        return url
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        response = await client.get(url)
    assert response.status_code == 302, response.status_code
    return response.headers["location"]
