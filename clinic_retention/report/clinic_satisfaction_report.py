from odoo import api, fields, models, tools
from odoo.tools import SQL


class ClinicSatisfactionReport(models.Model):
    """Satisfaction per department, doctor and month: one row per answered
    survey or phone score (its id is the response's id)."""

    _name = "clinic.satisfaction.report"
    _description = "Satisfaction Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "patient_id"

    date = fields.Datetime(string="Answered on", readonly=True)
    patient_id = fields.Many2one("clinic.patient", readonly=True)
    visit_id = fields.Many2one("clinic.visit", readonly=True)
    department_id = fields.Many2one("clinic.department", readonly=True)
    doctor_id = fields.Many2one("res.users", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    source = fields.Selection(
        [("survey", "Survey link"), ("phone", "Phone follow-up"), ("front_desk", "Paper or kiosk form")], readonly=True
    )
    response_count = fields.Integer(string="Responses", readonly=True)
    score = fields.Float(string="Average score", readonly=True, aggregator="avg", digits=(3, 2))
    satisfied_pct = fields.Float(string="% satisfied (4-5)", readonly=True, aggregator="avg", digits=(5, 1))
    dissatisfied_pct = fields.Float(string="% dissatisfied (1-2)", readonly=True, aggregator="avg", digits=(5, 1))
    complaint_id = fields.Many2one("clinic.complaint", readonly=True)

    _depends = {
        "clinic.survey.response": [
            "submitted_date",
            "patient_id",
            "visit_id",
            "department_id",
            "doctor_id",
            "company_id",
            "source",
            "state",
            "score",
            "complaint_id",
        ],
    }

    @api.model
    def _query(self):
        return SQL(
            """
            SELECT r.id AS id,
                   r.submitted_date AS date,
                   r.patient_id AS patient_id,
                   r.visit_id AS visit_id,
                   r.department_id AS department_id,
                   r.doctor_id AS doctor_id,
                   r.company_id AS company_id,
                   r.source AS source,
                   1 AS response_count,
                   r.score::float AS score,
                   CASE WHEN r.score >= 4 THEN 100.0 ELSE 0.0 END AS satisfied_pct,
                   CASE WHEN r.score <= 2 THEN 100.0 ELSE 0.0 END AS dissatisfied_pct,
                   r.complaint_id AS complaint_id
              FROM clinic_survey_response r
             WHERE r.state = 'answered' AND r.score > 0
            """
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
