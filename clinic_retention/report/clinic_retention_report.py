from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools.clinic_time import clinic_tz_sql


class ClinicRetentionReport(models.Model):
    """Retention KPIs per month and department (see ``clinic.retention.kpi``
    for the definitions). One row per department and month since the
    department's first done visit; its id is made of both, so it is the
    same from one query to the next. Counts add up over months; PRR, churn,
    value and gaps are per row (the pivot shows their average over rows:
    read them per month and department). Months are the clinic's local
    months. A materialized view, refreshed nightly (``_cron_refresh``) and
    on demand by managers (``action_refresh``)."""

    _name = "clinic.retention.report"
    _description = "Retention KPIs"
    _auto = False
    _order = "date desc, department_id"
    _rec_name = "date"

    date = fields.Date(string="Month", readonly=True)
    department_id = fields.Many2one("clinic.department", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id", readonly=True)
    patients_start = fields.Integer(string="Active at start (S)", readonly=True)
    patients_new = fields.Integer(string="New (N)", readonly=True)
    patients_end = fields.Integer(string="Active at end (E)", readonly=True)
    patients_lost = fields.Integer(string="Lost", readonly=True)
    prr = fields.Float(string="PRR %", readonly=True, aggregator="avg", digits=(5, 1))
    churn = fields.Float(string="Churn %", readonly=True, aggregator="avg", digits=(5, 1))
    revenue = fields.Monetary(readonly=True)
    lost_revenue = fields.Monetary(string="Revenue of lost patients (12 months)", readonly=True)
    avg_value = fields.Monetary(string="Average patient value", readonly=True, aggregator="avg")
    lifetime_value = fields.Monetary(string="Lifetime value", readonly=True, aggregator="avg")
    avg_days_between_visits = fields.Float(string="Days between visits", readonly=True, aggregator="avg", digits=(6, 1))

    _depends = {
        "clinic.visit": ["patient_id", "department_id", "company_id", "state", "start", "amount"],
        "clinic.department": ["company_id"],
        "res.company": ["clinic_active_days", "clinic_churn_exclude_natural"],
        "clinic.patient": ["leave_reason"],
    }

    @api.model
    def _query(self):
        # one period per department and local month (the clinic's calendar),
        # from the department's first done visit to this month
        periods = SQL(
            """
            SELECT 0 AS seq,
                   m.month::date AS month,
                   (m.month AT TIME ZONE tz.name) AT TIME ZONE 'UTC' AS period_start,
                   ((m.month + INTERVAL '1 month') AT TIME ZONE tz.name) AT TIME ZONE 'UTC' AS period_end,
                   d.id AS department_id,
                   ARRAY[d.id] AS department_ids,
                   d.company_id AS company_id,
                   COALESCE(c.clinic_active_days, 365) AS active_days,
                   COALESCE(c.clinic_churn_exclude_natural, FALSE) AS exclude_natural
              FROM clinic_department d
              JOIN res_company c ON c.id = d.company_id
             CROSS JOIN LATERAL (SELECT %(tz)s AS name) tz
             CROSS JOIN LATERAL generate_series(
                   date_trunc('month', ((SELECT MIN(v.start) FROM clinic_visit v
                                         WHERE v.department_id = d.id AND v.state = 'done')
                                        AT TIME ZONE 'UTC') AT TIME ZONE tz.name),
                   date_trunc('month', NOW() AT TIME ZONE tz.name),
                   INTERVAL '1 month') AS m(month)
            """,
            tz=clinic_tz_sql("c"),
        )
        return SQL(
            """
            SELECT (kpi.department_id * 100000
                    + EXTRACT(YEAR FROM kpi.month)::int * 12
                    + EXTRACT(MONTH FROM kpi.month)::int) AS id,
                   kpi.month AS date,
                   kpi.department_id AS department_id,
                   kpi.company_id AS company_id,
                   kpi.patients_start AS patients_start,
                   kpi.patients_new AS patients_new,
                   kpi.patients_end AS patients_end,
                   kpi.patients_lost AS patients_lost,
                   CASE WHEN kpi.patients_start > 0 THEN 100.0 * kpi.prr END AS prr,
                   CASE WHEN kpi.patients_start > 0 THEN 100.0 * kpi.churn END AS churn,
                   kpi.revenue AS revenue,
                   kpi.lost_revenue AS lost_revenue,
                   kpi.avg_value AS avg_value,
                   kpi.lifetime_value AS lifetime_value,
                   kpi.avg_days_between_visits AS avg_days_between_visits
              FROM (%s) kpi
            """,
            self.env["clinic.retention.kpi"]._kpi_sql(periods),
        )

    def _drop_relation(self):
        """Drop the report's relation, whether the plain view of 18.0.1.0.0
        or the materialized view of today."""
        self.env.cr.execute("SELECT relkind FROM pg_class WHERE relname = %s", [self._table])
        for (kind,) in self.env.cr.fetchall():
            what = {"v": "VIEW", "m": "MATERIALIZED VIEW"}.get(kind)
            if what:
                self.env.cr.execute(SQL(f"DROP {what} IF EXISTS %s CASCADE", SQL.identifier(self._table)))

    def init(self):
        # Materialized: the KPIs of every department and month are computed
        # when refreshed (nightly, or by a manager), not on every read of the
        # pivot, which stays cheap to open on years of visits.
        self._drop_relation()
        self.env.cr.execute(SQL("CREATE MATERIALIZED VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX %s ON %s (id)",
                SQL.identifier(f"{self._table}_id_uniq"),
                SQL.identifier(self._table),
            )
        )

    @api.model
    def _refresh(self):
        """Recompute the materialized KPIs (readers are not blocked)."""
        self.env.flush_all()
        self.env.cr.execute(SQL("REFRESH MATERIALIZED VIEW CONCURRENTLY %s", SQL.identifier(self._table)))
        self.invalidate_model()

    @api.model
    def _cron_refresh(self):
        self.sudo()._refresh()

    @api.model
    def action_refresh(self):
        """Managers: recompute the KPIs now (they are refreshed every night)."""
        if not self.env.user.has_group("clinic_retention.group_clinic_retention_manager"):
            raise AccessError(self.env._("Only Patient Care managers can refresh the retention KPIs."))
        self.sudo()._refresh()
        return {"type": "ir.actions.client", "tag": "soft_reload"}
