"""`mcp-auth login URL --no-browser` for a URL never added, against the mock server process."""

from __future__ import annotations

import json
import urllib.request

from mcp_auth_desktop.core.loopback import is_start_page
from tests.cli.helpers import cli_env, run_cli, sign_in_link, start_cli
from tests.mock.helpers import MockProcess


def env() -> dict[str, str]:
    return cli_env("cli login test")  # BROWSER=false: must not be used with --no-browser


def test_login_no_browser_prints_url_and_waits_then_token_works(mock: MockProcess):
    proc = start_cli("login", mock.mcp_url, "--no-browser", "--allow-insecure-loopback",
                     "--name", "fresh", env=env())
    try:
        assert proc.stderr is not None
        url = sign_in_link(proc.stderr)
        # The printed link is the listener's single-use start page (issue 15 #4): no
        # state or code_challenge in it; it redirects to the authorization URL.
        assert url and is_start_page(url) and "state=" not in url and "code_challenge" not in url
        assert proc.poll() is None  # still waiting for the redirect
        hops: list[str] = []

        class Recorder(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
                hops.append(newurl)
                return super().redirect_request(req, fp, code, msg, headers, newurl)

        # The user opens the URL; the mock approves and redirects to the loopback listener.
        with urllib.request.build_opener(Recorder).open(url, timeout=20) as resp:
            assert resp.status == 200
        assert "code_challenge=" in hops[0] and "resource=" in hops[0]
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err
    assert "Signed in to fresh" in out
    token = run_cli("token", "fresh", env=env())
    assert token.returncode == 0 and len(token.stdout.strip()) > 20
    status = run_cli("status", mock.mcp_url, "--json", env=env())
    view = json.loads(status.stdout)
    assert view["state"] == "signed_in" and view["registration_method"] == "dcr"
    assert token.stdout.strip() not in status.stdout
