"""Deterministic benchmark corpus: mail with attachments (Maildir), WhatsApp exports, and ground truth.

`python -m bench.corpus DEST --size N [--seed S]` writes about N items:
  DEST/mail/<custodian>-<record>/{cur,new,tmp}/...   one RFC 5322 file per email (Maildir, so recoll
                                                     and notmuch index exactly the same files)
  DEST/chat/<custodian>/WhatsApp Chat with <name>.txt   Android and iOS layouts
  DEST/truth.json                                    planted phrases → where they are; duplicates; threads;
                                                     the WhatsApp messages official emails quote

Custodians each have an official and a private mailbox (folders `<name>-official`, `-private`);
2% of the emails into official mailboxes quote a WhatsApp message of the corpus for the record,
which is what the record-gaps pass should find (a message quoted is copied; the rest are not).
Text is drawn from a Zipf vocabulary with names, organisations, places and UK personal data
sprinkled in; replies form threads; some messages are copied to several custodians (exact
duplicates); 30% of emails carry a PDF, DOCX or PNG-with-text attachment, drawn from a pool half
that size so that, as in real mail, a little over half the attachments are copies of a file
sent before. Everything derives from the seed: the same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

COMMON = (
    "the of and to a in is that for it as with was on be by this are from at or have an they which one you "
    "had not but what all were when we there can been has more if will would who so no out up into do about "
    "than them its only time could new these two may first then any like other now our over such after also "
    "most some very well year work week day meeting update please thanks note draft team call review plan "
    "budget cost supply order stock delivery contract supplier price volume line brief question answer issue "
    "risk decision approval deadline report minutes agenda action point follow board office letter statement "
    "press media public policy guidance data figures numbers market offer terms payment invoice schedule"
).split()
DOMAIN = "ppe masks gowns vaccine procurement minister department testing capacity hospital trust clinic".split()
PEOPLE = ["Matt Hale", "Priya Shah", "Tom Reeve", "Grace Lin", "Ben Okafor", "Alice Hart", "Clara Moss", "Dan Price",
          "Kemi Adeyemi", "Sam Ward", "Jo Bright", "Omar Khan", "Lucy Fern", "Raj Patel", "Ellen Gray", "Hugh North"]
ORGS = ["Northgate Medical", "VaxBio", "Meridian Supplies", "Harbour Logistics", "NHS England", "Cabinet Office",
        "Treasury", "Public Health England", "Crown Commercial Service", "Ayrton Health"]
PLACES = ["Runcorn", "Leeds", "London", "Bristol", "Glasgow", "Cardiff", "Belfast", "Manchester", "Felixstowe"]
NI_NUMBERS = ["QQ123456C", "AB123456D", "JG103759A"]
NHS_NUMBERS = ["943 476 5919", "401 023 2137"]


@dataclass
class Truth:
    """What the corpus contains, for measuring recall and correctness."""

    planted: dict[str, dict] = field(default_factory=dict)
    duplicates: list[list[str]] = field(default_factory=list)
    threads: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    quoted_chat: list[str] = field(default_factory=list)  # WhatsApp messages quoted in official emails


class Writer:
    """Generates text and files from one seeded random stream."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        vocabulary = COMMON + DOMAIN
        self.words = vocabulary
        self.weights = [1 / (rank + 1) for rank in range(len(vocabulary))]

    def sentence(self, length: int | None = None) -> str:
        length = length or self.rng.randint(6, 18)
        words = self.rng.choices(self.words, self.weights, k=length)
        if self.rng.random() < 0.3:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(PEOPLE))
        if self.rng.random() < 0.2:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(ORGS))
        if self.rng.random() < 0.15:
            words.insert(self.rng.randrange(len(words)), "in " + self.rng.choice(PLACES))
        if self.rng.random() < 0.02:
            words.append(f"NI number {self.rng.choice(NI_NUMBERS)}")
        if self.rng.random() < 0.01:
            words.append(f"NHS number {self.rng.choice(NHS_NUMBERS)}")
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def paragraph(self, sentences: int | None = None) -> str:
        return " ".join(self.sentence() for _ in range(sentences or self.rng.randint(1, 5)))


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(datetime(2020, 1, 1, tzinfo=timezone.utc))
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def _docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in text.split("\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _png(text: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1240, 600), "white")  # a screenshot or photographed page of text
    draw = ImageDraw.Draw(image)
    words = text.split()
    for line in range(6):
        draw.text((30, 40 + 90 * line), " ".join(words[line * 6:(line + 1) * 6]), fill="black",
                  font=ImageFont.load_default(size=40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


ATTACHMENT_RATE = 0.3  # share of emails with an attachment
ATTACHMENT_KINDS = (("pdf", "application", "pdf", _pdf), ("docx", "application",
                    "vnd.openxmlformats-officedocument.wordprocessingml.document", _docx), ("png", "image", "png", _png))


def _attachment_pool(writer: Writer, size: int, planted: dict[str, str]) -> list[tuple[str, str, str, bytes]]:
    """(file name, maintype, subtype, bytes) for `size` distinct attachments; some carry a planted
    phrase (`planted`: file name → phrase; it goes into the truth once the file is sent)."""
    pool = []
    for number in range(size):
        extension, maintype, subtype, make = ATTACHMENT_KINDS[number % len(ATTACHMENT_KINDS)]
        text = writer.paragraph(8) if extension != "png" else writer.paragraph(3)
        name = f"attachment-{number:05d}.{extension}"
        if number % 25 == 0:
            phrase = f"lanternmark{number:05d}"
            text = f"{phrase} {text}"
            planted[name] = phrase
        pool.append((name, maintype, subtype, make(text)))
    return pool


QUOTE_RATE = 0.02  # share of emails into an official mailbox that put a WhatsApp message on the record


def write_mail(dest: Path, writer: Writer, emails: int, truth: Truth, custodians: int = 8,
               quotable: list[str] | None = None) -> int:
    """Write `emails` emails into one Maildir per custodian and record; returns the attachment count.

    With `quotable` (WhatsApp message texts), QUOTE_RATE of the emails into official mailboxes end
    by quoting one of them for the record: the counterparts the record-gaps pass should find."""
    rng = writer.rng
    # 30% of emails carry a file drawn from a pool half that size: a little over half the attachments
    # are copies of one sent before (forwards, reply-all, the same form to many), as in real mail.
    in_pool: dict[str, str] = {}
    pool = _attachment_pool(writer, max(12, int(emails * ATTACHMENT_RATE / 2)), in_pool)
    boxes = []
    for number in range(custodians):
        person = PEOPLE[number % len(PEOPLE)]
        handle = person.lower().replace(" ", ".")
        for record, domain in (("official", "dhsc.gov.uk"), ("private", "example.com")):
            folder = dest / "mail" / f"{handle}-{record}"
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            boxes.append((folder, f"{handle}@{domain}", person))
    start = datetime(2020, 3, 1, 8, 0, tzinfo=timezone.utc)
    attachments = 0
    recent: list[tuple[str, str, list[str]]] = []  # (message id, subject, references) for replies
    for number in range(emails):
        folder, account, person = boxes[number % len(boxes)]
        message = EmailMessage()
        message_id = f"<bench.{number}@lantern.example>"
        sender_box = boxes[rng.randrange(len(boxes))]
        message["From"] = f"{sender_box[2]} <{sender_box[1]}>"
        message["To"] = f"{person} <{account}>"
        when = start + timedelta(minutes=7 * number + rng.randint(0, 6))
        message["Date"] = format_datetime(when)
        message["Message-ID"] = message_id
        if recent and rng.random() < 0.35:
            parent_id, subject, references = recent[rng.randrange(len(recent))]
            message["Subject"] = "Re: " + subject
            message["In-Reply-To"] = parent_id
            references = references + [parent_id]
            message["References"] = " ".join(references)
            truth.threads.setdefault(references[0], []).append(message_id)
        else:
            subject = writer.sentence(rng.randint(3, 7)).rstrip(".")
            message["Subject"] = subject
            references = []
        body = "\n\n".join(writer.paragraph() for _ in range(rng.randint(1, 4)))
        if number % 97 == 0:
            phrase = f"lanternbody{number:06d}"
            body += f"\n\n{phrase}"
            truth.planted[phrase] = {"where": "body", "message_id": message_id}
        if quotable and folder.name.endswith("-official") and rng.random() < QUOTE_RATE:
            quoted = quotable[rng.randrange(len(quotable))]
            body += f"\n\nFor the record, from WhatsApp:\n> {quoted}"
            truth.quoted_chat.append(quoted)
        message.set_content(body)
        if rng.random() < ATTACHMENT_RATE:
            name, maintype, subtype, data = pool[rng.randrange(len(pool))]
            if name in in_pool:  # a planted phrase is in the corpus only once its file is sent
                truth.planted[in_pool.pop(name)] = {"where": name.rsplit(".", 1)[1], "file_name": name}
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
            attachments += 1
        raw = message.as_bytes()
        (folder / "cur" / f"{int(when.timestamp())}.M{number}P1.bench:2,S").write_bytes(raw)
        if rng.random() < 0.05:  # the same message also in another custodian's mailbox
            other = boxes[(number + 3) % len(boxes)][0]
            (other / "cur" / f"{int(when.timestamp())}.M{number}P2.bench:2,S").write_bytes(raw)
            truth.duplicates.append([message_id])
        recent.append((message_id, str(message["Subject"]).removeprefix("Re: "), references))
        recent = recent[-50:]
    return attachments


ANDROID = "{d:%d/%m/%Y}, {d:%H:%M} - {who}: {text}"
IOS = "[{d:%d/%m/%Y}, {d:%H:%M:%S}] {who}: {text}"


def write_whatsapp(dest: Path, writer: Writer, messages: int, truth: Truth, per_chat: int = 5000,
                   quotable: list[str] | None = None) -> int:
    """Write WhatsApp text exports totalling `messages` messages; returns the number of chats.
    One message in 50 of eight words or more is added to `quotable`."""
    rng = writer.rng
    chats = max(1, messages // per_chat)
    written = 0
    quotable = quotable if quotable is not None else []
    for chat in range(chats):
        count = per_chat if chat < chats - 1 else messages - written
        people = rng.sample(PEOPLE, 4)
        unsaved = f"+44 7700 9001{rng.randint(10, 99)}"  # a member not in the exporter's contacts: shown by number
        layout = ANDROID if chat % 2 == 0 else IOS
        folder = dest / "chat" / people[0].lower().replace(" ", "-")
        folder.mkdir(parents=True, exist_ok=True)
        when = datetime(2020, 3, 1, 8, 0) + timedelta(days=chat)
        lines = []
        for number in range(count):
            when += timedelta(seconds=rng.randint(5, 900))
            text = writer.sentence()
            if (written + number) % 211 == 0:
                phrase = f"lanternchat{written + number:07d}"
                text += f" {phrase}"
                truth.planted[phrase] = {"where": "whatsapp", "chat": f"{chat}"}
            if rng.random() < 0.05:
                text += "\n" + writer.sentence()  # multi-line message
            elif (written + number) % 50 == 7 and len(text.split()) >= 8:
                quotable.append(text)
            who = people[rng.randrange(len(people))] if rng.random() > 0.1 else unsaved
            lines.append(layout.format(d=when, who=who, text=text))
        name = f"WhatsApp Chat with {people[1]} {chat}.txt"
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written += count
    return chats


EMAIL_SHARE = 0.45  # of the items asked for, emails (attachments come on top); the rest chat messages


def generate(dest: Path, size: int, seed: int = 1, mail: bool = True, chat: bool = True, email_share: float = EMAIL_SHARE) -> Truth:
    """Write a corpus of about `size` items under `dest`: `email_share` emails (plus attachments) and
    the rest chat messages, or all of one kind when the other is switched off."""
    writer = Writer(seed)
    truth = Truth()
    emails = (max(10, int(size * email_share)) if chat else size) if mail else 0
    chat = max(10, size - emails) if chat else 0
    quotable: list[str] = []
    chats = write_whatsapp(dest, writer, chat, truth, quotable=quotable) if chat else 0
    attachments = write_mail(dest, writer, emails, truth, quotable=quotable) if emails else 0
    truth.counts = {"emails": emails, "attachments": attachments, "chat_messages": chat, "chats": chats}
    (dest / "truth.json").write_text(json.dumps(truth.__dict__, indent=1))
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--email-share", type=float, default=EMAIL_SHARE, help="share of the items that are emails")
    args = parser.parse_args()
    truth = generate(args.dest, args.size, args.seed, email_share=args.email_share)
    print(json.dumps(truth.counts))


if __name__ == "__main__":
    main()
