from odoo import api, fields, models
from odoo.exceptions import AccessError

MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


class ClinicRecallRuleActivate(models.TransientModel):
    """Activate shipped recall rule templates for a department, in one click."""

    _name = "clinic.recall.rule.activate"
    _description = "Activate recall rule templates"

    department_id = fields.Many2one("clinic.department", required=True)
    service_id = fields.Many2one(
        "clinic.service",
        string="Service / condition",
        domain="[('department_id', 'in', [department_id, False])]",
        help="Optional: only visits of this service or condition count (not for the lapsed-patient template).",
    )
    template_ids = fields.Many2many(
        "clinic.recall.rule",
        string="Templates",
        domain=[("is_template", "=", True), ("active", "=", False)],
        context={"active_test": False},
        default=lambda self: self._default_templates(),
    )

    @api.model
    def _default_templates(self):
        return self.env["clinic.recall.rule"].with_context(active_test=False).search([("is_template", "=", True)])

    def action_activate(self):
        self.ensure_one()
        if not self.env.is_superuser() and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Patient Care managers can activate recall rules."))
        self.department_id.check_access("write")
        rules = self.template_ids._activate_for_department(self.department_id, self.service_id)
        self.env["onboarding.onboarding.step"]._clinic_refresh_onboarding()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recall rules of %s", self.department_id.name),
            "res_model": "clinic.recall.rule",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", rules.ids)],
            "target": "current",
        }
