"""Dates and times as a patient reads them, in their own language.

Patient-facing pages and messages show a date (and an hour, never seconds)
the way the language writes it: ``2026年12月23日 11:00``,
``23 декабря 2026 г., 11:00``, ``December 23, 2026 at 11:00 AM``. Persian
readers get the Solar Hijri (Jalali) date first, the Gregorian one next to
it: ``2 دی 1405 (23 دسامبر 2026)، ساعت 11:00`` (babel only knows the
Gregorian calendar, so the conversion is done here).

The zone is the caller's business: pass the clinic's (``clinic.visit
.local_tz``, ``tools/clinic_time.py``).
"""

from datetime import datetime

import pytz
from babel.dates import format_date, format_time, get_datetime_format

from odoo.tools.misc import babel_locale_parse, get_lang

# Month names of the Solar Hijri calendar, in Persian (fixed: not UI text).
JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
# Gregorian days before each month of a common year.
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def gregorian_to_jalali(day):
    """``(year, month, day)`` of the Solar Hijri calendar for the Gregorian
    ``day`` (a date), by the 33-year arithmetic cycle, exact for 1800-2200:
    2026-03-21 is 1405-01-01 (Nowruz)."""
    year = day.year + 1 if day.month > 2 else day.year
    days = (
        355666
        + 365 * day.year
        + (year + 3) // 4
        - (year + 99) // 100
        + (year + 399) // 400
        + day.day
        + _DAYS_BEFORE_MONTH[day.month - 1]
    )
    j_year = -1595 + 33 * (days // 12053)
    days %= 12053
    j_year += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        j_year += (days - 1) // 365
        days = (days - 1) % 365
    if days < 186:
        return j_year, 1 + days // 31, 1 + days % 31
    return j_year, 7 + (days - 186) // 30, 1 + (days - 186) % 30


def format_jalali(day):
    """The Solar Hijri date in Persian words: ``2 دی 1405``."""
    j_year, j_month, j_day = gregorian_to_jalali(day)
    return f"{j_day} {JALALI_MONTHS[j_month - 1]} {j_year}"


def _lang_code(env, lang_code=None):
    return lang_code or get_lang(env).code or "en_US"


def format_patient_date(env, day, lang_code=None, length="long"):
    """``day`` (a date) in the language ``lang_code`` (default: the
    environment's), ``length`` "long" or "medium"; Persian adds the
    Jalali date in front."""
    if not day:
        return ""
    if isinstance(day, datetime):
        day = day.date()
    code = _lang_code(env, lang_code)
    text = format_date(day, format=length, locale=babel_locale_parse(code))
    if code.split("_")[0] == "fa":
        text = f"{format_jalali(day)} ({text})"
    return text


def format_patient_datetime(env, value, tz, lang_code=None, length="long"):
    """The naive UTC datetime ``value`` in the zone ``tz``, as the language
    writes a date and a time without seconds (babel's date format of
    ``length`` joined to its short time the language's way)."""
    if not value:
        return ""
    try:
        zone = pytz.timezone(tz or "UTC")
    except pytz.UnknownTimeZoneError:
        zone = pytz.utc
    local = pytz.utc.localize(value).astimezone(zone) if isinstance(value, datetime) else value
    code = _lang_code(env, lang_code)
    locale = babel_locale_parse(code)
    day = format_patient_date(env, local.date(), code, length)
    hour = format_time(local, format="short", locale=locale)
    # babel's own joining (format_datetime): quotes mark literal text.
    return get_datetime_format(length, locale=locale).replace("'", "").replace("{0}", hour).replace("{1}", day)


def is_rtl(env, lang_code=None):
    """Whether the language writes right to left (res.lang's direction)."""
    return env["res.lang"]._get_data(code=_lang_code(env, lang_code)).direction == "rtl"
