from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .crm_common import ClinicCrmCase


@tagged("post_install", "-at_install")
class TestTreatmentPlan(ClinicCrmCase):
    """A proposed treatment is an opportunity until it is booked and done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Plan = cls.env["clinic.treatment.plan"]
        cls.root_canal = cls.env["clinic.service"].create({"name": "Root canal (test)", "department_id": cls.dental.id})
        cls.crown = cls.env["clinic.service"].create({"name": "Crown (test)", "department_id": cls.dental.id})
        cls.patient = cls._patient("Plan Patient", mobile="13800138600", care_consent=True)
        cls.consultation = cls._visit(cls.patient, "2026-03-02 09:00:00", doctor_id=cls.doctor.id)

    def _plan(self, **vals):
        vals.setdefault("name", "Root canal and crown")
        vals.setdefault("visit_id", self.consultation.id)
        vals.setdefault("user_id", self.cs_user.id)
        vals.setdefault(
            "line_ids",
            [
                (0, 0, {"service_id": self.root_canal.id, "amount": 420}),
                (0, 0, {"service_id": self.crown.id, "amount": 600}),
            ],
        )
        return self.Plan.create(vals)

    def test_unbooked_plan_is_an_opportunity_for_the_consultant(self):
        with freeze_time("2026-03-02 10:00:00"):
            plan = self._plan(urgency="urgent")
        self.assertRecordValues(
            plan,
            [
                {
                    "patient_id": self.patient.id,
                    "department_id": self.dental.id,
                    "doctor_id": self.doctor.id,
                    "amount_total": 1020,
                    "state": "proposed",
                }
            ],
        )
        self.assertEqual(plan.line_ids.mapped("name"), ["Root canal (test)", "Crown (test)"])
        lead = plan.lead_id
        self.assertRecordValues(
            lead,
            [
                {
                    "clinic_kind": "treatment",
                    "expected_revenue": 1020,
                    "user_id": self.cs_user.id,
                    "team_id": self.dental.team_id.id,
                    "clinic_patient_id": self.patient.id,
                    "partner_id": self.patient.partner_id.id,
                    "stage_id": self.stage_new.id,
                    "priority": "3",
                    "clinic_treatment_plan_id": plan.id,
                    "source_id": self.env.ref("clinic_retention.utm_source_treatment_plan").id,
                }
            ],
        )
        self.assertEqual(lead.activity_ids.user_id, self.cs_user)
        self.assertEqual(str(lead.activity_ids.date_deadline), "2026-03-03", "urgent: call back the next day")
        self.assertIn(plan, self.consultation.treatment_plan_ids)

    def test_plan_changes_follow_on_the_opportunity(self):
        plan = self._plan()
        with Form(plan) as form:
            with form.line_ids.edit(1) as line:
                line.amount = 700
            form.user_id = self.cs_user_2
            form.urgency = "elective"
        self.assertEqual(plan.lead_id.expected_revenue, 1120)
        self.assertEqual(plan.lead_id.user_id, self.cs_user_2)
        self.assertEqual(plan.lead_id.priority, "1")

    def test_booking_moves_it_and_doing_wins_it(self):
        plan = self._plan()
        plan.action_accept()
        self.assertEqual(plan.state, "accepted")
        self.assertEqual(plan.lead_id.stage_id, self.stage_reached)
        action = plan.action_book()
        self.assertEqual(action["context"]["default_service_id"], self.root_canal.id)
        visit = (
            self.env["clinic.visit"]
            .with_context(**action["context"])
            .create({"start": "2030-03-10 09:00:00", "stop": "2030-03-10 10:00:00"})
        )
        self.assertEqual(visit.treatment_plan_id, plan)
        self.assertEqual(plan.state, "booked")
        self.assertEqual(plan.booked_visit_id, visit)
        self.assertEqual(plan.lead_id.stage_id, self.stage_booked)
        visit.action_mark_done()
        self.assertEqual(plan.state, "done")
        self.assertEqual(plan.lead_id.clinic_status, "won")
        self.assertEqual(plan.done_date, visit.start)

    def test_missed_treatment_visit_goes_back_to_the_worklist(self):
        plan = self._plan()
        action = plan.action_book()
        visit = (
            self.env["clinic.visit"]
            .with_context(**action["context"])
            .create({"start": "2030-03-10 09:00:00", "stop": "2030-03-10 10:00:00"})
        )
        visit.action_mark_no_show()
        self.assertEqual(plan.state, "accepted")
        self.assertFalse(plan.booked_visit_id)
        self.assertEqual(plan.lead_id.stage_id, self.stage_reinvite)
        self.assertIn(plan, self.Plan.search([("state", "in", ("proposed", "accepted"))]))

    def test_declining_loses_it_with_a_reason(self):
        plan = self._plan()
        action = plan.action_decline()
        self.assertEqual(action["res_model"], "crm.lead.lost")
        wizard = (
            self.env["crm.lead.lost"]
            .with_context(**action["context"])
            .create({"lost_reason_id": self.env.ref("crm.lost_reason_1").id})
        )
        wizard.action_lost_reason_apply()
        self.assertEqual(plan.state, "declined")
        self.assertEqual(plan.decline_reason_id, self.env.ref("crm.lost_reason_1"))
        self.assertEqual(plan.lead_id.clinic_status, "lost")
        with self.assertRaises(UserError):
            plan.action_book()
        plan.action_reopen()
        self.assertEqual(plan.state, "proposed")
        self.assertEqual(plan.lead_id.clinic_status, "open")

    def test_won_opportunity_marks_the_plan_done(self):
        plan = self._plan()
        plan.lead_id.action_set_won()
        self.assertEqual(plan.state, "done")

    def test_unscheduled_worklist_oldest_and_largest_first(self):
        with freeze_time("2026-03-01"):
            old_small = self._plan(name="Old small", line_ids=[(0, 0, {"name": "Filling", "amount": 80})])
        with freeze_time("2026-03-05"):
            new_large = self._plan(name="New large", line_ids=[(0, 0, {"name": "Implant", "amount": 2400})])
            new_small = self._plan(name="New small", line_ids=[(0, 0, {"name": "Scaling", "amount": 90})])
            accepted = self._plan(name="Accepted", line_ids=[(0, 0, {"name": "Bridge", "amount": 1500})])
            accepted.action_accept()
            done = self._plan(name="Done", line_ids=[(0, 0, {"name": "Whitening", "amount": 300})])
            done.lead_id.action_set_won()
        action = self.env.ref("clinic_retention.clinic_treatment_plan_action_unscheduled")
        self.assertEqual(action.context, "{'search_default_filter_unscheduled': 1}")
        worklist = self.Plan.search([("state", "in", ("proposed", "accepted")), ("patient_id", "=", self.patient.id)])
        self.assertEqual(worklist, old_small | new_large | accepted | new_small)
        self.assertEqual(worklist.mapped("name"), ["Old small", "New large", "Accepted", "New small"])
