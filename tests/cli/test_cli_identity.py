"""Which account am I signed in as (issue 16): `mcp-auth whoami`, `status`, the view's account
field, from each source in turn, against the mock server process (real HTTP, real vault)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_auth_desktop.core.identity import identity_from_id_token
from tests.cli.helpers import approve_sign_in, cli_env, run_cli, start_cli
from tests.mock.helpers import MockProcess, start_mock_process

EMAIL = "ada@example.com"


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockProcess]:
    clients = tmp_path_factory.mktemp("clients") / "clients.json"
    clients.write_text(json.dumps([{
        "client_id": "confidential", "client_secret": "s3cret-basic", "application_type": "native",
        "redirect_uris": ["http://127.0.0.1/callback"], "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "client_secret_basic",
    }]))
    proc = start_mock_process("--auto-approve", "--subject", "ada", "--email", EMAIL,
                              "--clients-file", str(clients))
    try:
        yield proc
    finally:
        proc.stop()


def env() -> dict[str, str]:
    return cli_env("cli identity test")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env(), input=stdin)


def login(mock: MockProcess, name: str, *options: str, stdin: str | None = None) -> None:
    """`mcp-auth login URL --no-browser`; the 'user' opens the printed link (auto-approve)."""
    proc = start_cli("login", mock.mcp_url, "--no-browser", "--allow-insecure-loopback",
                     "--name", name, *options, env=env(), stdin=subprocess.PIPE)
    assert proc.stdin is not None
    if stdin is not None:
        proc.stdin.write(stdin)
    proc.stdin.close()
    proc.stdin = None  # closed: communicate() must not flush it
    url, done = approve_sign_in(proc)
    assert url, "no sign-in link printed"
    assert done.returncode == 0, done.stderr


def whoami(name: str) -> dict[str, object]:
    out = cli("whoami", name, "--json")
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_id_token_gives_the_email(mock: MockProcess) -> None:
    before = mock.control()["stats"]
    login(mock, "oidc", "--scope", "mcp:read openid email")
    stats = mock.control()["stats"]
    assert stats.get("id_tokens_issued", 0) == before.get("id_tokens_issued", 0) + 1
    # The e-mail came in the ID token: userinfo was not needed.
    assert stats.get("userinfo_requests", 0) == before.get("userinfo_requests", 0)
    assert whoami("oidc") == {"server": "oidc", "state": "signed_in", "account": EMAIL,
                              "source": "id_token", "verified": True}
    text = cli("whoami", "oidc")
    assert text.stdout.strip() == f"{EMAIL} (from the ID token)"
    status = cli("status", "oidc")
    assert f"Account:              {EMAIL} (from the ID token)" in status.stdout, status.stdout
    view = json.loads(cli("status", "oidc", "--json").stdout)
    assert view["account"] == EMAIL and view["account_source"] == "id_token"
    # Personal data lives in the vault, not in the plain settings file.
    home = Path(os.environ["MCP_AUTH_DESKTOP_HOME"])
    plain = "".join(p.read_text(errors="replace") for p in home.rglob("*.json"))
    assert "ada@" not in plain
    # A refresh keeps the account (the mock repeats no ID token on refresh).
    assert cli("refresh", "oidc").returncode == 0
    assert whoami("oidc")["account"] == EMAIL


def test_userinfo_is_asked_when_the_id_token_lacks_a_name(mock: MockProcess) -> None:
    before = mock.control()["stats"].get("userinfo_requests", 0)
    login(mock, "bare", "--scope", "mcp:read openid")
    assert mock.control()["stats"].get("userinfo_requests", 0) == before + 1
    got = whoami("bare")
    assert got["account"] == "ada" and got["source"] == "userinfo" and got["verified"] is True


def test_introspection_for_a_confidential_client(mock: MockProcess) -> None:
    before = mock.control()["stats"].get("introspect_requests", 0)
    login(mock, "conf", "--client-id", "confidential", "--client-secret-stdin",
          stdin="s3cret-basic\n")
    assert mock.control()["stats"].get("introspect_requests", 0) == before + 1
    got = whoami("conf")
    assert got["account"] == "ada" and got["source"] == "introspection" and got["verified"] is True


def test_jwt_access_token_claims_are_shown_as_unverified(mock: MockProcess) -> None:
    login(mock, "plain")
    got = whoami("plain")
    assert got == {"server": "plain", "state": "signed_in", "account": "ada",
                   "source": "access_token", "verified": False}
    assert cli("whoami", "plain").stdout.strip() == "ada (from the access token, unverified)"


def test_not_signed_in_says_so_with_exit_3(mock: MockProcess) -> None:
    assert cli("add", mock.mcp_url, "--name", "later", "--allow-insecure-loopback").returncode == 0
    out = cli("whoami", "later")
    assert out.returncode == 3 and "Not signed in to later" in out.stdout


def _jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'ES256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize(
    ("change", "accepted"),
    [({}, True), ({"iss": "https://other.example"}, False), ({"aud": "someone-else"}, False),
     ({"aud": ["x", "app"]}, True), ({"exp": time.time() - 3600}, False), ({"exp": "soon"}, False)],
)
def test_id_token_checks_iss_aud_and_exp(
    change: dict[str, object], accepted: bool, caplog: pytest.LogCaptureFixture
) -> None:
    claims: dict[str, object] = {"iss": "https://as.example", "aud": "app", "sub": "s-1",
                                 "email": EMAIL, "exp": time.time() + 600}
    claims.update(change)
    found = identity_from_id_token(_jwt(claims), issuer="https://as.example", client_id="app",
                                   now=time.time())
    assert (found is not None and found.email == EMAIL) is accepted
    # A refused ID token is said in the log (why), never silently dropped.
    assert any("ID token" in r.getMessage() for r in caplog.records) is not accepted


def test_status_without_a_name_is_the_overview_with_machine_state_names(mock: MockProcess) -> None:
    login(mock, "one", "--scope", "mcp:read openid email")
    assert cli("add", mock.mcp_url + "?x=1", "--name", "two", "--allow-insecure-loopback",
               "--no-discover").returncode == 0
    out = cli("status")
    assert out.returncode == 0, out.stderr
    one, two = out.stdout.split("\n\n")[:2]
    assert one.splitlines()[0] == "one" and "State:         signed in" in one
    assert f"Account:       {EMAIL} (from the ID token)" in one
    assert "Token expires: 20" in one and "Last error:    -" in one
    assert two.splitlines()[0] == "two" and "State:         new" in two and "Account:       -" in two
    data = json.loads(cli("status", "--json").stdout)
    states = {s["name"]: (s["state"], s["state_label"], s["account"]) for s in data["servers"]}
    assert states == {"one": ("signed_in", "signed in", EMAIL), "two": ("new", "new", None)}
