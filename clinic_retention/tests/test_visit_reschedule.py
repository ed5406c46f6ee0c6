import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestVisitReschedule(HttpCase):
    """ "I need another time" on the reminder link's page: the patient writes
    when they could come, the visit is cancelled and one rebooking task
    opens with their words; forged or expired links change nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = cls.env["res.users"].create(
            {
                "name": "Reschedule agent",
                "login": "reschedule_agent",
                "groups_id": [(6, 0, cls.env.ref("clinic_retention.group_clinic_retention_user").ids)],
            }
        )
        department = cls.env["clinic.department"].create({"name": "Link dental", "member_ids": [(6, 0, cls.agent.ids)]})
        cls.patient = cls.env["clinic.patient"].create({"name": "Link Patient", "care_consent": True})
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=2)
        cls.visit = cls.env["clinic.visit"].create(
            {
                "patient_id": cls.patient.id,
                "department_id": department.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
            }
        )
        cls.other_visit = cls.visit.copy()

    def _url(self, visit=None, token=None):
        visit = visit or self.visit
        return f"/clinic/visit/{visit.id}/{token if token is not None else visit.access_token}"

    def _csrf(self, visit=None):
        page = self.url_open(self._url(visit))
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def _ask(self, preferred, visit=None, token=None, csrf=None):
        csrf = csrf or self._csrf()
        return self.url_open(self._url(visit, token) + "/reschedule", data={"csrf_token": csrf, "preferred": preferred})

    def _tasks(self):
        return self.env["clinic.followup.task"].search([("visit_id", "=", self.visit.id)])

    def test_page_offers_another_time(self):
        page = self.url_open(self._url())
        self.assertIn("I need another time", page.text)
        self.assertIn(f"/clinic/visit/{self.visit.id}/{self.visit.access_token}/reschedule", page.text)

    def test_another_time_opens_one_rebooking_task_with_the_text(self):
        csrf = self._csrf()
        response = self._ask("Tuesday or Thursday after 17:00 <script>alert(1)</script>", csrf=csrf)
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_clinic_visit_reschedule", response.text)
        self.assertEqual((self.visit.state, self.visit.confirmation_state), ("cancelled", "reschedule"))
        task = self._tasks()
        self.assertRecordValues(
            task,
            [{"reason": "cancellation", "name": "Asked for another time: rebook", "user_id": self.agent.id}],
        )
        self.assertIn("Tuesday or Thursday after 17:00", str(task.notes))
        self.assertNotIn("<script>", str(task.notes), "the patient's text is escaped")
        # submitted again (double click, browser history): nothing more
        response = self._ask("Friday", csrf=csrf)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._tasks(), task)
        self.assertNotIn("Friday", str(task.notes))

    def test_empty_text_is_refused_and_changes_nothing(self):
        response = self._ask("   ")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_clinic_reschedule_error", response.text)
        self.assertEqual(self.visit.state, "scheduled")
        self.assertFalse(self._tasks())

    def test_forged_or_expired_links_are_refused(self):
        csrf = self._csrf()
        for token in ("0" * 36, self.other_visit.access_token, "x"):
            with self.subTest(token=token):
                response = self._ask("Monday", token=token, csrf=csrf)
                self.assertEqual(response.status_code, 404)
                self.assertIn("This link is not valid", response.text)
        response = self.url_open(self._url() + "/reschedule", data={"csrf_token": "forged", "preferred": "Monday"})
        self.assertNotEqual(response.status_code, 200)
        self.assertEqual(self.visit.state, "scheduled")
        # expired: the visit's time has passed
        past = fields.Datetime.now() - timedelta(hours=1)
        self.visit.write({"start": past, "stop": past + timedelta(minutes=30)})
        response = self._ask("Monday", csrf=csrf)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.visit.state, "scheduled")
        self.assertFalse(self._tasks())
