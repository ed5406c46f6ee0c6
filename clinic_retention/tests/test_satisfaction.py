from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.tests import tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestSatisfaction(ClinicRetentionCase, MockEmail, SMSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"email": "care@clinic.example.com", "name": "Test Clinic", "clinic_tz": "Asia/Shanghai"})
        cls.anna = cls._patient("Anna", mobile="138 0013 8000", email="anna@example.com", care_consent=True)
        cls.sms_fan = cls._patient(
            "Sms Fan", mobile="136 0013 8000", email="sms@example.com", care_consent=True, preferred_channel="sms"
        )
        cls.no_consent = cls._patient("No consent", mobile="139 0013 8000", email="nc@example.com")
        cls.Response = cls.env["clinic.survey.response"]

    def _done_visit(self, patient, start="2026-06-11 10:00:00", department=None):
        """Mark a visit done, then run the thank-you rule an hour later (as
        its scheduled action does: the message is not sent by the click)."""
        visit = self._visit(
            patient, datetime.fromisoformat(start), department=department, state="scheduled", doctor_id=self.doctor.id
        )
        visit.action_mark_done()
        self._thank_you_pass(visit.done_date + timedelta(hours=1, minutes=1))
        return visit

    def _thank_you_pass(self, when):
        with freeze_time(when):
            self.env["base.automation"]._precise_check()

    def _survey(self, visit):
        return self.Response.search([("visit_id", "=", visit.id), ("source", "=", "survey")])

    def test_survey_sent_by_the_patients_channel_with_consent_only(self):
        with freeze_time("2026-06-11 11:00:00"), self.mock_mail_gateway(), self.mockSMSGateway():
            by_email = self._done_visit(self.anna)
            by_sms = self._done_visit(self.sms_fan)
            silent = self._done_visit(self.no_consent)
            mails, sms = self._new_mails, self._new_sms
        survey = self._survey(by_email)
        self.assertEqual(len(survey), 1)
        self.assertRegex(survey.survey_url, rf"/clinic/feedback/{survey.id}/[0-9a-f-]{{36}}$")
        self.assertEqual(mails.recipient_ids, self.anna.partner_id, "only the email patient gets an email")
        self.assertIn(survey.survey_url, mails.body_html)
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.number, "+8613600138000")
        self.assertIn(self._survey(by_sms).survey_url, sms.body)
        self.assertFalse(self._survey(silent), "no consent: no survey, no message")
        # marking the visit done again sends nothing twice and keeps one survey
        with freeze_time("2026-06-11 12:00:00"), self.mock_mail_gateway():
            by_email.action_reset_scheduled()
            by_email.action_mark_done()
            self._thank_you_pass("2026-06-11 13:01:00")
            self.assertFalse(self._new_mails)
        self.assertEqual(len(self._survey(by_email)), 1)

    def test_answer_lands_on_visit_department_and_doctor(self):
        with freeze_time("2026-06-11 11:00:00"), self.mock_mail_gateway():
            visit = self._done_visit(self.anna)
            other = self._done_visit(self.sms_fan, "2026-06-11 10:30:00")
        survey = self._survey(visit)
        with freeze_time("2026-06-12 09:00:00"):
            survey._submit({"score": 5, "doctor_score": 4, "comment": "Kind doctor"})
            self._survey(other)._submit({"score": 4})
        self.assertRecordValues(
            survey,
            [
                {
                    "state": "answered",
                    "score": 5,
                    "doctor_score": 4,
                    "department_id": self.dental.id,
                    "doctor_id": self.doctor.id,
                    "is_satisfied": True,
                    "submitted_date": datetime(2026, 6, 12, 9),
                    "expiry_date": datetime(2026, 6, 19, 9),
                }
            ],
        )
        self.assertEqual(visit.satisfaction_score, 5)
        self.dental.invalidate_recordset(["satisfaction_avg", "satisfaction_count"])
        self.assertEqual((self.dental.satisfaction_count, self.dental.satisfaction_avg), (2, 4.5))
        groups = self.Response._read_group([("doctor_id", "=", self.doctor.id)], ["doctor_id"], ["score:avg"])
        self.assertEqual(groups, [(self.doctor, 4.5)])
        # changing the answer within the week updates the same response; the window does not move
        with freeze_time("2026-06-15 09:00:00"):
            survey._submit({"score": 3})
        self.assertEqual((survey.score, survey.expiry_date), (3, datetime(2026, 6, 19, 9)))
        self.assertEqual(visit.satisfaction_score, 3)
        with freeze_time("2026-06-19 09:00:01"):
            self.assertFalse(survey._is_link_usable(), "the link expires a week after the first answer")

    def test_low_score_opens_exactly_one_complaint(self):
        with freeze_time("2026-06-11 11:00:00"), self.mock_mail_gateway():
            visit = self._done_visit(self.anna)
        survey = self._survey(visit)
        Complaint = self.env["clinic.complaint"]
        with freeze_time("2026-06-12 09:00:00"):
            survey._submit({"score": 3, "comment": "OK"})
        self.assertFalse(survey.complaint_id, "3 is above the default threshold of 2")
        with freeze_time("2026-06-12 10:00:00"):
            survey._submit({"score": 2, "comment": "Waited two hours"})
            survey._submit({"score": 1, "comment": "Waited two hours, and nobody said sorry"})
        complaints = Complaint.search([("response_id", "=", survey.id)])
        self.assertEqual(len(complaints), 1, "once per response, however often it is changed")
        self.assertRecordValues(
            complaints,
            [
                {
                    "patient_id": self.anna.id,
                    "department_id": self.dental.id,
                    "user_id": self.manager.id,
                    "channel": "survey",
                    "state": "new",
                    "description": "Waited two hours",
                }
            ],
        )
        self.assertEqual(complaints.staff_ids, self.doctor)
        self.assertEqual(survey.complaint_id, complaints)
        # the threshold is a setting
        self.company.clinic_complaint_threshold = 3
        with freeze_time("2026-06-11 11:00:00"), self.mock_mail_gateway():
            second = self._survey(self._done_visit(self.sms_fan, "2026-06-11 10:30:00"))
        with freeze_time("2026-06-12 09:00:00"):
            second._submit({"score": 3})
        self.assertTrue(second.complaint_id)

    def test_score_taken_by_phone_on_a_followup(self):
        task = self.env["clinic.followup.task"].create(
            {"name": "Call after extraction", "patient_id": self.anna.id, "department_id": self.dental.id}
        )
        wizard = self.env["clinic.followup.task.reached"].create(
            {"task_id": task.id, "satisfaction": "2", "note": "Still in pain, nobody called back"}
        )
        wizard.action_confirm()
        response = self.Response.search([("task_id", "=", task.id)])
        self.assertRecordValues(
            response,
            [{"source": "phone", "state": "answered", "score": 2, "department_id": self.dental.id}],
        )
        self.assertEqual(response.complaint_id.channel, "survey")
        self.assertFalse(response._is_link_usable(), "a phone answer has no public link")

    def test_public_answers_are_validated_and_kept_as_text(self):
        clean, error = self.Response._clean_answer(
            {"score": "4", "waiting_score": "", "comment": "<script>alert(1)</script>" + "x" * 5000}
        )
        self.assertIsNone(error)
        self.assertEqual(clean["score"], 4)
        self.assertEqual(clean["waiting_score"], 0)
        self.assertTrue(clean["comment"].startswith("<script>alert(1)</script>"), "stored as typed, as plain text")
        self.assertEqual(len(clean["comment"]), 2000)
        for bad in ({"score": ""}, {"score": "6"}, {"score": "abc"}, {"score": "3", "staff_score": "0"}):
            clean, error = self.Response._clean_answer(bad)
            self.assertIsNone(clean, bad)
            self.assertTrue(error, bad)
        self.assertEqual(self.Response._fields["comment"].type, "text", "never rendered as HTML")
