import threading
from datetime import datetime

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestComplaintIntegrity(ClinicRetentionCase):
    """Finding 11: complaints cannot be buried or rewritten by the staff
    involved; a complaint with no department reaches someone and counts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.complaints_manager = new_test_user(
            cls.env, login="integrity_complaints_mgr", groups="clinic_retention.group_clinic_retention_manager"
        )
        cls.patient = cls._patient("Integrity Patient")

    def _complaint(self, **vals):
        return self.env["clinic.complaint"].create(
            dict(
                {
                    "name": "Rude at the desk",
                    "description": "The receptionist shouted at me.",
                    "patient_id": self.patient.id,
                    "department_id": self.dental.id,
                },
                **vals,
            )
        )

    def test_only_managers_archive_or_move_deadlines(self):
        complaint = self._complaint()
        agent = complaint.with_user(self.cs_user)
        for vals in (
            {"active": False},
            {"deadline": "2099-01-01 00:00:00"},
            {"second_deadline": "2099-01-01 00:00:00"},
        ):
            with self.assertRaises(AccessError):
                agent.write(vals)
        with self.assertRaises(AccessError):
            agent.unlink()
        agent.write({"root_cause": "Understaffed morning"})  # their work goes on
        complaint.with_user(self.manager).write({"second_deadline": "2099-01-01 00:00:00", "active": False})
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = complaint.message_ids.sudo().tracking_value_ids.field_id.mapped("name")
        self.assertIn("second_deadline", tracked)
        self.assertIn("active", tracked)

    def test_the_patients_words_are_kept(self):
        complaint = self._complaint()
        for user in (self.cs_user, self.manager):
            with self.assertRaises(UserError):
                complaint.with_user(user).write({"description": "Nothing happened."})
        self.assertEqual(complaint.description, "The receptionist shouted at me.")
        complaint.with_user(self.cs_user).message_post(body="Called her back", subtype_xmlid="mail.mt_note")

    def test_named_staff_do_not_edit_the_complaint(self):
        complaint = self._complaint(staff_ids=[(4, self.cs_user.id)])
        with self.assertRaises(AccessError):
            complaint.with_user(self.cs_user).write({"root_cause": "It was not me"})
        complaint.with_user(self.cs_user).message_post(body="My side of the story", subtype_xmlid="mail.mt_note")

    def test_the_statusbar_obeys_the_buttons(self):
        complaint = self._complaint()
        resolved = self.env.ref("clinic_retention.complaint_stage_resolved")
        closed = self.env.ref("clinic_retention.complaint_stage_closed")
        with self.assertRaises(UserError):
            complaint.with_user(self.cs_user).write({"stage_id": resolved.id})
        with self.assertRaises(AccessError):
            self.env["clinic.complaint"].with_user(self.cs_user).create(
                {"name": "x", "description": "Already closed", "department_id": self.dental.id, "stage_id": closed.id}
            )
        with self.assertRaises(UserError):
            complaint.with_user(self.manager).write({"stage_id": closed.id})  # no root cause

    def test_a_complaint_without_department_reaches_someone_and_counts(self):
        self.company.write({"clinic_complaints_manager_id": False, "clinic_general_manager_id": self.manager.id})
        complaint = self.env["clinic.complaint"].create({"name": "Web", "description": "Nobody answers the phone"})
        self.assertEqual(complaint.user_id, self.manager, "the general manager when no complaints manager is set")
        self.company.clinic_complaints_manager_id = self.complaints_manager
        other = self.env["clinic.complaint"].create({"name": "Web 2", "description": "Nobody answers again"})
        self.assertEqual(other.user_id, self.complaints_manager)
        dashboard = self.env["clinic.retention.dashboard"].with_user(self.manager).create({})
        self.assertGreaterEqual(dashboard.open_complaint_count, 2)
        self.assertIn(
            other,
            self.env["clinic.complaint"].search(dashboard.with_context(kpi="open_complaints").action_drill()["domain"]),
        )

    def test_former_responsible_stops_following(self):
        complaint = self._complaint(user_id=self.complaints_manager.id)
        self.assertIn(self.complaints_manager.partner_id, complaint.message_partner_ids)
        complaint.user_id = self.manager
        self.assertNotIn(self.complaints_manager.partner_id, complaint.message_partner_ids, "finding 24")
        self.assertIn(self.manager.partner_id, complaint.message_partner_ids)
        task = self.env["clinic.followup.task"].create(
            {"name": "Call", "patient_id": self.patient.id, "department_id": self.dental.id, "user_id": self.cs_user.id}
        )
        self.assertIn(self.cs_user.partner_id, task.message_partner_ids)
        task.user_id = self.cs_user_2
        self.assertNotIn(self.cs_user.partner_id, task.message_partner_ids, "finding 24: followers pruned")
        self.assertIn(self.cs_user_2.partner_id, task.message_partner_ids)


@tagged("post_install", "-at_install")
class TestServiceDeletion(ClinicRetentionCase):
    """Finding 14: a service or condition in use is archived, not deleted."""

    def test_a_used_condition_cannot_be_deleted(self):
        patient = self._patient("Chronic")
        patient.with_user(self.manager).write({"chronic_condition_ids": [(4, self.hypertension.id)]})
        with self.assertRaises(UserError):
            self.hypertension.with_user(self.manager).unlink()
        self.assertEqual(patient.chronic_condition_ids, self.hypertension, "the patient keeps the condition")
        self._visit(patient, datetime(2026, 1, 1, 9), service_id=self.checkup.id)
        with self.assertRaises(UserError):
            self.checkup.with_user(self.manager).unlink()
        unused = self.env["clinic.service"].create({"name": "Never used", "department_id": self.dental.id})
        unused.with_user(self.manager).unlink()


@tagged("post_install", "-at_install")
class TestLowScoreRace(TransactionCase):
    """Finding 24: two low scores of the same answer arriving together open
    one complaint (the second transaction waits, then PostgreSQL refuses it
    and Odoo retries it, and the retry sees the complaint)."""

    def _env(self, cr):
        cr.transaction = api.Transaction(self.registry)
        return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            department = env["clinic.department"].create({"name": "Race dental"})
            patient = env["clinic.patient"].create({"name": "Race Patient"})
            response = env["clinic.survey.response"].create({"patient_id": patient.id, "department_id": department.id})
            self.ids = {"department": department.id, "patient": patient.id, "response": response.id}
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            response = env["clinic.survey.response"].browse(self.ids["response"])
            complaints = (
                env["clinic.complaint"].with_context(active_test=False).search([("response_id", "=", response.id)])
            )
            complaints.sudo().unlink()
            response.unlink()
            patient = env["clinic.patient"].browse(self.ids["patient"])
            partner = patient.partner_id
            patient.unlink()
            partner.unlink()
            env["clinic.department"].browse(self.ids["department"]).unlink()

    def test_two_low_scores_at_once_open_one_complaint(self):
        results = {}
        with self.registry.cursor() as cr_a:
            env_a = self._env(cr_a)
            env_a["clinic.survey.response"].browse(self.ids["response"])._submit({"score": 1, "comment": "A"})
            env_a.flush_all()

            def submit_b():
                with self.registry.cursor() as cr_b:
                    try:
                        response = self._env(cr_b)["clinic.survey.response"].browse(self.ids["response"])
                        response._submit({"score": 1, "comment": "B"})
                        cr_b.flush()
                        results["b"] = "committed"
                    except (psycopg2.errors.SerializationFailure, psycopg2.errors.UniqueViolation) as error:
                        results["b"] = type(error).__name__
                        cr_b.rollback()

            thread = threading.Thread(target=submit_b)
            with mute_logger("odoo.sql_db"):
                thread.start()
                thread.join(timeout=3)
                cr_a.commit()
                thread.join(timeout=60)
        self.assertIn(results.get("b"), ("SerializationFailure", "UniqueViolation"), "the second one is refused")
        with self.registry.cursor() as cr:
            count = self._env(cr)["clinic.complaint"].search_count([("response_id", "=", self.ids["response"])])
        self.assertEqual(count, 1)
