from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CareMessageCase

# 18:00 in Shanghai
VISIT_AT = datetime(2026, 6, 11, 10, 0)


class Crash(BaseException):
    """Stands for a worker killed in the middle of a transaction (nothing
    in the pass may catch it, as nothing survives a killed process)."""


@tagged("post_install", "-at_install")
class TestCareMessageFaults(CareMessageCase, MockEmail, SMSCase):
    """Faults stop nothing: a poisoned record, a template that fails for one
    patient, an SMS provider out of credit, a mail server down, a crash
    between claim and send."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company.clinic_tz = "Europe/Moscow"
        cls.other_company.email = "care@other.example.com"
        cls.anna = cls._patient("Anna", mobile="138 0013 8000", email="anna@example.com", care_consent=True)
        cls.bella = cls._patient(
            "Bella", mobile="136 0013 8000", email="bella@example.com", care_consent=True, birthdate="1990-03-14"
        )
        cls.ivan = cls._patient(
            "Ivan",
            mobile="+7 912 345 67 89",
            email="ivan@example.com",
            care_consent=True,
            birthdate="1980-05-01",
            country_id=cls.russia.id,
            company_id=cls.other_company.id,
        )

    def _visits(self):
        return (
            self._book(self.anna, VISIT_AT)
            | self._book(self.bella, VISIT_AT + timedelta(minutes=15))
            | self._book(self.ivan, VISIT_AT + timedelta(minutes=30), department=self.other_department)
        )

    def _message(self, visit, channel):
        return self._ledger(visit).filtered(lambda m: m.channel == channel)

    def test_template_failing_for_one_patient_stops_nobody(self):
        template = self.env.ref("clinic_retention.sms_template_visit_reminder")
        template.body = "{{ object.patient_id.birthdate.strftime('%d.%m') }}: " + template.body
        anna_visit, bella_visit, ivan_visit = self._visits()
        mails, sms = self._pass("2026-06-10 10:31:00")
        self.assertEqual(len(mails), 3, "every patient of the email rule, in both clinics")
        self.assertEqual(
            sorted(sms.partner_id.ids), sorted((self.bella | self.ivan).partner_id.ids), "the SMS of the others"
        )
        failed = self._message(anna_visit, "sms")
        self.assertEqual((failed.state, failed.failure_type), ("failed", "render"))
        self.assertIn("strftime", failed.failure_reason)
        self.assertEqual(failed.next_attempt_date, datetime(2026, 6, 10, 11, 1), "tried again in 30 minutes")
        for visit in (bella_visit, ivan_visit):
            self.assertEqual(self._message(visit, "sms").state, "queued")
        self.assertTrue(all(r.last_run == datetime(2026, 6, 10, 10, 31) for r in self.rule_email | self.rule_sms))
        # still broken at the second and third attempts: customer service gets a task
        self._pass("2026-06-10 11:02:00")
        self.assertEqual((failed.attempt_count, failed.next_attempt_date), (2, datetime(2026, 6, 10, 12, 2)))
        self._pass("2026-06-10 12:03:00")
        self.assertEqual((failed.state, failed.attempt_count, failed.next_attempt_date), ("failed", 3, False))
        task = failed.followup_task_id
        self.assertRecordValues(
            task, [{"reason": "message_failed", "patient_id": self.anna.id, "department_id": self.dental.id}]
        )
        self.assertIn("could not be delivered", task.notes)
        self.assertIn("6/11/26, 6:00", task.notes, "the visit time as the patient knows it")

    def test_poisoned_record_in_a_rule_action(self):
        """The precise pass isolates a record whose action fails: the other
        records, the other rules and last_run all go on."""
        action = self.env["ir.actions.server"].create(
            {
                "name": "Fragile action",
                "model_id": self.env.ref("clinic_retention.model_clinic_visit").id,
                "state": "code",
                "code": "if any(r.patient_id.name == 'Anna' for r in records): raise UserError('poisoned')\n"
                'records._send_care_message("two_hours", "email", '
                'email_template="clinic_retention.mail_template_visit_reminder")',
            }
        )
        fragile = self.Automation.create(
            {
                "name": "Fragile",
                "model_id": action.model_id.id,
                "trigger": "on_time",
                "trg_date_id": self.env.ref("clinic_retention.field_clinic_visit__start").id,
                "trg_date_range": -2,
                "trg_date_range_type": "hour",
                "filter_domain": "[('state', '=', 'scheduled')]",
                "is_precise": True,
                "action_server_ids": [(6, 0, action.ids)],
            }
        )
        anna_visit, bella_visit, ivan_visit = self._visits()
        mails, _sms = self._pass("2026-06-10 10:31:00")
        self.assertEqual(len(mails), 3, "the day-before rules are not disturbed")
        with mute_logger("odoo.addons.clinic_retention.models.base_automation"):
            _mails, _sms = self._pass("2026-06-11 08:31:00")
        self.assertFalse(self._ledger(anna_visit).filtered(lambda m: m.kind == "two_hours"))
        for visit in (bella_visit, ivan_visit):
            self.assertEqual(len(self._ledger(visit).filtered(lambda m: m.kind == "two_hours")), 1)
        self.assertEqual(fragile.last_run, datetime(2026, 6, 11, 8, 31))

    def test_sms_out_of_credit_is_retried_then_handed_to_a_person(self):
        self.rule_email.active = False
        visit = self._book(self.anna, VISIT_AT)
        message = self._message(visit, "sms")
        sent = self.env["sms.sms"]
        for attempt, when in enumerate(("2026-06-10 10:01:00", "2026-06-10 10:32:00", "2026-06-10 11:33:00"), 1):
            with freeze_time(when), self.mockSMSGateway(sim_error="credit"):
                self.Automation._precise_check()
                self.assertEqual(len(self._new_sms), 1, f"attempt {attempt}")
                self._new_sms.send()
                sent |= self._new_sms
            message = self._message(visit, "sms")
            self.assertEqual(
                (message.state, message.failure_type, message.attempt_count), ("failed", "sms_credit", attempt)
            )
        self.assertFalse(message.next_attempt_date, "no fourth attempt")
        self.assertEqual(message.followup_task_id.reason, "message_failed")
        self.assertIn("No SMS credit left", message.followup_task_id.notes)
        self.assertEqual(sent.filtered("to_delete"), sent[:2], "earlier failed SMS cannot be resent by hand as well")
        _mails, sms = self._pass("2026-06-10 14:00:00")
        self.assertFalse(sms)

    def test_credit_topped_up_before_the_retry(self):
        self.rule_email.active = False
        visit = self._book(self.anna, VISIT_AT)
        with freeze_time("2026-06-10 10:01:00"), self.mockSMSGateway(sim_error="credit"):
            self.Automation._precise_check()
            self._new_sms.send()
        with freeze_time("2026-06-10 10:32:00"), self.mockSMSGateway():
            self.Automation._precise_check()
            self._new_sms.send()
        message = self._message(visit, "sms")
        self.assertEqual((message.state, message.attempt_count, message.followup_task_id.id), ("sent", 2, False))

    def test_mail_server_down_is_retried_then_handed_to_a_person(self):
        self.rule_sms.active = False
        visit = self._book(self.anna, VISIT_AT)
        IrMailServer = type(self.env["ir.mail_server"])
        for attempt, when in enumerate(("2026-06-10 10:01:00", "2026-06-10 10:32:00", "2026-06-10 11:33:00"), 1):
            with freeze_time(when), self.mock_mail_gateway():
                self.Automation._precise_check()
                self.assertEqual(len(self._new_mails), 1, f"attempt {attempt}")
                with patch.object(IrMailServer, "connect", side_effect=ConnectionRefusedError("Connection refused")):
                    self._new_mails.send()
            message = self._message(visit, "email")
            self.assertEqual(
                (message.state, message.failure_type, message.attempt_count), ("failed", "mail_smtp", attempt)
            )
        self.assertIn("Connection refused", message.failure_reason)
        task = message.followup_task_id
        self.assertEqual(task.reason, "message_failed")
        self.assertIn("Mail server unreachable", task.notes)
        self.assertEqual(
            self.env["mail.mail"].search([("res_id", "=", visit.id), ("model", "=", "clinic.visit")]).mapped("state"),
            ["exception", "cancel", "cancel"],
            "earlier failed emails are withdrawn",
        )

    def test_invalid_address_is_not_retried(self):
        self.rule_sms.active = False
        visit = self._book(self.anna, VISIT_AT)
        with freeze_time("2026-06-10 10:01:00"), self.mock_mail_gateway():
            self.Automation._precise_check()
            self.anna.partner_id.email = "no address"  # changed before the mail queue ran
            self._new_mails.send()
        message = self._message(visit, "email")
        self.assertRecordValues(
            message, [{"state": "failed", "failure_type": "mail_email_invalid", "next_attempt_date": False}]
        )
        self.assertEqual(
            message.followup_task_id.reason, "message_failed", "straight to a person: retrying cannot help"
        )

    def test_crash_between_claim_and_send_neither_loses_nor_duplicates(self):
        visits = self._visits()
        Care = type(self.env["clinic.care.message"])
        # 1. the worker dies after claiming, before sending: its transaction rolls back
        with freeze_time("2026-06-10 10:31:00"), self.mock_mail_gateway(), self.mockSMSGateway():
            with patch.object(Care, "_dispatch_batch", side_effect=Crash), self.assertRaises(Crash):
                with self.env.cr.savepoint():
                    for rule in self.rule_email | self.rule_sms:
                        rule._precise_run(datetime(2026, 6, 10, 10, 31))
                    self.assertEqual(len(self._ledger(visits)), 6, "claimed")
                    self.env["clinic.care.message"]._dispatch_due()
        self.assertFalse(self._ledger(visits), "nothing claimed survives the crash")
        # 2. the claims were committed, the sending transaction dies
        with freeze_time("2026-06-10 10:31:00"):
            for rule in self.rule_email | self.rule_sms:
                rule._precise_run(datetime(2026, 6, 10, 10, 31))
        with freeze_time("2026-06-10 10:32:00"), self.mock_mail_gateway(), self.mockSMSGateway():
            with patch.object(Care, "_send_sms", side_effect=Crash), self.assertRaises(Crash):
                with self.env.cr.savepoint():
                    self.env["clinic.care.message"]._dispatch_due()
            self.assertEqual(set(self._ledger(visits).mapped("state")), {"queued"})
            self.assertFalse(any(self._ledger(visits).mapped("handover_date")))
        # 3. the next passes send each message exactly once
        mails, sms = self._pass("2026-06-10 10:33:00")
        self.assertEqual((len(mails), len(sms)), (3, 3))
        mails, sms = self._pass("2026-06-10 10:40:00")
        self.assertFalse(mails or sms)
        self.assertEqual(len(self._ledger(visits)), 6)

    def test_archived_patient_gets_nothing_and_loses_future_visits(self):
        queued_visit = self._book(self.anna, VISIT_AT)
        self.company.clinic_quiet_start = 0.0
        self.company.clinic_quiet_end = 23.0
        self.rule_email.active = False
        self._pass("2026-06-10 10:01:00")
        message = self._message(queued_visit, "sms")
        self.assertEqual(message.state, "queued", "waiting for the end of the quiet hours")
        later = self._book(self.anna, VISIT_AT + timedelta(days=7))
        with freeze_time("2026-06-10 12:00:00"), self.mock_mail_gateway():
            self.anna.action_archive()
            self.assertFalse(self._new_mails, "no message about the cancellation")
        self.assertEqual((queued_visit.state, later.state), ("cancelled", "cancelled"))
        self.assertFalse(
            self.env["clinic.followup.task"].search([("visit_id", "in", (queued_visit | later).ids)]),
            "no rebooking task for an archived patient",
        )
        _mails, sms = self._pass("2026-06-10 15:01:00")
        self.assertFalse(sms)
        self.assertEqual(message.state, "cancelled")
        # a patient archived with a visit still scheduled (e.g. imported) gets no reminder either
        bella_visit = self._book(self.bella, VISIT_AT + timedelta(days=1))
        self.bella.partner_id.active = False
        self._pass("2026-06-11 10:01:00")
        self.assertEqual(self._message(bella_visit, "sms").skip_reason, "inactive")
