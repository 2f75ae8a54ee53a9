"""Render the app icon SVG into the raster icons the platforms want.

    python packaging/make_icons.py [--svg mcp_auth_desktop/resources/icons/app.svg] --out build/icons

Writes ``app.ico`` (Windows), ``app.icns`` (macOS) and ``app-<size>.png``
(Linux hicolor theme). Qt renders the SVG; the ICO and ICNS containers are
written here with PNG payloads, so no imaging library is needed and the
rasters are regenerated from the one vector source on every build.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SVG = ROOT / "mcp_auth_desktop" / "resources" / "icons" / "app.svg"

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# ICNS element types that hold PNG data, with their pixel size. The @2x types
# (ic11..ic14, ic10) are what Retina displays pick.
ICNS_TYPES: tuple[tuple[bytes, int], ...] = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


class IconError(Exception):
    """The SVG could not be read or rendered."""


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file whose entries are PNG images (supported since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries = b""
    payload = b""
    for size in sizes:
        data = pngs[size]
        # A width/height byte of 0 means 256 pixels.
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        payload += data
    return header + entries + payload


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file with one PNG element per type in ICNS_TYPES."""
    body = b""
    for ostype, size in ICNS_TYPES:
        data = pngs[size]
        body += ostype + struct.pack(">I", 8 + len(data)) + data
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def render_pngs(svg: Path, sizes: set[int]) -> dict[int, bytes]:
    """PNG bytes of the SVG rendered square at each size, transparent background."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    try:
        source = svg.read_bytes()
    except OSError as exc:
        raise IconError(f"cannot read the app icon {svg}: {exc.strerror}") from exc
    renderer = QSvgRenderer(QByteArray(source))
    if not renderer.isValid():
        raise IconError(f"{svg} is not a valid SVG document")
    out: dict[int, bytes] = {}
    for size in sorted(sizes):
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        # The stubs say bytes, but PySide6 accepts only str for the format here.
        if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
            raise IconError(f"Qt could not encode a {size}px PNG of {svg}")
        out[size] = bytes(buffer.data().data())
    return out


def make_icons(svg: Path, out_dir: Path) -> list[Path]:
    """Write app.ico, app.icns and app-<size>.png into out_dir; returns the paths."""
    needed = set(ICO_SIZES) | set(PNG_SIZES) | {size for _, size in ICNS_TYPES}
    pngs = render_pngs(svg, needed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, data in (
        ("app.ico", ico_bytes({s: pngs[s] for s in ICO_SIZES})),
        ("app.icns", icns_bytes(pngs)),
        *((f"app-{s}.png", pngs[s]) for s in PNG_SIZES),
    ):
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--svg", type=Path, default=DEFAULT_SVG, help="the vector app icon")
    parser.add_argument("--out", type=Path, required=True, help="folder for the raster icons")
    args = parser.parse_args(argv)
    try:
        written = make_icons(args.svg, args.out)
    except IconError as exc:
        print(f"make_icons: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
