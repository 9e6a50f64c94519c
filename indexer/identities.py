"""Identities written the same way everywhere: readers normalise the phone numbers they read with
these functions, and the people registry (`indexer.enrich.people`) the ones in the alias file, so the
same number from WhatsApp, Signal, SMS and an alias row is one identity."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str, region: str = "GB") -> str | None:
    """E.164 form of `raw` if it is a plausible phone number (e.g. '+447700900123'), else None."""
    candidate = raw.strip().replace("\u202a", "").replace("\u202c", "")
    if sum(ch.isdigit() for ch in candidate) < 6:
        return None
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
