"""Check that every test the audits cite exists.

The audits cite tests as ``tests/path/file.py::test_name`` (or
``::TestClass::test_name``). A citation that no longer resolves means the
audit has drifted from the code, and `make test` fails.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITATION = re.compile(r"(tests/[\w/.-]+\.py)::([\w:]+)")


def defined_tests(path: Path) -> set[str]:
    """Names ``test_x`` and ``TestClass::test_x`` defined in a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(f"{node.name}::{item.name}")
    return names


def main() -> int:
    docs = sorted((ROOT / "audits").glob("*.md"))
    if not docs:
        print("audits-check: no audit documents found", file=sys.stderr)
        return 1
    cache: dict[Path, set[str]] = {}
    missing: list[str] = []
    total = 0
    for doc in docs:
        for lineno, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for file_part, name in CITATION.findall(line):
                total += 1
                path = ROOT / file_part
                if not path.is_file():
                    missing.append(f"{doc.name}:{lineno}: {file_part} does not exist")
                    continue
                if path not in cache:
                    cache[path] = defined_tests(path)
                if name not in cache[path]:
                    missing.append(f"{doc.name}:{lineno}: {file_part}::{name} is not defined")
    for m in missing:
        print(m, file=sys.stderr)
    print(f"audits-check: {total} citations in {len(docs)} documents, {len(missing)} missing")
    return 1 if missing or total == 0 else 0


if __name__ == "__main__":
    raise SystemExit(main())
