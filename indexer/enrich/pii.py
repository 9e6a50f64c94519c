"""UK personal-data detectors: typed entities with offsets, before disclosure (FOI section 40).

Each detector is a pattern plus a check that keeps false positives down:

- `email`: an address pattern; `norm` is the lowercased address.
- `phone`: `phonenumbers.PhoneNumberMatcher` (region GB). A match counts if libphonenumber calls
  it valid, or if it is written like a phone number (a leading `+` or `0`, 10+ digits) and is a
  possible one, which keeps Ofcom's drama ranges (07700 900xxx) and drops bare digit runs;
  `norm` is E.164.
- `ni_number`: National Insurance number, `AB123456C` (spaces allowed), with HMRC's prefix
  rules: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; never BG, GB, KN,
  NK, NT, TN, ZZ; suffix A-D.
- `nhs_number`: 10 digits (3-3-4 with optional spaces or dashes) whose modulus-11 check digit
  is right (a computed check of 10 is never issued, so rejected).
- `postcode`: the full UK format (outward and inward code, GIR 0AA), upper case.
- `bank_account`: a sort code NN-NN-NN with an 8-digit account number within 60 characters.
- `date_of_birth`: a date within 30 characters after "DOB", "date of birth" or "born".

Where detections overlap (an NHS number is also a possible phone number) the stronger check
wins, in the order of `PII_TYPES`. Written by hand because no maintained library covers UK
identifiers with their checksums; phone numbers use the library made for them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date

import phonenumbers

from indexer.model import Entity

# In order of precedence when two detections overlap.
PII_TYPES = ("email", "nhs_number", "ni_number", "bank_account", "date_of_birth", "postcode", "phone")

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")

_NI_NUMBER = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)"
    r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Za-z0-9])"
)

_NHS_NUMBER = re.compile(r"(?<![\d+\-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d\-])")

_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[0-9][A-HJKPS-UW])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])"
)

_SORT_CODE = re.compile(r"(?<![\d-])(\d{2})-(\d{2})-(\d{2})(?![\d-])")
_ACCOUNT_NUMBER = re.compile(r"(?<![\d-])\d{8}(?![\d-])")
_BANK_WINDOW = 60

_DOB_CUE = re.compile(r"(?i)\b(?:d\.?o\.?b\.?|date\s+of\s+birth|born(?:\s+on)?)\b")
_DOB_WINDOW = 30
_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for m in names}
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATES = (
    ("dmy", re.compile(r"(?<!\d)(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)")),
    ("ymd", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")),
    ("d_month_y", re.compile(rf"(?i)(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+(\d{{4}})(?!\d)")),
    ("month_d_y", re.compile(rf"(?i)\b{_MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)")),
)


def ni_number_valid(value: str) -> bool:
    """True if `value` (spaces allowed) is a well-formed National Insurance number under HMRC's prefix rules."""
    match = _NI_NUMBER.fullmatch(value.strip())
    return bool(match)


def nhs_check_digit_ok(digits: str) -> bool:
    """The NHS modulus-11 check: weights 10..2 over the first nine digits; 11 means 0, 10 is never issued."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _emails(text: str) -> Iterator[Entity]:
    for m in _EMAIL.finditer(text):
        yield Entity("email", m.group(), m.start(), m.end(), norm=m.group().lower())


def _phones(text: str, region: str) -> Iterator[Entity]:
    for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        digits = sum(ch.isdigit() for ch in m.raw_string)
        written_as_phone = m.raw_string.lstrip("(").startswith(("+", "0")) and digits >= 10
        if phonenumbers.is_valid_number(m.number) or written_as_phone:
            e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
            yield Entity("phone", m.raw_string, m.start, m.end, norm=e164)


def _ni_numbers(text: str) -> Iterator[Entity]:
    for m in _NI_NUMBER.finditer(text):
        yield Entity("ni_number", m.group(), m.start(), m.end(), norm="".join(m.groups()).upper())


def _nhs_numbers(text: str) -> Iterator[Entity]:
    for m in _NHS_NUMBER.finditer(text):
        if text[m.end(1):m.start(2)] != text[m.end(2):m.start(3)]:  # "943 476-5919" is not one number
            continue
        digits = "".join(m.groups())
        if nhs_check_digit_ok(digits):
            yield Entity("nhs_number", m.group(), m.start(), m.end(), norm=f"{digits[:3]} {digits[3:6]} {digits[6:]}")


def _postcodes(text: str) -> Iterator[Entity]:
    for m in _POSTCODE.finditer(text):
        compact = m.group().replace(" ", "")
        yield Entity("postcode", m.group(), m.start(), m.end(), norm=f"{compact[:-3]} {compact[-3:]}")


def _bank_accounts(text: str) -> Iterator[Entity]:
    for sort in _SORT_CODE.finditer(text):
        window_start, window_end = max(0, sort.start() - _BANK_WINDOW), sort.end() + _BANK_WINDOW
        accounts = [a for a in _ACCOUNT_NUMBER.finditer(text, window_start, window_end)]
        if not accounts:
            continue
        account = min(accounts, key=lambda a: abs(a.start() - sort.start()))
        start, end = min(sort.start(), account.start()), max(sort.end(), account.end())
        yield Entity("bank_account", text[start:end], start, end, norm=f"{sort.group()} {account.group()}")


def _parse_date(kind: str, groups: tuple[str, ...]) -> date | None:
    try:
        if kind == "dmy":
            day, month, year = int(groups[0]), int(groups[1]), int(groups[2])
            if len(groups[2]) == 2:
                year += 1900 if year > date.today().year % 100 else 2000
        elif kind == "ymd":
            year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
        elif kind == "d_month_y":
            day, month, year = int(groups[0]), _MONTHS[groups[1].lower().rstrip(".")], int(groups[2])
        else:
            month, day, year = _MONTHS[groups[0].lower().rstrip(".")], int(groups[1]), int(groups[2])
        born = date(year, month, day)
    except (ValueError, KeyError):
        return None
    return born if 1900 <= born.year <= date.today().year else None


def _dates_of_birth(text: str) -> Iterator[Entity]:
    for cue in _DOB_CUE.finditer(text):
        window_end = min(len(text), cue.end() + _DOB_WINDOW)
        found: list[tuple[int, int, date]] = []
        for kind, pattern in _DATES:
            for m in pattern.finditer(text, cue.end(), window_end):
                born = _parse_date(kind, m.groups())
                if born is not None:
                    found.append((m.start(), m.end(), born))
        if found:
            start, end, born = min(found)
            yield Entity("date_of_birth", text[start:end], start, end, norm=born.isoformat())


def detect_pii(text: str, region: str = "GB", field: str = "body") -> list[Entity]:
    """Every piece of UK personal data in `text`, typed, with offsets, in text order; overlaps resolved."""
    if not text:
        return []
    found = [
        *_emails(text), *_nhs_numbers(text), *_ni_numbers(text), *_bank_accounts(text),
        *_dates_of_birth(text), *_postcodes(text), *_phones(text, region),
    ]
    precedence = {name: rank for rank, name in enumerate(PII_TYPES)}
    found.sort(key=lambda e: (precedence[e.type], e.start))
    kept: list[Entity] = []  # never overlapping, so sorted by start is also sorted by end
    starts: list[int] = []
    ends: list[int] = []
    for entity in found:
        after = bisect_right(ends, entity.start)  # the first kept span ending after this one starts
        if after < len(kept) and starts[after] < entity.end:
            continue
        entity.field = field
        kept.insert(after, entity)
        starts.insert(after, entity.start)
        ends.insert(after, entity.end)
    return kept
