"""UK personal-data detectors on fixed texts: expected types, spans and normalised values, and near-misses."""

from __future__ import annotations

import pytest

from indexer.enrich.pii import detect_pii, nhs_check_digit_ok, ni_number_valid


def _found(text: str, kind: str | None = None) -> list[tuple[str, str, str | None]]:
    """(type, text at the reported span, norm) of each detection, checking the span is the entity's text."""
    out = []
    for entity in detect_pii(text):
        assert text[entity.start:entity.end] == entity.text
        if kind is None or entity.type == kind:
            out.append((entity.type, entity.text, entity.norm))
    return out


def test_every_detector_on_one_text_with_exact_spans():
    text = ("Patient John Smith, DOB: 03/04/1975, NHS number 943 476 5919, NI AB 12 34 56 C. "
            "Lives at 10 Downing Street, London SW1A 2AA. Call 07700 900123 or email John.Smith@Example.com. "
            "Pay sort code 12-34-56 account 12345678.")
    entities = detect_pii(text)
    spans = {(e.type, e.start, e.end) for e in entities}
    for kind, value in [("date_of_birth", "03/04/1975"), ("nhs_number", "943 476 5919"), ("ni_number", "AB 12 34 56 C"),
                        ("postcode", "SW1A 2AA"), ("phone", "07700 900123"), ("email", "John.Smith@Example.com")]:
        start = text.index(value)
        assert (kind, start, start + len(value)) in spans, kind
    bank_start = text.index("12-34-56")
    assert ("bank_account", bank_start, text.index("12345678") + 8) in spans
    assert {e.type: e.norm for e in entities} == {
        "date_of_birth": "1975-04-03", "nhs_number": "943 476 5919", "ni_number": "AB123456C", "postcode": "SW1A 2AA",
        "phone": "+447700900123", "email": "john.smith@example.com", "bank_account": "12-34-56 12345678",
    }
    assert len(entities) == 7  # nothing else: the NHS number is not also a phone, the account not a phone


@pytest.mark.parametrize("value", ["AB123456C", "AB 12 34 56 C", "ab123456d", "JG103759A", "ZY987654B", "CE123456A"])
def test_valid_national_insurance_numbers_match(value):
    assert ni_number_valid(value)
    assert _found(f"NI number {value}.", "ni_number")[0][1] == value


@pytest.mark.parametrize("value", [
    "GB123456A", "BG123456A", "KN123456A", "NK123456A", "NT123456A", "TN123456A", "ZZ123456A",  # never issued
    "DA123456A", "FA123456A", "IA123456A", "QA123456A", "UA123456A", "VA123456A",  # first letter not allowed
    "AD123456A", "AF123456A", "AI123456A", "AO123456A", "AQ123456A", "AU123456A", "AV123456A",  # second letter
    "AB123456E", "AB12345C", "AB1234567C", "XAB123456C",  # suffix, digit count, run into other text
])
def test_invalid_national_insurance_numbers_do_not_match(value):
    assert not ni_number_valid(value)
    assert _found(f"NI number {value}.", "ni_number") == []


@pytest.mark.parametrize("value", ["943 476 5919", "9434765919", "943-476-5919", "401 023 2102", "401 023 2110"])
def test_nhs_numbers_with_a_good_check_digit_match(value):
    assert _found(f"NHS no {value} on file", "nhs_number") == [("nhs_number", value, nhs_format(value))]


def nhs_format(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


@pytest.mark.parametrize("value", [
    "943 476 5918",  # wrong check digit
    "943 476 5910",
    "100 000 0010",  # the check digit computes to 10: never issued
    "000 000 0000",  # passes the arithmetic, but no such number
    "943 476-5919",  # mixed separators: not one number
    "94347659190",  # eleven digits
])
def test_nhs_near_misses_do_not_match(value):
    assert _found(f"NHS no {value} on file", "nhs_number") == []


def test_nhs_check_digit_rule():
    assert nhs_check_digit_ok("9434765919")
    assert not nhs_check_digit_ok("9434765918")
    assert not nhs_check_digit_ok("1000000010") and not nhs_check_digit_ok("1000000011")


@pytest.mark.parametrize("value", ["SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB", "W1A 0AX", "GIR 0AA", "SW1A2AA"])
def test_uk_postcodes_match(value):
    assert [t for _, t, _ in _found(f"Address: 1 High St, {value}, UK", "postcode")] == [value]


@pytest.mark.parametrize("value", ["QA1 1AA", "SW1A 1CA", "VA1 1AA", "SW1A 1A", "AB123 4CD"])
def test_postcode_near_misses_do_not_match(value):
    assert _found(f"Address: {value} here", "postcode") == []


def test_phone_numbers_are_normalised_to_e164_and_bare_digit_runs_are_not_phones():
    found = _found("Ring +44 20 7946 0958 or 0161 496 0000 or (07700) 900 456. Ref 12345678, invoice 2024-01-15.", "phone")
    assert [n for _, _, n in found] == ["+442079460958", "+441614960000", "+447700900456"]


def test_bank_account_needs_a_sort_code_near_an_eight_digit_account():
    assert _found("Sort code: 40-47-84, account no. 70872490", "bank_account")[0][2] == "40-47-84 70872490"
    assert _found("Account 70872490 at sort code 40-47-84", "bank_account")[0][2] == "40-47-84 70872490"
    assert _found("Sort code 40-47-84 only", "bank_account") == []
    far = "Sort code 40-47-84. " + "Nothing to see here at all, just words. " * 3 + "Account 70872490"
    assert _found(far, "bank_account") == []
    assert _found("Account 7087249 sort code 40-47-84", "bank_account") == []  # seven digits


@pytest.mark.parametrize("text,norm", [
    ("DOB: 03/04/1975", "1975-04-03"),
    ("D.O.B. 3.4.75", "1975-04-03"),
    ("date of birth 12 March 1968", "1968-03-12"),
    ("she was born on 1st January 1990 in Leeds", "1990-01-01"),
    ("Born: 1990-01-31", "1990-01-31"),
    ("Date of Birth: March 5, 1981", "1981-03-05"),
])
def test_dates_of_birth_near_a_cue(text, norm):
    assert [n for _, _, n in _found(text, "date_of_birth")] == [norm]


@pytest.mark.parametrize("text", [
    "the meeting on 03/04/1975 went well",  # no cue
    "DOB 31/02/1980",  # no such date
    "DOB to follow; the file was opened on 03/04/1975",  # the date is too far from the cue
    "born 2999-01-01",  # in the future
])
def test_dates_without_a_birth_cue_or_impossible_are_not_dates_of_birth(text):
    assert _found(text, "date_of_birth") == []


def test_email_addresses_are_found_and_lowercased():
    assert _found("write to Alice.Hart@dhsc.gov.uk, or a.b+foi@mail.example.co.uk.", "email") == [
        ("email", "Alice.Hart@dhsc.gov.uk", "alice.hart@dhsc.gov.uk"),
        ("email", "a.b+foi@mail.example.co.uk", "a.b+foi@mail.example.co.uk"),
    ]


def test_plain_prose_has_no_personal_data():
    assert detect_pii("The minister met the board on Tuesday to discuss the 2021 budget of 12 million pounds.") == []
