"""Attachments and embedded files: bytes → Tika → one item per file, nested as Tika found them.

Shared by every source that carries files (email parts, chat media, archive members).
"""

from __future__ import annotations

from indexer import errors
from indexer.digests import bytes_sha256, text_sha256
from indexer.extract import MAX_TEXT_CHARS
from indexer.model import Item
from indexer.sources.base import Note, SourceContext


def attachment_items(
    data: bytes, name: str, content_type: str | None, locator: str, parent: Item, ctx: SourceContext,
    note: Note, damage: str | None = None,
) -> list[Item]:
    """The attachment item for `data` (a child of `parent`) and one item per file Tika finds inside it.

    Failures never drop the attachment: it is returned with `extraction` set and `note` called
    with (code, reason, locator, item) so the caller can report it.
    """
    attachment = Item(
        id=ctx.item_id(locator), kind="attachment", channel=parent.channel,
        source_path=ctx.source_path, locator=locator, source_sha256=ctx.source_sha256, custody=ctx.custody,
        family_id=parent.family_id, parent_id=parent.id, depth=parent.depth + 1, date=parent.date,
        file_name=name, content_type=content_type, size=len(data), content_sha256=bytes_sha256(data),
    )
    if damage:
        note(errors.Corrupt.code, f"{name!r} is damaged: {damage}", locator, attachment)
        attachment.extraction = "partial"
    if not data:
        note(errors.Empty.code, f"attachment {name!r} is empty", locator, attachment)
        attachment.extraction = "failed"
        return [attachment]
    if len(data) > ctx.limits.max_attachment_bytes:
        note(errors.TooLarge.code, f"attachment {name!r} is {len(data)} bytes, above the {ctx.limits.max_attachment_bytes}-byte limit", locator, attachment)
        attachment.extraction = "failed"
        return [attachment]
    try:
        extracted = ctx.extractor.extract(data, name)
    except errors.IngestError as exc:
        note(exc.code, f"attachment {name!r}: {exc}", locator, attachment)
        attachment.extraction = "failed"
        return [attachment]
    by_path = {"": attachment}
    items = [attachment]
    for entry in extracted:
        if entry.embedded_path == "":
            target = attachment
            target.content_type = entry.content_type or target.content_type
        else:
            embedded_locator = f"{locator}!{entry.embedded_path}"
            container = by_path.get(entry.embedded_path.rsplit("/", 1)[0], attachment)
            target = Item(
                id=ctx.item_id(embedded_locator), kind="attachment", channel=parent.channel,
                source_path=ctx.source_path, locator=embedded_locator, source_sha256=ctx.source_sha256,
                custody=ctx.custody, family_id=parent.family_id, parent_id=container.id,
                depth=attachment.depth + entry.depth, date=parent.date,
                file_name=entry.file_name or entry.embedded_path.rsplit("/", 1)[-1], content_type=entry.content_type,
            )
            by_path[entry.embedded_path] = target
            items.append(target)
        target.body = entry.text
        if target is not attachment:
            target.content_sha256 = text_sha256(entry.text)
        if entry.failure is not None:
            note(entry.failure.code, f"{target.file_name!r}: {entry.failure}", target.locator, target)
            target.extraction = "failed" if not entry.text else "partial"
        if entry.truncated:
            note(errors.TooLarge.code, f"{target.file_name!r}: its text is longer than {MAX_TEXT_CHARS} characters; "
                 "only the text before that point was extracted", target.locator, target)
            target.extraction = "partial"
        for warning in entry.warnings:
            note(errors.ExtractionFailed.code, f"{target.file_name!r}: {warning}", target.locator, target)
            if target.extraction == "ok":
                target.extraction = "partial"
        if entry.ocr and entry.text and target.extraction == "ok":
            target.extraction = "ocr"
        if not entry.text and target.extraction == "ok" and _small_image(target, data, ctx):
            # Logos, icons, document thumbnails: kept as items, marked, but not exception-report noise.
            target.problems.append("image below the OCR size threshold: not OCRed")
            target.extraction = "partial"
        elif not entry.text and target.extraction == "ok":
            # Not an error of the file, but the officer must know this item is not text-searchable.
            note(errors.NoText.code, f"{target.file_name!r}: no text could be extracted ({target.content_type}); "
                 "it may be an image or a scan, or damaged", target.locator, target)
            target.extraction = "partial"
    return items


def _small_image(item: Item, data: bytes, ctx: SourceContext) -> bool:
    """An image too small to be worth OCR: embedded images inside documents, or an image attachment under the threshold."""
    if not (item.content_type or "").startswith("image/"):
        return False
    if item.size is None:  # embedded in a document (Tika gives no size): thumbnails and decorations
        return True
    return item.size < ctx.limits.ocr_min_bytes
