"""Writes assets/favicon.ico from assets/favicon.svg (16, 32 and 48 px, drawn by Debian Chromium).

Run after changing the SVG: `.venv/bin/python scripts/make_favicon.py`. Each size is a PNG
image inside the ICO container (supported by every browser that still asks for /favicon.ico),
so no imaging library is needed.
"""

from __future__ import annotations

import base64
import struct
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "assets" / "favicon.svg"
ICO = ROOT / "assets" / "favicon.ico"
SIZES = (16, 32, 48)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def render_pngs(svg: bytes, sizes: tuple[int, ...] = SIZES, chromium: str = "/usr/bin/chromium") -> list[bytes]:
    """The SVG drawn at each size, as PNG bytes with a transparent background."""
    src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    images = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for size in sizes:
                page = browser.new_page(viewport={"width": size, "height": size}, device_scale_factor=1)
                page.set_content(
                    f'<body style="margin:0"><img src="{src}" width="{size}" height="{size}" style="display:block">'
                )
                page.wait_for_function("() => document.images[0].complete && document.images[0].naturalWidth > 0")
                images.append(page.screenshot(omit_background=True, clip={"x": 0, "y": 0, "width": size, "height": size}))
                page.close()
        finally:
            browser.close()
    return images


def ico_bytes(pngs: list[bytes], sizes: tuple[int, ...] = SIZES) -> bytes:
    """An ICO file holding one PNG image per size (ICONDIR, ICONDIRENTRY each, then the images)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in zip(sizes, pngs, strict=True):
        side = 0 if size >= 256 else size  # 0 means 256 in the ICO format
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return header + entries + data


def main() -> None:
    ICO.write_bytes(ico_bytes(render_pngs(SVG.read_bytes())))
    print(f"wrote {ICO.relative_to(ROOT)} ({ICO.stat().st_size} bytes, {', '.join(f'{s}px' for s in SIZES)})")


if __name__ == "__main__":
    sys.exit(main())
