"""VS Code's own JSONC parser (jsonc-parser on Node 22, from scripts/bootstrap.d) as a test oracle."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / ".cache" / "conformance" / "node_modules" / "node" / "bin" / "node"
JSONC_DIR = ROOT / ".cache" / "jsonc-parser"


class VsCodeParser:
    """One long-lived node process; ``parse(text)`` is (error count, value) as VS Code sees it."""

    def __init__(self) -> None:
        if not (JSONC_DIR / "node_modules" / "jsonc-parser").is_dir():
            raise RuntimeError("jsonc-parser is missing: run scripts/bootstrap.sh test")
        self.proc = subprocess.Popen(
            [str(NODE), str(Path(__file__).with_name("jsonc_oracle.js")), str(JSONC_DIR)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ),
        )

    def parse(self, text: str) -> tuple[int, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(text) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return answer["errors"], answer["value"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def vscode_parser() -> Iterator[VsCodeParser]:
    parser = VsCodeParser()
    try:
        yield parser
    finally:
        parser.close()
