from odoo import fields, models


class ClinicRecallRuleStep(models.Model):
    """A step of a recall rule.

    * Post-visit rules: one task ``offset_days`` after each completed visit
      (e.g. "day 3" and "day 30" after surgery).
    * Chronic rules: the cadence to use once the patient has had
      ``min_visits`` completed visits (e.g. weekly from 0 visits, monthly
      from 4 visits once the condition is stable).
    """

    _name = "clinic.recall.rule.step"
    _description = "Recall Rule Step"
    _inherit = ["clinic.interval.mixin"]
    _order = "rule_id, sequence, offset_days, min_visits, id"

    rule_id = fields.Many2one("clinic.recall.rule", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    name = fields.Char(translate=True, help="Shown in the task title, e.g. 'Day 3 call'.")
    offset_days = fields.Integer(string="Days after the visit", default=3)
    min_visits = fields.Integer(string="From visit number", default=0)
    interval_number = fields.Integer(default=1)
    interval_unit = fields.Selection(default="weeks")

    _sql_constraints = [
        ("offset_positive", "CHECK(offset_days >= 0)", "A step cannot come before the visit."),
        ("min_visits_positive", "CHECK(min_visits >= 0)", "The visit number cannot be negative."),
    ]
