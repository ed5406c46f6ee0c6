from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ClinicRecallRule(models.Model):
    """Recall rule templates: shipped inactive with the addon (6-month dental
    check-up, hypertension re-check, post-surgery day 3 / day 30, lapsed
    6 months), they never run themselves. "Activate" copies one into a
    department as a live rule, once per department."""

    _inherit = "clinic.recall.rule"

    is_template = fields.Boolean(
        string="Template",
        readonly=True,
        copy=False,
        help="A model rule shipped with the addon: it never runs; activate it for a department.",
    )
    template_id = fields.Many2one(
        "clinic.recall.rule",
        string="Made from template",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    # a template belongs to no department (every rule made from it does)
    department_id = fields.Many2one(required=False)

    @api.constrains("is_template", "active", "department_id")
    def _check_template(self):
        for rule in self:
            if rule.is_template and rule.active:
                raise ValidationError(
                    self.env._(
                        "“%(rule)s” is a template: activate it for a department instead of un-archiving it.",
                        rule=rule.name,
                    )
                )
            if not rule.is_template and not rule.department_id:
                raise ValidationError(self.env._("The recall rule “%(rule)s” needs a department.", rule=rule.name))

    @api.constrains("kind", "interval_number", "step_ids", "lead_days", "max_overdue_days")
    def _check_configuration(self):
        # a template's steps are loaded after it (data files); each rule made from it is checked
        return super(ClinicRecallRule, self.filtered(lambda rule: not rule.is_template))._check_configuration()

    def _activate_for_department(self, department, service=None):
        """The live rules made from these templates for ``department`` (with
        ``service`` when given): created the first time, re-activated when
        archived, left alone otherwise (one click, however many times)."""
        Rule = self.sudo().with_context(active_test=False)
        rules = Rule.browse()
        for template in self.sudo():
            existing = Rule.search([("template_id", "=", template.id), ("department_id", "=", department.id)], limit=1)
            if existing:
                if not existing.active:
                    existing.active = True
                rules |= existing
                continue
            rules |= template.copy(
                {
                    "name": template.name,
                    "active": True,
                    "department_id": department.id,
                    "company_id": department.company_id.id,
                    "service_id": service.id if service and template.kind != "lapsed" else False,
                    "template_id": template.id,
                }
            )
        return rules.with_env(self.env)
