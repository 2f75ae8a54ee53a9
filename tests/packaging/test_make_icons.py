"""packaging/make_icons.py: ICO and ICNS containers with PNGs rendered from the SVG."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from ._support import PACKAGING, make_icons, spec_support

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _png_has_ink(data: bytes) -> bool:
    """True if any pixel byte is non-zero (an all-transparent image filters to zeros)."""
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    width, _ = _png_size(data)
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width  # filter byte + RGBA8
    return any(any(raw[row + 1:row + stride]) for row in range(0, len(raw), stride))


@pytest.fixture(scope="module")
def icons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("icons")
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "make_icons.py"), "--svg", str(spec_support.APP_SVG),
         "--out", str(out)],
        capture_output=True, text=True, timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return out


def test_ico_holds_every_size_as_a_drawn_png(icons: Path) -> None:
    data = (icons / "app.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, len(make_icons.ICO_SIZES))
    sizes = []
    for i in range(count):
        w, h, _, _, planes, bpp, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i:22 + 16 * i])
        png = data[offset:offset + length]
        size = w or 256
        assert (w, h, planes, bpp) == (size % 256, size % 256, 1, 32)
        assert _png_size(png) == (size, size)
        assert _png_has_ink(png)
        sizes.append(size)
    assert sizes == sorted(make_icons.ICO_SIZES)
    assert offset + length == len(data)


def test_icns_holds_every_type_with_the_right_pixel_size(icons: Path) -> None:
    data = (icons / "app.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    pos, seen = 8, {}
    while pos < len(data):
        ostype = data[pos:pos + 4]
        (length,) = struct.unpack(">I", data[pos + 4:pos + 8])
        seen[ostype] = _png_size(data[pos + 8:pos + length])
        pos += length
    assert pos == len(data)
    assert seen == {t: (s, s) for t, s in make_icons.ICNS_TYPES}


def test_pngs_for_the_hicolor_theme(icons: Path) -> None:
    for size in make_icons.PNG_SIZES:
        png = (icons / f"app-{size}.png").read_bytes()
        assert _png_size(png) == (size, size)
        assert _png_has_ink(png)


def test_blank_svg_renders_transparent(tmp_path: Path) -> None:
    # Guards _png_has_ink itself: an empty drawing must read as no ink.
    svg = tmp_path / "blank.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8" width="8" height="8"/>',
                   encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "make_icons.py"), "--svg", str(svg), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert not _png_has_ink((tmp_path / "app-32.png").read_bytes())


def test_invalid_svg_is_a_clear_error(tmp_path: Path) -> None:
    svg = tmp_path / "broken.svg"
    svg.write_text("this is not svg", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "make_icons.py"), "--svg", str(svg), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 1
    assert "not a valid SVG document" in result.stderr
    assert not (tmp_path / "app.ico").exists()
