from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CareMessageCase

# 11:00 in Shanghai (the clinic's zone in CareMessageCase): outside quiet hours
DAYTIME = "2026-06-10 03:00:00"


@tagged("post_install", "-at_install")
class TestFollowupMessages(CareMessageCase, MockEmail, SMSCase):
    """ "Send recall SMS / e-mail" from a follow-up task: the shipped
    templates in the patient's language, consent, the care-message ledger
    (state visible, failures reported on the task) and the task's attempt."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.anna = cls._patient(
            "Anna", mobile="138 0013 8000", email="anna@example.com", care_consent=True, lang="fr_FR"
        )
        cls.bella = cls._patient("Bella", mobile="136 0013 8000", email="bella@example.com", care_consent=False)
        cls.Task = cls.env["clinic.followup.task"]

    def _task(self, patient, reason="recall", **vals):
        return self.Task.create(
            dict(
                vals,
                name="Six-month check-up",
                patient_id=patient.id,
                department_id=self.dental.id,
                reason=reason,
                user_id=self.cs_user.id,
            )
        ).with_user(self.cs_user)

    def _send(self, task, channel, when=DAYTIME):
        """Press the button at ``when``, then let the dispatcher and the
        (mocked) mail and SMS queues send what was queued."""
        with freeze_time(when), self.mock_mail_gateway(), self.mockSMSGateway():
            action = getattr(task, f"action_send_{channel}")()
            self.env["clinic.care.message"]._dispatch_due()
            mails, sms = self._new_mails, self._new_sms
            mails.send()
            sms.send()
        return action, mails, sms

    def test_recall_sms_in_the_patient_language_through_the_ledger(self):
        template = self.env.ref("clinic_retention.sms_template_task_recall_invitation")
        template.with_context(lang="fr_FR").body = "{{ object.company_id.name }}: il est temps de revenir."
        task = self._task(self.anna)
        action, _mails, sms = self._send(task, "sms")
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.body, "Test Clinic: il est temps de revenir.")
        self.assertEqual(sms.number, "+8613800138000")
        message = task.care_message_ids
        self.assertRecordValues(
            message,
            [
                {
                    "kind": "recall_invitation",
                    "channel": "sms",
                    "state": "sent",
                    "patient_id": self.anna.id,
                    "department_id": self.dental.id,
                    "company_id": self.company.id,
                    "sms_id": sms.id,
                    "visit_id": False,
                }
            ],
        )
        self.assertRecordValues(task, [{"attempt_count": 1, "channel": "sms", "state": "in_progress"}])
        self.assertIn("Recall invitation sent by SMS", task.message_ids[0].body)
        self.assertEqual(task.care_message_count, 1)
        # the agent sees the row (department member), as in Message delivery
        self.assertEqual(self.Ledger.with_user(self.cs_user).search([("task_id", "=", task.id)]), message)

    def test_recall_email_rendered_for_the_patient(self):
        task = self._task(self.anna)
        _action, mails, _sms = self._send(task, "email")
        self.assertEqual(len(mails), 1)
        self.assertIn("anna@example.com", mails.email_to or mails.recipient_ids.email)
        self.assertIn("Anna", str(mails.body_html))
        self.assertIn(self.dental.name, str(mails.body_html))
        self.assertEqual(task.care_message_ids.state, "sent")
        self.assertEqual((task.attempt_count, task.channel), (1, "email"))

    def test_no_care_consent_nothing_sent_and_no_attempt(self):
        task = self._task(self.bella)
        action, mails, sms = self._send(task, "sms")
        self.assertFalse(mails or sms)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertRecordValues(
            task.care_message_ids, [{"state": "skipped", "skip_reason": "no_consent", "sent_date": False}]
        )
        self.assertEqual((task.attempt_count, task.state), (0, "new"))
        self.assertIn("not sent", task.message_ids[0].body)

    def test_reactivation_needs_marketing_consent(self):
        task = self._task(self.anna, reason="reactivation")
        _action, mails, _sms = self._send(task, "email")
        self.assertFalse(mails)
        self.assertRecordValues(
            task.care_message_ids, [{"kind": "reactivation", "state": "skipped", "skip_reason": "no_marketing_consent"}]
        )
        self.anna.write({"marketing_consent": True, "marketing_consent_source": "phone"})
        _action, mails, _sms = self._send(task, "email", when="2026-06-11 03:00:00")
        self.assertEqual(len(mails), 1)
        self.assertEqual(task.care_message_ids.sorted("id")[-1].state, "sent")

    def test_unreachable_message_after_the_last_attempt(self):
        task = self._task(self.anna, max_attempts=1)
        task.action_not_reached()
        self.assertEqual(task.state, "unreachable")
        _action, _mails, sms = self._send(task, "sms")
        self.assertEqual(len(sms), 1)
        self.assertEqual(task.care_message_ids.kind, "unreachable")
        self.assertEqual(task.state, "unreachable", "the message does not re-open the task")

    def test_second_click_the_same_day_sends_nothing_more(self):
        task = self._task(self.anna)
        self._send(task, "sms")
        with self.assertRaises(UserError), freeze_time("2026-06-10 05:00:00"):
            task.action_send_sms()
        self.assertEqual(len(task.care_message_ids), 1)
        # the next day is another attempt
        self._send(task, "sms", when="2026-06-11 03:00:00")
        self.assertEqual((len(task.care_message_ids), task.attempt_count), (2, 2))

    def test_sms_waits_for_the_end_of_quiet_hours(self):
        task = self._task(self.anna)
        # 23:00 in Shanghai
        _action, _mails, sms = self._send(task, "sms", when="2026-06-10 15:00:00")
        self.assertFalse(sms, "held until the morning")
        self.assertRecordValues(task.care_message_ids, [{"state": "queued", "deferred_reason": "quiet_hours"}])

    def test_failed_sms_is_reported_on_the_task(self):
        task = self._task(self.anna)
        with freeze_time(DAYTIME), self.mockSMSGateway(sim_error="wrong_number_format"):
            task.action_send_sms()
            self.env["clinic.care.message"]._dispatch_due()
            self._new_sms.send()
        message = task.care_message_ids
        self.assertEqual(message.state, "failed")
        self.assertFalse(message.followup_task_id, "no second task: this one is already about reaching the patient")
        self.assertIn("could not be delivered", task.message_ids[0].body)

    def test_done_task_sends_nothing(self):
        task = self._task(self.anna)
        task._move_to("done", outcome="reached")
        with self.assertRaises(UserError):
            task.action_send_email()
