"""Issue 17 "Faster start": what the window's pure-Python layers (``gui/entry.py``'s
PRELOAD) load, counted in a fresh interpreter (a count, not a time: the same on any
machine).

The first frame needs the server states and views, the settings' parse and the store,
nothing that carries a secret and no event. What it does not need is deferred: the
events (``core/events.py``), the secret values (``core/credentials.py``), the
revocation report (``core/revocation_text.py``), the registry's vault half
(``core/registry.py`` with hashlib and the settings seal), platformdirs when a home
folder is set, subprocess (Windows' icacls only) and secrets (temporary names, drawn
only when writing). Each dataclass costs about a millisecond
to create, so their number is bounded too. The deferred names still work from where
callers imported them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Loaded by none of PRELOAD (with MCP_AUTH_DESKTOP_HOME set).
DEFERRED = ("mcp_auth_desktop.core.events", "mcp_auth_desktop.core.credentials",
            "mcp_auth_desktop.core.revocation_text", "mcp_auth_desktop.core.registry",
            "mcp_auth_desktop.core.settings_seal", "hashlib", "platformdirs", "subprocess",
            "secrets", "hmac", "tempfile")
#: Dataclasses the PRELOAD modules create (ServerView, the settings' parse, the stores'
#: values...): 29 before the deferral, 16 after. One more is a choice, to be made knowingly.
MAX_DATACLASSES = 16

_PROBE = """
import dataclasses, json, sys
from mcp_auth_desktop.gui import entry
entry.defer_asyncio()
for name in entry.PRELOAD:
    __import__(name)
loaded = dict(sys.modules)
dataclass_names = sorted(
    f"{name}.{value.__qualname__}" for name, module in loaded.items()
    if name.startswith("mcp_auth_desktop") for value in list(vars(module).values())
    if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name)
print(json.dumps({"loaded": [n for n in sys.argv[1:] if n in loaded],
                  "dataclasses": dataclass_names}))
"""


def _probe(tmp_path: Path) -> dict[str, list[str]]:
    env = {**os.environ, "MCP_AUTH_DESKTOP_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _PROBE, *DEFERRED], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_window_parts_load_none_of_what_the_first_frame_does_not_need(tmp_path: Path) -> None:
    seen = _probe(tmp_path)
    assert seen["loaded"] == [], f"loaded by gui/entry.py's PRELOAD: {seen['loaded']}"
    # The first frame's own types are there (a probe that loaded nothing would pass above).
    assert "mcp_auth_desktop.core.state.ServerView" in seen["dataclasses"]
    assert "mcp_auth_desktop.core.snapshot.RegistrySnapshot" in seen["dataclasses"]
    assert len(seen["dataclasses"]) <= MAX_DATACLASSES, seen["dataclasses"]


def test_the_deferred_names_still_answer_where_callers_imported_them() -> None:
    from mcp_auth_desktop.core import (
        credentials,
        events,
        models,
        registry,
        snapshot,
        state,
    )

    for name in ("StateChanged", "TokensRefreshed", "SignInNeeded", "RefreshFailed",
                 "ServerAdded", "ServerRemoved", "LogEvent", "ServerUpdated"):
        assert getattr(state, name) is getattr(events, name)
        assert issubclass(getattr(events, name), state.ManagerEvent)
    from mcp_auth_desktop.core import revocation_text

    assert state.RevocationReport is revocation_text.RevocationReport
    assert state.RevocationReport(supported=False).summary() == revocation_text.describe_revocation(
        revocation_text.RevocationReport(supported=False))
    for name in ("ClientRegistration", "TokenSet", "CredentialKey", "RegistrationMethod"):
        assert getattr(models, name) is getattr(credentials, name)
    for name in ("snapshot_from_document", "RegistrySnapshot", "PublicRegistration", "SERVERS",
                 "DISCOVERY", "REGISTRATIONS", "STATUS"):
        assert getattr(registry, name) is getattr(snapshot, name)
    from mcp_auth_desktop.core.models import TokenSet
    from mcp_auth_desktop.core.state import StateChanged

    assert TokenSet.from_dict({"access_token": "a", "unknown": 1}).access_token == "a"
    assert StateChanged("s", 1.0, state.ServerState.NEW, state.ServerState.SIGNED_IN).new is (
        state.ServerState.SIGNED_IN)
    for module, missing in ((state, "NoSuchEvent"), (models, "NoSuchModel")):
        with pytest.raises(AttributeError, match=missing):
            getattr(module, missing)
