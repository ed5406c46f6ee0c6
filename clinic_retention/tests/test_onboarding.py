from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ClinicRetentionCase

STEP = "clinic_retention.onboarding_onboarding_step_clinic_%s"
STEPS = ("timezone", "departments", "services", "recall_rules", "reminders", "sms_credits", "privacy_notice")
TEMPLATES = (
    "clinic_retention.clinic_recall_template_dental_checkup",
    "clinic_retention.clinic_recall_template_hypertension",
    "clinic_retention.clinic_recall_template_post_surgery",
    "clinic_retention.clinic_recall_template_lapsed",
)


@tagged("post_install", "-at_install")
class TestOnboarding(ClinicRetentionCase):
    """A clinic that starts without demo data: the setup checklist and the
    shipped recall rule templates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.new_clinic = cls.env["res.company"].create({"name": "New Clinic", "country_id": cls.china.id})
        cls.new_manager = new_test_user(
            cls.env,
            login="new_clinic_manager",
            groups="clinic_retention.group_clinic_retention_manager",
            company_id=cls.new_clinic.id,
            company_ids=[(6, 0, cls.new_clinic.ids)],
        )
        cls.Step = cls.env["onboarding.onboarding.step"]

    def _states(self, user):
        """{step: state} of the checklist as ``user`` (in their company) opens it."""
        Step = self.Step.with_user(user).with_company(user.company_id)
        action = Step._clinic_action_checklist()
        steps = Step.search(action["domain"])
        names = {self.env.ref(STEP % name).id: name for name in STEPS}
        return {names[step.id]: step.current_step_state for step in steps}

    def test_templates_are_shipped_inactive_and_never_run(self):
        templates = self.env["clinic.recall.rule"].with_context(active_test=False)
        for xml_id in TEMPLATES:
            template = self.env.ref(xml_id)
            self.assertTrue(template.is_template)
            self.assertFalse(template.active)
            self.assertFalse(template.department_id)
            self.assertNotIn(template, templates.search([]).filtered("active"))
        post_surgery = self.env.ref("clinic_retention.clinic_recall_template_post_surgery")
        self.assertEqual(post_surgery.step_ids.mapped("offset_days"), [3, 30])
        with self.assertRaises(ValidationError):
            self.env.ref(TEMPLATES[0]).active = True

    def test_checklist_starts_empty_and_follows_the_set_up(self):
        self.new_clinic.clinic_tz = False
        states = self._states(self.new_manager)
        self.assertEqual(set(states), set(STEPS))
        not_done = {name for name, state in states.items() if state == "not_done"}
        # services may be shared between companies (no company): the demo's are
        self.assertEqual(not_done - {"services"}, set(STEPS) - {"services"}, "a new clinic has nothing set up")

        env = self.env(user=self.new_manager, context=dict(self.env.context, allowed_company_ids=self.new_clinic.ids))
        self.new_clinic.clinic_tz = "Asia/Shanghai"  # Settings (administrator)
        department = env["clinic.department"].create({"name": "Dental", "member_ids": [(6, 0, self.new_manager.ids)]})
        env["clinic.service"].create({"name": "Check-up", "department_id": department.id})
        wizard = env["clinic.recall.rule.activate"].create({"department_id": department.id})
        self.assertEqual(len(wizard.template_ids), 4, "every shipped template is offered")
        wizard.action_activate()
        reminders = env["onboarding.onboarding.step"].action_open_step_clinic_reminders()
        self.assertEqual(reminders["res_model"], "base.automation")
        states = self._states(self.new_manager)
        self.assertEqual(
            {name for name, state in states.items() if state == "not_done"},
            {"sms_credits", "privacy_notice"},
        )
        # the other clinic's checklist is its own
        self.assertNotIn("not_done", {self._states(self.manager)[name] for name in ("departments", "services")})

    def test_one_click_activation_and_first_recall_task(self):
        department = self.dental
        wizard = (
            self.env["clinic.recall.rule.activate"]
            .with_user(self.manager)
            .create({"department_id": department.id, "template_ids": [(6, 0, self.env.ref(TEMPLATES[0]).ids)]})
        )
        action = wizard.action_activate()
        rule = self.env["clinic.recall.rule"].browse(action["domain"][0][2])
        self.assertRecordValues(
            rule,
            [
                {
                    "active": True,
                    "is_template": False,
                    "department_id": department.id,
                    "kind": "recall",
                    "interval_number": 6,
                    "template_id": self.env.ref(TEMPLATES[0]).id,
                }
            ],
        )
        # once per department, however many clicks
        again = wizard.action_activate()
        self.assertEqual(again["domain"][0][2], rule.ids)
        post_surgery = self.env.ref(TEMPLATES[2])._activate_for_department(department)
        self.assertEqual(post_surgery.step_ids.mapped("offset_days"), [3, 30])
        self.assertEqual(self.env.ref(TEMPLATES[2]).step_ids.rule_id, self.env.ref(TEMPLATES[2]), "template kept")
        # the first recall task
        patient = self._patient(
            "Due for check-up", mobile="13800138001", care_consent=True, care_consent_source="in_person"
        )
        self._visit(patient, fields.Datetime.now() - timedelta(days=175))
        rule.action_run_now()
        task = self.env["clinic.followup.task"].search([("rule_id", "=", rule.id)])
        self.assertEqual(task.patient_id, patient)
        self.assertEqual(task.user_id, self.cs_user, "the department's team works it")

    def test_only_managers(self):
        with self.assertRaises(AccessError):
            self.env["clinic.recall.rule.activate"].with_user(self.cs_user).create(
                {"department_id": self.dental.id}
            ).action_activate()
        with self.assertRaises(AccessError):
            self.Step.with_user(self.cs_user)._clinic_action_checklist()
        step = self.env.ref(STEP % "reminders")
        with self.assertRaises(AccessError):
            step.with_user(self.cs_user).action_clinic_open_step()
        foreign = self.Step.create(
            {"title": "Other", "panel_step_open_action_name": "action_open_step_clinic_reminders"}
        )
        with self.assertRaises(AccessError):
            foreign.with_user(self.manager).action_clinic_open_step()


@tagged("post_install", "-at_install")
class TestOnboardingUi(HttpCase):
    """A manager goes through the checklist to the first recall task (works
    with or without demo data: the tour names its own department)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a clinic of its own: a fresh start, whether the database has demo data or not
        cls.clinic = cls.env["res.company"].create(
            {"name": "Onboarding Clinic", "country_id": cls.env.ref("base.cn").id, "clinic_tz": "Asia/Shanghai"}
        )
        cls.manager = new_test_user(
            cls.env,
            login="onboarding_manager",
            password="onboarding_manager_pw",
            name="Onboarding Manager",
            groups="clinic_retention.group_clinic_retention_manager",
            company_id=cls.clinic.id,
            company_ids=[(6, 0, cls.clinic.ids)],
            tz="UTC",
        )
        cls.manager.tour_enabled = False
        cls.department = cls.env["clinic.department"].create(
            {"name": "Onboarding Dental", "company_id": cls.clinic.id, "member_ids": [(6, 0, cls.manager.ids)]}
        )
        cls.patient = cls.env["clinic.patient"].create(
            {
                "name": "Onboarding Patient",
                "company_id": cls.clinic.id,
                "mobile": "13800138002",
                "care_consent": True,
                "care_consent_source": "in_person",
            }
        )
        cls.env["clinic.visit"].create(
            {
                "patient_id": cls.patient.id,
                "department_id": cls.department.id,
                "start": fields.Datetime.now() - timedelta(days=175),
                "stop": fields.Datetime.now() - timedelta(days=175) + timedelta(minutes=30),
                "state": "done",
            }
        )

    def test_checklist_to_first_recall_task(self):
        self.start_tour(
            "/odoo/action-clinic_retention.onboarding_onboarding_step_action_clinic",
            "clinic_onboarding_checklist",
            login="onboarding_manager",
        )
        rule = self.env["clinic.recall.rule"].search(
            [("department_id", "=", self.department.id), ("template_id", "=", self.env.ref(TEMPLATES[0]).id)]
        )
        self.assertTrue(rule.active)
        task = self.env["clinic.followup.task"].search([("rule_id", "=", rule.id)])
        self.assertEqual(task.patient_id, self.patient, "the first recall task")
