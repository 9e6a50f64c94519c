"""README.txt of a records-transfer package: what it is, how it was selected, how to file it."""

from __future__ import annotations

from collections import Counter
from typing import Any

_TEXT = """\
Lantern records-transfer package {package_id}
{rule}

What this is
  Official business that was done over private channels (personal email, WhatsApp, SMS and other
  chat) and of which Lantern found no copy in the official record. File it into the records
  system so that the official record holds it.

How it was selected
  Made {generated_at} by {by}.
  Custodians: {custodians}. Dates: {span}.
  Every private item with a business score of at least {threshold} (see Lantern's README,
  "Business relevance") whose official copy is "none" after the counterpart pass.
  {transferred}
  Scope of the person who made it: {scope}.
  Chit-chat (below the business threshold) and items already in the official record are left out.

What it holds: {files} file(s), {items} item(s)
{counts}

Layout
  <custodian>/email/      each email as an .eml file, with its attachments inside it
  <custodian>/<channel>/  one transcript per conversation and day (UTC) with that day's uncopied
                          business messages; the other messages of that day are not included
  <custodian>/files/      loose documents and chat attachments
  manifest.csv, manifest.json
                          one row per item: item id, custodian, channel, date, participants,
                          business signals, the file holding it with its SHA-256, the source it
                          came from with its SHA-256 and locator, and how the file was produced.

How each file was produced (manifest column produced_as)
{produced}
  Chat transcripts are plain text. RSMF (Relativity Short Message Format) is not written: Lantern
  has no RSMF writer yet.

After filing
  Ingest what was filed into Lantern as official record, then run the counterpart pass:
    lantern ingest FILED_FOLDER --custodian NAME --record official
    lantern report gaps --refresh
  Emails filed as they are match their private copies exactly; transcripts match their messages
  word for word ("quoted"). Until then the gap report shows these items as
  "transferred, awaiting filing".
"""


def readme_text(about: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The README for a package described by `about` (Package.chunks) holding `rows` (manifest rows)."""
    selection = about["selection"]
    produced = Counter(row["produced_as"] for row in rows)
    channels = Counter((row["custodian"], row["channel"], row["why"]) for row in rows)
    counts = "\n".join(f"  {custodian}, {channel}: {n} ({why})" for (custodian, channel, why), n in sorted(channels.items(), key=str))
    return _TEXT.format(
        package_id=about["package_id"], rule="=" * (34 + len(about["package_id"])), generated_at=about["generated_at"],
        by=about["by"], custodians=", ".join(selection["custodian"]) or "all", threshold=selection["business_threshold"],
        span=f"{selection['from'] or 'the first'} to {selection['to'] or 'the last'} (inclusive)",
        transferred=("Items already put into an earlier package are included again." if selection["include_transferred"]
                     else "Items already put into an earlier package are left out."),
        scope=_scope(selection["scope"]), files=about["files"], items=about["items"], counts=counts,
        produced="\n".join(f"  {name}: {meaning} ({produced.get(name, 0)} item(s))" for name, meaning in about["produced_as"].items()),
    )


def _scope(clauses: list[dict[str, Any]]) -> str:
    parts = []
    for clause in clauses:
        for kind in ("terms", "term"):
            for field, value in (clause.get(kind) or {}).items():
                parts.append(f"{field} {', '.join(value) if isinstance(value, list) else value}")
    return "; ".join(parts) or "everything"
