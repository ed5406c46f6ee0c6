import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


class PublicFormCase(HttpCase):
    def _post(self, url, data):
        """Post as a browser does, with this session's CSRF token (taken from
        the public complaint form, which every visitor may open)."""
        page = self.url_open("/clinic/complaint")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(url, data=dict(data, csrf_token=csrf))


@tagged("post_install", "-at_install")
class TestFeedbackPage(PublicFormCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.department = cls.env["clinic.department"].create({"name": "Feedback dental"})
        cls.patient = cls.env["clinic.patient"].create({"name": "Feedback Patient", "care_consent": True})
        start = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=3)
        cls.visit = cls.env["clinic.visit"].create(
            {
                "patient_id": cls.patient.id,
                "department_id": cls.department.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
                "state": "done",
            }
        )
        # the thank-you message sent after the visit created the survey (the patient consented)
        cls.response = cls.env["clinic.survey.response"].create({"visit_id": cls.visit.id})

    def _url(self, token=None, response=None):
        response = response or self.response
        return f"/clinic/feedback/{response.id}/{token if token is not None else response.access_token}"

    def test_submit_then_change_the_answer(self):
        self.assertEqual(len(self.response), 1, "marking the visit done sent one survey")
        page = self.url_open(self._url())
        self.assertEqual(page.status_code, 200)
        self.assertIn("Feedback dental", page.text)
        self.assertIn('name="score"', page.text)
        result = self._post(self._url(), {"score": "4", "waiting_score": "2", "comment": "Long wait"})
        self.assertEqual(result.status_code, 200)
        self.assertIn("o_clinic_survey_saved", result.text)
        self.assertRecordValues(self.response, [{"state": "answered", "score": 4, "waiting_score": 2}])
        self.assertEqual(self.visit.satisfaction_score, 4)
        first_answer = self.response.submitted_date
        # resubmitting (within the week) updates the same response
        result = self._post(self._url(), {"score": "5", "comment": "They called me back, thank you"})
        self.assertEqual(result.status_code, 200)
        self.assertEqual(len(self.visit.survey_response_ids), 1)
        self.assertRecordValues(
            self.response,
            [{"score": 5, "waiting_score": 0, "comment": "They called me back, thank you"}],
        )
        self.assertEqual(self.response.submitted_date, first_answer)
        self.assertIn("Update my answer", self.url_open(self._url()).text)

    def test_page_in_the_patients_language(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env["ir.module.module"].search([("name", "=", "clinic_retention")])._update_translations(
            filter_lang=["ru_RU"], overwrite=True
        )
        self.patient.lang = "ru_RU"
        page = self.url_open(self._url())
        self.assertIn("Как прошел Ваш визит?", page.text)
        self.assertIn("Время ожидания", page.text, "the aspects too")
        self.patient.lang = "en_US"
        self.assertIn("How was your visit?", self.url_open(self._url()).text)

    def test_expired_link_stores_nothing(self):
        self.response.write({"expiry_date": fields.Datetime.now() - timedelta(minutes=1)})
        page = self.url_open(self._url())
        self.assertEqual(page.status_code, 404)
        self.assertIn("o_clinic_link_invalid", page.text)
        result = self._post(self._url(), {"score": "1"})
        self.assertEqual(result.status_code, 404)
        self.assertEqual((self.response.state, self.response.score), ("sent", 0))

    def test_forged_or_malformed_tokens_store_nothing(self):
        other = self.env["clinic.survey.response"].create({"patient_id": self.patient.id})
        for token in ("0" * 36, other.access_token, "x", self.response.access_token[:-1], "' OR 1=1"):
            page = self.url_open(self._url(token))
            self.assertEqual(page.status_code, 404, token)
            self.assertIn("o_clinic_link_invalid", page.text)
            self.assertNotIn("Feedback dental", page.text)
        # a real form of one response cannot post to another with its own token
        result = self._post(self._url(), {"score": "5"})
        self.assertEqual(result.status_code, 200)
        forged = self._post(f"/clinic/feedback/{other.id}/{self.response.access_token}", {"score": "1"})
        self.assertEqual(forged.status_code, 404)
        self.assertEqual(other.state, "sent")
        self.assertEqual(self.url_open("/clinic/feedback/999999999/" + self.response.access_token).status_code, 404)

    def test_bad_answers_are_refused_and_script_is_shown_as_text(self):
        result = self._post(self._url(), {"score": "9"})
        self.assertEqual(result.status_code, 400)
        self.assertIn("o_clinic_survey_error", result.text)
        self.assertEqual(self.response.state, "sent", "nothing stored")
        script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
        self._post(self._url(), {"score": "3", "comment": script + "y" * 3000})
        self.assertTrue(self.response.comment.startswith(script), "kept as plain text")
        self.assertEqual(len(self.response.comment), 2000)
        page = self.url_open(self._url())
        self.assertNotIn("<script>alert('x')", page.text)
        self.assertIn("&lt;script&gt;", page.text)


@tagged("post_install", "-at_install")
class TestPublicComplaintForm(PublicFormCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.cn")
        cls.department = cls.env["clinic.department"].create({"name": "Complaint dental"})
        cls.patient = cls.env["clinic.patient"].create(
            {
                "name": "Known Patient",
                "mobile": "138 0013 8000",
                "email": "known@example.com",
                "country_id": cls.env.ref("base.cn").id,
            }
        )
        cls.Complaint = cls.env["clinic.complaint"]

    def _send(self, **values):
        data = {
            "contact_name": "Li Na",
            "contact_phone": "",
            "contact_email": "",
            "department_id": str(self.department.id),
            "description": "The receptionist was rude on the phone.",
            "privacy_consent": "1",
        }
        data.update(values)
        return self._post("/clinic/complaint", data)

    def _web_complaints(self):
        return self.Complaint.search([("channel", "=", "web_form")])

    def test_form_matches_a_known_patient(self):
        page = self.url_open("/clinic/complaint")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Complaint dental", page.text)
        before = self._web_complaints()
        result = self._send(contact_phone="+86 138-0013-8000")
        self.assertEqual(result.status_code, 200)
        self.assertIn("o_clinic_complaint_done", result.text)
        complaint = self._web_complaints() - before
        self.assertEqual(len(complaint), 1)
        self.assertRecordValues(
            complaint,
            [
                {
                    "patient_id": False,
                    "patient_match_id": self.patient.id,
                    "department_id": self.department.id,
                    "contact_name": "Li Na",
                }
            ],
        )
        self.assertFalse(self.patient.complaint_count, "not on the patient's record until staff confirm")
        complaint.action_confirm_patient_match()
        self.assertEqual(complaint.patient_id, self.patient)

    def test_form_with_an_unknown_patient(self):
        before = self._web_complaints()
        self._send(contact_email="Stranger@Example.com")
        complaint = self._web_complaints() - before
        self.assertEqual(len(complaint), 1)
        self.assertFalse(complaint.patient_id)
        self.assertEqual(complaint.contact_email, "stranger@example.com")

    def test_bad_input_is_refused_and_kept_in_the_form(self):
        before = self._web_complaints()
        result = self._send(contact_phone="12345")
        self.assertEqual(result.status_code, 400)
        self.assertIn("12345", result.text, "the error names the number and the form keeps what was typed")
        self.assertIn("The receptionist was rude", result.text)
        self.assertEqual(self._web_complaints(), before)

    def test_form_in_the_visitors_language(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env["ir.module.module"].search([("name", "=", "clinic_retention")])._update_translations(
            filter_lang=["ru_RU"], overwrite=True
        )
        page = self.url_open("/clinic/complaint", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
        self.assertIn("Расскажите, что пошло не так", page.text)
        self.assertIn("Tell us what went wrong", self.url_open("/clinic/complaint?lang=en_US").text)
        result = self._send(contact_phone="12345", lang="ru_RU")
        self.assertEqual(result.status_code, 400)
        self.assertIn("«12345» недействителен", result.text, "errors in the visitor's language too")

    def test_honeypot_and_rate_limit(self):
        before = self._web_complaints()
        result = self._send(contact_phone="13800138000", website_url="http://spam.example.com")
        self.assertIn("o_clinic_complaint_done", result.text, "robots are told nothing")
        self.assertEqual(self._web_complaints(), before)
        for attempt in range(5):
            self.assertEqual(self._send(contact_phone=f"1380013810{attempt}").status_code, 200)
        self.assertEqual(len(self._web_complaints() - before), 5)
        result = self._send(contact_phone="13800138109")
        self.assertEqual(result.status_code, 429)
        self.assertEqual(len(self._web_complaints() - before), 5, "the sixth within the hour is refused")
