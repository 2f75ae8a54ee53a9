"""PySide6's import hook gets its answer without filling linecache (gui/source_cache.py).

In a fresh interpreter with the real PySide6: modules imported after
``answer_without_linecache()`` get the same feature default from the hook as PySide6's
own check gives them (0: the source names PySide6, -1: it does not), from a plain
file, a zipped module and a module without source, and none of their sources is left
in :mod:`linecache`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

_PROBE = """
import json, linecache, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import PySide6.QtCore
from mcp_auth_desktop.gui.source_cache import answer_without_linecache
feature = sys.modules["shibokensupport.feature"]
original = feature._mod_uses_pyside
linecache.clearcache()
changed = answer_without_linecache()
import plain_qt, plain_other, zipped_qt, zipped_other, _json
names = ("plain_qt", "plain_other", "zipped_qt", "zipped_other", "_json")
defaults = {n: feature.pyside_feature_dict.get(n) for n in names}
cached = sorted(linecache.cache)
theirs = {n: original(sys.modules[n]) for n in names}  # PySide6's own check (inspect)
print(json.dumps({"changed": changed, "defaults": defaults, "cached": cached, "theirs": theirs}))
"""


def test_the_hook_answers_as_pyside_does_without_keeping_sources(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "plain_qt.py").write_text("from PySide6.QtCore import QObject\nX = QObject\n")
    (plain / "plain_other.py").write_text("X = 'no Qt here'\n")
    archive = tmp_path / "mods.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_qt.py", "import PySide6\nX = 1\n")
        z.writestr("zipped_other.py", "X = 2\n")
    done = subprocess.run([sys.executable, "-c", _PROBE, str(plain), str(archive)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["changed"] is True
    assert seen["defaults"] == {"plain_qt": 0, "plain_other": -1, "zipped_qt": 0,
                                "zipped_other": -1, "_json": -1}
    # The same answers PySide6's own check gives, module for module.
    assert seen["theirs"] == {"plain_qt": True, "plain_other": False, "zipped_qt": True,
                              "zipped_other": False, "_json": False}
    assert seen["cached"] == []  # nothing was read into linecache on the way
