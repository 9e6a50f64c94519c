"""The small tree of ingest errors. Each has a stable `code` the exception report counts by.

Sources and the extractor raise these; the pipeline turns them into `Problem` entries.
"""

from __future__ import annotations


class IngestError(Exception):
    """Something in an input could not be fully read. `code` names the kind of failure."""

    code = "error"


class Unsupported(IngestError):
    """No source reader accepts this file."""

    code = "unsupported"


class Unreadable(IngestError):
    """The file could not be opened or read (permissions, I/O error, vanished)."""

    code = "unreadable"


class Empty(IngestError):
    """The file has no content."""

    code = "empty"


class Corrupt(IngestError):
    """The content is malformed or truncated."""

    code = "corrupt"


class UnsafePath(IngestError):
    """An archive member's name points outside the archive ("../", an absolute path, a drive letter)."""

    code = "unsafe_path"


class Encrypted(IngestError):
    """The content is password-protected or encrypted."""

    code = "encrypted"


class TooLarge(IngestError):
    """The content is above a configured size limit."""

    code = "too_large"


class ExtractionFailed(IngestError):
    """The text extractor (Tika) failed on this content."""

    code = "extraction_failed"


class NoText(IngestError):
    """Extraction succeeded but found no text: an image, a scan without OCR, or a damaged file."""

    code = "no_text"


class ServiceUnavailable(IngestError):
    """A backing service did not answer; the input was not read, and re-running will retry it."""

    code = "service_unavailable"
