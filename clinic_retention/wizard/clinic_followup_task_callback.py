from datetime import timedelta

from odoo import api, fields, models


class ClinicFollowupTaskCallback(models.TransientModel):
    """The patient asked to be called back at a given time."""

    _name = "clinic.followup.task.callback"
    _description = "Follow-up: call back later"

    task_id = fields.Many2one("clinic.followup.task", required=True, ondelete="cascade")
    patient_id = fields.Many2one(related="task_id.patient_id")
    callback_date = fields.Datetime(
        string="Call back at",
        required=True,
        default=lambda self: fields.Datetime.now().replace(second=0, microsecond=0) + timedelta(days=1),
    )
    note = fields.Text()

    @api.model_create_multi
    def create(self, vals_list):
        # only for a follow-up the user works on
        self.env["clinic.followup.task"].browse(
            [vals["task_id"] for vals in vals_list if vals.get("task_id")]
        ).check_access("write")
        return super().create(vals_list)

    def action_confirm(self):
        self.ensure_one()
        self.task_id._set_call_back(self.callback_date, self.note)
        return {"type": "ir.actions.act_window_close"}
