from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools.clinic_time import clinic_tz_sql

# <rate>:avg -> (numerator over the group's rows, denominator column, value
# when the denominator is 0: as on a single row)
RATIO_AGGREGATES = {
    "prr:avg": ("100.0 * (SUM(%(patients_end)s) - SUM(%(patients_new)s))", "patients_start", "NULL"),
    "churn:avg": ("100.0 * SUM(%(patients_lost)s)", "patients_start", "NULL"),
    "avg_value:avg": ("SUM(%(avg_value)s * %(patients_end)s)", "patients_end", "0"),
    "lifetime_value:avg": ("SUM(%(lifetime_value)s * %(patients_end)s)", "patients_end", "0"),
    "avg_days_between_visits:avg": (
        "SUM(%(avg_days_between_visits)s * %(return_visit_count)s)",
        "return_visit_count",
        "0",
    ),
}


class ClinicRetentionReport(models.Model):
    """Retention KPIs per month and department (see ``clinic.retention.kpi``
    for the definitions). One row per department and month since the
    department's first done visit; its id is made of both, so it is the
    same from one query to the next. Months are the clinic's local months.
    A materialized view, refreshed nightly (``_cron_refresh``) and on demand
    by managers (``action_refresh``).

    Counts add up over the rows grouped (over months: patient-months). The
    rates of a group (a pivot's total, a month over departments, a
    department over months) are recomputed over the group's sums, never
    averaged over its rows (``_read_group_select``): PRR = (ΣE − ΣN) / ΣS,
    churn = Σlost / ΣS, average and lifetime value weighted by E, days
    between visits weighted by the return visits. On a single row they are
    that row's figures."""

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
    patients_lapsed = fields.Integer(
        string="Lapsed at end", readonly=True, help="Active at the end, but with no visit for the lapse delay."
    )
    prr = fields.Float(string="PRR %", readonly=True, aggregator="avg", digits=(5, 1))
    churn = fields.Float(string="Churn %", readonly=True, aggregator="avg", digits=(5, 1))
    revenue = fields.Monetary(readonly=True)
    lost_revenue = fields.Monetary(string="Revenue of lost patients (12 months)", readonly=True)
    avg_value = fields.Monetary(string="Average patient value", readonly=True, aggregator="avg")
    lifetime_value = fields.Monetary(string="Lifetime value", readonly=True, aggregator="avg")
    avg_days_between_visits = fields.Float(string="Days between visits", readonly=True, aggregator="avg", digits=(6, 1))
    return_visit_count = fields.Integer(
        string="Return visits", readonly=True, help="Done visits after an earlier one: the gaps averaged."
    )

    _depends = {
        "clinic.visit": ["patient_id", "department_id", "company_id", "state", "start", "amount"],
        "clinic.department": ["company_id"],
        "res.company": ["clinic_active_days", "clinic_churn_exclude_natural", "clinic_lapse_days"],
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
                   COALESCE(c.clinic_churn_exclude_natural, FALSE) AS exclude_natural,
                   COALESCE(c.clinic_lapse_days, 180) AS lapse_days
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
                   kpi.patients_lapsed AS patients_lapsed,
                   CASE WHEN kpi.patients_start > 0 THEN 100.0 * kpi.prr END AS prr,
                   CASE WHEN kpi.patients_start > 0 THEN 100.0 * kpi.churn END AS churn,
                   kpi.revenue AS revenue,
                   kpi.lost_revenue AS lost_revenue,
                   kpi.avg_value AS avg_value,
                   kpi.lifetime_value AS lifetime_value,
                   kpi.avg_days_between_visits AS avg_days_between_visits,
                   kpi.return_visit_count AS return_visit_count
              FROM (%s) kpi
            """,
            self.env["clinic.retention.kpi"]._kpi_sql(periods),
        )

    def _read_group_select(self, aggregate_spec, query):
        """The rates of a group, recomputed over its sums (see the class
        docstring); the pivot asks for them as ``<rate>:avg``."""
        ratio = RATIO_AGGREGATES.get(aggregate_spec)
        if ratio is None:
            return super()._read_group_select(aggregate_spec, query)
        numerator, denominator, empty = ratio
        columns = {
            name: self._field_to_sql(self._table, name, query)
            for name in (
                "patients_start",
                "patients_new",
                "patients_end",
                "patients_lost",
                "avg_value",
                "lifetime_value",
                "avg_days_between_visits",
                "return_visit_count",
            )
        }
        return SQL(
            "CASE WHEN SUM(%(den)s) > 0 THEN (%(num)s)::float / SUM(%(den)s) ELSE %(empty)s END",
            num=SQL(numerator, **columns),
            den=columns[denominator],
            empty=SQL(empty),
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
