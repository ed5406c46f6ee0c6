from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestCareMessageAccess(ClinicRetentionCase):
    """Who sees the care messages (the ledger): agents their departments',
    managers their companies', nobody changes or deletes them; the
    dashboard's "reminders delivered %" counts what each user may see."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.patient = cls._patient("Ledger Patient", care_consent=True)
        other_patient = cls._patient("Other Ledger Patient", company_id=cls.other_company.id)
        start = datetime(2026, 6, 11, 10, 0)
        visits = {
            "dental": cls._visit(cls.patient, start, state="scheduled"),
            "cardiology": cls._visit(cls.patient, start, department=cls.cardiology, state="scheduled"),
            "other": cls._visit(other_patient, start, department=cls.other_department, state="scheduled"),
        }
        Ledger = cls.env["clinic.visit.reminder"]
        rows = []
        for visit in visits.values():
            for channel, state in (("email", "sent"), ("sms", "delivered")):
                rows.append(
                    {
                        "visit_id": visit.id,
                        "patient_id": visit.patient_id.id,
                        "company_id": visit.company_id.id,
                        "department_id": visit.department_id.id,
                        "kind": "day_before",
                        "channel": channel,
                        "visit_start": visit.start,
                        "state": state,
                        "scheduled_date": datetime(2026, 6, 10, 10, 0),
                    }
                )
        Ledger._claim(rows)
        cls.patients = cls.patient | other_patient
        cls.messages = {name: Ledger.search([("visit_id", "=", visit.id)]) for name, visit in visits.items()}
        cls.messages["dental"][0].state = "failed"

    def test_who_reads_which_messages(self):
        Ledger = self.env["clinic.visit.reminder"]
        expected = {
            self.cs_user: self.messages["dental"],
            self.cs_user_2: self.messages["cardiology"],
            self.manager: self.messages["dental"] | self.messages["cardiology"],
            self.other_company_user: self.messages["other"],
        }
        for user, messages in expected.items():
            with self.subTest(user=user.login):
                # these patients' messages (the demo data has others in the same company)
                self.assertEqual(Ledger.with_user(user).search([("patient_id", "in", self.patients.ids)]), messages)
        for user in (self.internal_user, self.portal_user, self.doctor):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                Ledger.with_user(user).search([])

    def test_nobody_rewrites_or_deletes_the_ledger(self):
        message = self.messages["dental"][:1]
        for user in (self.cs_user, self.manager):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    message.with_user(user).write({"state": "sent"})
                with self.assertRaises(AccessError):
                    message.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    values = {"visit_id": message.visit_id.id, "kind": "day_before", "channel": "email"}
                    self.env["clinic.visit.reminder"].with_user(user).create(
                        dict(values, visit_start=datetime(2026, 1, 1))
                    )

    def test_reminders_delivered_figure(self):
        Ledger = self.env["clinic.visit.reminder"]
        day = datetime(2026, 6, 10).date()
        # the test departments (the demo data has messages in others of the same company)
        ours = (self.dental | self.cardiology).ids
        # dental: 1 failed + 1 delivered; cardiology: 1 sent + 1 delivered (own company)
        self.assertAlmostEqual(Ledger.with_user(self.manager)._delivery_rate(day, day, ours), 75.0)
        self.assertAlmostEqual(Ledger.with_user(self.cs_user)._delivery_rate(day, day), 50.0, msg="their department")
        self.assertIsNone(
            Ledger.with_user(self.manager)._delivery_rate(day - timedelta(days=30), day - timedelta(days=1), ours)
        )
        with self.subTest("dashboard"):
            with freeze_time("2026-06-20 12:00:00"):
                dashboard = (
                    self.env["clinic.retention.dashboard"]
                    .with_user(self.manager)
                    .create({"period": "month", "department_ids": [(6, 0, ours)]})
                )
                self.assertAlmostEqual(dashboard.reminders_delivered, 75.0)
