"""The mock server (shipped in the app's bundle for ``--demo``) finds its own pages.

They are package data beside ``mock_server/state.py``: the source tree's
``mock_server/templates``, an installed wheel's, or the copy a frozen bundle
collects next to its ``mock_server`` modules. The mock server must stay importable
without PySide6 and without the app (it also runs on its own): each case runs in a
fresh interpreter where importing PySide6 or ``mcp_auth_desktop`` fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
sys.modules["PySide6"] = None  # any import of PySide6 now raises ImportError
sys.modules["mcp_auth_desktop"] = None  # nor may the mock reach into the app
if len(sys.argv) > 1:  # pretend to be the PyInstaller bundle unpacked there
    sys.frozen = True
    sys._MEIPASS = sys.argv[1]
from starlette.testclient import TestClient
from mock_server.app import create_app
from mock_server.config import MockConfig
from mock_server.state import MockState

config = MockConfig(base_url="http://127.0.0.1:8765")
state = MockState(config)
with TestClient(create_app(config), base_url="http://127.0.0.1:8765") as client:
    page = client.get("/authorize", follow_redirects=False)
import mock_server
print(json.dumps({"templates": str(state.templates_dir), "status": page.status_code,
                  "package": mock_server.__file__,
                  "body": page.text[:2000], "pyside": "PySide6.QtCore" in sys.modules}))
"""


def _probe(*args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "MCP_AUTH_DESKTOP_RESOURCES"}
    # A bundle's modules come first, as in the frozen app; the source tree otherwise.
    env["PYTHONPATH"] = os.pathsep.join([*args, str(ROOT)])
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env=env, cwd=args[0] if args else ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_mock_server_templates_from_the_source_tree_without_pyside() -> None:
    result = _probe()
    assert Path(str(result["templates"])) == ROOT / "mock_server" / "templates"
    assert result["pyside"] is False
    # An authorization request without parameters gets the mock's own error page.
    assert result["status"] == 400
    assert "<html" in str(result["body"]).lower()


def test_mock_server_templates_from_a_frozen_bundle(tmp_path: Path) -> None:
    # PyInstaller collects mock_server's modules and data files under _MEIPASS/mock_server.
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "mock_server", bundle / "mock_server",
                    ignore=shutil.ignore_patterns("__pycache__"))
    marker = "BUNDLED COPY OF THE ERROR PAGE"
    page = bundle / "mock_server" / "templates" / "mock_error.html"
    page.write_text(page.read_text(encoding="utf-8").replace("<body", f"<!-- {marker} --><body", 1),
                    encoding="utf-8")
    result = _probe(str(bundle))
    assert Path(str(result["package"])).is_relative_to(bundle)
    assert Path(str(result["templates"])) == bundle / "mock_server" / "templates"
    assert result["status"] == 400
    assert marker in str(result["body"])
