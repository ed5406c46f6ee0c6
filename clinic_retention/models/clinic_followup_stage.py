from odoo import api, fields, models

STAGE_KINDS = [
    ("new", "New"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("unreachable", "Unreachable"),
]


class ClinicFollowupStage(models.Model):
    """Columns of the follow-up kanban. Each stage has a kind the buttons and
    the recall engine rely on (a "Reached" task goes to a stage of kind Done);
    stages can be limited to some departments to give a team its own board."""

    _name = "clinic.followup.stage"
    _description = "Follow-up Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(STAGE_KINDS, required=True, default="in_progress")
    fold = fields.Boolean(string="Folded in kanban")
    is_closed = fields.Boolean(
        compute="_compute_is_closed", store=True, help="Done and Unreachable stages close the task."
    )
    department_ids = fields.Many2many(
        "clinic.department",
        "clinic_followup_stage_department_rel",
        "stage_id",
        "department_id",
        string="Departments",
        help="Leave empty to use the stage for every department.",
    )
    description = fields.Text(translate=True)

    @api.depends("kind")
    def _compute_is_closed(self):
        for stage in self:
            stage.is_closed = stage.kind in ("done", "unreachable")
