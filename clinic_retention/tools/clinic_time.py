"""The clinic's local time, in one place.

Recall due dates, KPI periods ("this month") and "today" are counted in the
clinic's local calendar, not in UTC: a 08:00 visit in Beijing is stored as
00:00 UTC, but a 07:30 one is stored on the previous UTC day.

Which zone is "the clinic's" is decided here only: the company's clinic time
zone (``res.company.clinic_tz``, asked for in Settings), else its contact's
time zone, else UTC. Change ``clinic_tz`` and ``clinic_tz_sql`` together
and every caller follows.
"""

from datetime import datetime, time

import pytz

from odoo.tools import SQL


def clinic_tz(company):
    """The clinic's time zone name (``"UTC"`` when unknown or invalid)."""
    name = company.clinic_tz or company.partner_id.tz or "UTC"
    return name if name in pytz.all_timezones_set else "UTC"


def clinic_tz_sql(company_alias):
    """SQL: the time zone name of the company row ``company_alias``
    (a ``res_company`` alias), as ``clinic_tz`` does."""
    return SQL(
        "COALESCE(%s.clinic_tz, (SELECT tz_partner.tz FROM res_partner tz_partner"
        " WHERE tz_partner.id = %s.partner_id), 'UTC')",
        SQL.identifier(company_alias),
        SQL.identifier(company_alias),
    )


def local_today(company, now=None):
    """Today's date in the clinic."""
    now = now or datetime.now(pytz.utc)
    if now.tzinfo is None:
        now = pytz.utc.localize(now)
    return now.astimezone(pytz.timezone(clinic_tz(company))).date()


def local_midnight_utc(company, day):
    """The clinic's 00:00 of ``day`` as a naive UTC datetime (how Odoo stores datetimes)."""
    tz = pytz.timezone(clinic_tz(company))
    return tz.localize(datetime.combine(day, time.min)).astimezone(pytz.utc).replace(tzinfo=None)


def local_date_sql(column, tz):
    """SQL: the clinic-local date of the UTC timestamp ``column`` (an SQL
    object); ``tz`` is a zone name or an SQL expression giving one."""
    return SQL("((%s AT TIME ZONE 'UTC') AT TIME ZONE %s)::date", column, tz)
