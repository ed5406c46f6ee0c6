"""Phone numbers for patients: parse, store in E.164, tell what can get an SMS.

Thin wrappers around the ``phonenumbers`` library (a hard requirement of this
addon: Odoo's own phone helpers silently keep the raw text without it).
"""

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

SMS_CAPABLE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number for the given country."""


def parse_phone(number, country_code=None):
    """Parse ``number`` written loosely (spaces, dashes, dots, brackets,
    ``00`` international prefix) against ``country_code`` (ISO 3166 alpha-2)
    when it has no ``+`` prefix. Return a ``phonenumbers.PhoneNumber``.

    :raise InvalidPhoneNumber: when it cannot be parsed or is not a number
        that exists in that country's numbering plan.
    """
    text = (number or "").strip()
    if not text:
        raise InvalidPhoneNumber(number)
    if text.startswith("00"):
        text = "+" + text[2:]
    region = None if text.startswith("+") else (country_code or "").upper() or None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(number) from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(number)
    return parsed


def to_e164(number, country_code=None):
    """Return ``number`` in E.164 (``+8613800138000``); raise InvalidPhoneNumber."""
    return phonenumbers.format_number(parse_phone(number, country_code), PhoneNumberFormat.E164)


def can_receive_sms(number):
    """True when ``number`` (E.164, or anything ``parse_phone`` accepts with no
    country) is a mobile, or a number its plan cannot tell from a mobile."""
    try:
        parsed = parse_phone(number)
    except InvalidPhoneNumber:
        return False
    return phonenumbers.number_type(parsed) in SMS_CAPABLE_TYPES
