from odoo import api, fields, models
from odoo.exceptions import UserError

from .clinic_followup_task_reached import SCORES

ASPECTS = ("waiting_score", "doctor_score", "staff_score", "cleanliness_score")


class ClinicSurveyResponseEntry(models.TransientModel):
    """The front desk types in a patient's paper or kiosk questionnaire for a
    visit. It lands with the survey answers, marked as entered by staff (who
    and how), and a low score escalates exactly like an answer given online.
    One answer per visit: a survey link still waiting for an answer is
    answered by this entry and stops accepting answers."""

    _name = "clinic.survey.response.entry"
    _description = "Enter a paper or kiosk satisfaction form"

    visit_id = fields.Many2one(
        "clinic.visit",
        required=True,
        domain="[('state', '=', 'done')]",
        help="The visit the questionnaire is about.",
    )
    patient_id = fields.Many2one(related="visit_id.patient_id")
    department_id = fields.Many2one(related="visit_id.department_id")
    score = fields.Selection(SCORES[1:], string="Overall", required=True)
    waiting_score = fields.Selection(SCORES, string="Waiting time", default="0")
    doctor_score = fields.Selection(SCORES, string="Doctor's care", default="0")
    staff_score = fields.Selection(SCORES, string="Staff", default="0")
    cleanliness_score = fields.Selection(SCORES, string="Cleanliness", default="0")
    comment = fields.Text(help="The patient's own words, as written on the form.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "clinic.visit" and self.env.context.get("active_id"):
            values.setdefault("visit_id", self.env.context["active_id"])
        return values

    def action_save(self):
        """Record the answer (as superuser, once the user's right to the
        visit is checked: agents only for their departments' visits)."""
        self.ensure_one()
        visit = self.visit_id
        visit.check_access("read")
        if visit.state != "done":
            raise UserError(self.env._("A satisfaction form can only be entered for a visit that took place."))
        Response = self.env["clinic.survey.response"].sudo()
        responses = Response.search([("visit_id", "=", visit.id), ("source", "in", ("survey", "front_desk"))])
        answered = responses.filtered(lambda r: r.state == "answered")
        if answered:
            raise UserError(
                self.env._(
                    "%(patient)s already answered the satisfaction survey of this visit (%(how)s).",
                    patient=visit.patient_id.name,
                    how=dict(answered[0]._fields["source"]._description_selection(self.env))[answered[0].source],
                )
            )
        cleaned, error = Response._clean_answer(
            {
                "score": self.score,
                **{name: self[name] if self[name] != "0" else "" for name in ASPECTS},
                "comment": self.comment,
            }
        )
        if error:
            raise UserError(error)
        now = fields.Datetime.now()
        vals = dict(
            cleaned,
            source="front_desk",
            recorded_by_id=self.env.uid,
            state="answered",
            submitted_date=now,
            last_update_date=now,
            # the personal link, if one was sent, no longer takes answers
            expiry_date=now,
        )
        waiting = responses[:1]
        if waiting:
            waiting.write(vals)
            waiting._open_complaint_if_low()
            response = waiting
        else:
            response = Response.create(dict(vals, visit_id=visit.id))
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.survey.response",
            "res_id": response.id,
            "view_mode": "form",
            "target": "current",
        }
