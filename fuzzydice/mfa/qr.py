"""QR codes rendered on the server (segno), as SVG data URIs."""

from __future__ import annotations

import segno


def qr_svg_data_uri(text: str) -> str:
    """An SVG QR code of `text` as a data URI for an <img>."""
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")
