"""OCR: text in images is found through Tika's Tesseract parser, and the item says it was OCRed."""

from __future__ import annotations

import io
from email.message import EmailMessage

from PIL import Image, ImageDraw, ImageFont

from search_api.search import SearchRequest, run_search


def _png_with_text(text: str) -> bytes:
    image = Image.new("RGB", (1000, 200), "white")
    ImageDraw.Draw(image).text((20, 60), text, fill="black", font=ImageFont.load_default(size=48))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_text_in_an_attached_image_is_searchable_and_flagged_ocr(services, settings, ingest_files, tmp_path):
    message = EmailMessage()
    message["From"] = "scanner@dhsc.gov.uk"
    message["To"] = "alice.hart@dhsc.gov.uk"
    message["Subject"] = "Scanned note"
    message["Date"] = "Wed, 04 Mar 2020 09:00:00 +0000"
    message.set_content("Scan attached.")
    message.add_attachment(_png_with_text("Procurement quillwort 2020"), maintype="image", subtype="png", filename="scan.png")
    path = tmp_path / "scan.eml"
    path.write_bytes(message.as_bytes())

    summary, report = ingest_files([path], custodian="OCR Tester", record="official")

    assert report == []
    hits = run_search(services, settings.items_alias, SearchRequest(q="quillwort", custodian=["OCR Tester"]))["hits"]
    assert [(h["kind"], h["file_name"], h["extraction"]) for h in hits] == [("attachment", "scan.png", "ocr")]
