"""OCR: text in images is found through Tika's Tesseract parser, and the item says it was OCRed."""

from __future__ import annotations

import io
from email.message import EmailMessage

from PIL import Image, ImageDraw, ImageFont

from search_api.search import SearchRequest, run_search


def _png_with_text(text: str) -> bytes:
    """A page-like scan: a few lines of text, large enough to pass the OCR size threshold."""
    image = Image.new("RGB", (1240, 700), "white")
    draw = ImageDraw.Draw(image)
    lines = ["Department of Health and Social Care", text, "Minutes of the supply meeting, 4 March 2020",
             "Present: Alice Hart, Tom Reeve, Priya Shah", "Actions: confirm volumes with Northgate Medical"]
    for number, line in enumerate(lines):
        draw.text((40, 60 + 110 * number), line, fill="black", font=ImageFont.load_default(size=44))
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


def test_the_same_image_sent_twice_is_extracted_once_and_both_copies_are_searchable(services, settings, ingest_files, tmp_path):
    scan = _png_with_text("Procurement bramblewort 2020")
    paths = []
    for number, sender in enumerate(("scanner@dhsc.gov.uk", "alice.hart@example.com")):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, "tom.reeve@dhsc.gov.uk", f"Scan {number}"
        message["Date"] = f"Wed, 04 Mar 2020 0{number + 1}:00:00 +0000"
        message.set_content(f"Scan attached, copy {number}.")
        message.add_attachment(scan, maintype="image", subtype="png", filename=f"scan-{number}.png")
        paths.append(tmp_path / f"scan-{number}.eml")
        paths[-1].write_bytes(message.as_bytes())

    summary, report = ingest_files(paths, custodian="Cache Tester", record="official")

    assert report == []
    assert summary.extract_cache_hits == 1  # the second copy was not OCRed again
    hits = run_search(services, settings.items_alias, SearchRequest(q="bramblewort", custodian=["Cache Tester"]))["hits"]
    assert sorted((h["file_name"], h["extraction"]) for h in hits) == [("scan-0.png", "ocr"), ("scan-1.png", "ocr")]
