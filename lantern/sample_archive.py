"""A small, deterministic demo archive that Lantern builds for itself (used by `make demo` and tests).

`generate(dest)` writes two fictional custodians' mailboxes (UK government setting, example domains) as four
MBOX files plus one loose `.eml`, with PDF (fpdf2) and DOCX (python-docx) attachments, reply threads, a forward,
a cross-custodian duplicate, an HTML-only message, a multipart/alternative message and an encoded-word subject.
Dates, Message-IDs, MIME boundaries, PDF/DOCX metadata and zip timestamps are all fixed, so a rerun over an
existing `dest` rewrites byte-identical files. `MAILBOXES` says how to ingest each mailbox.

Four marker words are planted once each (`MARKERS`); `SampleArchive.planted` says where, derived from the data
below (and checked to be unique) so it cannot drift from what is written.
"""

from __future__ import annotations

import html
import io
import itertools
import mailbox
import textwrap
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import NamedTuple

import docx
from fpdf import FPDF


class Mailbox(NamedTuple):
    """One mailbox to ingest: `path` (relative in `MAILBOXES`, absolute in `SampleArchive`)."""

    path: Path
    custodian: str
    account: str
    record: str  # "official" | "private"


MAILBOXES: tuple[Mailbox, ...] = (
    Mailbox(Path("alice-hart/official.mbox"), "Alice Hart", "alice.hart@dhsc.gov.uk", "official"),
    Mailbox(Path("alice-hart/private.mbox"), "Alice Hart", "alicehart@example.com", "private"),
    Mailbox(Path("ben-okafor/official.mbox"), "Ben Okafor", "ben.okafor@dhsc.gov.uk", "official"),
    Mailbox(Path("ben-okafor/private.mbox"), "Ben Okafor", "ben.okafor@example.org", "private"),
)
_BOX = dict(zip(("ao", "ap", "bo", "bp"), MAILBOXES, strict=True))
LOOSE_EML = Path("ben-okafor/loose/meeting-note.eml")
MARKERS = ("zanzibarquill", "marrowfinch", "tellurian", "quorvex")

PEOPLE = {
    "alice": "Alice Hart <alice.hart@dhsc.gov.uk>", "alicep": "Alice Hart <alicehart@example.com>",
    "ben": "Ben Okafor <ben.okafor@dhsc.gov.uk>", "benp": "Ben Okafor <ben.okafor@example.org>",
    "priya": "Priya Shah <priya.shah@dhsc.gov.uk>", "tom": "Tom Reilly <tom.reilly@dhsc.gov.uk>",
    "grace": "Grace Lin <grace.lin@dhsc.gov.uk>", "press": "DHSC Press Office <press.office@dhsc.gov.uk>",
    "mercer": "James Mercer <j.mercer@northgate-medical.example.net>",
    "clara": "Clara Lindqvist <clara.lindqvist@vaxbio.example.com>",
    "sam": "Sam Hart <sam.hart@example.com>", "jo": "Jo Patel <jo.patel@example.net>",
    "kemi": "Kemi Okafor <kemi.okafor@example.org>", "dan": "Dan Price <dan.price@example.net>",
    "seaview": "Seaview Cottages <bookings@seaview-cottages.example.com>",
}

# filename -> (title, paragraphs). PDF text must stay latin-1 (core font Helvetica).
ATTACHMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Northgate-offer-FFP3-2020-03-20.pdf": ("Northgate Medical Ltd - Revised Commercial Offer", (
        "Customer: Department of Health and Social Care.", "Product: FFP3 respirator masks, EN149:2001+A1:2009.",
        "Quantity: 2,000,000 units. Unit price: GBP 4.20 excluding VAT.",
        "Delivery: within 14 days of purchase order. This offer is valid until 27 March 2020.")),
    "PPE-pipeline-summary-2020-04-03.pdf": ("PPE supply pipeline - week commencing 30 March 2020", (
        "Consignment NG-07 (FFP3 masks, Northgate): on track, due 8 April.",
        "Consignment zanzibarquill (isolation gowns, overseas supplier): slipped one week, now due 14 April.",
        "Consignment HL-02 (nitrile gloves): on track, due 6 April.",
        "Gowns remain the critical line. Mutual aid between trusts continues.")),
    "Visit-brief-Northgate-2020-05-14.pdf": ("Ministerial visit: Northgate Medical, Runcorn - 14 May 2020", (
        "10:00 Arrive; met by James Mercer, Commercial Director.",
        "10:15 Tour of the FFP3 production line (pool camera only).",
        "10:45 Round table with staff, socially distanced.", "11:15 Short broadcast clip, then depart.")),
    "VaxBio-heads-of-terms-draft-v3.pdf": ("Heads of Terms - Supply of COVID-19 Vaccine (DRAFT v3)", (
        "Parties: the Secretary of State for Health and Social Care and VaxBio AB.",
        "Volume: 30 million doses, with an option for a further 60 million.",
        "Clause 7 (liability) and clause 12 (break) remain under negotiation.", "Subject to contract.")),
    "PPE-timeline-for-committee.pdf": ("Timeline: PPE procurement, March to July 2020", (
        "16 March: stock position escalated; nine days of FFP3 cover.", "23 March: Northgate purchase order issued.",
        "14 May: ministerial visit to Northgate.", "3 August: transparency statement published.")),
    "Vaccine-taskforce-minutes-2020-04-20.docx": ("Vaccine Taskforce - Minutes, 20 April 2020", (
        "Present: Grace Lin (chair), Alice Hart, commercial and legal colleagues.",
        "1. Portfolio: four candidate vaccines under discussion; VaxBio is the most advanced.",
        "2. Manufacturing: fill and finish capacity is the main constraint.",
        "Action: Alice Hart to share PPE supplier due-diligence template with the commercial team.")),
    "Press-lines-PPE-deliveries-v2.docx": ("Press lines: PPE deliveries (v2, for clearance)", (
        "Line 1: We are working around the clock to get PPE to the front line.",
        "Line 2: Millions of items have been delivered to trusts and care homes this week.",
        "Line 3: We are buying from new suppliers at home and abroad.",
        "Line 4: A further 2 million FFP3 masks are due shortly.")),
    "Vaccine-QandA-draft.docx": ("Vaccine supply agreement - draft Q&A", (
        "Q: How many doses has the UK secured? A: 30 million, with an option for more.",
        "Q: How much did it cost? A: We do not comment on commercial terms.",
        "Q: When will people be vaccinated? A: Only once the vaccine is proven safe and effective.")),
    "Five-a-side-rota-summer-2020.docx": ("Five-a-side rota - summer 2020", (
        "Team name (vote pending): marrowfinch. Kit: blue, bring both shirts.",
        "4 July: Dan, Kofi, Luke, Sid, Raj.", "11 July: Ben, Dan, Kofi, Luke, Sid.",
        "Subs are five pounds a game, cash or bank transfer to Dan.")),
    "Meeting-note-2020-05-14.docx": ("Note of meeting: Minister and Northgate Medical, 14 May 2020", (
        "The Minister thanked staff for increasing FFP3 output.",
        "Northgate raised the cost of raw materials and asked about longer contracts.",
        "The Minister made no commitment. Officials to follow up on volumes.")),
}


@dataclass(frozen=True)
class _Mail:
    key: str
    boxes: str  # space-separated keys of _BOX it is stored in
    date: str  # "YYYY-MM-DD HH:MM +zzzz"
    frm: str
    to: str  # space-separated keys of PEOPLE
    subject: str | None  # None: "Re: "/"Fwd: " + parent's subject
    body: str
    cc: str = ""
    reply: str = ""  # key of the message this one replies to
    fwd: str = ""  # key of the message forwarded inline
    attach: tuple[str, ...] = ()
    style: str = "plain"  # plain | alt (text+html) | html (html only)


MAILS: tuple[_Mail, ...] = (
    # -- Alice Hart, official
    _Mail("ao1", "ao", "2020-03-16 08:42 +0000", "tom", "alice", "PPE: gowns and FFP3 masks - stock position",
          "Alice,\nLatest from the warehouse: roughly nine days of FFP3 masks at the current burn rate, and gowns "
          "are worse. Can we talk at 10 about the Northgate offer?\nTom"),
    _Mail("ao2", "ao", "2020-03-16 09:05 +0000", "alice", "tom", None,
          "Yes, 10 works. Please bring the Northgate quote and anything on delivery dates. I've copied Priya so the "
          "Minister's office knows this is moving.\nAlice", cc="priya", reply="ao1"),
    _Mail("ao3", "ao", "2020-03-20 17:31 +0000", "mercer", "alice", "Northgate Medical - revised offer for FFP3 masks",
          "Dear Ms Hart,\nPlease find attached our revised offer for 2 million FFP3 masks, delivered within 14 days "
          "of a purchase order. Prices are held until Friday.\nKind regards,\nJames Mercer\n"
          "Commercial Director, Northgate Medical", cc="tom", attach=("Northgate-offer-FFP3-2020-03-20.pdf",)),
    _Mail("ao4", "ao", "2020-03-23 08:15 +0000", "alice", "mercer", None,
          "Thanks James. We would like to proceed, subject to the usual due diligence checks. Tom will send the "
          "purchase order today.\nRegards,\nAlice Hart\nDeputy Director, PPE Procurement", cc="tom", reply="ao3"),
    _Mail("ao5", "ao", "2020-04-03 11:20 +0100", "tom", "alice", "PPE pipeline summary w/c 30 March",
          "Weekly pipeline summary attached. Headline: one gowns consignment has slipped a week; masks and gloves "
          "are on track.\nTom", attach=("PPE-pipeline-summary-2020-04-03.pdf",)),
    _Mail("ao6", "ao", "2020-04-21 14:02 +0100", "grace", "alice", "Vaccine taskforce - minutes of 20 April",
          "Hi Alice,\nMinutes from yesterday attached, including your action on the due-diligence template. Shout "
          "if I've misrepresented anything.\nGrace", attach=("Vaccine-taskforce-minutes-2020-04-20.docx",)),
    _Mail("ao7", "ao bo", "2020-05-07 16:45 +0100", "priya", "tom", "Minister's visit to Northgate - 14 May",
          "All,\nThe Minister will visit Northgate Medical in Runcorn on Thursday 14 May. Draft brief attached. "
          "Alice - could you join? Ben - media handling, please.\nThanks,\nPriya\nPrivate Secretary",
          cc="alice ben", attach=("Visit-brief-Northgate-2020-05-14.pdf",)),
    _Mail("ao8", "ao", "2020-05-08 09:10 +0100", "alice", "priya", None,
          "Priya, happy to join. Worth the Minister seeing the FFP3 line itself; I'll send a short note on volumes "
          "before the visit.\nAlice", reply="ao7"),
    _Mail("ao9", "ao", "2020-06-11 10:30 +0100", "clara", "alice", "VaxBio - heads of terms for supply agreement",
          "Dear Alice,\nFurther to Tuesday's call, please find attached version 3 of the heads of terms. We have "
          "accepted your drafting on delivery schedules.\nBest wishes,\nClara Lindqvist\nVaxBio AB",
          cc="grace", attach=("VaxBio-heads-of-terms-draft-v3.pdf",)),
    _Mail("ao10", "ao", "2020-06-12 09:12 +0100", "alice", "clara", None,
          "Thank you Clara. Our lawyers are reviewing clause 7 on liability and the break clause. We aim to come "
          "back to you by 19 June.\nAlice", cc="grace", reply="ao9"),
    _Mail("ao11", "ao ap", "2020-06-13 19:48 +0100", "alice", "alicep", None, "To read over the weekend.", fwd="ao9"),
    _Mail("ao12", "ao", "2020-09-04 12:05 +0100", "alice", "priya tom", "Lessons learned: PPE procurement, March-July",
          "Priya, Tom,\nAhead of the committee session, a first go at lessons learned: we needed a standing "
          "due-diligence process before the crisis, not during it; and stock data arrived too late to be useful.\n"
          "Comments by Wednesday, please.\nAlice", style="alt"),
    # -- Alice Hart, private
    _Mail("ap1", "ap", "2020-03-14 18:20 +0000", "sam", "alicep", "Dinner tonight?",
          "Shall I pick up something from the Thai place on the way home? Or we could finally use those lentils.\nS x"),
    _Mail("ap2", "ap", "2020-03-14 18:34 +0000", "alicep", "sam", None,
          "Thai please. Long week. Green curry for me, and spring rolls.\nA x", reply="ap1"),
    _Mail("ap3", "ap", "2020-04-11 10:02 +0100", "jo", "alicep", "Zoom quiz Saturday",
          "Quiz night on Zoom at 8! I'm doing the music round. Bring your own wine, obviously.\nJo"),
    _Mail("ap4", "ap", "2020-04-11 12:40 +0100", "alicep", "jo", None,
          "Count us in. Sam says he'll do a picture round if you need one.\nAlice", reply="ap3"),
    _Mail("ap5", "ap", "2020-05-23 21:15 +0100", "alicep", "jo", "That novel",
          "Finished the novel you lent me. The tellurian chapter in the middle dragged, but the ending was worth "
          "it. I'll drop it back when we're allowed out.\nAlice"),
    _Mail("ap6", "ap", "2020-07-18 09:40 +0100", "jo", "alicep", "Réunion — café",
          "Coffee this week? The new place by the river has outdoor tables now. Wednesday before work?\nJo"),
    _Mail("ap7", "ap", "2020-07-18 10:05 +0100", "alicep", "jo", None,
          "Wednesday at 8 works. I'll be the one with the laptop bag.\nA", reply="ap6"),
    _Mail("ap8", "ap", "2020-08-15 12:00 +0100", "seaview", "alicep", "Booking confirmation SVC-20417",
          "Dear Alice Hart,\nThank you for booking Harbour View Cottage, Mousehole, Cornwall.\nArrival: Saturday "
          "22 August 2020 from 4pm. Departure: Saturday 29 August 2020 by 10am.\nBalance paid: GBP 640.00. "
          "Enjoy your stay!", style="html"),
    _Mail("ap9", "ap", "2020-09-06 20:11 +0000", "alicep", "sam", "Parents' evening",
          "Can you do parents' evening on the 14th? I'm stuck with committee prep all week.\nA x"),
    # -- Ben Okafor, official
    _Mail("bo1", "bo", "2020-03-18 07:55 +0000", "press", "ben", "Overnight media: PPE shortages",
          "Ben,\nPPE shortages lead three front pages this morning, with nurses' accounts of reusing masks. "
          "Broadcasters want a minister for the 8am bulletins.\nPress Office"),
    _Mail("bo2", "bo", "2020-03-18 08:20 +0000", "ben", "press", None,
          "Thanks. Hold the existing line for now. I'll draft something on the new supplier deal once it's signed.\n"
          "Ben", cc="priya", reply="bo1"),
    _Mail("bo3", "bo", "2020-03-25 15:10 +0000", "ben", "priya", "Press lines: PPE deliveries - for clearance",
          "Priya,\nDraft lines attached for the Minister's clearance. Deadline 5pm for the evening papers.\nBen\n"
          "Head of News", attach=("Press-lines-PPE-deliveries-v2.docx",)),
    _Mail("bo4", "bo", "2020-03-25 16:02 +0000", "priya", "ben", None,
          "Minister is content with lines 1 to 3. Please drop the figure in line 4 until commercial colleagues "
          "confirm it.\nPriya", reply="bo3"),
    _Mail("bo5", "bo", "2020-04-29 09:30 +0100", "tom", "ben", "Project quorvex - embargoed until contract signature",
          "Ben,\nHeads up on the new supplier announcement: nothing to go out until the contract is signed, "
          "probably next week. I'll confirm the wording with you first.\nTom"),
    _Mail("bo6", "bo", "2020-05-12 11:45 +0100", "ben", "priya", None,
          "Suggest pool camera only and no open questions on the factory floor. The Minister could do a short clip "
          "at the end of the visit.\nBen", reply="ao7"),
    _Mail("bo6b", "bo", "2020-05-12 12:30 +0100", "priya", "ben", None,
          "Agreed - no open questions. I'll let Northgate know and ask them to keep the floor clear of branding.\n"
          "Priya", reply="bo6"),
    _Mail("bo7", "bo", "2020-06-16 13:20 +0100", "grace", "ben", "Vaccine contract announcement - draft Q&A",
          "Ben,\nDraft Q&A for the vaccine supply announcement attached. Legal have cleared the factual answers.\n"
          "Grace", attach=("Vaccine-QandA-draft.docx",)),
    _Mail("bo8", "bo", "2020-06-16 15:05 +0100", "ben", "grace", None,
          "Thanks Grace. I've tightened the answer on price: we won't confirm a per-dose figure.\nBen", reply="bo7"),
    _Mail("bo9", "bo", "2020-07-21 08:05 +0000", "press", "ben", "Media monitoring - 21 July",
          "Morning summary\nPPE contracts: two broadsheets follow up on fast-track supplier awards.\n"
          "Vaccines: positive coverage of early trial results.\nSocial: steady, nothing trending about the "
          "department.", style="alt"),
    _Mail("bo10", "bo", "2020-08-03 17:55 +0100", "ben", "press", "Statement: PPE contracts transparency",
          "Please issue at 6pm:\n\"Every contract awarded has gone through robust checks, and we will publish "
          "details of all PPE contracts in line with our transparency obligations.\"\nBen"),
    _Mail("bo11", "bo", "2020-09-10 10:10 +0100", "ben", "priya", "Select committee prep - PPE",
          "Priya,\nA timeline for the Minister's committee briefing is attached. Dates checked against Alice's "
          "records.\nBen", attach=("PPE-timeline-for-committee.pdf",)),
    # -- Ben Okafor, private
    _Mail("bp1", "bp", "2020-03-21 10:15 +0000", "dan", "benp", "Five-a-side cancelled",
          "League's off until further notice. Gutted. Still on for the match on telly Saturday?\nDan"),
    _Mail("bp2", "bp", "2020-03-21 10:40 +0000", "benp", "dan", None,
          "Obviously. Mine at 3, in the garden and two metres apart if the weather holds.", reply="bp1"),
    _Mail("bp3", "bp", "2020-04-12 19:30 +0100", "kemi", "benp", "Mum's birthday",
          "Are we doing a video call for Mum on Thursday? I'll sort the cake delivery.\nK"),
    _Mail("bp4", "bp", "2020-04-12 20:02 +0100", "benp", "kemi", None,
          "Yes, 7pm. I'll send her the link. Don't let her see the cake photo in the family chat.", reply="bp3"),
    _Mail("bp5", "bp", "2020-06-20 11:00 +0100", "dan", "benp", "Summer five-a-side rota",
          "Rota attached for when we're allowed back. Shout if your dates are wrong.\nDan",
          attach=("Five-a-side-rota-summer-2020.docx",)),
    _Mail("bp6", "bp", "2020-06-20 12:30 +0100", "benp", "dan", None,
          "Fine by me, but I can't do 4 July - family thing.", reply="bp5"),
    _Mail("bp7", "bp", "2020-08-08 13:05 +0100", "kemi", "benp", "Dinner next week?",
          "Eat Out to Help Out? That Nigerian place on the high street. It's Monday to Wednesday only, so Tuesday?\nK"),
    _Mail("bp8", "bp", "2020-08-08 14:21 +0100", "benp", "kemi", None, "Tuesday works. Booked for 7:30.", reply="bp7"),
    _Mail("bp9", "bp", "2020-09-12 09:25 +0100", "tom", "benp", "Quick one",
          "Sorry to use this address. Can you call me before Monday's committee session? Not one for email.\nTom"),
)
LOOSE = _Mail("loose1", "", "2020-05-15 09:00 +0100", "priya", "ben", "Note of meeting: Minister and Northgate, 14 May",
              "Ben,\nNote of yesterday's meeting attached, for your records. Not for wider circulation.\nPriya",
              attach=("Meeting-note-2020-05-14.docx",))
_BY_KEY = {m.key: m for m in MAILS}
_FIXED = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SampleArchive:
    """What `generate` wrote under `root`."""

    root: Path
    mailboxes: tuple[Mailbox, ...]  # absolute paths, same order as MAILBOXES
    counts: dict[str, int]  # relative mbox path -> number of messages
    loose: tuple[Path, ...]
    duplicate_message_id: str  # in both custodians' official mailboxes
    planted: dict[str, dict[str, str | None]]


def _when(m: _Mail) -> datetime:
    return datetime.strptime(m.date, "%Y-%m-%d %H:%M %z")


def _addr(keys: str) -> str:
    return ", ".join(PEOPLE[k] for k in keys.split())


def _message_id(m: _Mail) -> str:
    return f"<{_when(m):%Y%m%d%H%M}.{m.key}@{PEOPLE[m.frm].split('@')[1].rstrip('>')}>"


def _html(text: str) -> str:
    paras = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.splitlines())
    return f'<html>\n<body style="font-family: Arial, sans-serif">\n{paras}</body>\n</html>\n'


def _pdf(name: str) -> bytes:
    title, paras = ATTACHMENTS[name]
    pdf = FPDF()
    pdf.set_creation_date(_FIXED)
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for para in paras:
        pdf.multi_cell(0, 6, para, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _docx(name: str) -> bytes:
    title, paras = ATTACHMENTS[name]
    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.last_modified_by, props.revision = title, "Lantern sample", "Lantern sample", 1
    props.created = props.modified = props.last_printed = _FIXED.replace(tzinfo=None)
    document.add_heading(title, level=1)
    for para in paras:
        document.add_paragraph(para)
    raw = io.BytesIO()
    document.save(raw)
    out = io.BytesIO()  # rewrite the zip: python-docx stamps members with the current time
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, (2020, 1, 1, 0, 0, 0)), src.read(info), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _subject(m: _Mail) -> str:
    if m.subject is not None:
        return m.subject
    base = _subject(_BY_KEY[m.reply or m.fwd])
    return ("Re: " if m.reply else "Fwd: ") + (base[4:] if base.startswith("Re: ") else base)


def _body(m: _Mail) -> str:
    if not m.fwd:
        return m.body
    orig = _BY_KEY[m.fwd]
    return (f"{m.body}\n\n---------- Forwarded message ---------\nFrom: {PEOPLE[orig.frm]}\n"
            f"Date: {format_datetime(_when(orig))}\nSubject: {_subject(orig)}\n"
            f"To: {_addr(orig.to)}\n\n{_body(orig)}")


def _build(m: _Mail) -> EmailMessage:
    subject, body = _subject(m), _body(m)
    msg = EmailMessage(policy=policy.default)
    msg["From"], msg["To"] = PEOPLE[m.frm], _addr(m.to)
    if m.cc:
        msg["Cc"] = _addr(m.cc)
    msg["Subject"], msg["Date"], msg["Message-ID"] = subject, format_datetime(_when(m)), _message_id(m)
    if m.reply:
        chain = [_BY_KEY[m.reply]]
        while chain[0].reply:
            chain.insert(0, _BY_KEY[chain[0].reply])
        msg["In-Reply-To"] = _message_id(chain[-1])
        msg["References"] = " ".join(_message_id(p) for p in chain)
    if m.style == "html":
        msg.set_content(_html(body), subtype="html")
    else:
        msg.set_content("".join(textwrap.fill(line, 72) + "\n" for line in body.splitlines()))
        if m.style == "alt":
            msg.add_alternative(_html(body), subtype="html")
    for name in m.attach:
        if name.endswith(".pdf"):
            msg.add_attachment(_pdf(name), "application", "pdf", filename=name)
        else:
            msg.add_attachment(_docx(name), "application",
                               "vnd.openxmlformats-officedocument.wordprocessingml.document", filename=name)
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_lantern_{m.key}_{i}")
    return msg


def _planted() -> dict[str, dict[str, str | None]]:
    """Locate each marker in the source data; fail loudly unless it occurs exactly once."""
    found: dict[str, list[dict[str, str | None]]] = {w: [] for w in MARKERS}
    for m in (*MAILS, LOOSE):
        boxes = [_BOX[b].path.as_posix() for b in m.boxes.split()] or [LOOSE_EML.as_posix()]
        subject = _subject(m)
        texts = [("subject", subject, None), ("body", _body(m), None)]
        texts += [(n.rsplit(".", 1)[1], " ".join((n, ATTACHMENTS[n][0], *ATTACHMENTS[n][1])), n) for n in m.attach]
        for (where, text, attachment), word, box in itertools.product(texts, MARKERS, boxes):
            if word in text.lower():
                found[word].append({"where": where, "mailbox": box, "subject": subject, "attachment": attachment})
    for word, hits in found.items():
        if len(hits) != 1:
            raise RuntimeError(f"marker {word!r} must occur exactly once, found {hits}")
    return {word: hits[0] for word, hits in found.items()}


def generate(dest: Path) -> SampleArchive:
    """Write the sample archive under `dest` (overwriting earlier output) and describe it."""
    dest = Path(dest)
    planted = _planted()
    counts: dict[str, int] = {}
    for key, box in _BOX.items():
        path = dest / box.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        mbox = mailbox.mbox(path, create=True)
        members = sorted((m for m in MAILS if key in m.boxes.split()), key=_when)
        for m in members:  # an explicit "From " line, else mailbox stamps the current time
            envelope = f"From {PEOPLE[m.frm].split('<')[1][:-1]} {time.asctime(_when(m).astimezone(UTC).timetuple())}\n"
            mbox.add(envelope.encode() + _build(m).as_bytes())
        mbox.close()
        counts[box.path.as_posix()] = len(members)
    eml = dest / LOOSE_EML
    eml.parent.mkdir(parents=True, exist_ok=True)
    eml.write_bytes(_build(LOOSE).as_bytes(policy=policy.SMTP))
    return SampleArchive(root=dest, mailboxes=tuple(box._replace(path=dest / box.path) for box in MAILBOXES),
                         counts=counts, loose=(eml,), duplicate_message_id=_message_id(_BY_KEY["ao7"]), planted=planted)
