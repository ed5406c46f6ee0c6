from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import SQL

KPI_COLUMNS = (
    "patients_start",
    "patients_new",
    "patients_end",
    "patients_lost",
    "lost_revenue",
    "revenue",
    "value_12m",
    "lifespan_years",
    "avg_days_between_visits",
)


class ClinicRetentionKpi(models.AbstractModel):
    """Retention KPIs, defined once (the report view, the dashboard, the
    Excel export and the tests all use ``_kpi_sql``).

    For a period [start, end) and a department (or all):

    - a patient is **active** at a moment when they had a *done* visit in the
      ``clinic_active_days`` before it (365 by default: the company setting);
    - S: active at the start; E: active at the end; N: new, i.e. whose first
      done visit falls in the period;
    - PRR = (E − N) / S; lost: active at the start, not at the end; churn =
      lost / S; lost revenue: what the lost patients billed in the 12 months
      before the period;
    - average patient value: revenue of the 12 months up to the end ÷ E;
      average lifespan: years between the first and the latest done visit of
      the patients active at the end; lifetime value = value × lifespan;
    - average days between visits: the gaps between a patient's consecutive
      done visits (in the department) that end in the period.
    """

    _name = "clinic.retention.kpi"
    _description = "Retention KPIs"

    @api.model
    def _kpi_sql(self, periods):
        """``periods``: an SQL query with the columns period_start,
        period_end (timestamps), department_ids (an array: the departments
        taken together, a patient of several counting once; NULL: the whole
        clinic), company_id, active_days. Returns one row per period with
        its KPIs."""
        return SQL(
            """
            SELECT p.*, k.*, g.avg_days_between_visits
              FROM (%(periods)s) p
             CROSS JOIN LATERAL (
                SELECT COUNT(*) FILTER (WHERE f.at_start) AS patients_start,
                       COUNT(*) FILTER (WHERE f.is_new) AS patients_new,
                       COUNT(*) FILTER (WHERE f.at_end) AS patients_end,
                       COUNT(*) FILTER (WHERE f.at_start AND NOT f.at_end) AS patients_lost,
                       COALESCE(SUM(f.revenue_prev_12m) FILTER (WHERE f.at_start AND NOT f.at_end), 0)
                           AS lost_revenue,
                       COALESCE(SUM(f.revenue_period), 0) AS revenue,
                       COALESCE(SUM(f.revenue_last_12m) FILTER (WHERE f.at_end), 0) AS value_12m,
                       COALESCE(AVG(EXTRACT(EPOCH FROM f.last_visit - f.first_visit) / 86400.0 / 365.25)
                                FILTER (WHERE f.at_end), 0) AS lifespan_years
                  FROM (
                    SELECT pp.first_visit,
                           pp.last_visit,
                           pp.revenue_prev_12m,
                           pp.revenue_last_12m,
                           pp.revenue_period,
                           COALESCE(pp.last_before_start > p.period_start - make_interval(days => p.active_days),
                                    FALSE) AS at_start,
                           pp.last_visit > p.period_end - make_interval(days => p.active_days) AS at_end,
                           pp.first_visit >= p.period_start AS is_new
                      FROM (
                        SELECT v.patient_id,
                               MIN(v.start) AS first_visit,
                               MAX(v.start) AS last_visit,
                               MAX(v.start) FILTER (WHERE v.start < p.period_start) AS last_before_start,
                               SUM(COALESCE(v.amount, 0)) FILTER (
                                   WHERE v.start >= p.period_start - INTERVAL '12 months'
                                     AND v.start < p.period_start) AS revenue_prev_12m,
                               SUM(COALESCE(v.amount, 0)) FILTER (
                                   WHERE v.start >= p.period_end - INTERVAL '12 months') AS revenue_last_12m,
                               SUM(COALESCE(v.amount, 0)) FILTER (WHERE v.start >= p.period_start)
                                   AS revenue_period
                          FROM clinic_visit v
                         WHERE v.state = 'done'
                           AND v.company_id = p.company_id
                           AND (p.department_ids IS NULL OR v.department_id = ANY(p.department_ids))
                           AND v.start < p.period_end
                         GROUP BY v.patient_id
                      ) pp
                  ) f
             ) k
             CROSS JOIN LATERAL (
                SELECT COALESCE(AVG(gaps.gap_days), 0) AS avg_days_between_visits
                  FROM (
                    SELECT v.start,
                           EXTRACT(EPOCH FROM v.start - LAG(v.start) OVER (
                               PARTITION BY v.patient_id ORDER BY v.start)) / 86400.0 AS gap_days
                      FROM clinic_visit v
                     WHERE v.state = 'done'
                       AND v.company_id = p.company_id
                       AND (p.department_ids IS NULL OR v.department_id = ANY(p.department_ids))
                       AND v.start < p.period_end
                  ) gaps
                 WHERE gaps.start >= p.period_start AND gaps.gap_days IS NOT NULL
             ) g
            """,
            periods=periods,
        )

    @api.model
    def _allowed_departments(self, department_ids=None):
        """The departments whose figures this user may see: every department
        of their companies for managers, their own teams' otherwise."""
        domain = [("company_id", "in", self.env.companies.ids)]
        if department_ids:
            domain.append(("id", "in", list(department_ids)))
        if not self.env.user.has_group("clinic_retention.group_clinic_retention_manager"):
            domain.append(("member_ids", "in", self.env.user.ids))
        return self.env["clinic.department"].search(domain)

    @api.model
    def _compute(self, date_from, date_to, department_ids=None, company=None, by_department=False):
        """KPIs for [date_from, date_to] (dates, both included).

        The first line is the whole selection: without ``department_ids`` a
        manager gets the whole clinic; with them, or for a customer-service
        user, the chosen / allowed departments taken together. Either way a
        patient seen in several departments counts once. ``by_department``
        adds one line per department (unless the selection is one).

        :return: a list of dicts (empty when the user may see no department):
            department (the departments of the line; empty for the whole
            clinic), the counts, and the ratios prr, churn, avg_value,
            lifetime_value (floats).
        """
        company = company or self.env.company
        is_manager = self.env.user.has_group("clinic_retention.group_clinic_retention_manager")
        departments = self._allowed_departments(department_ids).filtered(lambda d: d.company_id == company)
        start, end = self._bounds(date_from, date_to)
        if not department_ids and is_manager:
            scopes = [self.env["clinic.department"]]
        else:
            scopes = [departments] if departments else []
        if by_department and scopes and len(scopes[0]) != 1:
            scopes += list(departments)
        if not scopes:
            return []
        periods = SQL(" UNION ALL ").join(
            SQL(
                "SELECT %s::timestamp AS period_start, %s::timestamp AS period_end, %s::int[] AS department_ids, "
                "%s::int AS company_id, %s::int AS active_days",
                start,
                end,
                scope.ids or None,
                company.id,
                company.clinic_active_days or 365,
            )
            for scope in scopes
        )
        self.env.flush_all()
        self.env.cr.execute(self._kpi_sql(periods))
        result = []
        for scope, values in zip(scopes, self.env.cr.dictfetchall(), strict=True):
            line = {name: values[name] for name in KPI_COLUMNS}
            line["department"] = scope
            line.update(self._ratios(line))
            line["date_from"], line["date_to"] = date_from, date_to
            result.append(line)
        return result

    @api.model
    def _empty_line(self):
        """The line of a selection with no department the user may see: all zeros."""
        line = dict.fromkeys(KPI_COLUMNS, 0)
        line["department"] = self.env["clinic.department"]
        line.update(self._ratios(line))
        return line

    @api.model
    def _bounds(self, date_from, date_to):
        return datetime.combine(date_from, time.min), datetime.combine(date_to + relativedelta(days=1), time.min)

    @api.model
    def _lost_patients_sql(self, date_from, date_to, departments, company):
        """Patients lost in the period (active at its start, not at its end)
        among ``departments``: patient_id, last_visit, revenue_prev_12m."""
        start, end = self._bounds(date_from, date_to)
        active = relativedelta(days=company.clinic_active_days or 365)
        return SQL(
            """
            SELECT v.patient_id,
                   MAX(v.start) AS last_visit,
                   COALESCE(SUM(v.amount) FILTER (
                       WHERE v.start >= %(start)s::timestamp - INTERVAL '12 months' AND v.start < %(start)s), 0)
                       AS revenue_prev_12m
              FROM clinic_visit v
             WHERE v.state = 'done' AND v.company_id = %(company)s
               AND v.department_id = ANY(%(departments)s) AND v.start < %(end)s
             GROUP BY v.patient_id
            HAVING MAX(v.start) FILTER (WHERE v.start < %(start)s) > %(active_start)s
               AND MAX(v.start) <= %(active_end)s
            """,
            start=start,
            end=end,
            company=company.id,
            departments=departments.ids,
            active_start=start - active,
            active_end=end - active,
        )

    @api.model
    def _ratios(self, line):
        start = line["patients_start"]
        value = (line["value_12m"] / line["patients_end"]) if line["patients_end"] else 0.0
        return {
            "prr": ((line["patients_end"] - line["patients_new"]) / start) if start else 0.0,
            "churn": (line["patients_lost"] / start) if start else 0.0,
            "avg_value": value,
            "lifetime_value": value * float(line["lifespan_years"] or 0.0),
        }

    @api.model
    def _periods(self, period="month", today=None):
        """(current, previous) as ((from, to), (from, to)) date pairs."""
        today = today or date.today()
        if period == "quarter":
            first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
            step = relativedelta(months=3)
        elif period == "year":
            first = today.replace(month=1, day=1)
            step = relativedelta(years=1)
        else:
            first = today.replace(day=1)
            step = relativedelta(months=1)
        current = (first, first + step - relativedelta(days=1))
        previous = (first - step, first - relativedelta(days=1))
        return current, previous
