from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..models.clinic_followup_task import OUTCOMES, REASONS, TASK_CHANNELS

WEEKDAYS = [
    ("1", "Monday"),
    ("2", "Tuesday"),
    ("3", "Wednesday"),
    ("4", "Thursday"),
    ("5", "Friday"),
    ("6", "Saturday"),
    ("7", "Sunday"),
]
# The patient was spoken to (even if they refused); success: reached or booked.
REACHED_OUTCOMES = ("reached", "visit_booked", "refused")
MEASURES = (
    "task_count:sum",
    "reached_pct:avg",
    "success_pct:avg",
    "attempt_count:avg",
    "hours_to_first_contact:avg",
)


def task_doctor_sql(task_alias):
    """SQL: the doctor a follow-up task is about: the doctor of the visit it
    follows, else the patient's responsible doctor (``task_alias``: a
    ``clinic_followup_task`` alias)."""
    return SQL(
        "COALESCE((SELECT dv.doctor_id FROM clinic_visit dv WHERE dv.id = %(t)s.visit_id),"
        " (SELECT dp.doctor_id FROM clinic_patient dp WHERE dp.id = %(t)s.patient_id))",
        t=SQL.identifier(task_alias),
    )


class ClinicFollowupReport(models.Model):
    """Follow-up success: one row per closed follow-up task (its id is the
    task's id), by department, channel, agent, reason, and the weekday and
    hour (in the clinic's time zone) of the last contact attempt, and the
    doctor the task is about (of the visit it follows, else the patient's).

    ``_figures`` gives the figures the dashboard and the Excel export show
    (one definition for both)."""

    _name = "clinic.followup.report"
    _description = "Follow-up Success Analysis"
    _auto = False
    _order = "closed_date desc, id desc"
    _rec_name = "patient_id"

    patient_id = fields.Many2one("clinic.patient", readonly=True)
    department_id = fields.Many2one("clinic.department", readonly=True)
    user_id = fields.Many2one("res.users", string="Agent", readonly=True)
    doctor_id = fields.Many2one("res.users", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    channel = fields.Selection(TASK_CHANNELS, readonly=True)
    reason = fields.Selection(REASONS, readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True)
    open_date = fields.Datetime(string="Opened on", readonly=True)
    closed_date = fields.Datetime(string="Closed on", readonly=True)
    contact_weekday = fields.Selection(WEEKDAYS, string="Weekday of contact", readonly=True)
    contact_hour = fields.Integer(string="Hour of contact", readonly=True, aggregator=None)
    task_count = fields.Integer(string="Tasks closed", readonly=True)
    reached_pct = fields.Float(string="% reached", readonly=True, aggregator="avg", digits=(5, 1))
    success_pct = fields.Float(string="% success", readonly=True, aggregator="avg", digits=(5, 1))
    attempt_count = fields.Float(string="Average attempts", readonly=True, aggregator="avg", digits=(4, 2))
    hours_to_first_contact = fields.Float(
        string="Hours to first contact", readonly=True, aggregator="avg", digits=(8, 1)
    )

    _depends = {
        "clinic.followup.task": [
            "patient_id",
            "department_id",
            "user_id",
            "company_id",
            "channel",
            "reason",
            "outcome",
            "open_date",
            "closed_date",
            "first_contact_date",
            "last_attempt_date",
            "attempt_count",
            "is_closed",
            "visit_id",
        ],
        "clinic.visit": ["doctor_id"],
        "clinic.patient": ["doctor_id"],
    }

    @api.model
    def _query(self):
        return SQL(
            """
            SELECT t.id AS id,
                   t.patient_id AS patient_id,
                   t.department_id AS department_id,
                   t.user_id AS user_id,
                   %(doctor)s AS doctor_id,
                   t.company_id AS company_id,
                   t.channel AS channel,
                   t.reason AS reason,
                   t.outcome AS outcome,
                   t.open_date AS open_date,
                   t.closed_date AS closed_date,
                   EXTRACT(ISODOW FROM contact.local)::int::varchar AS contact_weekday,
                   EXTRACT(HOUR FROM contact.local)::int AS contact_hour,
                   1 AS task_count,
                   CASE WHEN t.outcome IN %(reached)s THEN 100.0 ELSE 0.0 END AS reached_pct,
                   CASE WHEN t.outcome IN ('reached', 'visit_booked') THEN 100.0 ELSE 0.0 END AS success_pct,
                   t.attempt_count::float AS attempt_count,
                   EXTRACT(EPOCH FROM (t.first_contact_date - t.open_date)) / 3600.0 AS hours_to_first_contact
              FROM clinic_followup_task t
              JOIN res_company c ON c.id = t.company_id
              JOIN res_partner cp ON cp.id = c.partner_id
             CROSS JOIN LATERAL (
                   SELECT (COALESCE(t.last_attempt_date, t.closed_date) AT TIME ZONE 'UTC')
                          AT TIME ZONE COALESCE(NULLIF(cp.tz, ''), 'UTC') AS local
             ) contact
             WHERE t.is_closed AND t.outcome IS NOT NULL
            """,
            reached=REACHED_OUTCOMES,
            doctor=task_doctor_sql("t"),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))

    @api.model
    def _figures(self, date_from, date_to, department_ids=None, doctor_ids=None, groupby=None):
        """Tasks closed in [date_from, date_to] (the clinic's local days):
        the total line, or one line per ``groupby`` value (``department_id``,
        ``user_id``, ``channel``...). A line: key, tasks, reached and
        success (fractions), attempts and hours to first contact (averages)."""
        start, end = self.env["clinic.retention.kpi"]._bounds(date_from, date_to)
        domain = [
            ("closed_date", ">=", start),
            ("closed_date", "<", end),
            *self.env["clinic.retention.kpi"]._report_domain(department_ids, doctor_ids),
        ]

        def line(key, tasks, reached, success, attempts, hours):
            return {
                "key": key,
                "tasks": tasks or 0,
                "reached": (reached or 0.0) / 100,
                "success": (success or 0.0) / 100,
                "attempts": attempts or 0.0,
                "hours": hours or 0.0,
            }

        if not groupby:
            [values] = self._read_group(domain, [], MEASURES)
            return line(False, *values)
        return [line(*group) for group in self._read_group(domain, [groupby], MEASURES)]
