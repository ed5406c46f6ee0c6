from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .test_recall_engine import RecallCase


@tagged("post_install", "-at_install")
class TestFollowupTask(RecallCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.Rule.create(
            {
                "name": "Check-up",
                "department_id": cls.dental.id,
                "service_id": cls.checkup.id,
                "interval_number": 6,
                "interval_unit": "months",
                "retry_delay_days": 2,
                "max_attempts": 3,
                "reopen_after_days": 30,
                "max_reopen": 1,
            }
        )
        cls.patient = cls._consenting("Follow me", mobile="13800138000")
        cls._visit(cls.patient, "2026-01-10 09:00:00", service_id=cls.checkup.id)
        cls.template = cls.env["clinic.recovery.template"].create(
            {
                "name": "Extraction",
                "service_id": cls.extraction.id,
                "criterion_ids": [(0, 0, {"name": "Pain"}), (0, 0, {"name": "Bleeding"})],
            }
        )

    def _task(self, **vals):
        with freeze_time("2026-07-01 09:00:00"):
            task = self._run(self.rule)
        task.write(vals)
        return task.with_user(self.cs_user)

    def test_not_reached_retries_then_unreachable_then_reopens_once(self):
        task = self._task()
        with freeze_time("2026-07-11 09:00:00"):
            self.assertTrue(task.is_overdue)
            task.action_take()
            self.assertEqual((task.state, task.user_id), ("in_progress", self.cs_user))
            task.action_not_reached()
            self.assertRecordValues(
                task,
                [
                    {
                        "attempt_count": 1,
                        "state": "in_progress",
                        "outcome": "not_reached",
                        "date_deadline": date(2026, 7, 13),
                    }
                ],
            )
            self.assertFalse(task.is_overdue)
            self.assertTrue(task.first_contact_date)
            task.action_not_reached()
            self.assertEqual((task.attempt_count, task.date_deadline), (2, date(2026, 7, 13)))
            task.action_not_reached()
            self.assertRecordValues(
                task,
                [
                    {
                        "attempt_count": 3,
                        "state": "unreachable",
                        "is_closed": True,
                        "reopen_date": date(2026, 8, 10),
                    }
                ],
            )
            self.assertTrue(task.closed_date)
            with self.assertRaises(UserError):
                task.action_not_reached()
        Task = self.Task.sudo()
        with freeze_time("2026-08-09"):
            self.assertFalse(Task._reopen_unreachable())
        with freeze_time("2026-08-10"):
            self.assertEqual(Task._reopen_unreachable(), task)
            self.assertRecordValues(
                task,
                [
                    {
                        "state": "new",
                        "attempt_count": 0,
                        "reopen_count": 1,
                        "date_deadline": date(2026, 8, 10),
                        "closed_date": False,
                    }
                ],
            )
        with freeze_time("2026-08-20"):
            task.action_not_reached()
            task.action_not_reached()
            task.action_not_reached()
            self.assertEqual(task.state, "unreachable")
            self.assertFalse(task.reopen_date, "re-opened at most once")

    def test_reached_wizard_records_outcome_and_scores(self):
        task = self._task(recovery_template_id=self.template.id)
        action = task.action_reached()
        wizard_form = Form(self.env[action["res_model"]].with_user(self.cs_user).with_context(**action["context"]))
        wizard_form.satisfaction = "4"
        wizard_form.channel = "sms"
        with wizard_form.recovery_line_ids.edit(0) as line:
            line.score = "3"
        with wizard_form.recovery_line_ids.edit(1) as line:
            line.score = "5"
        wizard_form.health_guidance = "<p>Cold compress, no hot drinks for 24h</p>"
        wizard = wizard_form.save()
        wizard.action_confirm()
        self.assertRecordValues(
            task,
            [
                {
                    "state": "done",
                    "outcome": "reached",
                    "is_success": True,
                    "satisfaction_score": 4,
                    "channel": "sms",
                    "attempt_count": 1,
                    "recovery_score": 4.0,
                }
            ],
        )
        self.assertEqual(task.recovery_score_ids.mapped("name"), ["Pain", "Bleeding"])
        self.assertIn("Cold compress", task.health_guidance)
        self.assertIn("Satisfaction 4/5", task.message_ids[0].body)
        with self.assertRaises(UserError):
            task.action_reached()

    def test_book_visit_closes_task(self):
        task = self._task()
        action = task.action_book_visit()
        self.assertEqual(action["res_model"], "clinic.visit")
        with freeze_time("2026-07-02 09:00:00"):
            visit_form = Form(self.env["clinic.visit"].with_user(self.cs_user).with_context(**action["context"]))
            visit_form.start = "2026-07-15 10:00:00"
            visit = visit_form.save()
        self.assertEqual(visit.patient_id, self.patient)
        self.assertEqual(visit.booked_from_task_id, task)
        self.assertRecordValues(task, [{"state": "done", "outcome": "visit_booked", "booked_visit_id": visit.id}])

    def test_booking_closes_a_manual_task_booked_from(self):
        manual = self.Task.create(
            {
                "name": "Call about results",
                "patient_id": self.patient.id,
                "department_id": self.dental.id,
                "reason": "manual",
            }
        )
        other = self.Task.create(
            {
                "name": "Unrelated",
                "patient_id": self.patient.id,
                "department_id": self.dental.id,
                "reason": "manual",
            }
        )
        with freeze_time("2029-12-20 09:00:00"):  # a booking in the future (only those answer a task)
            self._visit(self.patient, "2030-01-01 09:00:00", state="scheduled", booked_from_task_id=manual.id)
        self.assertEqual(manual.outcome, "visit_booked")
        self.assertFalse(other.is_closed, "manual tasks are not answered by any booking")

    def test_wrong_number(self):
        task = self._task()
        task.action_wrong_number()
        self.assertEqual((task.state, task.outcome), ("unreachable", "wrong_number"))
        self.assertIn("+8613800138000", self.patient.message_ids[0].body)

    def test_kanban_stages_per_department(self):
        stage = self.env["clinic.followup.stage"].create(
            {
                "name": "Dental triage",
                "kind": "new",
                "sequence": 0,
                "department_ids": [(6, 0, self.dental.ids)],
            }
        )
        task = self.Task.create({"name": "Dental", "patient_id": self.patient.id, "department_id": self.dental.id})
        self.assertEqual(task.stage_id, stage)
        cardio = self.Task.create(
            {"name": "Cardio", "patient_id": self.patient.id, "department_id": self.cardiology.id}
        )
        self.assertEqual(cardio.stage_id, self.env.ref("clinic_retention.followup_stage_new"))
        groups = self.Task.with_context(default_department_id=self.cardiology.id).read_group(
            [("id", "=", cardio.id)], ["stage_id"], ["stage_id"]
        )
        self.assertNotIn(stage.id, [g["stage_id"][0] for g in groups], "other teams' stages are hidden")
        self.assertIn(self.env.ref("clinic_retention.followup_stage_done").id, [g["stage_id"][0] for g in groups])

    def test_overdue_filter(self):
        task = self._task()
        with freeze_time("2026-07-11"):
            self.assertIn(task, self.Task.search([("is_overdue", "=", True)]))
            task.action_not_reached()
            self.assertNotIn(task, self.Task.search([("is_overdue", "=", True)]))
            self.assertIn(task, self.Task.search([("is_overdue", "=", False)]))

    def test_run_now_button_reports_count(self):
        with freeze_time("2026-07-01"):
            action = self.rule.with_user(self.manager).action_run_now()
        self.assertIn("1 follow-up", action["params"]["message"])
        self.assertEqual(self.rule.open_task_count, 1)


@tagged("post_install", "-at_install")
class TestFollowupAccess(RecallCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        patient = cls._patient("Access patient")
        cls.dental_task = cls.Task.create({"name": "Dental", "patient_id": patient.id, "department_id": cls.dental.id})
        cls.cardio_task = cls.Task.create(
            {"name": "Cardio", "patient_id": patient.id, "department_id": cls.cardiology.id}
        )
        cls.assigned_cardio = cls.Task.create(
            {
                "name": "Cardio for cs",
                "patient_id": patient.id,
                "department_id": cls.cardiology.id,
                "user_id": cls.cs_user.id,
            }
        )
        other_patient = cls.env["clinic.patient"].create({"name": "Other", "company_id": cls.other_company.id})
        cls.other_task = cls.Task.create(
            {
                "name": "Other company",
                "patient_id": other_patient.id,
                "department_id": cls.other_department.id,
            }
        )

    def test_agent_sees_own_teams_tasks(self):
        mine = self.dental_task | self.cardio_task | self.assigned_cardio | self.other_task
        visible = self.Task.with_user(self.cs_user).search([("id", "in", mine.ids)])
        self.assertEqual(visible, self.dental_task | self.assigned_cardio)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.cardio_task.with_user(self.cs_user).read(["name"])
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.cardio_task.with_user(self.cs_user).write({"name": "x"})
        with self.assertRaises(AccessError), mute_logger("odoo.models.unlink"):
            self.dental_task.with_user(self.cs_user).unlink()
        # can work and create tasks of their team
        self.dental_task.with_user(self.cs_user).action_take()
        created = self.Task.with_user(self.cs_user).create(
            {"name": "New", "patient_id": self.dental_task.patient_id.id, "department_id": self.dental.id}
        )
        self.assertEqual(created.user_id, self.cs_user)

    def test_manager_sees_all_departments_of_company(self):
        tasks = self.dental_task | self.cardio_task | self.assigned_cardio | self.other_task
        visible = self.Task.with_user(self.manager).search([("id", "in", tasks.ids)])
        self.assertEqual(visible, self.dental_task | self.cardio_task | self.assigned_cardio)
        self.cardio_task.with_user(self.manager).unlink()

    def test_other_company_sees_none(self):
        tasks = self.dental_task | self.cardio_task | self.assigned_cardio
        self.assertFalse(self.Task.with_user(self.other_company_user).search([("id", "in", tasks.ids)]))
        self.assertEqual(
            self.Task.with_user(self.other_company_user).search([("id", "in", (tasks | self.other_task).ids)]),
            self.other_task,
        )

    def test_portal_and_plain_users_have_no_access(self):
        for user in (self.portal_user, self.internal_user):
            with self.assertRaises(AccessError), mute_logger("odoo.models"):
                self.Task.with_user(user).search([])
            with self.assertRaises(AccessError), mute_logger("odoo.models"):
                self.Rule.with_user(user).search([])

    def test_agents_read_rules_managers_edit_them(self):
        rule = self.Rule.create({"name": "R", "department_id": self.dental.id})
        self.assertEqual(rule.with_user(self.cs_user).name, "R")
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            rule.with_user(self.cs_user).write({"lead_days": 1})
        rule.with_user(self.manager).write({"lead_days": 1})
