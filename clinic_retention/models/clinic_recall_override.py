from odoo import fields, models


class ClinicRecallOverride(models.Model):
    """A patient's own interval for a recall rule (e.g. a dental check-up
    every 3 months instead of 6 for a patient with periodontitis)."""

    _name = "clinic.recall.override"
    _description = "Recall Interval Override"
    _inherit = ["clinic.interval.mixin"]
    _order = "rule_id, patient_id"
    _check_company_auto = True

    active = fields.Boolean(default=True)
    rule_id = fields.Many2one("clinic.recall.rule", required=True, index=True, ondelete="cascade", check_company=True)
    patient_id = fields.Many2one("clinic.patient", required=True, index=True, ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="rule_id.company_id", store=True)
    interval_number = fields.Integer(required=True, default=3)
    interval_unit = fields.Selection(default="months")
    note = fields.Char(help="Why this patient has their own interval.")

    _sql_constraints = [
        ("rule_patient_uniq", "unique(rule_id, patient_id)", "A patient has one override per recall rule."),
        ("interval_positive", "CHECK(interval_number > 0)", "The interval must be at least 1."),
    ]
