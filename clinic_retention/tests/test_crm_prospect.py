from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .crm_common import ClinicCrmCase


@tagged("post_install", "-at_install")
class TestCrmTeams(ClinicCrmCase):
    """Departments are CRM teams: one member list for tasks, pipeline and rules."""

    def test_department_gets_its_team_and_members(self):
        self.assertTrue(self.dental.team_id)
        self.assertEqual(self.dental.team_id.name, "Dental (test)")
        self.assertEqual(self.dental.team_id.company_id, self.company)
        self.assertEqual(self.dental.team_id.member_ids, self.cs_user)
        self.assertEqual(self.dental.member_ids, self.cs_user)
        self.assertEqual(self.dental.team_id.clinic_department_ids, self.dental)

    def test_members_written_on_the_department_are_the_team_members(self):
        self.dental.with_user(self.manager).member_ids = [(4, self.cs_user_2.id)]
        self.assertEqual(self.dental.team_id.member_ids, self.cs_user | self.cs_user_2)
        # an agent in two departments stays in both teams (multi-membership is on)
        self.assertEqual(self.cardiology.member_ids, self.cs_user_2)
        self.dental.member_ids = [(3, self.cs_user.id)]
        self.assertEqual(self.dental.team_id.member_ids, self.cs_user_2)
        self.assertFalse(self.env["clinic.department"].search([("member_ids", "in", self.cs_user.ids)]))

    def test_members_changed_in_crm_are_the_department_members(self):
        self.dental.team_id.member_ids = [(4, self.cs_user_2.id)]
        self.assertEqual(self.dental.member_ids, self.cs_user | self.cs_user_2)
        self.assertEqual(
            self.env["clinic.department"].search([("member_ids", "in", self.cs_user_2.ids)]),
            self.dental | self.cardiology,
        )

    def test_departments_may_share_a_team(self):
        surgery = self.env["clinic.department"].create(
            {"name": "Oral surgery (test)", "code": "TSURG", "team_id": self.dental.team_id.id}
        )
        self.assertEqual(surgery.member_ids, self.cs_user)
        surgery.member_ids = [(4, self.cs_user_2.id)]
        self.assertEqual(self.dental.member_ids, self.cs_user | self.cs_user_2, "one member list")

    def test_team_member_sees_department_tasks(self):
        patient = self._patient("Team Patient")
        task = self.env["clinic.followup.task"].create(
            {"name": "Call", "patient_id": patient.id, "department_id": self.dental.id, "user_id": False}
        )
        Task = self.env["clinic.followup.task"]
        self.assertIn(task, Task.with_user(self.cs_user).search([]))
        self.assertNotIn(task, Task.with_user(self.cs_user_2).search([]))
        self.dental.team_id.member_ids = [(4, self.cs_user_2.id)]
        self.assertIn(task, Task.with_user(self.cs_user_2).search([]))
        # archived membership: access goes with it
        self.dental.team_id.crm_team_member_ids.filtered(lambda m: m.user_id == self.cs_user_2).active = False
        self.assertNotIn(task, Task.with_user(self.cs_user_2).search([]))

    def test_department_needs_a_team(self):
        with self.assertRaises(ValidationError):
            self.dental.team_id = False

    def test_setup_crm_teams_migrates_former_members(self):
        """The upgrade from 18.0.1: a department without a team gets one,
        whose members are the department's former agents."""
        self.env.cr.execute("UPDATE clinic_department SET team_id = NULL WHERE id = %s", [self.dental.id])
        self.dental.invalidate_recordset()
        departments = self.env["clinic.department"]._setup_crm_teams(
            {self.dental.id: [self.cs_user.id, self.cs_user_2.id], self.cardiology.id: [self.cs_user_2.id]}
        )
        self.assertIn(self.dental, departments)
        self.assertTrue(self.dental.team_id)
        self.assertEqual(self.dental.member_ids, self.cs_user | self.cs_user_2)
        self.assertEqual(self.cardiology.member_ids, self.cs_user_2)
        self.assertTrue(self.env["ir.config_parameter"].sudo().get_param("sales_team.membership_multi"))


@tagged("post_install", "-at_install")
class TestCrmProspect(ClinicCrmCase):
    """A prospect is invited, books a first visit, and is won when it is done."""

    def test_prospect_is_in_its_department_pipeline(self):
        lead = self._prospect("Li Na", phone="138 0013 8000")
        self.assertEqual(lead.team_id, self.dental.team_id)
        self.assertEqual(lead.company_id, self.company)
        self.assertEqual(lead.stage_id, self.stage_new)
        self.assertEqual(lead.clinic_kind, "prospect")
        self.assertEqual(lead.clinic_status, "open")
        self.assertTrue(lead.clinic_is_care)
        # a sales opportunity keeps CRM's own pipeline
        sale = self.Lead.create({"name": "Corporate health plan", "type": "opportunity"})
        self.assertFalse(sale.stage_id.clinic_pipeline)
        self.assertFalse(sale.clinic_kind)

    def test_each_pipeline_shows_its_own_stages(self):
        Stage = self.env["crm.stage"]
        clinic = self.Lead.with_context(clinic_pipeline=True)._read_group_stage_ids(Stage, [])
        sales = self.Lead._read_group_stage_ids(Stage, [])
        self.assertEqual(
            clinic, self.stage_new | self.stage_reached | self.stage_booked | self.stage_reinvite | self.stage_done
        )
        self.assertFalse(sales.filtered("clinic_pipeline"))
        self.assertIn(self.env.ref("crm.stage_lead1"), sales)

    def test_department_moves_a_lead_into_the_patient_care_pipeline(self):
        lead = self.Lead.create({"name": "Website enquiry", "type": "opportunity"})
        self.assertFalse(lead.stage_id.clinic_pipeline)
        lead.clinic_department_id = self.cardiology
        self.assertEqual(lead.team_id, self.cardiology.team_id)
        self.assertEqual(lead.stage_id, self.stage_new)

    def test_grade_definitions_are_shown_as_help(self):
        lead = self._prospect("Graded", clinic_grade_id=self.grades["B"].id)
        self.assertEqual(lead.clinic_grade_code, "B")
        self.assertEqual(lead.clinic_grade_description, self.grades["B"].description)
        self.grades["B"].description = "Our own definition of B."
        self.assertEqual(lead.clinic_grade_description, "Our own definition of B.")
        self.assertEqual(self.grades["A"].display_name, "A — Acute need, ready to book")

    def test_grade_is_filterable(self):
        graded_a = self._prospect("A one", clinic_grade_id=self.grades["A"].id)
        graded_e = self._prospect("E one", clinic_grade_id=self.grades["E"].id)
        found = self.Lead.search([("clinic_grade_id.code", "=", "A"), ("id", "in", (graded_a | graded_e).ids)])
        self.assertEqual(found, graded_a)

    def test_book_first_visit_creates_the_patient(self):
        referrer = self._patient("Referrer Patient")
        lead = self._prospect(
            "Li Na",
            phone="138 0013 8000",
            email_from="li.na@example.com",
            clinic_referrer_id=referrer.partner_id.id,
            source_id=self.source_referral.id,
            clinic_care_consent=True,
            clinic_consent_source="phone",
            clinic_channel="sms",
        )
        count = self.env["clinic.patient"].search_count([])
        with freeze_time("2026-03-02 09:00:00"):
            visit = self._book(lead, "2026-03-05 10:00:00")
        self.assertEqual(self.env["clinic.patient"].search_count([]), count + 1)
        patient = lead.clinic_patient_id
        self.assertRecordValues(
            patient,
            [
                {
                    "name": "Li Na",
                    "phone": "+8613800138000",
                    "email": "li.na@example.com",
                    "referred_by_id": referrer.partner_id.id,
                    "referral_source": "patient",
                    "care_consent": True,
                    "care_consent_source": "phone",
                    "preferred_channel": "sms",
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertEqual(lead.partner_id, patient.partner_id)
        self.assertEqual(visit.patient_id, patient)
        self.assertEqual(visit.department_id, self.dental)
        self.assertEqual(visit.lead_id, lead)
        self.assertEqual(lead.stage_id, self.stage_booked)
        self.assertEqual(lead.clinic_visit_id, visit)
        self.assertEqual(str(lead.clinic_booked_date), "2026-03-02 09:00:00")
        self.assertEqual(str(lead.clinic_reached_date), "2026-03-02 09:00:00", "booked implies reached")

    def test_booking_from_the_pipeline_context(self):
        """The pipeline's defaults (default_type...) do not leak into the patient's contact."""
        lead = self._prospect("From Pipeline", phone="13800138011")
        lead.with_context(default_type="opportunity", default_user_id=self.cs_user.id).action_clinic_book_visit()
        self.assertEqual(lead.clinic_patient_id.partner_id.type, "contact")

    def test_existing_patient_found_by_loosely_typed_phone(self):
        patient = self._patient("Wang Fang", mobile="+86 138 0013 8000")
        self.assertEqual(patient.mobile, "+8613800138000")
        lead = self._prospect("Fang W.", phone="(138) 0013-8000")
        count = self.env["clinic.patient"].search_count([])
        self._book(lead, "2026-03-05 10:00:00")
        self.assertEqual(self.env["clinic.patient"].search_count([]), count, "no duplicate patient")
        self.assertEqual(lead.clinic_patient_id, patient)
        self.assertEqual(lead.partner_id, patient.partner_id)

    def test_existing_patient_found_by_email_best_match_first(self):
        by_email = self._patient("By Email", email="Anna.K@Example.com")
        both = self._patient("Both", email="anna.k@example.com", mobile="13800138001")
        lead = self._prospect("Anna", email_from="anna.k@example.com", mobile="138-0013-8001")
        self.assertEqual(lead._clinic_find_patients(), both | by_email)
        lead._clinic_ensure_patient()
        self.assertEqual(lead.clinic_patient_id, both)

    def test_patient_of_another_clinic_is_not_a_match(self):
        self._patient("Elsewhere", mobile="+8613800138000", company_id=self.other_company.id)
        lead = self._prospect("Here", phone="13800138000")
        self.assertFalse(lead._clinic_find_patients())

    def test_invalid_phone_is_refused_and_nothing_is_lost(self):
        lead = self._prospect("Bad Number", phone="12345")
        count = self.env["clinic.patient"].search_count([])
        with self.assertRaisesRegex(ValidationError, "12345"):
            lead.action_clinic_book_visit()
        self.assertEqual(self.env["clinic.patient"].search_count([]), count)
        self.assertFalse(lead.clinic_patient_id)
        self.assertEqual(lead.phone, "12345")
        self.assertEqual(lead.stage_id, self.stage_new)

    def test_won_when_the_first_visit_is_done(self):
        lead = self._prospect("Comes", phone="13800138002", clinic_grade_id=self.grades["B"].id)
        with freeze_time("2026-03-02 09:00:00"):
            visit = self._book(lead, "2026-03-05 10:00:00")
        with freeze_time("2026-03-05 10:40:00"):
            visit.action_mark_done()
        self.assertEqual(lead.clinic_status, "won")
        self.assertTrue(lead.stage_id.is_won)
        self.assertEqual(lead.stage_id, self.stage_done)
        self.assertEqual(lead.probability, 100)
        self.assertEqual(str(lead.clinic_done_date), "2026-03-05 10:00:00", "the day the patient came")

    def test_visit_set_back_to_scheduled_reopens_the_opportunity(self):
        lead = self._prospect("Mistake", phone="13800138012")
        visit = self._book(lead, "2030-03-05 10:00:00")
        visit.action_mark_done()
        self.assertEqual(lead.clinic_status, "won")
        visit.action_reset_scheduled()
        self.assertEqual(lead.clinic_status, "open")
        self.assertEqual(lead.stage_id, self.stage_booked)
        visit.action_mark_done()
        self.assertEqual(lead.clinic_status, "won")
        # a lost opportunity is left alone
        lost = self._prospect("Lost Then Came", phone="13800138013")
        other = self._book(lost, "2030-03-06 10:00:00")
        lost.action_set_lost(lost_reason_id=self.reason_elsewhere.id)
        other.action_mark_done()
        self.assertEqual(lost.clinic_status, "lost")

    def test_back_to_reinvite_on_no_show(self):
        lead = self._prospect("No Show", phone="13800138003", user_id=self.cs_user.id)
        visit = self._book(lead, "2026-03-05 10:00:00")
        visit.action_mark_no_show()
        self.assertEqual(lead.stage_id, self.stage_reinvite)
        self.assertEqual(lead.clinic_status, "open")
        self.assertEqual(lead.activity_ids.user_id, self.cs_user)
        self.assertEqual(lead.activity_ids.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        # booked again, then done: won
        second = self._book(lead, "2026-03-12 10:00:00")
        self.assertEqual(lead.stage_id, self.stage_booked)
        self.assertEqual(lead.clinic_visit_id, second)
        second.action_mark_done()
        self.assertEqual(lead.clinic_status, "won")

    def test_cancelled_booking_goes_back_to_reinvite(self):
        lead = self._prospect("Cancels", phone="13800138004")
        visit = self._book(lead, "2026-03-05 10:00:00")
        visit.action_cancel()
        self.assertEqual(lead.stage_id, self.stage_reinvite)

    def test_refusal_is_lost_with_a_reason(self):
        lead = self._prospect("Says No", phone="13800138005")
        wizard = self.env["crm.lead.lost"].create(
            {"lead_ids": [(6, 0, lead.ids)], "lost_reason_id": self.reason_elsewhere.id}
        )
        wizard.action_lost_reason_apply()
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.reason_elsewhere)
        self.assertEqual(lead.clinic_status, "lost")
        self.assertEqual(lead.probability, 0)
        lead.toggle_active()
        self.assertEqual(lead.clinic_status, "open")

    def test_shipped_lost_reasons(self):
        names = set(self.env["crm.lost.reason"].search([]).mapped("name"))
        self.assertLessEqual(
            {"Too expensive", "Went to another clinic", "No longer needed", "Moved away"},
            names,
        )

    def test_a_booking_made_elsewhere_moves_the_opportunity(self):
        patient = self._patient("Books By Phone", mobile="13800138006")
        lead = self._prospect("Books By Phone", mobile="13800138006")
        lead._clinic_ensure_patient()
        visit = self._visit(patient, "2030-01-10 09:00:00", state="scheduled")
        self.assertEqual(lead.stage_id, self.stage_booked)
        self.assertEqual(lead.clinic_visit_id, visit)
        # a visit in another department is not this opportunity's
        other = self._prospect("Books By Phone", department=self.cardiology, mobile="13800138006")
        other._clinic_ensure_patient()
        self.assertEqual(other.stage_id, self.stage_new)

    def test_walk_in_visit_done_wins_at_once(self):
        with freeze_time("2026-03-10 10:00:00"):
            lead = self._prospect("Walks In", phone="13800138007")
            patient = lead._clinic_ensure_patient()
            # a visit from before the prospect was recorded is not this opportunity's
            self._visit(patient, "2026-02-01 11:00:00", state="done")
            self.assertEqual(lead.clinic_status, "open")
        with freeze_time("2026-03-10 12:00:00"):
            self._visit(patient, "2026-03-10 11:00:00", state="done")
        self.assertEqual(lead.clinic_status, "won")
        self.assertEqual(str(lead.clinic_reached_date), "2026-03-10 11:00:00")
        self.assertEqual(str(lead.clinic_booked_date), "2026-03-10 11:00:00")

    def test_referrer_is_a_link_not_crm_text(self):
        referrer = self.env["res.partner"].create({"name": "Green Valley Family Practice", "is_company": True})
        lead = self._prospect("Referred", phone="13800138008", clinic_referrer_id=referrer.id, referred="Free text")
        lead._clinic_ensure_patient()
        self.assertEqual(lead.clinic_patient_id.referred_by_id, referrer)
        self.assertEqual(lead.clinic_patient_id.referral_source, False, "no UTM source given")

    def test_existing_contact_becomes_the_patient(self):
        contact = self.env["res.partner"].create({"name": "Known Contact", "phone": "13800138009"})
        lead = self._prospect("Known Contact", partner_id=contact.id)
        patient = lead._clinic_ensure_patient()
        self.assertEqual(patient.partner_id, contact)
        self.assertEqual(contact.phone, "+8613800138009")

    def test_merge_keeps_the_clinic_fields(self):
        first = self._prospect("Dup", phone="13800138010", clinic_grade_id=self.grades["C"].id)
        second = self._prospect(
            "Dup", phone="13800138010", clinic_chief_complaint="Bleeding gums", source_id=self.source_website.id
        )
        merged = (first | second).merge_opportunity(auto_unlink=True)
        self.assertEqual(merged.clinic_grade_id, self.grades["C"])
        self.assertEqual(merged.clinic_chief_complaint, "Bleeding gums")
        self.assertEqual(merged.clinic_department_id, self.dental)

    def test_quick_create_in_the_clinic_pipeline_defaults_the_department(self):
        lead_form = Form(
            self.Lead.with_user(self.cs_user).with_context(clinic_pipeline=True, default_type="opportunity")
        )
        lead_form.name = "Quick prospect"
        lead = lead_form.save()
        self.assertEqual(lead.clinic_department_id, self.dental)
        self.assertEqual(lead.team_id, self.dental.team_id)
        self.assertEqual(lead.stage_id, self.stage_new)


@tagged("post_install", "-at_install")
class TestCrmLeadScoring(ClinicCrmCase):
    def test_grade_is_a_predictive_lead_scoring_field(self):
        self.assertIn("clinic_grade_id", self.Lead._pls_get_safe_fields())
        self.assertTrue(
            self.env["crm.lead.scoring.frequency.field"].search([("field_id.name", "=", "clinic_grade_id")])
        )

    def test_scoring_learns_from_the_grade(self):
        """Won A prospects and lost E prospects: a new A scores higher than a new E."""
        Frequency = self.env["crm.lead.scoring.frequency"]

        def counts(grade):
            frequency = Frequency.search(
                [
                    ("variable", "=", "clinic_grade_id"),
                    ("value", "=", str(self.grades[grade].id)),
                    ("team_id", "=", self.dental.team_id.id),  # the test department's own team
                ]
            )
            return frequency.won_count, frequency.lost_count

        for index in range(6):
            won = self._prospect(f"A{index}", phone=f"1380013{8100 + index}", clinic_grade_id=self.grades["A"].id)
            won.action_set_won()
            lost = self._prospect(f"E{index}", phone=f"1380013{8200 + index}", clinic_grade_id=self.grades["E"].id)
            lost.action_set_lost(lost_reason_id=self.reason_elsewhere.id)
        # every win and loss is counted against its grade (CRM starts each count at 0.1)
        self.assertEqual(counts("A"), (6.1, 0.1))
        self.assertEqual(counts("E"), (0.1, 6.1))
        new_a = self._prospect("New A", phone="13800138300", clinic_grade_id=self.grades["A"].id)
        new_e = self._prospect("New E", phone="13800138301", clinic_grade_id=self.grades["E"].id)
        ungraded = self._prospect("New ungraded", phone="13800138302")
        self.assertGreater(new_a.automated_probability, ungraded.automated_probability)
        self.assertGreater(ungraded.automated_probability, new_e.automated_probability)
