from datetime import date

from odoo.addons.mail.tests.common import MailCase
from odoo.tests import tagged

from .crm_common import ClinicCrmCase


@tagged("post_install", "-at_install")
class TestReferral(ClinicCrmCase, MailCase):
    """Who brought whom: referrals move none → booked → first visit done →
    in treatment, are converted once, and the referrer may be thanked once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env["clinic.referral.report"]
        cls.referrer = cls._patient("Referrer Rita", mobile="13800138700", email="rita@example.com", care_consent=True)
        cls.practice = cls.env["res.partner"].create(
            {"name": "Green Valley Family Practice", "is_company": True, "email": "office@greenvalley.example.com"}
        )
        cls.thanks_rule = cls.env.ref("clinic_retention.automation_visit_referral_thanks")

    def _row(self, patient):
        self.Report.invalidate_model()  # a view: read it afresh, as each request does
        return self.Report.search([("patient_id", "=", patient.id)])

    def _registered(self, patient, when):
        """Patients are referred when registered (their creation date)."""
        self.env.flush_all()
        self.env.cr.execute("UPDATE clinic_patient SET create_date = %s WHERE id = %s", [when, patient.id])
        return patient

    def test_referral_moves_through_its_statuses_and_is_converted_once(self):
        referred = self._patient("Referred Ruth", referred_by_id=self.referrer.partner_id.id)
        row = self._row(referred)
        self.assertRecordValues(
            row,
            [
                {
                    "referrer_id": self.referrer.partner_id.id,
                    "referrer_kind": "patient",
                    "state": "none",
                    "converted_count": 0,
                    "id": referred.id * 2,
                }
            ],
        )
        first = self._visit(referred, "2030-03-05 09:00:00", state="scheduled", amount=0)
        self.assertEqual(self._row(referred).state, "booked")
        first.write({"state": "done", "amount": 120})
        row = self._row(referred)
        self.assertEqual((row.state, row.converted_count, row.revenue), ("first_visit", 1, 120))
        self._visit(referred, "2030-04-05 09:00:00", state="done", amount=300)
        rows = self._row(referred)
        self.assertEqual(len(rows), 1, "one referral, whatever follows")
        self.assertEqual(
            (rows.state, rows.converted_count, rows.revenue, rows.visit_count), ("in_treatment", 1, 420, 2)
        )
        self.assertEqual(rows.first_visit_date, first.start)

    def test_prospect_referral_becomes_the_patient_referral(self):
        lead = self._prospect(
            "Referred Prospect",
            phone="13800138701",
            clinic_referrer_id=self.practice.id,
            source_id=self.source_referral.id,
        )
        row = self.Report.search([("lead_id", "=", lead.id)])
        self.assertRecordValues(
            row, [{"id": lead.id * 2 + 1, "state": "none", "referrer_kind": "organisation", "patient_id": False}]
        )
        patient = lead._clinic_ensure_patient()
        self.Report.invalidate_model()
        rows = self.Report.search([("referrer_id", "=", self.practice.id)])
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows.patient_id, patient)
        self.assertEqual(rows.lead_id, lead)
        self.assertEqual(rows.source_id, self.source_referral)
        self.assertEqual(rows.department_id, self.dental)

    def test_a_treatment_plan_puts_the_referral_in_treatment(self):
        referred = self._patient("Referred Tom", referred_by_id=self.referrer.partner_id.id)
        visit = self._visit(referred, "2026-03-05 09:00:00", state="done")
        plan = self.env["clinic.treatment.plan"].create(
            {"name": "Implant", "visit_id": visit.id, "line_ids": [(0, 0, {"name": "Implant", "amount": 2000})]}
        )
        self.assertEqual(self._row(referred).state, "first_visit", "proposed only")
        plan.action_accept()
        self.assertEqual(self._row(referred).state, "in_treatment")

    def test_thank_you_to_the_referrer_once(self):
        self.thanks_rule.active = True
        referred = self._patient("Referred Una", referred_by_id=self.referrer.partner_id.id)
        first = self._visit(referred, "2030-03-05 09:00:00", state="scheduled")
        second = self._visit(referred, "2030-04-05 09:00:00", state="scheduled")
        with self.mock_mail_gateway():
            first.action_mark_done()
        self.assertEqual(len(self._new_mails), 1)
        mail = self._new_mails
        self.assertEqual(mail.recipient_ids, self.referrer.partner_id)
        self.assertIn("Thank you for recommending", mail.subject)
        self.assertNotIn("Una", mail.body_html, "the referred person is never named")
        ledger = self.env["clinic.visit.reminder"].search([("kind", "=", "referral_thanks")])
        self.assertEqual((ledger.visit_id, ledger.state, ledger.destination), (first, "sent", "rita@example.com"))
        with self.mock_mail_gateway():
            first.action_reset_scheduled()
            first.action_mark_done()
            second.action_mark_done()
        self.assertFalse(self._new_mails, "once: not again for the same visit, not for the second one")

    def test_no_thanks_without_care_consent_or_when_the_rule_is_off(self):
        self.thanks_rule.active = True
        self.referrer.care_consent = False
        referred = self._patient("Referred Vic", referred_by_id=self.referrer.partner_id.id)
        with self.mock_mail_gateway():
            self._visit(referred, "2030-03-05 09:00:00", state="scheduled").action_mark_done()
        self.assertFalse(self._new_mails)
        ledger = self.env["clinic.visit.reminder"].search([("kind", "=", "referral_thanks")])
        self.assertEqual((ledger.state, ledger.skip_reason), ("skipped", "no_consent"))
        self.thanks_rule.active = False
        self.referrer.care_consent = True
        other = self._patient("Referred Wes", referred_by_id=self.referrer.partner_id.id)
        with self.mock_mail_gateway():
            self._visit(other, "2030-03-05 09:00:00", state="scheduled").action_mark_done()
        self.assertFalse(self._new_mails, "optional: the shipped rule is inactive")

    def test_referral_figures_top_referrers_and_conversion(self):
        march = "2026-03-10 09:00:00"
        for index in range(3):
            patient = self._patient(f"Rita's friend {index}", referred_by_id=self.referrer.partner_id.id)
            self._registered(patient, march)
            if index < 2:
                self._visit(patient, f"2026-03-1{index + 1} 09:00:00", state="done", amount=100)
        practice_patient = self._registered(self._patient("Practice patient", referred_by_id=self.practice.id), march)
        self._visit(practice_patient, "2026-03-12 09:00:00", state="done", amount=50)
        self._registered(self._patient("Not referred"), march)
        self._registered(self._patient("April referral", referred_by_id=self.practice.id), "2026-04-10 09:00:00")
        figures = self.Report.with_user(self.manager)._figures(date(2026, 3, 1), date(2026, 3, 31))
        self.assertEqual((figures["referrals"], figures["converted"], figures["revenue"]), (4, 3, 250))
        self.assertAlmostEqual(figures["rate"], 0.75)
        top = figures["top_referrers"]
        self.assertEqual([line["key"] for line in top], [self.referrer.partner_id, self.practice])
        self.assertEqual((top[0]["referrals"], top[0]["converted"], top[0]["revenue"]), (3, 2, 200))
        self.assertEqual(
            {line["key"]: line["referrals"] for line in figures["by_department"]},
            {self.dental: 3, self.env["clinic.department"]: 1},
            "Rita's third friend has no visit yet, so no department",
        )
        agent = self.Report.with_user(self.cs_user)._figures(date(2026, 3, 1), date(2026, 3, 31))
        self.assertEqual((agent["referrals"], agent["converted"]), (3, 3), "the agent's department only")
