"""`make bench`: run every bench/bench_*.py, print one table, write JSON to .cache/bench/."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

from bench.common import Result


def main(argv: list[str]) -> int:
    only = set(argv)
    here = Path(__file__).parent
    results: list[Result] = []
    failed: list[str] = []
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        if only and info.name not in only and info.name.removeprefix("bench_") not in only:
            continue
        mod = importlib.import_module(f"bench.{info.name}")
        t0 = time.perf_counter()
        try:
            results.extend(mod.run())
        except Exception as exc:  # a broken benchmark must not hide the others
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
        print(f"[bench] {info.name} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    header = f"{'topic':<12} {'measure':<48} {'value':>12} {'unit':<6} {'baseline':>12} {'ratio':>8} {'target':>7} ok"
    print(header)
    print("-" * len(header))
    for r in results:
        base = f"{r.baseline:.4g}" if r.baseline is not None else "-"
        ratio = f"{r.ratio:.3f}" if r.ratio is not None else "-"
        target = f"<={r.target_ratio:g}" if r.target_ratio is not None else "-"
        ok = {True: "yes", False: "NO", None: "-"}[r.ok]
        print(f"{r.topic:<12} {r.name:<48} {r.value:>12.4g} {r.unit:<6} {base:>12} {ratio:>8} {target:>7} {ok}")
        if r.note:
            print(f"{'':<12}   {r.note}")
    out = Path(".cache/bench")
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {"results": [r.to_json() for r in results], "failed": failed}
    (out / f"bench-{stamp}.json").write_text(json.dumps(payload, indent=2))
    (out / "latest.json").write_text(json.dumps(payload, indent=2))
    for f in failed:
        print(f"FAILED {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
