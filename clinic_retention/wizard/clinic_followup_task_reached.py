from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.clinic_followup_task import TASK_CHANNELS

SCORES = [
    ("0", "Not asked"),
    ("1", "Very dissatisfied"),
    ("2", "Dissatisfied"),
    ("3", "Neutral"),
    ("4", "Satisfied"),
    ("5", "Very satisfied"),
]


class ClinicFollowupTaskReached(models.TransientModel):
    """The patient answered: record what came out of the contact and close the task."""

    _name = "clinic.followup.task.reached"
    _description = "Follow-up: patient reached"

    task_id = fields.Many2one("clinic.followup.task", required=True, ondelete="cascade")
    patient_id = fields.Many2one(related="task_id.patient_id")
    outcome = fields.Selection(
        [("reached", "Reached"), ("reschedule", "Asked to reschedule"), ("refused", "Refused further care")],
        required=True,
        default="reached",
    )
    channel = fields.Selection(TASK_CHANNELS, required=True, default="phone")
    satisfaction = fields.Selection(SCORES, default="0")
    recovery_line_ids = fields.One2many(
        "clinic.followup.task.reached.line",
        "wizard_id",
        string="Recovery",
        compute="_compute_recovery_line_ids",
        store=True,
        readonly=False,
    )
    health_guidance = fields.Html()
    note = fields.Text()
    preferred_times = fields.Text(help="When the patient could come instead (days, times).")

    @api.model_create_multi
    def create(self, vals_list):
        # only for a follow-up the user works on (its patient is read through it)
        self.env["clinic.followup.task"].browse(
            [vals["task_id"] for vals in vals_list if vals.get("task_id")]
        ).check_access("write")
        return super().create(vals_list)

    @api.depends("task_id")
    def _compute_recovery_line_ids(self):
        for wizard in self:
            template = wizard.task_id.recovery_template_id
            wizard.recovery_line_ids = [fields.Command.clear()] + [
                fields.Command.create({"criterion_id": criterion.id, "name": criterion.name})
                for criterion in template.criterion_ids
            ]

    @api.onchange("task_id")
    def _onchange_task_id(self):
        if self.task_id.channel:
            self.channel = self.task_id.channel

    def action_confirm(self):
        self.ensure_one()
        task = self.task_id
        task._check_open()
        if self.outcome == "reschedule":
            return self._confirm_reschedule()
        task._record_attempt()
        scores = self.recovery_line_ids.filtered("score")
        # scored while the task is open: a closed task's scores are history agents cannot change
        task.write(
            {
                "recovery_score_ids": [fields.Command.clear()]
                + [
                    fields.Command.create(
                        {
                            "criterion_id": line.criterion_id.id,
                            "name": line.name,
                            "score": int(line.score),
                            "note": line.note,
                        }
                    )
                    for line in scores
                ]
            }
        )
        vals = {
            "outcome": self.outcome,
            "channel": self.channel,
            "satisfaction_score": int(self.satisfaction or 0),
        }
        if self.health_guidance:
            vals["health_guidance"] = self.health_guidance
        task._move_to("done", **vals)
        summary = self.env._(
            "Reached by %(channel)s: %(outcome)s.",
            channel=dict(TASK_CHANNELS)[self.channel],
            outcome=dict(self._fields["outcome"]._description_selection(self.env))[self.outcome],
        )
        if task.satisfaction_score:
            summary += " " + self.env._("Satisfaction %(score)s/5.", score=task.satisfaction_score)
        if scores:
            summary += " " + self.env._("Recovery %(score).1f/5.", score=task.recovery_score)
        if self.note:
            summary += "\n" + self.note
        task.message_post(body=summary)
        if task.satisfaction_score:
            task._record_phone_satisfaction(self.note)
        return {"type": "ir.actions.act_window_close"}

    def _confirm_reschedule(self):
        """The patient wants another time: their visit of this task (if still
        to come) is cancelled without a second rebooking task, this task
        stays open to book the new time (no failed attempt counted) and the
        booking form opens at once."""
        task = self.task_id
        if not (self.preferred_times or "").strip():
            raise UserError(self.env._("Write when the patient could come instead."))
        now = fields.Datetime.now()
        visit = task.visit_id.filtered(lambda v: v.state == "scheduled" and v.start > now)
        if visit:
            visit.check_access("write")
            visit.with_context(clinic_no_rebooking_task=True).action_cancel()
        task._move_to(
            "in_progress",
            outcome="reschedule",
            channel=self.channel,
            date_deadline=fields.Date.context_today(self),
            first_contact_date=task.first_contact_date or now,
            last_attempt_date=now,
        )
        body = self.env._(
            "The patient asked to reschedule. Preferred days and times: %(times)s", times=self.preferred_times
        )
        if visit:
            body += " " + self.env._("Visit cancelled: %(visit)s.", visit=visit.display_name)
        task.message_post(body=body)
        return task.action_book_visit()


class ClinicFollowupTaskReachedLine(models.TransientModel):
    _name = "clinic.followup.task.reached.line"
    _description = "Follow-up: recovery criterion scored"

    wizard_id = fields.Many2one("clinic.followup.task.reached", required=True, ondelete="cascade")
    criterion_id = fields.Many2one("clinic.recovery.criterion")
    name = fields.Char(required=True)
    score = fields.Selection([(str(n), str(n)) for n in range(1, 6)])
    note = fields.Char()
