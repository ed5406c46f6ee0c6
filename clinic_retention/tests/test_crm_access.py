from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .crm_common import ClinicCrmCase


@tagged("post_install", "-at_install")
class TestCrmAccess(ClinicCrmCase):
    """Who sees which opportunities, treatment plans and CRM reports."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales_manager = new_test_user(cls.env, login="clinic_sales_manager", groups="sales_team.group_sale_manager")
        cls.dental_lead = cls._prospect("Dental Prospect", phone="13800138400")
        cls.cardio_lead = cls._prospect("Cardio Prospect", department=cls.cardiology, phone="13800138401")
        cls.cardio_mine = cls._prospect(
            "Assigned across teams", department=cls.cardiology, phone="13800138402", user_id=cls.cs_user.id
        )
        cls.other_lead = cls._prospect("Other Clinic Prospect", department=cls.other_department)
        cls.sales_lead = cls.Lead.create(
            {"name": "Corporate plan", "type": "opportunity", "user_id": False, "company_id": cls.company.id}
        )
        patient = cls._patient("Plan Patient")
        cls.dental_plan, cls.cardio_plan = cls.env["clinic.treatment.plan"].create(
            [
                {
                    "name": name,
                    "patient_id": patient.id,
                    "department_id": department.id,
                    "user_id": cls.manager.id,
                    "line_ids": [(0, 0, {"name": name, "amount": amount})],
                }
                for name, department, amount in (("Crown", cls.dental, 500), ("Stress test", cls.cardiology, 200))
            ]
        )
        cls.all_leads = cls.dental_lead | cls.cardio_lead | cls.cardio_mine | cls.other_lead | cls.sales_lead

    def _visible(self, user, model="crm.lead", records=None):
        records = records if records is not None else self.all_leads
        return self.env[model].with_user(user).search([("id", "in", records.ids)])

    def test_agent_sees_their_team_pipeline_only(self):
        self.assertEqual(self._visible(self.cs_user), self.dental_lead | self.cardio_mine)
        self.assertEqual(self._visible(self.cs_user_2), self.cardio_lead | self.cardio_mine)
        with self.assertRaises(AccessError):
            self.cardio_lead.with_user(self.cs_user).read(["name", "clinic_chief_complaint"])

    def test_agent_loses_the_pipeline_with_the_team(self):
        self.dental.member_ids = [(3, self.cs_user.id)]
        self.assertEqual(self._visible(self.cs_user), self.cardio_mine)

    def test_manager_sees_every_department_of_their_company(self):
        self.assertEqual(
            self._visible(self.manager), self.dental_lead | self.cardio_lead | self.cardio_mine | self.sales_lead
        )

    def test_other_company_sees_none(self):
        self.assertEqual(self._visible(self.other_company_user), self.other_lead)
        self.assertFalse(
            self._visible(self.other_company_user, "clinic.treatment.plan", self.dental_plan | self.cardio_plan)
        )

    def test_sales_users_do_not_see_patient_care_opportunities(self):
        """The chief complaint is health data: CRM users outside Patient Care see sales leads only."""
        self.assertEqual(self._visible(self.sales_manager), self.sales_lead)

    def test_plain_employee_portal_and_doctor_see_nothing(self):
        for user in (self.internal_user, self.portal_user, self.doctor):
            with self.assertRaises(AccessError):
                self.env["crm.lead"].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["clinic.treatment.plan"].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["clinic.conversion.report"].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["clinic.referral.report"].with_user(user).search([])

    def test_agent_works_a_prospect_of_their_team(self):
        lead = self.Lead.with_user(self.cs_user).create(
            {
                "name": "Walk-in enquiry",
                "type": "opportunity",
                "clinic_department_id": self.dental.id,
                "phone": "13800138403",
            }
        )
        lead.clinic_grade_id = self.grades["B"]
        action = lead.action_clinic_book_visit()
        visit = (
            self.env["clinic.visit"]
            .with_user(self.cs_user)
            .with_context(**action["context"])
            .create({"start": "2030-01-10 09:00:00", "stop": "2030-01-10 09:30:00"})
        )
        self.assertEqual(lead.stage_id, self.stage_booked)
        visit.action_mark_done()
        self.assertEqual(lead.clinic_status, "won")
        # and cannot move a prospect into a team they are not in and keep it
        with self.assertRaises(AccessError):
            self.cardio_lead.with_user(self.cs_user).write({"clinic_grade_id": self.grades["A"].id})

    def test_treatment_plans_follow_the_departments(self):
        plans = self.dental_plan | self.cardio_plan
        self.assertEqual(self._visible(self.cs_user, "clinic.treatment.plan", plans), self.dental_plan)
        self.assertEqual(self._visible(self.cs_user_2, "clinic.treatment.plan", plans), self.cardio_plan)
        self.assertEqual(self._visible(self.manager, "clinic.treatment.plan", plans), plans)
        # the plan's opportunity follows the same rule
        self.assertEqual(self._visible(self.cs_user, records=plans.lead_id), self.dental_plan.lead_id)

    def test_reports_show_own_departments(self):
        Report = self.env["clinic.conversion.report"]
        mine = Report.with_user(self.cs_user).search([("id", "in", self.all_leads.ids)])
        self.assertEqual(mine.mapped("lead_id"), self.dental_lead | self.cardio_mine)
        everything = Report.with_user(self.manager).search([("id", "in", self.all_leads.ids)])
        self.assertEqual(everything.mapped("lead_id"), self.dental_lead | self.cardio_lead | self.cardio_mine)

    def test_only_managers_configure_grades_and_stages(self):
        with self.assertRaises(AccessError):
            self.grades["A"].with_user(self.cs_user).write({"description": "No."})
        with self.assertRaises(AccessError):
            self.stage_new.with_user(self.cs_user).write({"name": "No."})
        self.grades["A"].with_user(self.manager).write({"description": "Pain today."})
        self.stage_new.with_user(self.manager).write({"name": "To call"})
