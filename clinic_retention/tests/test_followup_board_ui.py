from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestFollowupBoardUi(HttpCase):
    """An agent works the board in a browser: a patient asks to be called
    back, another complains during the call and is then reached."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="board_agent",
            password="board_agent_pw",
            name="Board Agent",
            groups="clinic_retention.group_clinic_retention_user",
            tz="UTC",
        )
        cls.agent.tour_enabled = False
        cls.department = cls.env["clinic.department"].create(
            {"name": "Board Dental", "member_ids": [(6, 0, cls.agent.ids)]}
        )
        Task = cls.env["clinic.followup.task"]
        today = fields.Date.context_today(Task)
        Patient = cls.env["clinic.patient"]
        cls.callback_task, cls.complaint_task, cls.closed_task = Task.create(
            [
                {
                    "name": "Board recall",
                    "patient_id": Patient.create({"name": "Board Callback Patient"}).id,
                    "department_id": cls.department.id,
                    "reason": "recall",
                    "date_deadline": today,
                    "user_id": cls.agent.id,
                },
                {
                    "name": "Board post-visit call",
                    "patient_id": Patient.create({"name": "Board Complaint Patient"}).id,
                    "department_id": cls.department.id,
                    "reason": "post_visit",
                    "date_deadline": today - timedelta(days=1),
                    "user_id": cls.agent.id,
                },
                {
                    "name": "Board old call",
                    "patient_id": Patient.create({"name": "Board Closed Patient"}).id,
                    "department_id": cls.department.id,
                    "reason": "recall",
                    "user_id": cls.agent.id,
                },
            ]
        )
        cls.closed_task._move_to("done", outcome="reached")

    def test_agent_works_the_board(self):
        self.start_tour(
            "/odoo/action-clinic_retention.clinic_followup_task_action",
            "clinic_followup_board_agent",
            login="board_agent",
        )
        self.assertRecordValues(
            self.callback_task,
            [{"state": "in_progress", "outcome": "call_back", "attempt_count": 0, "user_id": self.agent.id}],
        )
        self.assertTrue(self.callback_task.callback_date > fields.Datetime.now())
        self.assertIn("Back from holiday", self.callback_task.activity_ids.note)
        complaint = self.complaint_task.complaint_ids
        self.assertEqual(len(complaint), 1)
        self.assertRecordValues(
            complaint,
            [
                {
                    "patient_id": self.complaint_task.patient_id.id,
                    "department_id": self.department.id,
                    "description": "The nurse did not explain the treatment.",
                }
            ],
        )
        self.assertRecordValues(self.complaint_task, [{"state": "done", "outcome": "reached", "attempt_count": 1}])
