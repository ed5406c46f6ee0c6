from dateutil.relativedelta import relativedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..tools.clinic_time import clinic_tz

ASPECTS = ("waiting_score", "doctor_score", "staff_score", "cleanliness_score")
MEASURES = (
    "response_count:sum",
    "score:avg",
    "satisfied_pct:avg",
    "dissatisfied_pct:avg",
    *(f"{aspect}:avg" for aspect in ASPECTS),
)


class ClinicSatisfactionReport(models.Model):
    """Satisfaction per department, doctor and month: one row per answered
    survey or phone score (its id is the response's id). The aspects
    (waiting, doctor, staff, cleanliness) are empty when not answered, so
    their averages count the answers only.

    ``_figures`` and ``_monthly`` give the figures the dashboard and the
    Excel export show (one definition for both)."""

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
    waiting_score = fields.Float(string="Waiting time", readonly=True, aggregator="avg", digits=(3, 2))
    doctor_score = fields.Float(string="Doctor's care", readonly=True, aggregator="avg", digits=(3, 2))
    staff_score = fields.Float(string="Staff", readonly=True, aggregator="avg", digits=(3, 2))
    cleanliness_score = fields.Float(string="Cleanliness", readonly=True, aggregator="avg", digits=(3, 2))
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
            "waiting_score",
            "doctor_score",
            "staff_score",
            "cleanliness_score",
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
                   NULLIF(r.waiting_score, 0)::float AS waiting_score,
                   NULLIF(r.doctor_score, 0)::float AS doctor_score,
                   NULLIF(r.staff_score, 0)::float AS staff_score,
                   NULLIF(r.cleanliness_score, 0)::float AS cleanliness_score,
                   r.complaint_id AS complaint_id
              FROM clinic_survey_response r
             WHERE r.state = 'answered' AND r.score > 0
            """
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))

    # ------------------------------------------------------------------
    # The figures of the dashboard and the Excel export
    # ------------------------------------------------------------------

    @api.model
    def _line(self, key, values):
        count, score, satisfied, dissatisfied, *aspects = values
        return {
            "key": key,
            "responses": count or 0,
            "score": score or 0.0,
            "satisfied": (satisfied or 0.0) / 100,
            "dissatisfied": (dissatisfied or 0.0) / 100,
            **{aspect: value or 0.0 for aspect, value in zip(ASPECTS, aspects, strict=True)},
        }

    @api.model
    def _figures(self, date_from, date_to, department_ids=None, doctor_ids=None, groupby=None):
        """Answers of [date_from, date_to] (the clinic's local days): the
        total line, or one line per ``groupby`` value (``department_id``,
        ``doctor_id``). A line: key, responses, score (average 1-5),
        satisfied and dissatisfied (fractions), and the average of each
        aspect (``ASPECTS``; 0 when nobody answered it)."""
        start, end = self.env["clinic.retention.kpi"]._bounds(date_from, date_to)
        selection = self.env["clinic.retention.kpi"]._report_domain(department_ids, doctor_ids)
        domain = [("date", ">=", start), ("date", "<", end), *selection]
        if not groupby:
            [values] = self._read_group(domain, [], MEASURES)
            return self._line(False, values)
        return [self._line(key, values) for key, *values in self._read_group(domain, [groupby], MEASURES)]

    @api.model
    def _monthly(self, last_month, months=12, department_ids=None, doctor_ids=None, by_department=False):
        """The ``months`` months ending with the one of date ``last_month``,
        in the clinic's calendar: ``{month's first day: line}`` (see
        ``_figures``), or with ``by_department``
        ``{(month, department): line}``; months without answers are absent."""
        company = self.env.company
        first = last_month.replace(day=1) - relativedelta(months=months - 1)
        start, end = self.env["clinic.retention.kpi"]._bounds(
            first, last_month.replace(day=1) + relativedelta(months=1, days=-1)
        )
        selection = self.env["clinic.retention.kpi"]._report_domain(department_ids, doctor_ids)
        domain = [("date", ">=", start), ("date", "<", end), *selection]
        groupby = ["date:month", "department_id"] if by_department else ["date:month"]
        groups = self.with_context(tz=clinic_tz(company))._read_group(domain, groupby, MEASURES)
        if by_department:
            return {(month.date(), department): self._line(department, values) for month, department, *values in groups}
        return {month.date(): self._line(month.date(), values) for month, *values in groups}
