import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestVisitConfirmation(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        department = cls.env["clinic.department"].create({"name": "Link dental"})
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

    def _url(self, visit=None, token=None, answer=None):
        visit = visit or self.visit
        url = f"/clinic/visit/{visit.id}/{token if token is not None else visit.access_token}"
        return f"{url}/{answer}" if answer else url

    def _answer(self, answer, visit=None, token=None):
        """Open the page and press a button (or press it again from the
        browser's history, with the form as it was)."""
        page = self.url_open(self._url(visit, token))
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if csrf:
            self._csrf = csrf.group(1)
        return self.url_open(self._url(visit, token, answer), data={"csrf_token": getattr(self, "_csrf", "")})

    def _messages(self):
        return self.visit.message_ids.filtered(lambda m: "reminder link" in (m.body or ""))

    def test_token_is_unguessable_and_indexed(self):
        self.assertRegex(self.visit.access_token, r"^[0-9a-f-]{36}$")
        self.assertNotEqual(self.visit.access_token, self.other_visit.access_token)
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'clinic_visit' AND indexdef LIKE '%%access_token%%'"
        )
        self.assertTrue(self.env.cr.fetchall())

    def test_page_shows_the_visit_and_changes_nothing(self):
        response = self.url_open(self._url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("Link dental", response.text)
        self.assertIn("o_clinic_confirm", response.text)
        self.assertEqual((self.visit.state, self.visit.confirmation_state), ("scheduled", "unconfirmed"))

    def test_confirm_is_recorded_once(self):
        response = self._answer("confirm")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_clinic_visit_confirmed", response.text)
        self.assertEqual(self.visit.confirmation_state, "confirmed")
        self.assertEqual(len(self._messages()), 1)
        self._answer("confirm")
        self.assertEqual(len(self._messages()), 1, "a second click changes nothing")

    def test_cancel_opens_a_rebooking_task_once(self):
        response = self._answer("cancel")
        self.assertIn("o_clinic_visit_cancelled", response.text)
        self.assertEqual((self.visit.state, self.visit.confirmation_state), ("cancelled", "cancelled"))
        tasks = self.env["clinic.followup.task"].search([("visit_id", "=", self.visit.id)])
        self.assertEqual(tasks.reason, "cancellation")
        response = self._answer("cancel")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.env["clinic.followup.task"].search([("visit_id", "=", self.visit.id)]), tasks)
        self.assertEqual(len(self._messages()), 1)
        # confirming a cancelled visit does not revive it
        self._answer("confirm")
        self.assertEqual(self.visit.state, "cancelled")

    def test_bad_links_are_refused_and_change_nothing(self):
        # a real CSRF token of this session: the POSTs below are refused by the
        # visit token check, not by Odoo's CSRF protection
        page = self.url_open(self._url())
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        bad = [
            self._url(token="0" * 36),
            self._url(token=self.other_visit.access_token),
            self._url(token="x"),
            self._url(token="%27%3B%20DROP%20TABLE%20clinic_visit%3B--"),
            self._url(token=self.visit.access_token[:-1]),
            f"/clinic/visit/999999999/{self.visit.access_token}",
        ]
        for url in bad:
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 404)
                self.assertIn("This link is not valid", response.text)
                response = self.url_open(url + "/cancel", data={"csrf_token": csrf})
                self.assertEqual(response.status_code, 404)
                self.assertIn("This link is not valid", response.text)
        self.assertEqual((self.visit.state, self.visit.confirmation_state), ("scheduled", "unconfirmed"))
        # and the right visit token without a valid CSRF token is refused too
        response = self.url_open(self._url(answer="cancel"), data={"csrf_token": "forged"})
        self.assertNotEqual(response.status_code, 200)
        self.assertEqual(self.visit.state, "scheduled")
        response = self._answer("delete")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.visit.state, "scheduled")

    def test_link_expires_with_the_visit(self):
        past = fields.Datetime.now() - timedelta(hours=1)
        self.visit.write({"start": past, "stop": past + timedelta(minutes=30)})
        response = self.url_open(self._url())
        self.assertEqual(response.status_code, 404)
        self.assertIn("This link is not valid", response.text)
        self.assertEqual(self.visit.state, "scheduled")
        done = self.other_visit
        done.action_mark_done()
        self.assertEqual(self.url_open(self._url(done)).status_code, 404)
