"""The command line: --help, TLS, CLI knobs and the control endpoint of a real process."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.mock.helpers import (
    REPO_ROOT,
    authorize_code,
    exchange_code,
    obtain_tokens,
    refresh,
    register_public_client,
    start_mock_process,
)

pytestmark = pytest.mark.e2e


def test_help_documents_every_flag() -> None:
    out = subprocess.run([sys.executable, "-m", "mock_server", "--help"], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=30, check=True).stdout
    for flag in ("--host", "--port", "--db", "--issuer-path", "--tls-cert", "--tls-key", "--tls-self-signed",
                 "--auto-approve", "--access-token-ttl", "--refresh-token-ttl", "--fail-next", "--fail-with",
                 "--latency", "--no-iss", "--no-rotation", "--allow-http-cimd", "--clients-file", "--leeway",
                 "MCP_AUTH_MOCK_CONTROL_TOKEN"):
        assert flag in out, flag


def test_bad_arguments_fail_cleanly() -> None:
    result = subprocess.run([sys.executable, "-m", "mock_server", "--leeway", "600"], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=30)
    assert result.returncode == 2 and "leeway" in result.stderr and result.stdout == ""


async def test_self_signed_tls_with_issuer_path_and_cli_knobs(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    server = start_mock_process("--auto-approve", "--tls-self-signed", "--tls-cert", str(cert), "--tls-key", str(key),
                                "--issuer-path", "/tenant1", "--fail-next", "1", "--fail-with", "429",
                                "--access-token-ttl", "60")
    try:
        assert server.mcp_url.startswith("https://127.0.0.1:")
        assert oct(key.stat().st_mode & 0o777) == "0o600"
        context = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(verify=context, timeout=20) as http:
            md = (await http.get(server.base_url + "/.well-known/oauth-authorization-server/tenant1")).json()
            assert md["issuer"] == server.issuer == server.base_url + "/tenant1"
            client = await register_public_client(http, server.issuer)
            auth = await authorize_code(http, server.issuer, client["client_id"], resource=server.mcp_url)
            limited = await exchange_code(http, server.issuer, client["client_id"], auth, resource=server.mcp_url)
            assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
            # The injected failure did not burn the code.
            tokens = (await exchange_code(http, server.issuer, client["client_id"], auth, resource=server.mcp_url)).json()
            assert tokens["expires_in"] == 60
            again = await refresh(http, server.issuer, client["client_id"], tokens["refresh_token"], resource=server.mcp_url)
            assert again.status_code == 200
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as untrusting:
                await untrusting.get(server.base_url + "/.well-known/oauth-protected-resource")
    finally:
        server.stop()


async def test_control_endpoint_moves_the_clock_of_a_process(mock_process: object) -> None:
    from tests.mock.helpers import MockProcess

    assert isinstance(mock_process, MockProcess)
    async with httpx.AsyncClient(timeout=20) as http:
        _, tokens = await obtain_tokens(http, mock_process.issuer, mock_process.mcp_url)
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        assert (await http.post(mock_process.mcp_url, headers=headers, json=init)).status_code == 200
        mock_process.control(advance_clock=400)
        expired = await http.post(mock_process.mcp_url, headers=headers, json=init)
        assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
        assert mock_process.control(revoke_all=True)["revoked"] == 1
