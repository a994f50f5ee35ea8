"""Checksums and shape checks that turn a regex candidate into a finding.

A 16-digit number is a card number only if it passes Luhn and starts with a card network's
prefix; an IBAN only if its mod-97 checksum holds for its country's length. Validators keep the
false-positive rate low on ids, timestamps and order numbers that merely look like PII.
Plain Python, no OpenTelemetry imports.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re

_NOT_DIGIT = re.compile(r"\D")


def digits_of(text: str) -> str:
    return _NOT_DIGIT.sub("", text)


def luhn_ok(number: str) -> bool:
    """The Luhn (mod 10) checksum of a string of digits."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# Issuer prefixes and the lengths each network issues (ISO/IEC 7812 ranges in public use).
_CARD_RULES: tuple[tuple[tuple[int, int], int, frozenset[int]], ...] = (
    ((4, 4), 1, frozenset({13, 16, 19})),  # Visa
    ((51, 55), 2, frozenset({16})),  # Mastercard
    ((2221, 2720), 4, frozenset({16})),  # Mastercard 2-series
    ((34, 34), 2, frozenset({15})),  # American Express
    ((37, 37), 2, frozenset({15})),
    ((300, 305), 3, frozenset({14, 16, 19})),  # Diners Club
    ((36, 36), 2, frozenset({14, 16, 19})),
    ((38, 39), 2, frozenset({14, 16, 19})),
    ((6011, 6011), 4, frozenset({16, 19})),  # Discover
    ((644, 649), 3, frozenset({16, 19})),
    ((65, 65), 2, frozenset({16, 19})),
    ((3528, 3589), 4, frozenset({16, 17, 18, 19})),  # JCB
    ((62, 62), 2, frozenset({16, 17, 18, 19})),  # UnionPay
    ((50, 50), 2, frozenset(range(12, 20))),  # Maestro
    ((56, 59), 2, frozenset(range(12, 20))),
    ((60, 69), 2, frozenset(range(12, 20))),
    ((2200, 2204), 4, frozenset({16, 17, 18, 19})),  # Mir
)


def card_ok(candidate: str) -> bool:
    """A payment card number: a network's prefix and length, and a valid Luhn checksum."""
    number = digits_of(candidate)
    if not 12 <= len(number) <= 19 or len(set(number)) < 2:
        return False
    for (low, high), width, lengths in _CARD_RULES:
        if len(number) in lengths and low <= int(number[:width]) <= high:
            return luhn_ok(number)
    return False


# Country -> IBAN length (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_SPACES = re.compile(r"[\s-]")


def iban_ok(candidate: str) -> bool:
    """An IBAN: known country, that country's length, and the ISO 13616 mod-97 checksum."""
    iban = _SPACES.sub("", candidate).upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum() or not iban.isascii():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def ssn_ok(candidate: str) -> bool:
    """A US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    number = digits_of(candidate)
    area, group, serial = number[:3], number[3:5], number[5:]
    return len(number) == 9 and area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def phone_ok(candidate: str) -> bool:
    """Between 7 and 15 digits (E.164 allows at most 15), not one repeated digit."""
    number = digits_of(candidate)
    return 7 <= len(number) <= 15 and len(set(number)) > 2


_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|version|ver\.?|release|build|rev(?:ision)?|firmware|fw|agent|os)[\s:=]*$")


def ipv4_ok(candidate: str, before: str = "") -> bool:
    """A routable-looking IPv4 address (not 0.0.0.0, loopback or broadcast), not a version number."""
    if _VERSION_CONTEXT.search(before):
        return False
    octets = _ipv4_octets(candidate)
    return octets is not None and octets[0] != 127 and octets not in ([0, 0, 0, 0], [255, 255, 255, 255])


def _ipv4_octets(candidate: str) -> list[int] | None:
    """The four octets, by the rules of ``ipaddress.IPv4Address`` (ASCII digits, no leading zero), or None."""
    parts = candidate.split(".")
    if len(parts) != 4:
        return None
    octets: list[int] = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3 or (part[0] == "0" and part != "0"):
            return None
        octet = int(part)
        if octet > 255:
            return None
        octets.append(octet)
    return octets


def ipv6_ok(candidate: str, before: str = "") -> bool:
    """A valid IPv6 address other than :: and ::1."""
    address_text = candidate.split("%", 1)[0]
    if len(address_text) < 6 or address_text.count(":") < 2:
        return False
    try:
        address = ipaddress.IPv6Address(address_text)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def _b64json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def jwt_ok(candidate: str) -> bool:
    """A JWT/JWS: its header decodes to a JSON object."""
    try:
        return isinstance(_b64json(candidate.split(".", 1)[0]), dict)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False


def basic_credentials_ok(candidate: str) -> bool:
    """``Basic <base64>`` whose payload decodes to ``user:password``."""
    token = candidate.split()[-1]
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def token_ok(candidate: str) -> bool:
    """An opaque token, not an English word: long, or holding a digit or token punctuation."""
    token = candidate.split()[-1] if " " in candidate else candidate
    return len(token) >= 20 or any(char.isdigit() or char in "._~+/=-" for char in token)
