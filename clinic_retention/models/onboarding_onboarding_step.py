from odoo import api, models
from odoo.exceptions import AccessError
from odoo.tools import is_html_empty

MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"
ONBOARDING = "clinic_retention.onboarding_onboarding_clinic"
STEP = "clinic_retention.onboarding_onboarding_step_clinic_%s"
# Steps done when what they set up exists (checked each time the checklist
# opens); the others (reviews) are done once opened.
DATA_STEPS = ("timezone", "departments", "services", "recall_rules", "privacy_notice")


class OnboardingOnboardingStep(models.Model):
    """The clinic's setup checklist (Odoo's onboarding toolbox): time zone,
    departments and teams, services and conditions, recall rules from the
    shipped templates, reminder rules, SMS credits, privacy notice. Each
    step opens where it is done and shows done / not done, per company."""

    _inherit = "onboarding.onboarding.step"

    # ------------------------------------------------------------------
    # Done or not
    # ------------------------------------------------------------------

    @api.model
    def _clinic_step_conditions(self):
        """{step: done?} for the current company, read from its data."""
        company = self.env.company
        env = self.sudo().env
        return {
            "timezone": bool(company.clinic_tz),
            "departments": bool(
                env["clinic.department"].search_count(
                    [("company_id", "=", company.id), ("member_ids", "!=", False)], limit=1
                )
            ),
            "services": bool(env["clinic.service"].search_count([("company_id", "in", [company.id, False])], limit=1)),
            "recall_rules": bool(
                env["clinic.recall.rule"].search_count(
                    [("company_id", "=", company.id), ("is_template", "=", False)], limit=1
                )
            ),
            "privacy_notice": not is_html_empty(company.clinic_privacy_notice),
        }

    @api.model
    def _clinic_refresh_onboarding(self):
        """Mark done the steps whose set-up now exists (never undone: the
        checklist records what was set up once)."""
        onboarding = self.env.ref(ONBOARDING, raise_if_not_found=False)
        if not onboarding:
            return False
        onboarding = onboarding.sudo()
        onboarding._search_or_create_progress()
        Step = self.sudo()
        for name, done in self._clinic_step_conditions().items():
            if done:
                Step.action_validate_step(STEP % name)
        return True

    @api.model
    def _clinic_action_checklist(self):
        """The checklist, refreshed (menu Configuration > Setup checklist)."""
        self._clinic_check_manager()
        self._clinic_refresh_onboarding()
        onboarding = self.env.ref(ONBOARDING)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Set up your clinic"),
            "res_model": "onboarding.onboarding.step",
            "view_mode": "kanban",
            "views": [(self.env.ref("clinic_retention.onboarding_onboarding_step_view_kanban_clinic").id, "kanban")],
            "domain": [("onboarding_ids", "in", onboarding.ids)],
            "context": {"create": False},
            "target": "current",
        }

    @api.model
    def _clinic_check_manager(self):
        if not self.env.is_superuser() and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Patient Care managers set up the clinic."))

    def action_clinic_open_step(self):
        """The card's button: open where this step is done."""
        self.ensure_one()
        self._clinic_check_manager()
        onboarding = self.env.ref(ONBOARDING)
        method = self.sudo().panel_step_open_action_name
        if onboarding not in self.sudo().onboarding_ids or not (method or "").startswith("action_open_step_clinic_"):
            raise AccessError(self.env._("This step is not part of the clinic's setup checklist."))
        return getattr(self, method)()

    @api.model
    def _clinic_validate(self, name):
        self.env.ref(ONBOARDING).sudo()._search_or_create_progress()
        self.sudo().action_validate_step(STEP % name)

    # ------------------------------------------------------------------
    # Opening actions (``panel_step_open_action_name`` of each step)
    # ------------------------------------------------------------------

    @api.model
    def _clinic_xml_action(self, xml_id, **values):
        self._clinic_check_manager()
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        action.update(values)
        return action

    @api.model
    def action_open_step_clinic_timezone(self):
        return self._clinic_xml_action("clinic_retention.res_config_settings_action")

    @api.model
    def action_open_step_clinic_departments(self):
        return self._clinic_xml_action("clinic_retention.clinic_department_action")

    @api.model
    def action_open_step_clinic_services(self):
        return self._clinic_xml_action("clinic_retention.clinic_service_action")

    @api.model
    def action_open_step_clinic_recall_rules(self):
        return self._clinic_xml_action("clinic_retention.clinic_recall_rule_activate_action")

    @api.model
    def action_open_step_clinic_reminders(self):
        action = self._clinic_xml_action("clinic_retention.base_automation_action_clinic")
        self._clinic_validate("reminders")
        return action

    @api.model
    def action_open_step_clinic_sms_credits(self):
        self._clinic_check_manager()
        url = self.env["iap.account"].sudo().get_credits_url("sms")
        self._clinic_validate("sms_credits")
        return {"type": "ir.actions.act_url", "url": url, "target": "new"}

    @api.model
    def action_open_step_clinic_privacy_notice(self):
        return self._clinic_xml_action("clinic_retention.res_config_settings_action")
