from odoo import fields, models


class ClinicRecoveryCriterion(models.Model):
    _name = "clinic.recovery.criterion"
    _description = "Recovery Criterion"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("clinic.recovery.template", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True, help="What is asked, e.g. 'Pain when chewing'.")
    description = fields.Char(translate=True, help="How to score: what 1 and 5 mean.")
