from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ClinicRetentionCase

VISIT_AT = datetime(2026, 6, 11, 10, 0)


@tagged("post_install", "-at_install")
class TestVisitReminders(ClinicRetentionCase, MockEmail, SMSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"email": "care@clinic.example.com", "name": "Test Clinic"})
        cls.Automation = cls.env["base.automation"]
        cls.rule_email = cls.env.ref("clinic_retention.automation_visit_reminder_email")
        cls.rule_sms = cls.env.ref("clinic_retention.automation_visit_reminder_sms")
        cls.rule_soon = cls.env.ref("clinic_retention.automation_visit_reminder_sms_soon")
        # Only these tests' visits in the due windows
        cls.env["clinic.visit"].search([("state", "=", "scheduled")]).write({"state": "cancelled"})
        cls.anna = cls._patient("Anna", mobile="138 0013 8000", email="anna@example.com", care_consent=True)
        cls.landline = cls._patient("Landline", phone="010 6552 9988", email="landline@example.com", care_consent=True)
        cls.no_consent = cls._patient("No consent", mobile="139 0013 8000", email="nc@example.com")
        cls.opted_out = cls._patient("Opted out", mobile="137 0013 8000", email="out@example.com", care_consent=True)
        cls.env["phone.blacklist"].sudo()._add(["+8613700138000"])
        cls.env["mail.blacklist"].sudo()._add("out@example.com")

    def _book(self, patient, start=VISIT_AT, **vals):
        return self._visit(patient, start, state="scheduled", **vals)

    def _check(self, when):
        with freeze_time(when), self.mock_mail_gateway(), self.mockSMSGateway():
            self.Automation._check(False)
            return self._new_mails, self._new_sms

    def _ledger(self, visit):
        return self.env["clinic.visit.reminder"].search([("visit_id", "=", visit.id)])

    def test_day_before_email_and_sms_sent_once(self):
        visit = self._book(self.anna)
        bob = self._patient("Bob", mobile="136 0013 8000", email="bob@example.com", care_consent=True, lang="en_US")
        bob_visit = self._book(bob, VISIT_AT + timedelta(minutes=30))
        mails, sms = self._check("2026-06-10 09:55:00")
        self.assertFalse(mails or sms, "not due yet")
        mails, sms = self._check("2026-06-10 10:31:00")
        self.assertEqual(len(mails), 2, "rendered and queued in one batch")
        mail = mails.filtered(lambda m: m.recipient_ids == self.anna.partner_id)
        self.assertIn(visit.confirmation_url, mail.body_html)
        self.assertNotIn(bob_visit.confirmation_url, mail.body_html)
        self.assertEqual(len(sms), 2)
        sms = sms.filtered(lambda s: s.partner_id == self.anna.partner_id)
        self.assertEqual(sms.number, "+8613800138000")
        self.assertIn(visit.confirmation_url, sms.body)
        self.assertIn("Test Clinic", sms.body)
        self.assertEqual(
            sorted(self._ledger(visit).mapped(lambda r: (r.kind, r.channel, r.state))),
            [("day_before", "email", "sent"), ("day_before", "sms", "sent")],
        )
        # the same run again, a late run, a run of the next hour: nothing twice
        for when in ("2026-06-10 10:31:00", "2026-06-10 13:30:00", "2026-06-11 09:00:00"):
            mails, sms = self._check(when)
            self.assertFalse(mails or sms, when)
        self.assertEqual(len(self._ledger(visit)), 2)

    def test_consent_blacklist_and_landline(self):
        no_consent = self._book(self.no_consent)
        opted_out = self._book(self.opted_out)
        landline = self._book(self.landline)
        mails, sms = self._check("2026-06-10 10:01:00")
        self.assertFalse(sms, "no SMS: no consent, blacklisted, landline")
        self.assertEqual(mails.recipient_ids, self.landline.partner_id, "the landline patient gets the email, once")
        self.assertEqual(len(mails), 1)
        self.assertEqual(set(self._ledger(no_consent).mapped("skip_reason")), {"no_consent"})
        self.assertEqual(set(self._ledger(opted_out).mapped("skip_reason")), {"blacklisted"})
        self.assertEqual(
            self._ledger(landline).mapped(lambda r: (r.channel, r.state)),
            [("email", "sent")],
            "the SMS rule's fallback and the email rule are the same message",
        )

    def test_do_not_contact(self):
        self.anna.preferred_channel = "none"
        visit = self._book(self.anna)
        mails, sms = self._check("2026-06-10 10:01:00")
        self.assertFalse(mails or sms)
        self.assertEqual(set(self._ledger(visit).mapped("skip_reason")), {"do_not_contact"})

    def test_moved_visit_is_reminded_again(self):
        visit = self._book(self.anna)
        self._check("2026-06-10 10:01:00")
        with freeze_time("2026-06-10 11:00:00"):
            visit._patient_confirm()
            visit.write({"start": datetime(2026, 6, 15, 10, 0), "stop": datetime(2026, 6, 15, 10, 30)})
        self.assertEqual(visit.confirmation_state, "unconfirmed", "a moved visit is confirmed again")
        mails, sms = self._check("2026-06-12 10:00:00")
        self.assertFalse(mails or sms)
        mails, sms = self._check("2026-06-14 10:02:00")
        self.assertEqual((len(mails), len(sms)), (1, 1), "re-armed for the new time")
        self.assertEqual(len(self._ledger(visit)), 4)

    def test_two_hour_sms_and_daily_cap(self):
        self.rule_soon.active = True
        tomorrow = self._book(self.anna)
        with freeze_time("2026-06-10 09:00:00"):
            today = self._book(self.anna, datetime(2026, 6, 10, 15, 0), department=self.cardiology)
        _mails, sms = self._check("2026-06-10 09:01:00")
        self.assertEqual(len(sms), 1, "the same-day visit's day-before SMS")
        self.assertIn(today.confirmation_url, sms.body)
        _mails, sms = self._check("2026-06-10 10:01:00")
        self.assertEqual(len(sms), 1, "tomorrow's visit: day-before SMS")
        self.assertIn(tomorrow.confirmation_url, sms.body)
        _mails, sms = self._check("2026-06-10 13:01:00")
        self.assertFalse(sms, "two-hour SMS capped: already texted today about this visit")
        self.assertEqual(self._ledger(today).filtered(lambda r: r.kind == "two_hours").skip_reason, "daily_cap")
        _mails, sms = self._check("2026-06-11 08:01:00")
        self.assertEqual(len(sms), 1, "tomorrow's visit: two-hour SMS on the day")
        self.assertIn("see you at", sms.body)
        self.assertEqual(len(self._ledger(tomorrow).filtered(lambda r: r.channel == "sms")), 2)

    def test_disabled_rule_sends_nothing(self):
        self._book(self.anna)
        self.rule_email.active = False
        mails, sms = self._check("2026-06-10 10:01:00")
        self.assertEqual((len(mails), len(sms)), (0, 1))
        self.rule_sms.active = False
        visit = self._book(self.anna, datetime(2026, 6, 12, 10, 0))
        mails, sms = self._check("2026-06-11 10:01:00")
        self.assertFalse(mails or sms)
        self.assertFalse(self._ledger(visit))

    def test_stale_scheduled_visit_is_not_reminded(self):
        """Stock time rules replay all history on their first run."""
        stale = self._book(self.anna, datetime(2026, 5, 1, 10, 0))
        mails, sms = self._check("2026-06-10 10:01:00")
        self.assertFalse(mails or sms)
        self.assertFalse(self._ledger(stale))

    def test_booking_schedules_the_check_on_time(self):
        cron = self.env.ref("base_automation.ir_cron_data_base_automation_check")
        Trigger = self.env["ir.cron.trigger"]
        with freeze_time("2026-06-01 08:00:00"):
            self._book(self.anna, datetime(2026, 6, 11, 10, 2))
        call_ats = Trigger.search([("cron_id", "=", cron.id)]).mapped("call_at")
        self.assertIn(datetime(2026, 6, 10, 10, 5), call_ats, "due at 10:02 the day before, run at 10:05")
        with freeze_time("2026-06-01 08:00:00"):
            self._book(self.landline, datetime(2026, 6, 11, 10, 4))
        self.assertEqual(
            Trigger.search_count([("cron_id", "=", cron.id), ("call_at", "=", datetime(2026, 6, 10, 10, 5))]),
            1,
            "one run per 5-minute slot",
        )
        # Each run schedules the next due visit.
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        self._check("2026-06-01 08:00:00")
        self.assertIn(datetime(2026, 6, 10, 10, 5), Trigger.search([("cron_id", "=", cron.id)]).mapped("call_at"))

    def test_precise_rules_are_hidden_from_the_stock_scheduler(self):
        Automation = self.Automation.with_context(clinic_skip_precise=True)
        found = Automation.search([("trigger", "in", ["on_time", "on_time_created", "on_time_updated"])])
        self.assertNotIn(self.rule_email, found)
        self.assertIn(self.rule_email, self.Automation.search([("trigger", "in", ["on_time"])]))

    def test_no_show_opens_one_task(self):
        with freeze_time("2026-06-11 11:00:00"):
            visit = self._book(self.anna)
            visit.action_mark_no_show()
            task = self.env["clinic.followup.task"].search([("visit_id", "=", visit.id)])
            self.assertRecordValues(
                task,
                [
                    {
                        "reason": "no_show",
                        "department_id": self.dental.id,
                        "user_id": self.cs_user.id,
                        "priority": "1",
                        "state": "new",
                    }
                ],
            )
            visit.action_reset_scheduled()
            visit.action_mark_no_show()
            self.assertEqual(self.env["clinic.followup.task"].search([("visit_id", "=", visit.id)]), task)
        old = self._visit(self.anna, datetime(2025, 1, 1, 9), state="no_show")
        self.assertFalse(self.env["clinic.followup.task"].search([("visit_id", "=", old.id)]), "history import")

    def test_thank_you_after_a_done_visit(self):
        with freeze_time("2026-06-11 11:00:00"), self.mock_mail_gateway():
            visit = self._book(self.anna)
            visit.action_mark_done()
            self.assertEqual(len(self._new_mails), 1)
            self.assertIn("Thank you", self._new_mails.subject)
            visit.action_reset_scheduled()
            visit.action_mark_done()
            self.assertEqual(len(self._new_mails), 1, "once")
        with self.mock_mail_gateway():
            self._visit(self.anna, datetime(2025, 1, 1, 9), state="done")
            self.assertFalse(self._new_mails, "importing history sends nothing")

    def test_ledger_claims_a_key_once(self):
        visit = self._book(self.anna)
        row = {
            "visit_id": visit.id,
            "patient_id": self.anna.id,
            "company_id": self.company.id,
            "kind": "day_before",
            "channel": "email",
            "visit_start": visit.start,
            "sent_date": datetime(2026, 6, 10, 10),
            "state": "sent",
            "skip_reason": False,
            "automation_id": False,
            "destination": "anna@example.com",
        }
        Ledger = self.env["clinic.visit.reminder"]
        self.assertEqual(len(Ledger._claim([row])), 1)
        self.assertFalse(Ledger._claim([row]), "a second run claims nothing")
        self.assertEqual(len(Ledger._claim([dict(row, visit_start=visit.start + timedelta(days=1))])), 1)

    def test_batch_sms_rendering_matches_the_mail_renderer(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        boris = self._patient("Boris", mobile="+7 912 345 67 89", care_consent=True, lang="ru_RU", tz="Europe/Moscow")
        visits = self._book(self.anna) | self._book(boris, VISIT_AT + timedelta(minutes=45))
        visits.department_id.with_context(lang="ru_RU").name = "Стоматология"
        template = self.env.ref("clinic_retention.sms_template_visit_reminder")
        bodies = {}
        for lang_template, res_ids in visits._per_lang(template):
            batch = visits._render_inline_batch(lang_template, "body", res_ids)
            self.assertEqual(batch, lang_template._render_field("body", res_ids))
            bodies.update(batch)
        anna_visit, boris_visit = visits
        for visit in visits:
            self.assertIn(visit.confirmation_url, bodies[visit.id])
        self.assertIn("Стоматология", bodies[boris_visit.id], "the department in the patient's language")
        self.assertNotIn("Стоматология", bodies[anna_visit.id])
        self.assertIn("13:45", bodies[boris_visit.id], "the time in the patient's time zone")
        # still the sandbox: a forbidden expression is refused, not run
        template.body = "{{ object.__class__.__name__ }} {{ format_datetime(object.start) }}"
        with self.assertRaises(UserError):
            visits._render_inline_batch(template, "body", visits.ids)
