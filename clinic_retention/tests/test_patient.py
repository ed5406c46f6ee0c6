from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestPatient(ClinicRetentionCase):
    def test_duplicates_by_phone_and_email_flagged_not_merged(self):
        first = self._patient("Wang Fang", mobile="138 0013 8000", email="Wang.Fang@Example.com")
        same_phone = self._patient("王芳", phone="+86 138 0013 8000")
        same_email = self._patient("Fang Wang", email="wang.fang@example.com")
        unrelated = self._patient("Someone else", mobile="139 0000 1111", email="else@example.com")
        other_company = self.env["clinic.patient"].create(
            {"name": "Other company twin", "mobile": "+8613800138000", "company_id": self.other_company.id}
        )
        # each request computes it afresh
        self.env.invalidate_all()

        self.assertEqual(first.duplicate_patient_ids, same_phone | same_email)
        self.assertEqual(same_phone.duplicate_patient_ids, first)
        self.assertEqual(same_email.duplicate_patient_ids, first)
        self.assertFalse(unrelated.is_possible_duplicate)
        self.assertFalse(other_company.is_possible_duplicate, "duplicates are per company")

        flagged = self.env["clinic.patient"].search([("is_possible_duplicate", "=", True)])
        self.assertTrue(first | same_phone | same_email <= flagged)
        self.assertNotIn(unrelated, flagged)
        self.assertNotIn(other_company, flagged)
        not_flagged = self.env["clinic.patient"].search([("is_possible_duplicate", "=", False)])
        self.assertIn(unrelated, not_flagged)
        self.assertNotIn(first, not_flagged)
        # nothing was merged
        self.assertEqual(len(first | same_phone | same_email), 3)
        self.assertEqual(len((first | same_phone | same_email).partner_id), 3)

    @freeze_time("2026-06-15")
    def test_age_compute_and_search(self):
        birthday_today = self._patient("Turns 40 today", birthdate=date(1986, 6, 15))
        birthday_tomorrow = self._patient("Still 39", birthdate=date(1986, 6, 16))
        child = self._patient("Child", birthdate=date(2020, 1, 1))
        self.assertEqual(birthday_today.age, 40)
        self.assertEqual(birthday_tomorrow.age, 39)
        self.assertEqual(child.age, 6)
        Patient = self.env["clinic.patient"]
        everyone = birthday_today | birthday_tomorrow | child
        self.assertEqual(Patient.search([("id", "in", everyone.ids), ("age", "=", 40)]), birthday_today)
        self.assertEqual(Patient.search([("id", "in", everyone.ids), ("age", ">=", 40)]), birthday_today)
        self.assertEqual(Patient.search([("id", "in", everyone.ids), ("age", "<", 40)]), birthday_tomorrow | child)
        self.assertEqual(
            Patient.search([("id", "in", everyone.ids), ("age", "<=", 39), ("age", ">", 6)]),
            birthday_tomorrow,
        )

    @freeze_time("2026-06-15 10:00:00")
    def test_visit_statistics_and_departments(self):
        patient = self._patient("Stats")
        self.assertEqual((patient.visit_count, patient.lifecycle_state), (0, "new"))
        self._visit(patient, "2025-03-01 09:00:00", state="done")
        self._visit(patient, "2025-09-10 09:00:00", department=self.cardiology, state="done")
        self._visit(patient, "2026-01-20 09:00:00", state="no_show")
        self._visit(patient, "2026-02-01 09:00:00", state="cancelled")
        future = self._visit(patient, "2026-07-01 09:00:00", state="scheduled")
        self.assertEqual(patient.visit_count, 2, "only completed visits count")
        self.assertEqual(patient.first_visit_date, datetime(2025, 3, 1, 9))
        self.assertEqual(patient.last_visit_date, datetime(2025, 9, 10, 9))
        self.assertEqual(patient.department_ids, self.dental | self.cardiology)
        self.assertEqual(patient.next_visit_date, datetime(2026, 7, 1, 9))
        self.assertEqual(patient.lifecycle_state, "lapsed", "last completed visit 9 months ago")

        future.write({"start": datetime(2026, 6, 10, 9), "state": "done"})
        self.assertEqual(patient.visit_count, 3)
        self.assertEqual(patient.last_visit_date, datetime(2026, 6, 10, 9))
        self.assertEqual(patient.lifecycle_state, "active")
        self.assertFalse(patient.next_visit_date)

    def test_lifecycle_states_follow_time_through_the_cron(self):
        with freeze_time("2025-01-10 10:00:00"):
            patient = self._patient("Lifecycle")
            self._visit(patient, "2025-01-05 09:00:00")
            self.assertEqual(patient.lifecycle_state, "new")
        Patient = self.env["clinic.patient"]
        for when, expected in [
            ("2025-03-01", "new"),  # first visit < 90 days ago
            ("2025-05-01", "active"),  # > 90 days, < 180 days
            ("2025-08-01", "lapsed"),  # > 180 days
            ("2026-02-01", "lost"),  # > 365 days
        ]:
            with self.subTest(when=when), freeze_time(when):
                Patient._cron_refresh_lifecycle_state()
                self.assertEqual(patient.lifecycle_state, expected)
                self.assertEqual(
                    Patient.search([("id", "=", patient.id), ("lifecycle_state", "=", expected)]),
                    patient,
                    "stored, so list filters see it",
                )

    def test_consents_are_dated(self):
        with freeze_time("2026-03-01 12:00:00"):
            patient = self._patient("Consents", care_consent=True, care_consent_source="paper_form")
        self.assertEqual(patient.care_consent_date, datetime(2026, 3, 1, 12))
        self.assertFalse(patient.marketing_consent_date)
        with freeze_time("2026-04-01 08:30:00"):
            patient.marketing_consent = True
            patient.care_consent = False
        self.assertEqual(patient.marketing_consent_date, datetime(2026, 4, 1, 8, 30))
        self.assertEqual(patient.care_consent_date, datetime(2026, 4, 1, 8, 30), "withdrawal is dated too")

    def test_family_links_are_symmetric(self):
        mother = self._patient("Mother")
        son = self._patient("Son")
        daughter = self._patient("Daughter", family_member_ids=[(4, mother.id)])
        self.assertIn(daughter, mother.family_member_ids)
        mother.family_member_ids = [(4, son.id)]
        self.assertEqual(son.family_member_ids, mother)
        mother.family_member_ids = [(3, son.id)]
        self.assertFalse(son.family_member_ids)
        self.assertEqual(mother.family_member_ids, daughter)

    def test_referrals_counted(self):
        referrer = self._patient("Referrer")
        self._patient("Friend 1", referred_by_id=referrer.partner_id.id, referral_source="patient")
        self._patient("Friend 2", referred_by_id=referrer.partner_id.id, referral_source="patient")
        self.assertEqual(referrer.referral_count, 2)
        action = referrer.action_open_referrals()
        self.assertEqual(len(self.env["clinic.patient"].search(action["domain"])), 2)

    def test_patient_is_a_contact(self):
        patient = self._patient("Contact patient", email="c@example.com", mobile="13800138001")
        self.assertTrue(patient.partner_id.is_patient)
        self.assertEqual(patient.partner_id.email, "c@example.com")
        self.assertIn(patient.partner_id, self.env["res.partner"].search([("is_patient", "=", True)]))
        self.assertEqual(patient.partner_id.company_id, self.company)
        patient.message_post(body="Called the patient")
        self.assertIn("Called the patient", patient.message_ids[0].body)

    def test_medical_fields_only_managers_change_them(self):
        patient = self._patient("Medical")
        patient.with_user(self.manager).write({"allergies": "Penicillin"})
        as_agent = patient.with_user(self.cs_user)
        self.assertFalse(as_agent.allergies, "agents do not read clinical data (setting off, see test_patient_data)")
        self.assertFalse(as_agent.can_edit_medical)
        self.assertTrue(patient.with_user(self.manager).can_edit_medical)
        with self.assertRaises(AccessError):
            as_agent.write({"allergies": "None"})
        with self.assertRaises(AccessError):
            as_agent.write({"chronic_condition_ids": [(4, self.hypertension.id)]})
        as_agent.write({"occupation": "Teacher"})
        self.assertEqual(patient.allergies, "Penicillin")

    def test_patient_with_visits_cannot_be_deleted(self):
        patient = self._patient("Has history")
        self._visit(patient, "2025-01-01 09:00:00")
        with self.assertRaises(AccessError):
            patient.with_user(self.manager).unlink()
