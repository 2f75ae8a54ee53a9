"""cli/device_login.py: when a browser cannot be shown, and how the code is printed."""

from __future__ import annotations

import pytest

from mcp_auth_desktop.cli.device_login import headless_reason, show_code
from mcp_auth_desktop.core.device_grant import DeviceAuthorization

GRAPHICAL = ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "SSH_CONNECTION", "SSH_TTY")


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in GRAPHICAL:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_display_on_linux(bare: pytest.MonkeyPatch) -> None:
    bare.setattr("sys.platform", "linux")
    assert headless_reason() == "no display was found (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    bare.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert headless_reason() is None


def test_ssh_session_without_x_forwarding(bare: pytest.MonkeyPatch) -> None:
    bare.setattr("sys.platform", "darwin")  # a Mac reached over SSH: its browser is not the user's
    assert headless_reason() is None
    bare.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    assert headless_reason() is not None and "SSH session" in str(headless_reason())
    bare.setenv("DISPLAY", "localhost:10.0")  # X forwarding: the browser shows on the user's screen
    assert headless_reason() is None


def test_a_browser_command_counts_as_a_browser(bare: pytest.MonkeyPatch) -> None:
    bare.setattr("sys.platform", "linux")
    bare.setenv("BROWSER", "w3m")
    assert headless_reason() is None


def test_the_code_and_addresses_are_printed_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    # The core refuses such values; the printing escapes whatever reaches it all the same.
    auth = DeviceAuthorization(
        device_code="dc_secret", user_code="BCDF\x1b[2J-GHJK", verification_uri="https://as.example/d\u202e",
        verification_uri_complete="https://as.example/d?user_code=BCDF", expires_in=90, interval=5,
        received_at=0.0,
    )
    show_code("srv\x07")(auth)
    out, err = capsys.readouterr()
    assert out == ""
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err
    assert "BCDF\\u001b[2J-GHJK" in err and "https://as.example/d\\u202e" in err
    assert "https://as.example/d?user_code=BCDF" in err and "expires in 90 seconds" in err
    assert "dc_secret" not in err
