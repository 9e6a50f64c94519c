"""HTML email bodies: their visible text for search, and a sanitised copy safe to display.

Text comes from selectolax (lexbor); the display copy from nh3 (the Ammonia sanitiser).
The display copy keeps formatting but can never run or fetch anything: scripts, styles,
event handlers, forms and frames are removed, images keep only `cid:` (parts of the same
email) and `data:image/` sources, links keep only http(s), mailto and tel targets, and
relative URLs are dropped. Nothing here executes or follows the content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from selectolax.lexbor import LexborHTMLParser

_SAFE_IMAGE_SOURCES = ("cid:", "data:image/")
_SAFE_LINK_TARGETS = ("http:", "https:", "mailto:", "tel:")
_DROPPED_WITH_CONTENT = {"script", "style", "title", "noscript", "template", "iframe", "object", "svg", "math"}


def html_to_text(html: str) -> str:
    """Visible text of an HTML body (scripts and styles dropped); never executes anything."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, head"):
        node.decompose()
    root = tree.body or tree.root
    return root.text(separator="\n", strip=True) if root else ""


_WORD = re.compile(r"\w+")


def with_other_renderings(text: str, others: Iterable[str]) -> str:
    """`text` (a body as read from its preferred rendering, usually text/plain) followed by every line
    of the other renderings of the same body (the text of a text/html alternative) that holds a word
    `text` lacks. Mail clients write alternatives that differ (a signature, a disclaimer, a table only
    in the HTML): every word of every alternative must be searchable, each shared line only once."""
    seen = set(_WORD.findall(text.casefold()))
    extra = []
    for other in others:
        for line in other.splitlines():
            words = set(_WORD.findall(line.casefold()))
            if words - seen:
                extra.append(line.strip())
                seen |= words
    return "\n\n".join(part for part in (text, "\n".join(extra)) if part)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: no remote resources, no script or data links."""
    lowered = value.strip().lower()
    if attribute == "src":
        return value if lowered.startswith(_SAFE_IMAGE_SOURCES) else None
    if attribute in ("href", "cite"):
        return value if lowered.startswith(_SAFE_LINK_TARGETS) else None
    return value


def sanitize_html(html: str) -> str:
    """A copy of `html` safe to show in the UI: formatting kept, nothing active or remote."""
    return nh3.clean(
        html,
        tags=nh3.ALLOWED_TAGS - _DROPPED_WITH_CONTENT,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attribute_filter=_keep_attribute,
        url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
        url_relative="deny",
        strip_comments=True,
    ).strip()
