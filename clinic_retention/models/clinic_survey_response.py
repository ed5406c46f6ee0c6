from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import index_exists

SCORE_FIELDS = ("score", "waiting_score", "doctor_score", "staff_score", "cleanliness_score")
COMMENT_MAX_LENGTH = 2000
# Before the first answer the link works this long after it was sent.
LINK_VALIDITY_DAYS = 30
SOURCES = [
    ("survey", "Patient, by the survey link"),
    ("phone", "Staff, from a phone follow-up"),
    ("front_desk", "Staff, from a paper or kiosk form"),
]
# Answers a staff member typed in for the patient
STAFF_SOURCES = ("phone", "front_desk")


class ClinicSurveyResponse(models.Model):
    """A patient's satisfaction with a visit: asked by a personal link after
    the visit (no login), or taken by phone during a follow-up.

    One survey per visit. The patient may change their answer for
    ``clinic_survey_edit_days`` (7 by default) after answering; then the
    link expires. A score at or below the company's threshold opens a
    complaint, once per response."""

    _name = "clinic.survey.response"
    _description = "Satisfaction Response"
    _inherit = ["clinic.public.link.mixin"]
    _public_link_path = "/clinic/feedback"
    _order = "submitted_date desc, id desc"
    _check_company_auto = True

    visit_id = fields.Many2one("clinic.visit", index="btree_not_null", ondelete="cascade", check_company=True)
    patient_id = fields.Many2one("clinic.patient", required=True, index=True, ondelete="cascade", check_company=True)
    department_id = fields.Many2one("clinic.department", index=True, check_company=True)
    doctor_id = fields.Many2one("res.users", index="btree_not_null")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    source = fields.Selection(
        SOURCES,
        string="Answered by",
        required=True,
        default="survey",
        help="Survey link: the patient answered themselves. Phone: a staff member entered the patient's score. "
        "Front desk: a staff member entered the patient's paper or kiosk questionnaire.",
    )
    recorded_by_id = fields.Many2one(
        "res.users",
        string="Entered by",
        readonly=True,
        help="The staff member who entered a score taken by phone or a paper or kiosk questionnaire.",
    )
    task_id = fields.Many2one("clinic.followup.task", string="Follow-up", index="btree_not_null", ondelete="set null")
    state = fields.Selection(
        [("sent", "Sent"), ("answered", "Answered")], string="Status", default="sent", required=True, index=True
    )
    sent_date = fields.Datetime(default=fields.Datetime.now, readonly=True)
    submitted_date = fields.Datetime(readonly=True, index=True, help="First answer.")
    last_update_date = fields.Datetime(readonly=True)
    expiry_date = fields.Datetime(readonly=True, help="After this, the personal link no longer accepts answers.")
    score = fields.Integer(string="Overall", aggregator="avg")
    waiting_score = fields.Integer(string="Waiting time", aggregator="avg")
    doctor_score = fields.Integer(string="Doctor's care", aggregator="avg")
    staff_score = fields.Integer(string="Staff", aggregator="avg")
    cleanliness_score = fields.Integer(string="Cleanliness", aggregator="avg")
    comment = fields.Text(help="The patient's own words, kept as plain text.")
    is_satisfied = fields.Boolean(compute="_compute_satisfaction_flags", store=True, string="Satisfied (4-5)")
    is_dissatisfied = fields.Boolean(compute="_compute_satisfaction_flags", store=True, string="Dissatisfied (1-2)")
    complaint_id = fields.Many2one("clinic.complaint", string="Complaint opened", readonly=True, copy=False)
    survey_url = fields.Char(compute="_compute_survey_url", groups="base.group_system")

    _sql_constraints = [
        (f"{name}_range", f"CHECK({name} BETWEEN 0 AND 5)", "Scores go from 1 to 5.") for name in SCORE_FIELDS
    ]

    def _auto_init(self):
        result = super()._auto_init()
        # One survey per visit (phone scores taken during follow-ups may add others).
        if not index_exists(self.env.cr, "clinic_survey_response_visit_survey_uniq"):
            self.env.cr.execute(
                "CREATE UNIQUE INDEX clinic_survey_response_visit_survey_uniq "
                "ON clinic_survey_response (visit_id) WHERE source = 'survey' AND visit_id IS NOT NULL"
            )
        return result

    @api.depends("score", "state")
    def _compute_satisfaction_flags(self):
        for response in self:
            answered = response.state == "answered" and response.score
            response.is_satisfied = bool(answered and response.score >= 4)
            response.is_dissatisfied = bool(answered and response.score <= 2)

    @api.depends("access_token")
    @api.depends_context("uid")
    def _compute_survey_url(self):
        urls = self._public_link_urls()  # only for the care-message service (superuser)
        for response in self:
            response.survey_url = urls.get(response.id, False)

    @api.depends("patient_id", "visit_id", "score")
    def _compute_display_name(self):
        for response in self:
            label = response.visit_id.display_name or response.patient_id.name or ""
            response.display_name = f"{label} ({response.score}/5)" if response.score else label

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            visit = self.env["clinic.visit"].browse(vals.get("visit_id"))
            if visit:
                vals.setdefault("patient_id", visit.patient_id.id)
                vals.setdefault("department_id", visit.department_id.id)
                vals.setdefault("doctor_id", visit.doctor_id.id)
                vals.setdefault("company_id", visit.company_id.id)
            vals.setdefault("expiry_date", now + timedelta(days=LINK_VALIDITY_DAYS))
            if vals.get("source") in STAFF_SOURCES:
                vals.setdefault("recorded_by_id", self.env.uid)
        responses = super().create(vals_list)
        responses.filtered(lambda r: r.state == "answered")._open_complaint_if_low()
        return responses

    # ------------------------------------------------------------------
    # Answers
    # ------------------------------------------------------------------

    def _is_link_usable(self):
        self.ensure_one()
        return self.source == "survey" and bool(self.expiry_date) and fields.Datetime.now() < self.expiry_date

    @api.model
    def _clean_answer(self, values):
        """Validate an answer from the public page: an overall score from 1
        to 5, optional aspect scores from 1 to 5, a plain-text comment cut to
        a reasonable length. Returns (values to write, error message)."""
        cleaned = {}
        for name in SCORE_FIELDS:
            raw = (values.get(name) or "").strip() if isinstance(values.get(name), str) else values.get(name)
            if raw in (None, ""):
                if name == "score":
                    return None, self.env._("Please choose an overall score from 1 to 5.")
                cleaned[name] = 0
                continue
            try:
                score = int(raw)
            except (TypeError, ValueError):
                score = -1
            if not 1 <= score <= 5:
                return None, self.env._("Scores go from 1 to 5.")
            cleaned[name] = score
        comment = values.get("comment") or ""
        cleaned["comment"] = str(comment).replace("\x00", "").strip()[:COMMENT_MAX_LENGTH] or False
        return cleaned, None

    def _submit(self, values):
        """Store the patient's answer (first or updated): the first answer
        opens a window of ``clinic_survey_edit_days`` to change it."""
        self.ensure_one()
        now = fields.Datetime.now()
        vals = dict(values, state="answered", last_update_date=now)
        if not self.submitted_date:
            edit_days = self.company_id.clinic_survey_edit_days or 7
            vals.update(submitted_date=now, expiry_date=now + timedelta(days=edit_days))
        self.write(vals)
        self._open_complaint_if_low()
        return True

    def _open_complaint_if_low(self):
        """A score at or below the company's threshold opens a complaint for
        the department's manager, once per response."""
        Complaint = self.env["clinic.complaint"].sudo()
        for response in self.sudo():
            threshold = response.company_id.clinic_complaint_threshold
            if response.complaint_id or not response.score or response.score > threshold:
                continue
            department = response.department_id
            complaint = Complaint.create(
                {
                    "name": self.env._("Low satisfaction score (%(score)s/5)", score=response.score),
                    "patient_id": response.patient_id.id,
                    "department_id": department.id,
                    "staff_ids": [fields.Command.set(response.doctor_id.ids)],
                    "channel": "survey",
                    "severity": "high" if response.score <= 1 else "medium",
                    "description": response.comment or self.env._("No comment given."),
                    "user_id": department.manager_id.id or response.company_id.clinic_complaints_manager_id.id,
                    "response_id": response.id,
                    "company_id": response.company_id.id,
                }
            )
            response.complaint_id = complaint

    @api.model
    def _demo_satisfaction(self):
        """Demo data: survey answers and the complaints they open."""
        from ..demo.demo_generator import satisfaction  # demo-only code

        satisfaction(self.env)
