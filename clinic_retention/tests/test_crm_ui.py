from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestCrmUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="tour_crm_agent",
            password="tour_crm_agent_pw",
            name="Tour CRM Agent",
            groups="clinic_retention.group_clinic_retention_user",
            tz="UTC",
        )
        cls.env["res.users"].browse(cls.agent.id).tour_enabled = False
        cls.env.company.country_id = cls.env.ref("base.cn")
        cls.department = cls.env["clinic.department"].create(
            {"name": "Tour Dental CRM", "member_ids": [(6, 0, cls.agent.ids)]}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Tour Prospect: toothache",
                "type": "opportunity",
                "contact_name": "Tour Prospect",
                "phone": "138 0013 8777",
                "clinic_department_id": cls.department.id,
                "clinic_chief_complaint": "Toothache for three days",
                "user_id": cls.agent.id,
            }
        )

    def test_agent_grades_books_and_wins_a_prospect(self):
        self.start_tour(
            "/odoo/action-clinic_retention.crm_lead_action_clinic_pipeline",
            "clinic_crm_pipeline",
            login="tour_crm_agent",
        )
        self.assertEqual(self.lead.clinic_grade_id, self.env.ref("clinic_retention.need_grade_b"))
        patient = self.lead.clinic_patient_id
        self.assertEqual(patient.phone, "+8613800138777")
        self.assertEqual(self.lead.clinic_visit_id.patient_id, patient)
        self.assertEqual(self.lead.clinic_visit_id.state, "done")
        self.assertEqual(self.lead.clinic_status, "won")
        self.assertTrue(self.lead.stage_id.is_won)
