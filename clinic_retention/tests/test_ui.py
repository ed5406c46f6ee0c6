import io
from datetime import timedelta

import openpyxl

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestClinicUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="tour_agent",
            password="tour_agent_pw",
            name="Tour Agent",
            groups="clinic_retention.group_clinic_retention_user",
            tz="UTC",
        )
        cls.env["res.users"].browse(cls.agent.id).tour_enabled = False
        cls.department = cls.env["clinic.department"].create(
            {"name": "Tour Dental", "member_ids": [(6, 0, cls.agent.ids)]}
        )
        cls.service = cls.env["clinic.service"].create({"name": "Tour check-up", "department_id": cls.department.id})
        cls.env.company.country_id = cls.env.ref("base.cn")
        cls.patient = cls.env["clinic.patient"].create(
            {"name": "Tour Patient", "mobile": "138 0013 8000", "country_id": cls.env.ref("base.cn").id}
        )

    def test_agent_adds_visit_to_patient(self):
        self.start_tour(
            "/odoo/action-clinic_retention.clinic_patient_action",
            "clinic_patient_add_visit",
            login="tour_agent",
        )
        visit = self.patient.visit_ids
        self.assertEqual(len(visit), 1)
        self.assertEqual(visit.department_id, self.department)
        self.assertEqual(visit.service_id, self.service)
        self.assertEqual(visit.state, "scheduled")

    def test_agent_works_overdue_followup_on_kanban(self):
        today = fields.Date.context_today(self.env["clinic.followup.task"])
        task = self.env["clinic.followup.task"].create(
            {
                "name": "Tour recall",
                "patient_id": self.env["clinic.patient"]
                .create(
                    {
                        "name": "Tour Overdue Patient",
                        "mobile": "13800138000",
                        "country_id": self.env.ref("base.cn").id,
                    }
                )
                .id,
                "department_id": self.department.id,
                "reason": "recall",
                "date_deadline": today - timedelta(days=3),
                "user_id": False,
                "max_attempts": 3,
            }
        )
        self.assertTrue(task.is_overdue)
        self.start_tour(
            "/odoo/action-clinic_retention.clinic_followup_task_action",
            "clinic_followup_kanban",
            login="tour_agent",
        )
        self.assertRecordValues(
            task,
            [
                {
                    "state": "done",
                    "outcome": "reached",
                    "attempt_count": 2,
                    "satisfaction_score": 4,
                    "user_id": self.agent.id,
                }
            ],
        )
        agent_today = fields.Date.context_today(task.with_user(self.agent))
        self.assertEqual(
            task.date_deadline, agent_today + timedelta(days=2), "the not-reached attempt moved it to the retry day"
        )

    def test_manager_closes_complaint_from_low_score(self):
        manager = new_test_user(
            self.env,
            login="tour_manager",
            password="tour_manager_pw",
            name="Tour Manager",
            groups="clinic_retention.group_clinic_retention_manager",
            tz="UTC",
        )
        manager.tour_enabled = False
        self.department.manager_id = manager
        patient = self.env["clinic.patient"].create({"name": "Tour Unhappy Patient"})
        response = self.env["clinic.survey.response"].create(
            {"patient_id": patient.id, "department_id": self.department.id}
        )
        response._submit({"score": 1, "comment": "I waited an hour and nobody said why."})
        complaint = response.complaint_id
        self.assertEqual(complaint.user_id, manager)
        self.start_tour(
            "/odoo/action-clinic_retention.clinic_complaint_action",
            "clinic_complaint_close",
            login="tour_manager",
        )
        self.assertRecordValues(
            complaint,
            [
                {
                    "state": "closed",
                    "root_cause": "The doctor ran an hour late and nobody told the waiting patients.",
                    "corrective_action": "The front desk now calls waiting patients when a doctor runs late.",
                }
            ],
        )

    def test_manager_drills_into_dashboard_and_exports(self):
        new_test_user(
            self.env,
            login="tour_kpi_manager",
            password="tour_kpi_manager_pw",
            name="Tour KPI Manager",
            groups="clinic_retention.group_clinic_retention_manager",
            tz="UTC",
        ).tour_enabled = False
        # lost this month: active when the month began, no longer at its end
        month_start = fields.Date.context_today(self.env["clinic.visit"]).replace(day=1)
        visit_day = month_start - timedelta(days=365) + timedelta(days=1)
        lost = self.env["clinic.patient"].create({"name": "Tour Lost Patient"})
        start = fields.Datetime.to_datetime(visit_day).replace(hour=12)
        self.env["clinic.visit"].create(
            {
                "patient_id": lost.id,
                "department_id": self.department.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
                "state": "done",
                "amount": 250,
            }
        )
        self.start_tour(
            "/odoo/action-clinic_retention.clinic_retention_dashboard_client_action",
            "clinic_dashboard_export",
            login="tour_kpi_manager",
        )
        export = self.env["clinic.retention.export"].search([("create_uid.login", "=", "tour_kpi_manager")])
        self.assertEqual(len(export), 1)
        # the download was built on request (nothing stored) and logged
        log = self.env["clinic.audit.log"].search(
            [("event", "=", "excel_export"), ("user_id.login", "=", "tour_kpi_manager")]
        )
        self.assertEqual(len(log), 1)
        self.assertIn("Lost patients", log.details)
        book = openpyxl.load_workbook(io.BytesIO(export._export_file()[1]))
        names = [row[0] for row in book["Lost patients"].iter_rows(min_row=4, values_only=True)]
        self.assertIn("Tour Lost Patient", names)
