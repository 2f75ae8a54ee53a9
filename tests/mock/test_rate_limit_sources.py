"""Issue 15 #12: a per-client rate limit must not let one source lock out a public client.

Against the real mock process: source 127.0.0.2 floods the token endpoint with
a known public client_id until it is limited; 127.0.0.1 (another source, same
client) still gets ordinary answers. The per-source limit still holds for the
flooder.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.mock.helpers import MockProcess, register_public_client, start_mock_process


@pytest.fixture
def limited_mock() -> Iterator[MockProcess]:
    mock = start_mock_process("--rate-limit-per-client", "3", "--rate-limit-per-ip", "1000")
    try:
        yield mock
    finally:
        mock.stop()


def _client(source: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=source), timeout=10)


async def test_one_source_cannot_lock_out_a_public_client(limited_mock: MockProcess) -> None:
    issuer = limited_mock.issuer
    async with _client("127.0.0.2") as attacker, _client("127.0.0.1") as user:
        client = await register_public_client(user, issuer)
        form = {"grant_type": "authorization_code", "code": "not-a-code", "client_id": client["client_id"],
                "redirect_uri": "http://127.0.0.1/callback", "code_verifier": "v" * 43}
        flood = [(await attacker.post(issuer + "/token", data=form)).status_code for _ in range(6)]
        assert flood[:3] == [400, 400, 400] and flood[3:] == [429, 429, 429]
        # Another source with the same client_id is untouched by that flood.
        mine = [(await user.post(issuer + "/token", data=form)).status_code for _ in range(3)]
        assert mine == [400, 400, 400]
        assert (await user.post(issuer + "/token", data=form)).status_code == 429
        # The same holds for /authorize.
        params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": "http://127.0.0.1/callback",
                  "code_challenge": "c" * 43, "code_challenge_method": "S256", "state": "s"}
        attacked = [(await attacker.get(issuer + "/authorize", params=params)).status_code for _ in range(4)]
        assert attacked[-1] == 429 and 429 not in attacked[:3]
        page = await user.get(issuer + "/authorize", params=params)
        assert page.status_code != 429
