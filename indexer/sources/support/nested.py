"""Files inside containers go back through the source readers, as top-level files do.

An email's attachments, an archive's members, the files inside a TNEF stream: each is a `Member`.
`member_items` asks every source that reads members (`accepts_member`) and hands the member to
the best bidder, the way OCCRP ingest-file's manager delegates unpacked files back to itself. So an
attached message (a message/rfc822 part, an attached .msg, an .eml or winmail.dat in a zip, a PST's
embedded item) becomes an `email` item with its own sender, recipients, date, subject, thread and
attachments, read by the same code as a top-level message, and its attachments are members again.

A member no reader claims goes to Tika (`attachment_items`). So does one nested deeper than
`Limits.max_nesting_depth` (reported `too_large`: its text is indexed, its fields are not), one
larger than `Limits.max_attachment_bytes` (reported by `attachment_items`), and one its reader
could not read (reported with the reader's reason).
"""

from __future__ import annotations

from collections.abc import Iterator

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import READERS, Member, Note, Source, SourceContext


def choose_member(member: Member) -> Source | None:
    """The reader with the best `accepts_member` score for `member`, or None."""
    best, best_score = None, 0
    for source in READERS:
        accepts = getattr(source, "accepts_member", None)
        score = accepts(member) if accepts is not None else 0
        if score > best_score:
            best, best_score = source, score
    return best


def member_items(member: Member, ctx: SourceContext, note: Note, damage: str | None = None) -> Iterator[Item | Problem]:
    """Items for `member` (children of `member.parent`) and the problems its reader found. Problems of
    the Tika fallback go through `note`; `damage` says what was wrong with the member's container part."""
    reader = choose_member(member) if member.data and len(member.data) <= ctx.limits.max_attachment_bytes else None
    failure: tuple[str, str] | None = None
    if reader is not None and member.parent.depth + 1 > ctx.limits.max_nesting_depth:
        failure = (errors.TooLarge.code, f"{member.name!r} is nested {member.parent.depth + 1} levels deep, beyond the "
                   f"limit of {ctx.limits.max_nesting_depth}: it was not read as {reader.NAME}, only its text through Tika")
        reader = None
    if reader is not None:
        try:
            # Whole before yielding: a reader failing half-way must not leave half a message behind.
            produced = list(reader.read_member(member, ctx))
        except errors.IngestError as exc:
            failure = (exc.code, f"{member.name!r} could not be read as {reader.NAME} ({exc}); its text was read through Tika")
        except RecursionError:
            failure = (errors.Corrupt.code, f"{member.name!r} is nested too deeply to read as {reader.NAME} (a MIME bomb?)")
        except Exception as exc:  # noqa: BLE001 - a reader bug on one hostile member must not cost its container
            failure = ("reader_error", f"{member.name!r} could not be read as {reader.NAME}: {exc.__class__.__name__}: {exc}")
        else:
            own = next((i for i in produced if isinstance(i, Item) and i.locator == member.locator), None)
            if damage and own is not None:
                note(errors.Corrupt.code, f"{member.name!r} is damaged: {damage}", member.locator, own)
            yield from produced
            return
    items = attachment_items(member.data, member.name, member.content_type, member.locator, member.parent, ctx, note, damage)
    if failure is not None:
        note(failure[0], failure[1], member.locator, items[0])
        if items[0].extraction == "ok":
            items[0].extraction = "partial"
    yield from items
