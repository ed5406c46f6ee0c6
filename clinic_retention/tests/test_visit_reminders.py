import inspect
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.tests import tagged

from .. import models as clinic_models
from .common import CareMessageCase

# 18:00 in Shanghai, the test clinic's zone: no quiet hours involved.
VISIT_AT = datetime(2026, 6, 11, 10, 0)


@tagged("post_install", "-at_install")
class TestVisitReminders(CareMessageCase, MockEmail, SMSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.anna = cls._patient("Anna", mobile="138 0013 8000", email="anna@example.com", care_consent=True)
        cls.landline = cls._patient("Landline", phone="010 6552 9988", email="landline@example.com", care_consent=True)
        cls.no_consent = cls._patient("No consent", mobile="139 0013 8000", email="nc@example.com")
        cls.opted_out = cls._patient("Opted out", mobile="137 0013 8000", email="out@example.com", care_consent=True)
        cls.env["phone.blacklist"].sudo()._add(["+8613700138000"])
        cls.env["mail.blacklist"].sudo()._add("out@example.com")

    def test_day_before_email_and_sms_sent_once(self):
        visit = self._book(self.anna, VISIT_AT)
        bob = self._patient("Bob", mobile="136 0013 8000", email="bob@example.com", care_consent=True, lang="en_US")
        bob_visit = self._book(bob, VISIT_AT + timedelta(minutes=30))
        mails, sms = self._pass("2026-06-10 09:55:00")
        self.assertFalse(mails or sms, "not due yet")
        mails, sms = self._pass("2026-06-10 10:31:00")
        self.assertEqual(len(mails), 2, "rendered and queued in one batch")
        mail = mails.filtered(lambda m: m.recipient_ids == self.anna.partner_id)
        self.assertIn(visit.confirmation_url, mail.body_html)
        self.assertNotIn(bob_visit.confirmation_url, mail.body_html)
        self.assertEqual(len(sms), 2)
        sms = sms.filtered(lambda s: s.partner_id == self.anna.partner_id)
        self.assertEqual(sms.number, "+8613800138000")
        self.assertIn(visit.confirmation_url, sms.body)
        self.assertIn("Test Clinic", sms.body)
        ledger = self._ledger(visit)
        self.assertEqual(
            sorted(ledger.mapped(lambda r: (r.kind, r.channel, r.state))),
            [("day_before", "email", "queued"), ("day_before", "sms", "queued")],
        )
        self.assertEqual(ledger.filtered(lambda r: r.channel == "email").mail_mail_id, mail)
        self.assertEqual(ledger.filtered(lambda r: r.channel == "sms").sms_uuid, sms.uuid)
        self.assertTrue(all(ledger.mapped("handover_date")))
        # the same run again, a late run, a run of the next hour: nothing twice
        for when in ("2026-06-10 10:31:00", "2026-06-10 13:30:00", "2026-06-11 09:00:00"):
            mails, sms = self._pass(when)
            self.assertFalse(mails or sms, when)
        self.assertEqual(len(self._ledger(visit)), 2)

    def test_delivery_is_followed_to_the_end(self):
        visit = self._book(self.anna, VISIT_AT)
        with freeze_time("2026-06-10 10:01:00"), self.mock_mail_gateway(), self.mockSMSGateway(force_delivered=True):
            self.Automation._precise_check()
            self._new_mails.send()
            self._new_sms.send()
        by_channel = {row.channel: row for row in self._ledger(visit)}
        self.assertEqual(by_channel["email"].state, "sent", "accepted by the mail server")
        self.assertEqual(by_channel["sms"].state, "delivered", "the provider's delivery report")
        self.assertTrue(by_channel["email"].message_id)
        # a bounce of that email comes back later
        self.env["mail.thread"]._routing_handle_bounce(
            None,
            {
                "bounced_email": "anna@example.com",
                "bounced_partner": self.anna.partner_id,
                "bounced_msg_ids": [by_channel["email"].message_id],
                "bounced_message": self.env["mail.message"],
                "email_from": "MAILER-DAEMON@example.com",
                "to": "bounce@example.com",
                "message_id": "<bounce@example.com>",
                "body": "<p>550 5.1.1 mailbox unavailable</p>",
            },
        )
        self.assertEqual(by_channel["email"].state, "bounced")
        self.assertIn("mailbox unavailable", by_channel["email"].failure_reason)
        task = by_channel["email"].followup_task_id
        self.assertEqual((task.reason, task.patient_id), ("message_failed", self.anna))

    def test_consent_blacklist_and_landline(self):
        no_consent = self._book(self.no_consent, VISIT_AT)
        opted_out = self._book(self.opted_out, VISIT_AT)
        landline = self._book(self.landline, VISIT_AT)
        mails, sms = self._pass("2026-06-10 10:01:00")
        self.assertFalse(sms, "no SMS: no consent, blacklisted, landline")
        self.assertEqual(mails.recipient_ids, self.landline.partner_id, "the landline patient gets the email, once")
        self.assertEqual(len(mails), 1)
        self.assertEqual(set(self._ledger(no_consent).mapped("skip_reason")), {"no_consent"})
        self.assertEqual(set(self._ledger(opted_out).mapped("skip_reason")), {"blacklisted"})
        self.assertEqual(
            self._ledger(landline).mapped(lambda r: (r.channel, r.state)),
            [("email", "queued")],
            "the SMS rule's fallback and the email rule are the same message",
        )

    def test_do_not_contact(self):
        self.anna.preferred_channel = "none"
        visit = self._book(self.anna, VISIT_AT)
        mails, sms = self._pass("2026-06-10 10:01:00")
        self.assertFalse(mails or sms)
        self.assertEqual(set(self._ledger(visit).mapped("skip_reason")), {"do_not_contact"})

    def test_moved_visit_is_reminded_again_with_a_new_link(self):
        visit = self._book(self.anna, VISIT_AT)
        self._pass("2026-06-10 10:01:00")
        old_url = visit.confirmation_url
        with freeze_time("2026-06-10 11:00:00"):
            visit._patient_confirm()
            visit.write({"start": datetime(2026, 6, 15, 10, 0), "stop": datetime(2026, 6, 15, 10, 30)})
        self.assertEqual(visit.confirmation_state, "unconfirmed", "a moved visit is confirmed again")
        self.assertNotEqual(visit.confirmation_url, old_url, "the old link stops working")
        mails, sms = self._pass("2026-06-12 10:00:00")
        self.assertFalse(mails or sms)
        mails, sms = self._pass("2026-06-14 10:02:00")
        self.assertEqual((len(mails), len(sms)), (1, 1), "re-armed for the new time")
        self.assertIn(visit.confirmation_url, sms.body)
        self.assertEqual(len(self._ledger(visit)), 4)

    def test_cancelled_after_queueing_is_not_sent(self):
        self.company.clinic_quiet_start = 0.0
        self.company.clinic_quiet_end = 23.0  # the SMS waits until 23:00 local
        visit = self._book(self.anna, datetime(2026, 6, 11, 16, 0))  # 00:00 local on the 12th
        _mails, sms = self._pass("2026-06-10 16:01:00")
        self.assertFalse(sms)
        message = self._ledger(visit).filtered(lambda r: r.channel == "sms")
        self.assertEqual((message.state, message.scheduled_date), ("queued", datetime(2026, 6, 11, 15, 0)))
        visit.action_cancel()
        _mails, sms = self._pass("2026-06-11 15:01:00")
        self.assertFalse(sms)
        self.assertEqual((message.state, message.skip_reason), ("cancelled", "visit_changed"))

    def test_two_hour_sms_and_daily_cap(self):
        self.rule_soon.active = True
        tomorrow = self._book(self.anna, VISIT_AT)
        with freeze_time("2026-06-10 02:00:00"):
            today = self._book(self.anna, datetime(2026, 6, 10, 8, 0), department=self.cardiology)
        _mails, sms = self._pass("2026-06-10 02:01:00")
        self.assertEqual(len(sms), 1, "the same-day visit's day-before SMS (booked late, 6 hours ahead)")
        self.assertIn(today.confirmation_url, sms.body)
        _mails, sms = self._pass("2026-06-10 06:01:00")
        self.assertFalse(sms, "two-hour SMS: one reminder a day, and tomorrow is too late for it")
        self.assertEqual(self._ledger(today).filtered(lambda r: r.kind == "two_hours").skip_reason, "daily_cap")
        _mails, sms = self._pass("2026-06-10 10:01:00")
        self.assertFalse(sms, "tomorrow's day-before SMS waits for tomorrow (one a local day)")
        waiting = self._ledger(tomorrow).filtered(lambda r: r.channel == "sms")
        self.assertEqual(waiting.state, "queued")
        self.assertEqual(waiting.scheduled_date, datetime(2026, 6, 11, 0, 0), "08:00 on the 11th in Shanghai")
        _mails, sms = self._pass("2026-06-11 00:01:00")
        self.assertEqual(len(sms), 1, "deferred, not dropped")
        self.assertIn(tomorrow.confirmation_url, sms.body)
        _mails, sms = self._pass("2026-06-11 08:01:00")
        self.assertFalse(sms, "the two-hour SMS: already reminded that local day")
        self.assertEqual(self._ledger(tomorrow).filtered(lambda r: r.kind == "two_hours").skip_reason, "daily_cap")

    def test_disabled_rule_sends_nothing(self):
        self._book(self.anna, VISIT_AT)
        self.rule_email.active = False
        mails, sms = self._pass("2026-06-10 10:01:00")
        self.assertEqual((len(mails), len(sms)), (0, 1))
        self.rule_sms.active = False
        visit = self._book(self.anna, datetime(2026, 6, 12, 10, 0))
        mails, sms = self._pass("2026-06-11 10:01:00")
        self.assertFalse(mails or sms)
        self.assertFalse(self._ledger(visit))

    def test_stale_scheduled_visit_is_not_reminded(self):
        """Stock time rules replay all history on their first run."""
        stale = self._book(self.anna, datetime(2026, 5, 1, 10, 0))
        mails, sms = self._pass("2026-06-10 10:01:00")
        self.assertFalse(mails or sms)
        self.assertFalse(self._ledger(stale))

    def test_booking_schedules_the_precise_cron_on_time(self):
        cron = self.env.ref("clinic_retention.ir_cron_precise_automation")
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
        stock_cron = self.env.ref("base_automation.ir_cron_data_base_automation_check")
        self.assertFalse(
            Trigger.search([("cron_id", "=", stock_cron.id), ("call_at", "=", datetime(2026, 6, 10, 10, 5))]),
            "the stock time-based rules of other apps are not woken up for visits",
        )
        # Each run schedules the next due visit.
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        self._pass("2026-06-01 08:00:00")
        self.assertIn(datetime(2026, 6, 10, 10, 5), Trigger.search([("cron_id", "=", cron.id)]).mapped("call_at"))

    def test_precise_rules_are_hidden_from_the_stock_scheduler(self):
        Automation = self.Automation.with_context(precise_skip=True)
        found = Automation.search([("trigger", "in", ["on_time", "on_time_created", "on_time_updated"])])
        self.assertNotIn(self.rule_email, found)
        self.assertIn(self.rule_email, self.Automation.search([("trigger", "in", ["on_time"])]))
        # whatever the shape of the domain core uses
        self.assertNotIn(self.rule_email, Automation.search([("trigger", "=", "on_time")]))
        self._book(self.anna, VISIT_AT)
        with freeze_time("2026-06-10 10:01:00"), self.mock_mail_gateway(), self.mockSMSGateway():
            self.Automation._check(False)
            self.assertFalse(self._new_mails or self._new_sms, "the stock scheduler leaves them to their cron")

    def test_no_show_opens_one_task(self):
        with freeze_time("2026-06-11 11:00:00"):
            visit = self._book(self.anna, VISIT_AT)
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

    def test_thank_you_an_hour_after_a_done_visit_outside_the_click(self):
        with freeze_time("2026-06-11 11:00:00"), self.mock_mail_gateway():
            visit = self._book(self.anna, VISIT_AT)
            visit.action_mark_done()
            self.assertFalse(self._new_mails, "nothing is rendered or sent inside the 'Done' click")
        mails, _sms = self._pass("2026-06-11 12:01:00")
        self.assertEqual(len(mails), 1)
        self.assertIn("Thank you", mails.subject)
        with freeze_time("2026-06-11 12:30:00"):
            visit.action_reset_scheduled()
            visit.action_mark_done()
        mails, _sms = self._pass("2026-06-11 13:31:00")
        self.assertFalse(mails, "once")
        with freeze_time("2026-06-11 12:30:00"):
            self._visit(self.anna, datetime(2025, 1, 1, 9), state="done")
        mails, _sms = self._pass("2026-06-11 13:45:00")
        self.assertFalse(mails, "importing history sends nothing")

    def test_broken_thank_you_template_never_blocks_done(self):
        template = self.env.ref("clinic_retention.mail_template_visit_thank_you")
        template.subject = "{{ object.patient_id.birthdate.strftime('%d') }}"
        visit = self._book(self.anna, VISIT_AT)
        with freeze_time("2026-06-11 11:00:00"):
            self.assertTrue(visit.action_mark_done())
        self.assertEqual(visit.state, "done")
        mails, _sms = self._pass("2026-06-11 12:01:00")
        self.assertFalse(mails)
        message = self._ledger(visit)
        self.assertEqual((message.state, message.failure_type), ("failed", "render"))
        self.assertIn("strftime", message.failure_reason)

    def test_ledger_claims_a_key_once(self):
        visit = self._book(self.anna, VISIT_AT)
        row = {
            "visit_id": visit.id,
            "patient_id": self.anna.id,
            "company_id": self.company.id,
            "department_id": self.dental.id,
            "kind": "day_before",
            "channel": "email",
            "visit_start": visit.start,
            "state": "queued",
            "scheduled_date": datetime(2026, 6, 10, 10),
            "destination": "anna@example.com",
        }
        self.assertEqual(len(self.Ledger._claim([row])), 1)
        self.assertFalse(self.Ledger._claim([row]), "a second run claims nothing")
        self.assertEqual(len(self.Ledger._claim([dict(row, visit_start=visit.start + timedelta(days=1))])), 1)

    def test_sms_rendered_by_core_without_the_sandbox(self):
        """The shipped SMS templates only read plain fields: core's renderer
        takes them without safe_eval; no copy of the sandbox is left."""
        self.env["res.lang"]._activate_lang("ru_RU")
        boris = self._patient("Boris", mobile="+7 912 345 67 89", care_consent=True, lang="ru_RU", tz="Europe/Moscow")
        visits = self._book(self.anna, VISIT_AT) | self._book(boris, VISIT_AT + timedelta(minutes=45))
        visits.department_id.with_context(lang="ru_RU").name = "Стоматология"
        for xmlid in ("sms_template_visit_reminder", "sms_template_visit_reminder_soon", "sms_template_satisfaction"):
            template = self.env.ref(f"clinic_retention.{xmlid}")
            self.assertFalse(
                template._has_unsafe_expression_template_inline_template(template.body, "clinic.visit"), xmlid
            )
        _mails, sms = self._pass("2026-06-10 10:50:00")
        by_partner = {s.partner_id: s.body for s in sms}
        self.assertIn("Стоматология", by_partner[boris.partner_id], "the department in the patient's language")
        self.assertNotIn("Стоматология", by_partner[self.anna.partner_id])
        self.assertIn("18:45", by_partner[boris.partner_id], "the clinic's time, not the patient's own zone")
        source = "\n".join(
            inspect.getsource(module) for module in vars(clinic_models).values() if inspect.ismodule(module)
        )
        for private in ("_SAFE_OPCODES", "_BUILTINS", "test_expr", "eval("):
            self.assertNotIn(private, source.replace("safe_eval(", ""), private)

    def test_template_fields_are_honoured(self):
        """CC, attachments, mail server and scheduled date set on the
        reminder template reach the email (core's send_mail_batch)."""
        template = self.env.ref("clinic_retention.mail_template_visit_reminder")
        server = self.env["ir.mail_server"].create({"name": "Clinic SMTP", "smtp_host": "smtp.clinic.example.com"})
        leaflet = self.env["ir.attachment"].create({"name": "leaflet.txt", "raw": b"Bring your card"})
        template.write(
            {
                # the administrator chooses the recipients instead of the default ones
                "use_default_to": False,
                "partner_to": "{{ object.partner_id.id }}",
                "email_cc": "front-desk@clinic.example.com",
                "mail_server_id": server.id,
                "attachment_ids": [(6, 0, leaflet.ids)],
                "scheduled_date": "{{ (object.start - relativedelta(hours=20)).strftime('%Y-%m-%d %H:%M:%S') }}",
            }
        )
        self.rule_sms.active = False
        self._book(self.anna, VISIT_AT)
        mails, _sms = self._pass("2026-06-10 10:01:00")
        self.assertEqual(mails.email_cc, "front-desk@clinic.example.com")
        self.assertEqual(mails.recipient_ids, self.anna.partner_id)
        self.assertEqual(mails.mail_server_id, server)
        self.assertEqual(mails.attachment_ids.mapped("name"), ["leaflet.txt"])
        self.assertEqual(mails.scheduled_date, datetime(2026, 6, 10, 14, 0))

    def test_pass_queries_do_not_grow_with_due_visits(self):
        """A pass's SQL queries depend on the batches, not on the number of
        visits due (reads, inserts and updates are set-based)."""
        self.env["ir.config_parameter"].sudo().set_param("mail.batch_size", 500)

        def run(count, day):
            patients = self.env["clinic.patient"].create(
                [
                    {
                        "name": f"Load {day}-{index}",
                        "mobile": f"+86138{day:02d}{index:06d}",
                        "email": f"load{day}.{index}@example.com",
                        "care_consent": True,
                        "country_id": self.china.id,
                    }
                    for index in range(count)
                ]
            )
            start = datetime(2026, 6, day, 10, 0)
            self.env["clinic.visit"].create(
                [
                    {
                        "patient_id": p.id,
                        "department_id": self.dental.id,
                        "start": start,
                        "stop": start + timedelta(minutes=30),
                    }
                    for p in patients
                ]
            )
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            mails, sms = self._pass(f"2026-06-{day - 1:02d} 10:01:00")
            self.assertEqual((len(mails), len(sms)), (count, count))
            return self.env.cr.sql_log_count - before

        run(3, 12)  # warm the caches (views, templates, translations)
        small, large = run(5, 14), run(40, 16)
        self.assertEqual(large, small, f"{small} queries for 5 due visits, {large} for 40")
