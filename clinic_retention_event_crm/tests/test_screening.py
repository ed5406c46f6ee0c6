from odoo.addons.clinic_retention.tests.common import ClinicRetentionCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestScreening(ClinicRetentionCase):
    """Attendees of a free screening become graded prospects of the department."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.grade_b = cls.env.ref("clinic_retention.need_grade_b")
        cls.grade_a = cls.env.ref("clinic_retention.need_grade_a")
        cls.screening = cls.env["event.event"].create(
            {
                "name": "Free dental screening (test)",
                "clinic_department_id": cls.dental.id,
                "date_begin": "2026-03-07 09:00:00",
                "date_end": "2026-03-07 15:00:00",
            }
        )
        cls.fair = cls.env["event.event"].create(
            {"name": "Health fair (test)", "date_begin": "2026-03-08 09:00:00", "date_end": "2026-03-08 15:00:00"}
        )

    def _register(self, event, **vals):
        vals.setdefault("name", "Attendee")
        return self.env["event.registration"].create(dict(vals, event_id=event.id))

    def _clinic_leads(self, registration):
        return registration.sudo().lead_ids.filtered("clinic_is_care")

    def test_attendee_becomes_a_graded_prospect_of_the_department(self):
        registration = self._register(
            self.screening,
            name="Zhao Lei",
            phone="139 1234 5678",
            email="zhao.lei@example.com",
            clinic_grade_id=self.grade_b.id,
            clinic_chief_complaint="Two cavities",
            clinic_care_consent=True,
        )
        self.assertFalse(self._clinic_leads(registration), "registered is not attended")
        registration.write({"state": "done"})
        lead = self._clinic_leads(registration)
        self.assertEqual(len(lead), 1)
        self.assertRecordValues(
            lead,
            [
                {
                    "type": "opportunity",
                    "clinic_department_id": self.dental.id,
                    "team_id": self.dental.team_id.id,
                    "clinic_kind": "prospect",
                    "clinic_grade_id": self.grade_b.id,
                    "clinic_chief_complaint": "Two cavities",
                    "clinic_care_consent": True,
                    "clinic_consent_source": "in_person",
                    "source_id": self.env.ref("clinic_retention.utm_source_free_screening").id,
                    "stage_id": self.env.ref("clinic_retention.crm_stage_clinic_new").id,
                    "event_id": self.screening.id,
                }
            ],
        )
        # CRM writes the event's name as free text; the referrer is a link, left empty
        self.assertEqual(lead.referred, "Free dental screening (test)")
        self.assertFalse(lead.clinic_referrer_id)
        # the agent of the department sees it in the pipeline and can book the first visit
        self.assertIn(lead, self.env["crm.lead"].with_user(self.cs_user).search([]))
        self.assertNotIn(lead, self.env["crm.lead"].with_user(self.cs_user_2).search([]))
        lead.with_user(self.cs_user).action_clinic_book_visit()
        self.assertEqual(lead.clinic_patient_id.phone, "+8613912345678")

    def test_grading_after_attendance_updates_the_prospect(self):
        registration = self._register(self.screening, name="Grade Later", phone="139 1234 5679", state="done")
        lead = self._clinic_leads(registration)
        self.assertFalse(lead.clinic_grade_id)
        registration.write({"clinic_grade_id": self.grade_a.id, "clinic_chief_complaint": "Abscess"})
        self.assertEqual(lead.clinic_grade_id, self.grade_a)
        self.assertEqual(lead.clinic_chief_complaint, "Abscess")

    def test_other_events_make_no_patient_care_prospect(self):
        registration = self._register(self.fair, name="Fair Visitor", phone="139 1234 5680", state="done")
        self.assertFalse(self._clinic_leads(registration))

    def test_attending_twice_opens_one_prospect(self):
        registration = self._register(self.screening, name="Twice", phone="139 1234 5681", state="done")
        registration.write({"state": "open"})
        registration.write({"state": "done"})
        self.assertEqual(len(self._clinic_leads(registration)), 1)
