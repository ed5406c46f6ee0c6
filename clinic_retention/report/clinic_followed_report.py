from odoo import api, fields, models, tools
from odoo.tools import SQL

from .clinic_followup_report import REACHED_OUTCOMES, task_doctor_sql

# Follow-up reasons that mean "this patient was due to come back".
DUE_REASONS = ("recall", "chronic", "reactivation")
REVISIT_DAYS = 90


class ClinicFollowedReport(models.Model):
    """Followed vs. not followed: one row per patient due a recall (each
    recall task: its id is the task's id), split by whether a follow-up
    reached them, with whether they came back (a done visit in the
    department between the task's opening and 90 days after the due date)
    and whether they complained in that window."""

    _name = "clinic.followed.report"
    _description = "Followed vs Not Followed Analysis"
    _auto = False
    _order = "due_date desc, id desc"
    _rec_name = "patient_id"

    patient_id = fields.Many2one("clinic.patient", readonly=True)
    department_id = fields.Many2one("clinic.department", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    rule_id = fields.Many2one("clinic.recall.rule", readonly=True)
    doctor_id = fields.Many2one("res.users", readonly=True)
    due_date = fields.Date(readonly=True)
    followed = fields.Selection(
        [("followed", "Reached by a follow-up"), ("not_followed", "Not reached")], readonly=True
    )
    patient_count = fields.Integer(string="Patients due", readonly=True)
    revisit_pct = fields.Float(string="% came back in 90 days", readonly=True, aggregator="avg", digits=(5, 1))
    complaint_pct = fields.Float(string="% complained", readonly=True, aggregator="avg", digits=(5, 1))

    _depends = {
        "clinic.followup.task": [
            "patient_id",
            "department_id",
            "company_id",
            "rule_id",
            "reason",
            "due_date",
            "outcome",
            "open_date",
            "visit_id",
        ],
        "clinic.visit": ["patient_id", "department_id", "state", "start", "doctor_id"],
        "clinic.patient": ["doctor_id"],
        "clinic.complaint": ["patient_id", "received_date"],
    }

    @api.model
    def _query(self):
        return SQL(
            """
            SELECT t.id AS id,
                   t.patient_id AS patient_id,
                   t.department_id AS department_id,
                   t.company_id AS company_id,
                   t.rule_id AS rule_id,
                   %(doctor)s AS doctor_id,
                   t.due_date AS due_date,
                   CASE WHEN t.outcome IN %(reached)s THEN 'followed' ELSE 'not_followed' END AS followed,
                   1 AS patient_count,
                   CASE WHEN EXISTS (
                        SELECT 1 FROM clinic_visit v
                         WHERE v.patient_id = t.patient_id AND v.department_id = t.department_id
                           AND v.state = 'done' AND v.start >= t.open_date
                           AND v.start < t.due_date + %(days)s
                   ) THEN 100.0 ELSE 0.0 END AS revisit_pct,
                   CASE WHEN EXISTS (
                        SELECT 1 FROM clinic_complaint c
                         WHERE c.patient_id = t.patient_id AND c.received_date >= t.open_date
                           AND c.received_date < t.due_date + %(days)s
                   ) THEN 100.0 ELSE 0.0 END AS complaint_pct
              FROM clinic_followup_task t
             WHERE t.reason IN %(reasons)s AND t.due_date IS NOT NULL
            """,
            reached=REACHED_OUTCOMES,
            reasons=DUE_REASONS,
            days=REVISIT_DAYS,
            doctor=task_doctor_sql("t"),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
