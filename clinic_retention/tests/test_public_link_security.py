import json
import re
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestPublicLinkRoutes(HttpCase):
    """The confirmation link's token opens the confirmation page and nothing
    else: Odoo's public mail routes refuse it (real HTTP requests)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.clinic_tz = "Asia/Shanghai"
        department = cls.env["clinic.department"].create({"name": "Token dental"})
        cls.patient = cls.env["clinic.patient"].create(
            {"name": "Token Patient", "care_consent": True, "email": "token@example.com"}
        )
        # 10:00 in Shanghai, two days from now
        day = fields.Date.today() + timedelta(days=2)
        start = fields.Datetime.to_datetime(day).replace(hour=2)
        cls.visit = cls.env["clinic.visit"].create(
            {"patient_id": cls.patient.id, "department_id": department.id, "start": start}
        )
        cls.visit.activity_schedule(summary="Internal: check the allergy file", note="Penicillin")
        cls.token = cls.visit.access_token

    def _json(self, route, params):
        response = self.url_open(
            route,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def test_page_shows_the_clinic_time(self):
        response = self.url_open(f"/clinic/visit/{self.visit.id}/{self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("10:00", response.text, "10:00 in the clinic, whoever opens the link")

    def test_token_opens_no_chatter(self):
        thread = {"thread_model": "clinic.visit", "thread_id": self.visit.id, "token": self.token}
        data = self._json("/mail/thread/data", dict(thread, request_list=["activities", "attachments", "followers"]))
        text = json.dumps(data)
        self.assertNotIn("Penicillin", text)
        self.assertNotIn("check the allergy file", text)
        self.assertNotIn('"hasReadAccess": true', text)
        posted = self._json(
            "/mail/message/post",
            dict(thread, post_data={"body": "Call me", "message_type": "comment", "subtype_xmlid": "mail.mt_comment"}),
        )
        self.assertIn("error", posted)
        page = self.url_open(f"/clinic/visit/{self.visit.id}/{self.token}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        upload = self.url_open(
            "/mail/attachment/upload",
            data={
                "thread_model": "clinic.visit",
                "thread_id": str(self.visit.id),
                "token": self.token,
                "csrf_token": csrf,  # a valid one: refused for the token, not for CSRF
            },
            files={"ufile": ("x.exe", b"MZ...", "application/octet-stream")},
        )
        self.assertEqual(upload.status_code, 404)
        self.assertFalse(self.visit.message_ids.filtered(lambda m: "Call me" in (m.body or "")))
        self.assertFalse(
            self.env["ir.attachment"].search([("res_model", "=", "clinic.visit"), ("res_id", "=", self.visit.id)])
        )

    def test_token_stops_when_the_visit_is_moved_or_starts(self):
        old_token = self.token
        self.visit.start += timedelta(hours=1)
        self.assertNotEqual(self.visit.access_token, old_token)
        self.assertEqual(self.url_open(f"/clinic/visit/{self.visit.id}/{old_token}").status_code, 404)
        self.assertEqual(self.url_open(f"/clinic/visit/{self.visit.id}/{self.visit.access_token}").status_code, 200)
        self.visit.start = fields.Datetime.now() - timedelta(minutes=5)
        self.assertEqual(self.url_open(f"/clinic/visit/{self.visit.id}/{self.visit.access_token}").status_code, 404)


@tagged("post_install", "-at_install")
class TestPublicLinkAccess(ClinicRetentionCase):
    """Staff cannot read a patient's personal links (so cannot answer a
    survey in the patient's name); scores they enter say so; booking
    "from" a follow-up only closes a task of the same patient one may read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.patient = cls._patient("Link Patient", care_consent=True)
        cls.visit = cls._visit(cls.patient, fields.Datetime.now() - timedelta(days=1))
        cls.survey = cls.env["clinic.survey.response"].create({"visit_id": cls.visit.id})

    def test_agents_cannot_read_tokens_or_links(self):
        for model, record, names in (
            ("clinic.visit", self.visit, ["access_token", "confirmation_url", "satisfaction_survey_url"]),
            ("clinic.survey.response", self.survey, ["access_token", "survey_url"]),
        ):
            for name in names:
                with self.subTest(model=model, field=name), self.assertRaises(AccessError):
                    record.with_user(self.manager).read([name])
                with self.subTest(model=model, field=name), self.assertRaises(AccessError):
                    record.with_user(self.cs_user).search_read([("id", "=", record.id)], [name])
        self.assertTrue(self.visit.sudo().satisfaction_survey_url, "the care-message service reads it")

    def test_links_are_only_rendered_for_the_service(self):
        Render = self.env["mail.render.mixin"]
        template = "{{ object.confirmation_url }}|{{ object.satisfaction_survey_url }}"
        as_agent = Render.with_user(self.cs_user)._render_template(template, "clinic.visit", self.visit.ids)
        self.assertEqual(as_agent[self.visit.id], "|", "an agent's own template gets no link")
        as_admin = Render.with_user(self.env.ref("base.user_admin"))._render_template(
            template, "clinic.visit", self.visit.ids
        )
        self.assertEqual(as_admin[self.visit.id], "|")
        as_service = Render.sudo()._render_template(template, "clinic.visit", self.visit.ids)
        self.assertIn(f"/clinic/feedback/{self.survey.id}/", as_service[self.visit.id])

    def test_phone_scores_are_labelled_as_entered_by_staff(self):
        task = self.env["clinic.followup.task"].create(
            {"name": "Call", "patient_id": self.patient.id, "department_id": self.dental.id, "visit_id": self.visit.id}
        )
        task.satisfaction_score = 4
        response = task.with_user(self.cs_user)._record_phone_satisfaction("Fine")
        self.assertEqual((response.source, response.recorded_by_id), ("phone", self.cs_user))
        label = dict(response._fields["source"]._description_selection(self.env))["phone"]
        self.assertIn("Staff", label)

    def test_booked_from_task_is_checked(self):
        other_patient = self._patient("Other Patient")
        Task = self.env["clinic.followup.task"]
        other_patients_task = Task.create(
            {"name": "Recall", "patient_id": other_patient.id, "department_id": self.dental.id, "reason": "recall"}
        )
        start = fields.Datetime.now() + timedelta(days=3)
        values = {"patient_id": self.patient.id, "department_id": self.dental.id, "start": start}
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.env["clinic.visit"].with_user(self.cs_user).create(
                dict(values, booked_from_task_id=other_patients_task.id)
            )
        self.assertFalse(other_patients_task.is_closed)
        unreadable = Task.create(
            {"name": "Cardio recall", "patient_id": self.patient.id, "department_id": self.cardiology.id}
        )
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.env["clinic.visit"].with_user(self.cs_user).create(dict(values, booked_from_task_id=unreadable.id))
        self.assertFalse(unreadable.is_closed)
        own = Task.create({"name": "Dental recall", "patient_id": self.patient.id, "department_id": self.dental.id})
        visit = self.env["clinic.visit"].with_user(self.cs_user).create(dict(values, booked_from_task_id=own.id))
        self.assertEqual((own.is_closed, own.outcome, own.booked_visit_id), (True, "visit_booked", visit))
