from datetime import date, datetime

from odoo.tests import tagged

from .common import ClinicRetentionCase

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


@tagged("post_install", "-at_install")
class TestPatientLeave(ClinicRetentionCase):
    """Reasons for leaving, and churn with and without natural attrition, on
    a clinic of its own (active window 365 days, Q1 2026):

    - A: visits on 2025-06-01 and 2026-02-01: active at the start and the end;
    - B: last visit 2025-02-01, left for the price: lost;
    - C: last visit 2025-03-01, deceased: natural attrition;
    - D: last visit 2025-03-15, moved away: natural attrition.

    Natural attrition left out (default): S = {A, B}, E = {A}, lost = {B}:
    churn 1/2, PRR (1 - 0) / 2. Counted: S = {A, B, C, D}, lost = {B, C, D}:
    churn 3/4, PRR 1/4."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clinic = cls.env["res.company"].create({"name": "Attrition Clinic", "country_id": cls.china.id})
        cls.department = cls.env["clinic.department"].create(
            {"name": "Attrition dental", "code": "ATTD", "company_id": cls.clinic.id}
        )
        visits = {
            "A": ["2025-06-01 09:00:00", "2026-02-01 09:00:00"],
            "B": ["2025-02-01 09:00:00"],
            "C": ["2025-03-01 09:00:00"],
            "D": ["2025-03-15 09:00:00"],
        }
        cls.p = {}
        for name, starts in visits.items():
            patient = cls._patient(f"Attrition {name}", company_id=cls.clinic.id)
            for start in starts:
                cls._visit(patient, start, cls.department, amount=100)
            cls.p[name] = patient
        cls.future = cls._visit(cls.p["C"], datetime(2030, 1, 10, 9), cls.department, state="scheduled")
        cls.p["B"].leave_reason = "price"
        cls.p["C"].leave_reason = "deceased"
        cls.p["D"].leave_reason = "moved_away"

    def _kpi(self):
        self.env.flush_all()
        Kpi = self.env["clinic.retention.kpi"].with_company(self.clinic)
        return Kpi._compute(*Q1, company=self.clinic)[0]

    def test_churn_without_natural_attrition(self):
        line = self._kpi()
        self.assertEqual((line["patients_start"], line["patients_end"], line["patients_lost"]), (2, 1, 1))
        self.assertAlmostEqual(line["churn"], 1 / 2)
        self.assertAlmostEqual(line["prr"], 1 / 2)

    def test_churn_with_natural_attrition(self):
        self.clinic.clinic_churn_exclude_natural = False
        line = self._kpi()
        self.assertEqual((line["patients_start"], line["patients_end"], line["patients_lost"]), (4, 1, 3))
        self.assertAlmostEqual(line["churn"], 3 / 4)
        self.assertAlmostEqual(line["prr"], 1 / 4)

    def test_deceased_is_archived_and_never_contacted(self):
        deceased = self.p["C"]
        self.assertFalse(deceased.active)
        self.assertEqual(self.future.state, "cancelled", "future visits are cancelled")
        self.assertEqual(deceased.leave_date, date.today())
        self.assertNotIn(deceased, self.env["clinic.patient"].search([("company_id", "=", self.clinic.id)]))
        self.assertTrue(self.p["B"].active, "a patient who left for the price stays, to win back")

    def test_reasons_per_department(self):
        Patient = self.env["clinic.patient"].with_context(active_test=False)
        counts = {
            (department.id, reason): count
            for department, reason, count in Patient._read_group(
                [("company_id", "=", self.clinic.id), ("leave_reason", "!=", False)],
                ["department_ids", "leave_reason"],
                ["__count"],
            )
        }
        self.assertEqual(
            counts,
            {
                (self.department.id, "price"): 1,
                (self.department.id, "deceased"): 1,
                (self.department.id, "moved_away"): 1,
            },
        )

    def test_reason_from_the_follow_up_task(self):
        patient = self._patient("Gone elsewhere")
        self._visit(patient, "2024-05-01 09:00:00")
        task = self.env["clinic.followup.task"].create(
            {
                "name": "Reactivate",
                "patient_id": patient.id,
                "department_id": self.dental.id,
                "user_id": self.cs_user.id,
            }
        )
        task.with_user(self.cs_user).patient_leave_reason = "other_clinic"
        self.assertEqual(patient.leave_reason, "other_clinic")
