from odoo import fields, models

COMPLAINT_STAGE_KINDS = [
    ("new", "New"),
    ("investigating", "Investigating"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
]


class ClinicComplaintStage(models.Model):
    _name = "clinic.complaint.stage"
    _description = "Complaint Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        COMPLAINT_STAGE_KINDS,
        required=True,
        default="investigating",
        help="What the stage means to the SLA and escalation: resolved and closed complaints are no "
        "longer escalated; only managers move complaints to a closed stage.",
    )
    fold = fields.Boolean(string="Folded in kanban")
    description = fields.Text(translate=True)
