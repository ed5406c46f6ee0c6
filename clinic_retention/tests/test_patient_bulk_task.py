from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestPatientBulkTask(ClinicRetentionCase):
    """The "Open follow-up tasks" action on a selection of patients."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent_3 = cls.env["res.users"].create(
            {
                "name": "Third Agent",
                "login": "clinic_cs3",
                "groups_id": [(6, 0, cls.env.ref("clinic_retention.group_clinic_retention_user").ids)],
            }
        )
        cls.dental.member_ids = cls.cs_user | cls.agent_3
        cls.patients = cls.env["clinic.patient"]
        for index in range(6):
            cls.patients |= cls._patient(f"Lapsed {index}", mobile=f"1391234560{index}")
        cls.other_clinic_patient = cls.env["clinic.patient"].create(
            {"name": "Elsewhere", "company_id": cls.other_company.id}
        )
        cls.Task = cls.env["clinic.followup.task"]

    def _run(self, user, patients, department, **values):
        wizard = Form(
            self.env["clinic.patient.bulk.task"]
            .with_user(user)
            .with_context(active_model="clinic.patient", active_ids=patients.ids)
        )
        wizard.department_id = department
        for name, value in values.items():
            setattr(wizard, name, value)
        record = wizard.save()
        action = record.action_open_tasks()
        return self.Task.browse(action["domain"][0][2]), record

    def test_round_robin_and_idempotent(self):
        tasks, wizard = self._run(self.cs_user, self.patients, self.dental)
        self.assertEqual(len(tasks), 6)
        self.assertEqual(tasks.patient_id, self.patients)
        self.assertEqual(set(tasks.mapped("reason")), {"reactivation"})
        self.assertEqual(set(tasks.mapped("state")), {"new"})
        by_user = {user: len(tasks.filtered(lambda t, u=user: t.user_id == u)) for user in (self.cs_user, self.agent_3)}
        self.assertEqual(by_user, {self.cs_user: 3, self.agent_3: 3}, "round-robin in the team")
        # running it again opens nothing, even with another agent
        again, wizard = self._run(self.agent_3, self.patients, self.dental)
        self.assertFalse(again)
        self.assertEqual(wizard.skipped_count, 6)
        self.assertEqual(self.Task.search_count([("patient_id", "in", self.patients.ids)]), 6)
        # a closed task does not block a new one on another day; the same day its key does
        tasks[0].action_take()
        tasks[0]._move_to("done")
        same_day, _wizard = self._run(self.cs_user, tasks[0].patient_id, self.dental)
        self.assertFalse(same_day, "same reason, department, patient and deadline: the same task")
        later, _wizard = self._run(
            self.cs_user, tasks[0].patient_id, self.dental, date_deadline=tasks[0].date_deadline.replace(year=2099)
        )
        self.assertEqual(len(later), 1)

    def test_other_reason_is_another_task(self):
        self._run(self.cs_user, self.patients[:2], self.dental)
        recall, _wizard = self._run(self.cs_user, self.patients[:2], self.dental, reason="recall")
        self.assertEqual(len(recall), 2)
        self.assertEqual(recall[0].name, "Recall: time for the next visit")

    def test_agents_only_for_their_departments(self):
        with self.assertRaises(AccessError):
            self._run(self.cs_user, self.patients, self.cardiology)
        self.assertFalse(self.Task.search([("patient_id", "in", self.patients.ids)]))
        with self.assertRaises(AccessError):
            self._run(self.internal_user, self.patients, self.dental)
        # a manager may open them for any department (its team works them)
        tasks, _wizard = self._run(self.manager, self.patients[:2], self.cardiology)
        self.assertEqual(tasks.user_id, self.cs_user_2)

    def test_patients_of_another_clinic_are_skipped(self):
        wizard = self.env["clinic.patient.bulk.task"].create(
            {
                "patient_ids": [(6, 0, (self.patients[:1] | self.other_clinic_patient).ids)],
                "department_id": self.dental.id,
            }
        )
        tasks = self.Task.browse(wizard.action_open_tasks()["domain"][0][2])
        self.assertEqual(tasks.patient_id, self.patients[:1])

    def test_bound_to_patient_lists(self):
        action = self.env.ref("clinic_retention.clinic_patient_bulk_task_action")
        self.assertEqual(action.binding_model_id.model, "clinic.patient")
