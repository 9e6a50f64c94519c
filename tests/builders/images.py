"""Images with text in them, for tests of OCR."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont


def png_with_text(text: str) -> bytes:
    """A white PNG with `text` in large black letters, stored uncompressed like a scan (so it is
    above the OCR size threshold)."""
    image = Image.new("RGB", (900, 160), "white")
    ImageDraw.Draw(image).text((30, 40), text, fill="black", font=ImageFont.load_default(size=56))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()
