from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestSurveyEntry(ClinicRetentionCase):
    """The front desk enters a paper or kiosk questionnaire for a visit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.clinic_complaint_threshold = 2
        cls.anna = cls._patient("Anna", mobile="138 0013 8000")
        cls.visit = cls._visit(cls.anna, "2026-06-11 10:00:00", doctor_id=cls.doctor.id)
        cls.cardio_visit = cls._visit(cls.anna, "2026-06-11 11:00:00", department=cls.cardiology)
        cls.Response = cls.env["clinic.survey.response"]

    def _enter(self, visit, user, **answer):
        wizard = Form(
            self.env["clinic.survey.response.entry"]
            .with_user(user)
            .with_context(active_model="clinic.visit", active_id=visit.id)
        )
        for name, value in answer.items():
            setattr(wizard, name, value)
        action = wizard.save().action_save()
        return self.Response.browse(action["res_id"])

    def test_entered_by_staff_and_counted_as_an_answer(self):
        response = self._enter(self.visit, self.cs_user, score="4", waiting_score="3", comment="Paper form")
        self.assertRecordValues(
            response,
            [
                {
                    "source": "front_desk",
                    "recorded_by_id": self.cs_user.id,
                    "state": "answered",
                    "score": 4,
                    "waiting_score": 3,
                    "doctor_score": 0,
                    "comment": "Paper form",
                    "department_id": self.dental.id,
                    "doctor_id": self.doctor.id,
                    "patient_id": self.anna.id,
                    "is_satisfied": True,
                    "complaint_id": False,
                }
            ],
        )
        report = self.env["clinic.satisfaction.report"].search([("id", "=", response.id)])
        self.assertEqual(report.source, "front_desk", "counted in the satisfaction analysis")

    def test_low_score_escalates_like_an_online_answer(self):
        online_visit = self._visit(self.anna, "2026-06-12 10:00:00")
        online = self.Response.create({"visit_id": online_visit.id})
        online._submit({"score": 1, "comment": "Rude"})
        paper = self._enter(self.visit, self.cs_user, score="1", comment="Rude")
        self.assertTrue(paper.complaint_id)
        fields = ["channel", "severity", "department_id", "user_id", "patient_id", "description"]
        self.assertEqual(
            paper.complaint_id.read(fields)[0] | {"id": 0},
            online.complaint_id.read(fields)[0] | {"id": 0},
            "the same complaint as for an answer given online",
        )
        self.assertEqual(paper.complaint_id.response_id, paper)

    def test_answers_the_waiting_survey_link_once(self):
        sent = self.Response.create({"visit_id": self.visit.id})
        self.assertTrue(sent._is_link_usable())
        response = self._enter(self.visit, self.cs_user, score="5")
        self.assertEqual(response, sent, "one answer per visit")
        self.assertFalse(sent._is_link_usable(), "the patient's link no longer takes answers")
        with self.assertRaises(UserError):
            self._enter(self.visit, self.cs_user, score="2")

    def test_only_visits_that_took_place(self):
        booked = self._visit(self.anna, "2026-07-01 10:00:00", state="scheduled")
        with self.assertRaises(UserError):
            self._enter(booked, self.cs_user, score="3")

    def test_agents_only_for_their_departments(self):
        with self.assertRaises(AccessError):
            self._enter(self.cardio_visit, self.cs_user, score="3")
        with self.assertRaises(AccessError):
            self._enter(self.visit, self.internal_user, score="3")
        response = self._enter(self.cardio_visit, self.cs_user_2, score="3")
        self.assertEqual(response.recorded_by_id, self.cs_user_2)
        self.assertFalse(self.Response.with_user(self.cs_user).search([("id", "=", response.id)]))
