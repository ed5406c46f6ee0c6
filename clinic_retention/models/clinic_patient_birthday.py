import secrets
from datetime import date, datetime, time, timedelta

import pytz

from odoo import api, fields, models

from ..tools.clinic_time import clinic_tz, local_today
from ..tools.phone import can_receive_sms

# The greeting leaves at this hour of the clinic's local time.
GREETING_HOUR = 9


def birthday_in(year, birthdate):
    """The birthday in ``year`` (29 February is kept on the 28th in other years)."""
    try:
        return birthdate.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


class ClinicPatient(models.Model):
    """Birthday greetings: the automation rule *Birthday greeting* (shipped
    disabled) runs at 09:00 in the clinic's local time on the patient's
    birthday (``birthday_greeting_date``) and queues one greeting, by SMS or
    e-mail, in the care-message ledger under the key
    ``birthday:<patient>:<year>``: once a year however often it runs, never
    without marketing consent, never to an archived (deceased) patient."""

    # one concern per file: clinic_patient.py would pass the 600-line limit
    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    birthday_greeting_date = fields.Datetime(
        string="Next birthday greeting",
        compute="_compute_birthday_greeting_date",
        store=True,
        index="btree_not_null",
        help="09:00 in the clinic's time on the patient's next birthday (today's until the day is over). "
        "Moved to the next year every night.",
    )
    birthday_offer_code = fields.Char(
        string="Birthday offer code",
        readonly=True,
        copy=False,
        help="The personal code sent with the last birthday greeting, when the rule sends one.",
    )

    @api.depends("birthdate", "company_id.clinic_tz")
    def _compute_birthday_greeting_date(self):
        for patient in self:
            patient.birthday_greeting_date = patient._next_birthday_greeting()

    def _next_birthday_greeting(self, now=None):
        """09:00 local (as naive UTC) on the first birthday from the clinic's today."""
        self.ensure_one()
        if not self.birthdate:
            return False
        company = self.company_id or self.env.company
        today = local_today(company, now or fields.Datetime.now())
        day = birthday_in(today.year, self.birthdate)
        if day < today:
            day = birthday_in(today.year + 1, self.birthdate)
        tz = pytz.timezone(clinic_tz(company))
        local = tz.localize(datetime.combine(day, time(GREETING_HOUR)), is_dst=False)
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _cron_refresh_birthday_greeting_date(self, batch_size=5000):
        """Every night: the greetings of the days that are over move to the
        next birthday. Batched; reports its progress."""
        stale = self.with_context(active_test=False).search(
            [("birthday_greeting_date", "<", fields.Datetime.now() - timedelta(days=1))], limit=batch_size
        )
        self.env.add_to_compute(self._fields["birthday_greeting_date"], stale)
        stale.flush_recordset(["birthday_greeting_date"])
        self.env["ir.cron"]._notify_progress(done=len(stale), remaining=1 if len(stale) >= batch_size else 0)
        return len(stale)

    # ------------------------------------------------------------------
    # Called by the automation rule
    # ------------------------------------------------------------------

    def _send_birthday_greeting(
        self,
        email_template="clinic_retention.mail_template_birthday",
        sms_template="clinic_retention.sms_template_birthday",
        with_offer=False,
    ):
        """Queue this year's birthday greeting of these patients in the
        ledger: by SMS when the patient prefers SMS and has a number that
        can receive one, by e-mail otherwise; not sent (with the reason)
        without marketing consent, to an archived patient, or without an
        address. ``with_offer``: a personal offer code goes with it.

        :return: the ledger rows written by this call."""
        Ledger = self.env["clinic.visit.reminder"].sudo()
        Care = self.env["clinic.care.message"]
        mail_template = self.env.ref(email_template, raise_if_not_found=False) or self.env["mail.template"]
        sms_template_rec = self.env.ref(sms_template, raise_if_not_found=False) or self.env["sms.template"]
        now = fields.Datetime.now()
        patients = self.sudo().with_context(active_test=False).filtered("birthdate")
        blacklisted = set()
        emails = {p.email_normalized for p in patients if p.email_normalized}
        if emails:
            blacklisted = set(self.env["mail.blacklist"].sudo().search([("email", "in", list(emails))]).mapped("email"))
        numbers = {p: next((n for n in (p.mobile, p.phone) if n and can_receive_sms(n)), False) for p in patients}
        blacklisted_numbers = set(
            self.env["phone.blacklist"]
            .sudo()
            .search([("number", "in", [n for n in numbers.values() if n])])
            .mapped("number")
        )
        automation_id = self.env.context.get("precise_automation_id") or False
        rows, offers = [], {}
        for patient in patients:
            company = patient.company_id
            tz = Care._tz(clinic_tz(company))
            local_day = local_today(company, now)
            if birthday_in(local_day.year, patient.birthdate) != local_day:
                continue  # not the patient's birthday in the clinic (a late or early run)
            channel = "sms" if patient.preferred_channel == "sms" and numbers[patient] else "email"
            destination, reason = False, False
            if not patient.active:
                reason = "inactive"
            elif not patient.marketing_consent:
                reason = "no_marketing_consent"
            elif patient.preferred_channel == "none":
                reason = "do_not_contact"
            elif channel == "sms":
                destination = numbers[patient]
                reason = "blacklisted" if destination in blacklisted_numbers else False
            elif not patient.email_normalized:
                reason = "no_email"
            elif patient.email_normalized in blacklisted:
                reason = "blacklisted"
            else:
                destination = patient.email_normalized
            when = Care._after_quiet_hours(now, tz, company) if channel == "sms" and not reason else now
            rows.append(
                {
                    "message_key": f"birthday:{patient.id}:{local_day.year}",
                    "patient_id": patient.id,
                    "company_id": company.id,
                    "kind": "birthday",
                    "channel": channel,
                    "sent_date": now,
                    "state": "skipped" if reason else "queued",
                    "skip_reason": reason,
                    "automation_id": automation_id,
                    "destination": destination,
                    "scheduled_date": when,
                    "local_date": local_day,
                    "mail_template_id": mail_template.id if channel == "email" else False,
                    "sms_template_id": sms_template_rec.id if channel == "sms" else False,
                }
            )
            if with_offer and not reason:
                offers[patient.id] = f"BDAY{local_day.year % 100:02d}-{secrets.token_hex(3).upper()}"
        claimed = Ledger._claim(rows)
        queued = claimed.filtered(lambda m: m.state == "queued")
        for message in queued:
            if message.patient_id.id in offers:
                message.patient_id.birthday_offer_code = offers[message.patient_id.id]
        if queued:
            Care._trigger_dispatch(set(queued.mapped("scheduled_date")))
        return claimed

    def _precise_automation_after_pass(self, automations, automatic=False):
        """After a pass of the birthday rule, send what it queued."""
        return self.env["clinic.care.message"]._dispatch_due(automatic=automatic, report_progress=False)
