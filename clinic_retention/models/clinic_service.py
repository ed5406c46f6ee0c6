from odoo import api, fields, models
from odoo.exceptions import UserError


class ClinicService(models.Model):
    """A service performed (check-up, extraction) or a condition treated
    (hypertension). Visits, recall rules and recovery templates refer to it."""

    _name = "clinic.service"
    _description = "Service or Condition"
    _order = "department_id, sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(
        [("service", "Service"), ("condition", "Condition")],
        required=True,
        default="service",
    )
    is_chronic = fields.Boolean(
        string="Chronic",
        help="A long-term condition followed with a regular cadence (e.g. hypertension).",
    )
    department_id = fields.Many2one("clinic.department", index=True, check_company=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        default=lambda self: self.env.company,
        help="Leave empty to share the service between companies.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        """Deleting a service or condition would take it out of every
        patient's conditions (untracked), of every past visit, and widen the
        recall rules on it to the whole department: archive it instead."""
        sudo = self.sudo().with_context(active_test=False)
        checks = [
            ("clinic.visit", "service_id", self.env._("visits")),
            ("clinic.patient", "medical_condition_ids", self.env._("patients' conditions")),
            ("clinic.recall.rule", "service_id", self.env._("recall rules")),
            ("clinic.recovery.template", "service_id", self.env._("recovery templates")),
        ]
        for model, fname, label in checks:
            count = sudo.env[model].search_count([(fname, "in", self.ids)])
            if count:
                raise UserError(
                    self.env._(
                        "%(service)s is used by %(count)s %(what)s: archive it instead of deleting it.",
                        service=self[0].display_name,
                        count=count,
                        what=label,
                    )
                )
