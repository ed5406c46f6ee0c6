from odoo import api, fields, models


class ClinicFollowupRecoveryScore(models.Model):
    """One criterion of a recovery template, scored during a follow-up."""

    _name = "clinic.followup.recovery.score"
    _description = "Recovery Score"
    _order = "task_id, sequence, id"

    task_id = fields.Many2one("clinic.followup.task", required=True, index=True, ondelete="cascade")
    criterion_id = fields.Many2one("clinic.recovery.criterion", ondelete="set null")
    sequence = fields.Integer(related="criterion_id.sequence", store=True)
    name = fields.Char(required=True)
    score = fields.Integer(aggregator="avg", help="1 (bad) to 5 (fully recovered).")
    note = fields.Char()

    _sql_constraints = [
        ("score_range", "CHECK(score BETWEEN 0 AND 5)", "Recovery scores go from 1 to 5."),
    ]

    @api.onchange("criterion_id")
    def _onchange_criterion_id(self):
        if self.criterion_id:
            self.name = self.criterion_id.name
