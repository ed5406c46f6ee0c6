from odoo import api, fields, models


class ClinicTreatmentPlanLine(models.Model):
    """One treatment of a plan: a service and its estimated price."""

    _name = "clinic.treatment.plan.line"
    _description = "Treatment Plan Line"
    _order = "plan_id, sequence, id"
    _check_company_auto = True

    plan_id = fields.Many2one("clinic.treatment.plan", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    service_id = fields.Many2one(
        "clinic.service",
        check_company=True,
        domain="['|', ('department_id', '=', False), ('department_id', '=', parent.department_id)]",
    )
    name = fields.Char(
        string="Description", compute="_compute_name", store=True, readonly=False, required=True, precompute=True
    )
    amount = fields.Monetary(string="Estimated price", currency_field="currency_id")
    currency_id = fields.Many2one(related="plan_id.currency_id")
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)

    @api.depends("service_id")
    def _compute_name(self):
        for line in self:
            if line.service_id and not line.name:
                line.name = line.service_id.name
