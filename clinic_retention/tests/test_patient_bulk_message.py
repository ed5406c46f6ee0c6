from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import CareMessageCase

# 10:00 in Shanghai (the test clinic's zone): no quiet hours
NOW = "2026-06-11 02:00:00"


@tagged("post_install", "-at_install")
class TestPatientBulkMessage(CareMessageCase, MockEmail, SMSCase):
    """The "Send a message" action on a patient list, through the care-message ledger."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.anna = cls._patient("Anna", mobile="138 0013 8000", email="anna@example.com", care_consent=True)
        cls.email_only = cls._patient("Email only", email="mail@example.com", care_consent=True)
        cls.no_consent = cls._patient("No consent", mobile="139 0013 8000", email="nc@example.com")
        cls.opted_out = cls._patient("Opted out", email="out@example.com", care_consent=True)
        cls.no_visit = cls._patient("No visit", email="new@example.com", care_consent=True)
        cls.env["mail.blacklist"].sudo()._add("out@example.com")
        cls.old_visit = cls._visit(cls.anna, "2025-05-01 02:00:00")
        cls.last_visit = cls._visit(cls.anna, "2025-11-01 02:00:00")
        for patient in (cls.email_only, cls.no_consent, cls.opted_out):
            cls._visit(patient, "2025-11-02 02:00:00")
        cls._visit(cls.no_visit, "2025-11-02 02:00:00", department=cls.cardiology)
        cls.patients = cls.anna | cls.email_only | cls.no_consent | cls.opted_out | cls.no_visit

    def _send(self, user, department=None, **values):
        wizard = Form(
            self.env["clinic.patient.bulk.message"]
            .with_user(user)
            .with_context(active_model="clinic.patient", active_ids=self.patients.ids)
        )
        wizard.department_id = department or self.dental
        for name, value in values.items():
            setattr(wizard, name, value)
        action = wizard.save().action_send()
        return self.Ledger.browse(action["domain"][0][2])

    def _dispatch(self):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["clinic.care.message"]._dispatch_due()
            return self._new_mails, self._new_sms

    @freeze_time(NOW)
    def test_email_through_the_ledger_consent_respected_once(self):
        rows = self._send(self.cs_user)
        by_patient = {row.patient_id: row for row in rows}
        self.assertEqual(set(by_patient), {self.anna, self.email_only, self.no_consent, self.opted_out})
        self.assertEqual(by_patient[self.anna].visit_id, self.last_visit, "about the last completed visit")
        self.assertEqual(by_patient[self.anna].state, "queued")
        self.assertEqual(by_patient[self.email_only].state, "queued")
        self.assertEqual(
            (by_patient[self.no_consent].state, by_patient[self.no_consent].skip_reason), ("skipped", "no_consent")
        )
        self.assertEqual(
            (by_patient[self.opted_out].state, by_patient[self.opted_out].skip_reason), ("skipped", "blacklisted")
        )
        self.assertNotIn(self.no_visit, by_patient, "no completed visit in the department: nothing to write about")
        mails, _sms = self._dispatch()
        self.assertEqual(mails.recipient_ids, self.anna.partner_id | self.email_only.partner_id)
        self.assertIn("time for your next visit", mails[0].subject)
        self.assertEqual(set(rows.filtered(lambda r: r.state != "skipped").mapped("mail_mail_id")), set(mails))
        # the same list again: nothing twice
        again = self._send(self.cs_user)
        self.assertEqual(again, rows)
        mails, _sms = self._dispatch()
        self.assertFalse(mails)

    @freeze_time(NOW)
    def test_sms_with_email_fallback(self):
        rows = self._send(self.cs_user, channel="sms")
        self.assertEqual(rows.filtered(lambda r: r.patient_id == self.anna).channel, "sms")
        self.assertEqual(rows.filtered(lambda r: r.patient_id == self.email_only).channel, "email")
        mails, sms = self._dispatch()
        self.assertEqual(sms.number, "+8613800138000")
        self.assertIn("time for your next visit", sms.body)
        self.assertEqual(mails.recipient_ids, self.email_only.partner_id)

    @freeze_time(NOW)
    def test_a_template_made_in_the_interface(self):
        template = self.env["mail.template"].create(
            {
                "name": "Flu vaccine",
                "model_id": self.env.ref("clinic_retention.model_clinic_visit").id,
                "subject": "Flu season: {{ object.department_id.name }}",
                "body_html": "<p>Book your flu shot.</p>",
                "use_default_to": True,
            }
        )
        rows = self._send(self.manager, mail_template_id=template)
        self.assertEqual(set(rows.mapped("mail_template_id")), {template})
        mails, _sms = self._dispatch()
        self.assertEqual(set(mails.mapped("subject")), {"Flu season: Dental (test)"})

    def test_agents_only_for_their_departments(self):
        with self.assertRaises(AccessError):
            self._send(self.cs_user, department=self.cardiology)
        with self.assertRaises(AccessError):
            self._send(self.internal_user)
        self.assertFalse(self.Ledger.search([("kind", "=", "list_message")]))

    def test_bound_to_patient_lists(self):
        action = self.env.ref("clinic_retention.clinic_patient_bulk_message_action")
        self.assertEqual(action.binding_model_id.model, "clinic.patient")
