from odoo import fields, models


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
