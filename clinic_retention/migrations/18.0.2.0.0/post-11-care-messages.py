"""Issue 11 (care messages), after the module update.

* Each clinic gets a time zone (``res.company.clinic_tz``): its contact's
  zone, else the administrator's, else its country's main zone (empty if
  none is known: the settings and the dashboard then ask for it).
* Templates: visit times were printed in ``patient.tz`` (often empty or the
  creating user's zone); SMS and e-mail bodies in every language now read
  the visit time already formatted in the clinic's zone
  (``object.start_local_short`` / ``start_local_time`` / ``start_local_long``).
  Only those expressions are replaced: other customisations are kept. The
  reminder and thank-you sender loses its ``or user.email_formatted``
  fallback (core falls back to the sending user) when it is the shipped one.
* The thank-you rule no longer runs inside the "Done" click
  (``on_state_set``): it becomes a precise time-based rule, an hour after
  ``done_date``. Visits done before the upgrade have no ``done_date`` and
  get nothing more (they had their thank-you already).
* The shipped reminder rules get their minimum lead for late bookings
  (2 hours, 30 minutes for the two-hour SMS) when none is set.
* The ledger's existing rows keep their meaning: a row "sent" was handed to
  the mail or SMS queue at its ``sent_date``, so that is also when it was
  planned and queued; its local day is computed in its clinic's zone.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

OLD_EXPRESSIONS = {
    "{{ format_datetime(object.start, tz=object.patient_id.tz or object.company_id.partner_id.tz or 'UTC', "
    "dt_format='short') }}": "{{ object.start_local_short }}",
    "{{ format_datetime(object.start, tz=object.patient_id.tz or object.company_id.partner_id.tz or 'UTC', "
    "dt_format='HH:mm') }}": "{{ object.start_local_time }}",
    "format_datetime(object.start, tz=object.patient_id.tz or object.company_id.partner_id.tz or 'UTC', "
    "dt_format='full')": "object.start_local_long",
}
OLD_SENDER = "{{ object.company_id.email_formatted or user.email_formatted }}"
NEW_SENDER = "{{ object.company_id.email_formatted }}"
MIN_LEADS = {
    "automation_visit_reminder_email": 2.0,
    "automation_visit_reminder_sms": 2.0,
    "automation_visit_reminder_sms_soon": 0.5,
}


def _replace_in_translations(cr, table, column):
    """Replace the old time expressions in every language of a jsonb column."""
    for old, new in OLD_EXPRESSIONS.items():
        cr.execute(
            SQL(
                """
            UPDATE %(table)s t
               SET %(column)s = (SELECT jsonb_object_agg(key, replace(value, %(old)s, %(new)s))
                                   FROM jsonb_each_text(t.%(column)s))
             WHERE t.%(column)s::text LIKE %(pattern)s
            """,
                table=SQL.identifier(table),
                column=SQL.identifier(column),
                old=old,
                new=new,
                pattern="%" + old.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
            )
        )


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.company"]._clinic_init_tz()

    _replace_in_translations(cr, "sms_template", "body")
    _replace_in_translations(cr, "mail_template", "body_html")
    cr.execute(SQL("UPDATE mail_template SET email_from = %s WHERE email_from = %s", NEW_SENDER, OLD_SENDER))

    thank_you = env.ref("clinic_retention.automation_visit_thank_you", raise_if_not_found=False)
    if thank_you and thank_you.trigger == "on_state_set":
        thank_you.write(
            {
                "trigger": "on_time",
                "trg_selection_field_id": False,
                "trg_date_id": env.ref("clinic_retention.field_clinic_visit__done_date").id,
                "trg_date_range": 1,
                "trg_date_range_type": "hour",
                "filter_domain": "[('state', '=', 'done')]",
                "is_precise": True,
                "last_run": False,
            }
        )
    for xmlid, hours in MIN_LEADS.items():
        rule = env.ref(f"clinic_retention.{xmlid}", raise_if_not_found=False)
        if rule and not rule.precise_min_lead_hours:
            rule.precise_min_lead_hours = hours

    cr.execute(
        SQL(
            """
        UPDATE clinic_visit_reminder m
           SET scheduled_date = COALESCE(m.scheduled_date, m.sent_date, m.create_date),
               handover_date = CASE WHEN m.state = 'sent' THEN COALESCE(m.handover_date, m.sent_date)
                                    ELSE m.handover_date END,
               local_date = COALESCE(m.local_date,
                                     ((COALESCE(m.sent_date, m.create_date) AT TIME ZONE 'UTC')
                                      AT TIME ZONE COALESCE(c.clinic_tz, 'UTC'))::date)
          FROM res_company c
         WHERE c.id = m.company_id
            """
        )
    )
    cr.execute(SQL("UPDATE clinic_visit_reminder SET sent_date = NULL WHERE state = 'skipped'"))
