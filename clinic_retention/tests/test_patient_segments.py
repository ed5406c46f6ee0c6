from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import ClinicRetentionCase

NOW = datetime(2026, 6, 15, 10, 0)


@tagged("post_install", "-at_install")
class TestPatientSegments(ClinicRetentionCase):
    """The segments on a hand-built clinic of its own (no demo patient in
    the ranking), searched as the filters and a campaign's domain do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clinic = cls.env["res.company"].create({"name": "Segment Clinic", "country_id": cls.china.id})
        cls.department = cls.env["clinic.department"].create(
            {"name": "Segment dental", "code": "SEGD", "company_id": cls.clinic.id}
        )
        cls.agent = new_test_user(
            cls.env,
            login="segment_agent",
            groups="clinic_retention.group_clinic_retention_user",
            company_id=cls.clinic.id,
            company_ids=[(6, 0, cls.clinic.ids)],
        )
        cls.env["clinic.department"].browse(cls.department.id).member_ids = [(4, cls.agent.id)]
        with freeze_time(NOW):
            p = cls._segment_patient
            cls.lapsed = p("Lapsed", "2025-09-01 09:00:00", 100)
            cls.lost = p("Lost", "2025-03-01 09:00:00", 5000)  # revenue outside the 12 months
            cls.active = p("Active", "2026-05-01 09:00:00", 1000)
            cls.recall = p("Recall due", "2026-04-01 09:00:00", 1000)  # tie with Active
            cls.recall_booked = p("Recall booked", "2026-04-02 09:00:00", 10)
            cls.birthday = p("Birthday", None, 0, birthdate=date(1980, 6, 20))
            cls.other_month = p("Other month", None, 0, birthdate=date(1980, 7, 1))
            cls.reviewed = p("Reviewed", "2026-05-02 09:00:00", 0)
            cls.complained = p("Complained", None, 0)
            cls.old_complaint = p("Old complaint", None, 0)
            for patient in cls.recall | cls.recall_booked:
                cls.env["clinic.followup.task"].create(
                    {
                        "name": "Recall",
                        "patient_id": patient.id,
                        "department_id": cls.department.id,
                        "reason": "recall",
                        "due_date": date(2026, 6, 1),
                    }
                )
            cls._visit(cls.recall_booked, "2026-07-01 09:00:00", cls.department, state="scheduled")
            cls.env["clinic.survey.response"].create(
                {"patient_id": cls.reviewed.id, "state": "answered", "score": 5, "company_id": cls.clinic.id}
            )
            cls.env["clinic.survey.response"].create({"patient_id": cls.active.id, "company_id": cls.clinic.id})
            for patient, received in ((cls.complained, "2026-05-01 09:00:00"), (cls.old_complaint, "2026-01-01")):
                cls.env["clinic.complaint"].create(
                    {
                        "name": "Waited an hour",
                        "description": "Nobody called me in.",
                        "patient_id": patient.id,
                        "department_id": cls.department.id,
                        "company_id": cls.clinic.id,
                        "received_date": received,
                    }
                )
        cls.all = cls.env["clinic.patient"].search([("company_id", "=", cls.clinic.id)])

    @classmethod
    def _segment_patient(cls, name, last_visit, amount, **vals):
        patient = cls._patient(name, company_id=cls.clinic.id, **vals)
        if last_visit:
            cls._visit(patient, last_visit, cls.department, amount=amount)
        return patient

    def _members(self, fname, env=None):
        Patient = (env or self.env)["clinic.patient"]
        with freeze_time(NOW):
            return Patient.search([("company_id", "=", self.clinic.id), (fname, "=", True)])

    def test_segments_hold_the_hand_picked_patients(self):
        expected = {
            "segment_lapsed": self.lapsed,
            "segment_lost": self.lost,
            "segment_recall_due": self.recall,
            # top 10% of 5 patients with revenue = 1 place; Active and Recall tie at 1,000
            "segment_high_value": self.active | self.recall,
            "segment_birthday_month": self.birthday,
            "segment_never_reviewed": self.all - self.reviewed,
            "segment_complained": self.complained,
        }
        for fname, members in expected.items():
            with self.subTest(segment=fname):
                self.assertEqual(self._members(fname), members)
                with freeze_time(NOW):
                    others = self.env["clinic.patient"].search(
                        [("company_id", "=", self.clinic.id), (fname, "!=", True)]
                    )
                    self.assertEqual(others, self.all - members, "the complement is the other patients")
                    self.assertEqual(self.all.filtered(fname), members, "the field's value agrees with its search")

    def test_segments_move_with_time(self):
        with freeze_time("2026-07-02 10:00:00"):
            Patient = self.env["clinic.patient"]
            domain = [("company_id", "=", self.clinic.id)]
            self.assertEqual(Patient.search(domain + [("segment_birthday_month", "=", True)]), self.other_month)
            # the booking answered Recall booked's task: still not due, though the visit is past
            self.assertEqual(Patient.search(domain + [("segment_recall_due", "=", True)]), self.recall)
        with freeze_time("2026-09-15 10:00:00"):
            self.assertIn(self.lost, self.env["clinic.patient"].search([("segment_lost", "=", True)]))
            self.assertFalse(self.env["clinic.patient"].search(domain + [("segment_complained", "=", True)]))

    def test_agents_use_segments_in_their_clinic(self):
        self.assertEqual(self._members("segment_complained", self.env(user=self.agent)), self.complained)
        with freeze_time(NOW):
            outsiders = self.env["clinic.patient"].with_user(self.cs_user).search([("segment_lost", "=", True)])
        self.assertFalse(outsiders & self.all, "another company's agent sees none of these patients")

    def test_unsupported_search_is_refused(self):
        with self.assertRaises(NotImplementedError):
            self.env["clinic.patient"].search([("segment_lost", "in", [1])])
