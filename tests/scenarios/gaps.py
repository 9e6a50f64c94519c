"""The record-keeping gap scenario: private email and WhatsApp with a known official record.

Custodian "Jane Minister" holds a private Gmail account, a private WhatsApp chat with her adviser
Tom and one with her mother, and an official DHSC mailbox. "Sam Deputy" holds one private email.
Every private item's truth is in `TRUTH` (found by a phrase unique to it):

| key        | date (UK)   | what                                                          | official_copy | business |
| ---------- | ----------- | ------------------------------------------------------------- | ------------- | -------- |
| u1_contract| 01/03 09:00 | Tom on WhatsApp: ventilator contract sign-off                 | none          | yes      |
| ok_1       | 01/03 09:05 | Jane: "ok"                                                    | none          | no       |
| u2_hold    | 02/03 10:00 | Jane: hold the Meridian order                                 | none          | yes      |
| will_do    | 03/03 11:00 | Tom: "Will do."                                               | none          | no       |
| near_email | 03/03 15:00 | Jane's Gmail to Meridian, pasted whole into an official email | near          | yes      |
| quoted     | 04/03 12:00 | Tom: Meridian confirmed units; quoted in an official email    | quoted        | yes      |
| exact_email| 04/03 16:00 | Jane's Gmail to Tom's official address, cc her own: held twice| exact         | yes      |
| great_news | 05/03 12:00 | Jane: "Great news, thanks Tom"                                | none          | no       |
| (deleted)  | 06/03 13:00 | Tom: "This message was deleted"                               | (event)       |          |
| u3_supplier| 07/03 14:00 | Jane: keep the supplier list off email                        | none          | yes      |
| (disapp.)  | 08/03 15:00 | Jane turned on disappearing messages                          | (event)       |          |
| mum_love   | 02/03 18:00 | Mum: "love you, dinner at 7?"                                 | none          | no       |
| mum_too    | 02/03 18:05 | Jane: "Yes! Love you too, see you at 7"                       | none          | no       |
| mum_lunch  | 09/03 19:00 | Mum: bring the dessert for Sunday lunch                       | none          | no       |
| understood | 09/03 16:00 | Tom: "Understood."                                            | none          | no       |
| (disapp.)  | 10/03 17:00 | Tom turned off disappearing messages                          | (event)       |          |
| costings   | 12/03 10:00 | Jane's Gmail to Meridian with ventilator-costings.csv         | none          | yes      |
| costings_csv | 12/03     | ... its attachment, later attached to an official email       | forwarded     | yes      |
| e4_private | 20/03 09:00 | Jane's Gmail to Tom's official address, in no official mailbox| none          | yes      |
| u4_press   | 28/03 09:00 | Tom (after an 18-day silence): press statement                | none          | yes      |
| comms      | 29/03 10:00 | Jane: statement is with the comms team                        | none          | no       |
| ok_2       | 30/03 11:00 | Tom: "ok"                                                     | none          | no       |
| easter     | 31/03 12:00 | Tom: "Happy Easter!"                                          | none          | no       |
| noted      | 01/04 12:00 | Tom: Meridian delivery schedule; official note that day       | note          | yes      |
| call_them  | 02/04 13:00 | Jane: "Thanks, will call them tomorrow"                       | none          | no       |
| sam_ppe    | 15/03 09:00 | Sam's Gmail about PPE procurement                             | none          | yes      |

So, for Jane: March 2024 has 10 business items (exact 1, near 1, quoted 1, forwarded 1, uncopied 6),
April 2024 has 1 (note 1); Sam: March 2024 has 1, uncopied. The Tom chat is active daily on 1-10
March and 28 March-2 April: one silence of 18 days (10 to 28 March); one deleted message; a
disappearing-messages period from 8 to 10 March.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from indexer.enrich.counterparts import run_counterparts
from indexer.pipeline import custody_for, run_ingest
from services.settings import Settings

JANE, SAM = "Jane Minister", "Sam Deputy"
JANE_GMAIL, JANE_OFFICIAL = "jane.minister@gmail.com", "jane.minister@dhsc.gov.uk"
TOM_OFFICIAL = "tom.adviser@dhsc.gov.uk"
OFFICE = "Private Office <private.office@dhsc.gov.uk>"
SARAH = "Sarah Supplier <sarah@meridian-supplies.example>"
TERMS = ["ventilator", "Meridian", "procurement", "PPE", "due diligence"]
LONDON = ZoneInfo("Europe/London")

NEAR_TEXT = (
    "Sarah, following our conversation this morning I can confirm that the department is minded to accept the revised "
    "terms for the second batch, provided that the delivery dates hold and the quality checks on the first consignment "
    "come back clean. I would rather we did not put the final figure in writing until the board has met next week, "
    "so please keep this between us for now."
)
QUOTED_TEXT = "Meridian confirmed two thousand ventilator units by end of April at the revised price."
COSTINGS_CSV = b"item,units,unit_price_gbp\nventilator,2000,15000\nservice plan,2000,1200\n"

# key -> (unique phrase, official_copy, business)
TRUTH: dict[str, tuple[str, str, bool]] = {
    "u1_contract": ("needs your sign-off before Friday", "none", True),
    "ok_1": ("ok", "none", False),
    "u2_hold": ("hold the Meridian order", "none", True),
    "will_do": ("Will do.", "none", False),
    "near_email": ("minded to accept the revised terms", "near", True),
    "quoted": (QUOTED_TEXT, "quoted", True),
    "exact_email": ("timetable for the ventilator procurement", "exact", True),
    "great_news": ("Great news, thanks Tom", "none", False),
    "u3_supplier": ("keep the supplier list off email", "none", True),
    "mum_love": ("love you, dinner at 7?", "none", False),
    "mum_too": ("Love you too, see you at 7", "none", False),
    "mum_lunch": ("bring the dessert for Sunday lunch", "none", False),
    "understood": ("Understood.", "none", False),
    "costings": ("Costings attached as discussed", "none", True),  # sent to a supplier: NER's org + "costings"
    "e4_private": ("the quality checks have slipped", "none", True),
    "u4_press": ("press statement about the hospital trusts", "none", True),
    "comms": ("Statement is with the comms team", "none", False),
    "ok_2": ("ok", "none", False),
    "easter": ("Happy Easter!", "none", False),
    "noted": ("delivery schedule, they want a call", "note", True),
    "call_them": ("Thanks, will call them tomorrow", "none", False),
    "sam_ppe": ("PPE procurement shortlist", "none", True),
}
ATTACHMENT_TRUTH = ("ventilator-costings.csv", "forwarded", True)

TOM_CHAT = [
    ("01/03/2024, 09:00", "Tom Adviser: Morning Jane, the ventilator contract with Meridian needs your sign-off before Friday."),
    ("01/03/2024, 09:05", "Jane Minister: ok"),
    ("02/03/2024, 10:00", "Jane Minister: Tell the procurement team to hold the Meridian order until the price review is done."),
    ("03/03/2024, 11:00", "Tom Adviser: Will do."),
    ("04/03/2024, 12:00", f"Tom Adviser: {QUOTED_TEXT}"),
    ("05/03/2024, 12:00", "Jane Minister: Great news, thanks Tom"),
    ("06/03/2024, 13:00", "Tom Adviser: This message was deleted"),
    ("07/03/2024, 14:00", "Jane Minister: Please keep the supplier list off email for now, we will sort the due diligence later."),
    ("08/03/2024, 15:00", "Jane Minister turned on disappearing messages. New messages will disappear from this chat 7 days after they're sent."),
    ("09/03/2024, 16:00", "Tom Adviser: Understood."),
    ("10/03/2024, 17:00", "Tom Adviser turned off disappearing messages."),
    ("28/03/2024, 09:00", "Tom Adviser: Back from leave. Where did we land on the press statement about the hospital trusts?"),
    ("29/03/2024, 10:00", "Jane Minister: Statement is with the comms team, not urgent."),
    ("30/03/2024, 11:00", "Tom Adviser: ok"),
    ("31/03/2024, 12:00", "Tom Adviser: Happy Easter!"),
    ("01/04/2024, 12:00", "Tom Adviser: Spoke to Meridian again about the ventilator delivery schedule, they want a call with you."),
    ("02/04/2024, 13:00", "Jane Minister: Thanks, will call them tomorrow"),
]
MUM_CHAT = [
    ("02/03/2024, 18:00", "Mum: love you, dinner at 7?"),
    ("02/03/2024, 18:05", "Jane Minister: Yes! Love you too, see you at 7"),
    ("09/03/2024, 19:00", "Mum: Don't forget to bring the dessert for Sunday lunch with your aunt and uncle"),
]


def _email(sender: str, to: list[str], subject: str, body: str, when: str, cc: list[str] = (),
           attachment: tuple[str, bytes] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = format_datetime(datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON))
    msg["Message-ID"] = make_msgid(domain="scenario.example")
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment[1], maintype="text", subtype="csv", filename=attachment[0])
    return bytes(msg)


@dataclass(frozen=True)
class Scenario:
    root: Path
    jane_private: Path
    jane_official: Path
    sam_private: Path


def write_scenario(root: Path) -> Scenario:
    """Write the scenario's files under `root` (see the module docstring for what they say)."""
    jane_private, jane_official, sam_private = root / "jane-private", root / "jane-official", root / "sam-private"
    for folder in (jane_private, jane_official, sam_private):
        folder.mkdir(parents=True, exist_ok=True)
    chat = "\n".join(f"{when} - {line}" for when, line in TOM_CHAT) + "\n"
    (jane_private / "WhatsApp Chat with Tom Adviser.txt").write_text(chat, encoding="utf-8")
    mum = "\n".join(f"{when} - {line}" for when, line in MUM_CHAT) + "\n"
    (jane_private / "WhatsApp Chat with Mum.txt").write_text(mum, encoding="utf-8")
    gmail = f"{JANE} <{JANE_GMAIL}>"
    official = f"{JANE} <{JANE_OFFICIAL}>"
    exact = _email(gmail, [f"Tom Adviser <{TOM_OFFICIAL}>"], "Ventilator timetable",
                   "Tom, here is the timetable for the ventilator procurement: bids close on 15 March, award on 22 March.",
                   "2024-03-04 16:00", cc=[official])
    (jane_private / "exact.eml").write_bytes(exact)
    # The same message as received in her official inbox: transport headers differ, the message hash does not.
    (jane_official / "exact-copy.eml").write_bytes(f"Delivered-To: {JANE_OFFICIAL}\r\n".encode() + exact)
    (jane_private / "near.eml").write_bytes(_email(gmail, [SARAH], "Second batch", NEAR_TEXT, "2024-03-03 15:00"))
    (jane_official / "near-copy.eml").write_bytes(
        _email(official, [OFFICE], "FYI: what I told Meridian", "Copying for the record.\n\n" + NEAR_TEXT, "2024-03-03 15:30"))
    (jane_official / "quote.eml").write_bytes(_email(
        official, [OFFICE], "Meridian update",
        f"For the file. Tom wrote on WhatsApp yesterday:\n\n> {QUOTED_TEXT}\n\nPlease diarise a catch-up.", "2024-03-05 09:30"))
    (jane_private / "costings.eml").write_bytes(_email(
        gmail, [SARAH], "Costings", "Costings attached as discussed. Please keep this between us.", "2024-03-12 10:00",
        attachment=("ventilator-costings.csv", COSTINGS_CSV)))
    (jane_official / "costings-forward.eml").write_bytes(_email(
        official, [OFFICE], "Costings shared externally", "Attached for the record.", "2024-03-13 10:00",
        attachment=("ventilator-costings.csv", COSTINGS_CSV)))
    (jane_private / "e4.eml").write_bytes(_email(
        gmail, [f"Tom Adviser <{TOM_OFFICIAL}>"], "Quality checks",
        "Tom, the quality checks have slipped by a week; do not tell the board yet.", "2024-03-20 09:00"))
    (jane_official / "note.eml").write_bytes(_email(
        official, [OFFICE], "Note for the record: call with Tom Adviser",
        "Tom Adviser updated me by phone on the Meridian ventilator delivery schedule. No decisions taken.", "2024-04-01 17:00"))
    (jane_official / "cabinet.eml").write_bytes(_email(
        official, [OFFICE], "Cabinet Office meeting", "Agenda for Thursday attached separately.", "2024-03-15 11:00"))
    (sam_private / "sam.eml").write_bytes(_email(
        f"{SAM} <sam.deputy@gmail.com>", [SARAH], "Shortlist", "Here is the PPE procurement shortlist we talked about.",
        "2024-03-15 09:00"))
    return Scenario(root, jane_private, jane_official, sam_private)


def scenario_settings(settings: Settings) -> Settings:
    """The session's settings with an index of the scenario's own and its business terms."""
    return settings.model_copy(update={"index_prefix": f"{settings.index_prefix}gaps-", "business_terms": TERMS})


_INGESTED: dict[str, Scenario] = {}


def ingest_scenario(settings: Settings, root: Path) -> Scenario:
    """Write and ingest the scenario into `settings`' index once per process (official mailbox last), then
    run the counterpart pass."""
    if settings.index_prefix in _INGESTED:
        return _INGESTED[settings.index_prefix]
    scenario = write_scenario(root)
    runs = ((scenario.jane_private, JANE, JANE_GMAIL, "private"), (scenario.sam_private, SAM, "sam.deputy@gmail.com", "private"),
            (scenario.jane_official, JANE, JANE_OFFICIAL, "official"))
    for folder, custodian, account, record in runs:
        custody = custody_for(settings, custodian, account, record, "gaps-scenario")
        run_ingest(settings, [folder], custody, root / f"report-{uuid.uuid4().hex[:6]}.jsonl")
    run_counterparts(settings)
    _INGESTED[settings.index_prefix] = scenario
    return scenario


def private_items(client, settings: Settings) -> list[dict]:
    """Every private item of the scenario's index, as `_source` dicts with their `id`."""
    response = client.search(index=settings.items_alias, body={"size": 500, "query": {"term": {"record": "private"}}})
    return [{**hit["_source"], "id": hit["_id"]} for hit in response["hits"]["hits"]]


def find(items: list[dict], phrase: str) -> list[dict]:
    """The items whose body is `phrase` (short phrases) or contains it (long ones)."""
    if len(phrase) < 12:
        return [item for item in items if (item.get("body") or "").strip() == phrase]
    return [item for item in items if phrase in (item.get("body") or "")]
