"""Phone numbers for patients: parse, store in E.164, tell what can get an SMS.

Thin wrappers around the ``phonenumbers`` library (a hard requirement of this
addon: Odoo's own phone helpers silently keep the raw text without it).

A number with an extension (``ext. 12``, ``доб. 12``, ``转 12``) is stored in
E.164 followed by the RFC 3966 extension suffix: ``+861065529988;ext=12``.
``phonenumbers`` (and so Odoo's sanitizer, SMS and blacklist) reads that
back as the E.164 number, and the extension is not lost.
"""

import re

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

SMS_CAPABLE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

# Extension labels phonenumbers does not know (it reads "ext.", "x", "доб."...):
# Chinese 转 / 分机 / 转分机 / 内线, written before the digits.
_CJK_EXTENSION = re.compile(r"\s*(?:转分机|分机号?|转|内线)\s*[:：.]?\s*(\d{1,7})\s*$")


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number for the given country."""


def _prepare(number):
    text = (number or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    return _CJK_EXTENSION.sub(r" ext. \1", text)


def parse_phone(number, country_code=None):
    """Parse ``number`` written loosely (spaces, dashes, dots, brackets,
    ``00`` international prefix, an extension) against ``country_code``
    (ISO 3166 alpha-2) when it has no ``+`` prefix. Return a
    ``phonenumbers.PhoneNumber``.

    :raise InvalidPhoneNumber: when it cannot be parsed or is not a number
        that exists in that country's numbering plan.
    """
    text = _prepare(number)
    if not text:
        raise InvalidPhoneNumber(number)
    region = None if text.startswith("+") else (country_code or "").upper() or None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(number) from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(number)
    return parsed


def to_e164(number, country_code=None):
    """Return ``number`` in E.164 (``+8613800138000``), followed by
    ``;ext=12`` when it has an extension; raise InvalidPhoneNumber."""
    parsed = parse_phone(number, country_code)
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return f"{e164};ext={parsed.extension}" if parsed.extension else e164


def to_international(number):
    """``+86 138 0013 8000`` (and `` ext. 12``) for a stored number; the
    text itself when it cannot be read."""
    try:
        return phonenumbers.format_number(parse_phone(number), PhoneNumberFormat.INTERNATIONAL)
    except InvalidPhoneNumber:
        return number or ""


def example_number(country_code):
    """A valid example number of ``country_code`` in international format
    (a mobile where the plan has one), or "" for an unknown country."""
    region = (country_code or "").upper()
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE) or phonenumbers.example_number(
        region
    )
    return phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL) if example else ""


def can_receive_sms(number):
    """True when ``number`` (E.164, or anything ``parse_phone`` accepts with no
    country) is a mobile, or a number its plan cannot tell from a mobile."""
    try:
        parsed = parse_phone(number)
    except InvalidPhoneNumber:
        return False
    return phonenumbers.number_type(parsed) in SMS_CAPABLE_TYPES
