from odoo import api, fields, models, tools
from odoo.tools import SQL


class ClinicRetentionReport(models.Model):
    """Retention KPIs per month and department (see ``clinic.retention.kpi``
    for the definitions). One row per department and month since the
    department's first done visit; its id is made of both, so it is the
    same from one query to the next. Counts add up over months; PRR, churn,
    value and gaps are per row (the pivot shows their average over rows:
    read them per month and department)."""

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
        "res.company": ["clinic_active_days"],
    }

    @api.model
    def _query(self):
        periods = SQL(
            """
            SELECT m.month AS period_start,
                   m.month + INTERVAL '1 month' AS period_end,
                   d.id AS department_id,
                   ARRAY[d.id] AS department_ids,
                   d.company_id AS company_id,
                   COALESCE(c.clinic_active_days, 365) AS active_days
              FROM clinic_department d
              JOIN res_company c ON c.id = d.company_id
             CROSS JOIN LATERAL generate_series(
                   date_trunc('month', (SELECT MIN(v.start) FROM clinic_visit v
                                         WHERE v.department_id = d.id AND v.state = 'done')),
                   date_trunc('month', NOW() AT TIME ZONE 'UTC'),
                   INTERVAL '1 month') AS m(month)
            """
        )
        return SQL(
            """
            SELECT (kpi.department_id * 100000
                    + EXTRACT(YEAR FROM kpi.period_start)::int * 12
                    + EXTRACT(MONTH FROM kpi.period_start)::int) AS id,
                   kpi.period_start::date AS date,
                   kpi.department_id AS department_id,
                   kpi.company_id AS company_id,
                   kpi.patients_start AS patients_start,
                   kpi.patients_new AS patients_new,
                   kpi.patients_end AS patients_end,
                   kpi.patients_lost AS patients_lost,
                   CASE WHEN kpi.patients_start > 0
                        THEN 100.0 * (kpi.patients_end - kpi.patients_new) / kpi.patients_start END AS prr,
                   CASE WHEN kpi.patients_start > 0
                        THEN 100.0 * kpi.patients_lost / kpi.patients_start END AS churn,
                   kpi.revenue AS revenue,
                   kpi.lost_revenue AS lost_revenue,
                   CASE WHEN kpi.patients_end > 0 THEN kpi.value_12m / kpi.patients_end ELSE 0 END AS avg_value,
                   CASE WHEN kpi.patients_end > 0
                        THEN kpi.value_12m / kpi.patients_end * kpi.lifespan_years ELSE 0 END AS lifetime_value,
                   kpi.avg_days_between_visits AS avg_days_between_visits
              FROM (%s) kpi
            """,
            self.env["clinic.retention.kpi"]._kpi_sql(periods),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
