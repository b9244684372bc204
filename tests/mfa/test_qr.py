"""QR codes as SVG data URIs.

No QR decoder is installed (and none is added for this), so the picture is read
back as a module grid and compared with segno's QR symbol of the given text
(error level M at least). That checks the URI shows exactly that text, not some other.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import segno

from fuzzydice.mfa import totp
from fuzzydice.mfa.qr import qr_svg_data_uri
from fuzzydice.settings import Settings

URI = "otpauth://totp/Fuzzy%20Dice:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Fuzzy%20Dice"
BORDER = 2


def svg_of(data_uri: str) -> ET.Element:
    head, _, payload = data_uri.partition(",")
    assert head.startswith("data:image/svg+xml")
    text = base64.b64decode(payload).decode() if head.endswith(";base64") else unquote(payload)
    root = ET.fromstring(text)
    assert root.tag.rsplit("}", 1)[-1] == "svg"
    return root


def dark_modules(root: ET.Element) -> set[tuple[int, int]]:
    """(row, column) of every dark module, from the path of horizontal strokes segno draws."""
    paths = [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "path" and el.get("stroke")]
    assert len(paths) == 1
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, a, b in re.findall(r"([MmHhVvZz])\s*(-?[\d.]+)?(?:[\s,]+(-?[\d.]+))?", paths[0].get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        elif op == "h":
            length = float(a)
            dark.update((int(y - 0.5), int(x + i)) for i in range(int(length)))
            x += length
        else:
            raise AssertionError(f"unexpected path command {op}")
    return dark


def expected_modules(text: str) -> set[tuple[int, int]]:
    symbol = segno.make(text, error="m")
    return {
        (r + BORDER, c + BORDER) for r, row in enumerate(symbol.matrix) for c, on in enumerate(row) if on
    }


def test_returns_an_svg_data_uri() -> None:
    uri = qr_svg_data_uri(URI)
    assert uri.startswith("data:image/svg+xml")
    root = svg_of(uri)
    assert root.get("width") == root.get("height")


def test_the_picture_is_the_qr_symbol_of_the_text() -> None:
    assert dark_modules(svg_of(qr_svg_data_uri(URI))) == expected_modules(URI)


def test_a_provisioning_uri_round_trips_into_its_symbol() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), "ada@example.com", Settings())
    assert dark_modules(svg_of(qr_svg_data_uri(uri))) == expected_modules(uri)


def test_same_text_same_picture_other_text_other_picture() -> None:
    assert qr_svg_data_uri(URI) == qr_svg_data_uri(URI)
    other = URI.replace("JBSW", "KRSX")
    assert qr_svg_data_uri(other) != qr_svg_data_uri(URI)
    assert dark_modules(svg_of(qr_svg_data_uri(other))) != dark_modules(svg_of(qr_svg_data_uri(URI)))


def test_the_picture_has_a_quiet_border_and_a_light_background() -> None:
    root = svg_of(qr_svg_data_uri(URI))
    size = len(segno.make(URI, error="m").matrix) + 2 * BORDER
    dark = dark_modules(root)
    assert all(BORDER <= r < size - BORDER and BORDER <= c < size - BORDER for r, c in dark)
    fills = [el.get("fill") for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "path" and el.get("fill")]
    assert fills == ["#fff"]
