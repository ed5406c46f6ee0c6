from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import SQL

from ..models.clinic_patient_leave import NATURAL_LEAVE_REASONS
from ..tools.clinic_time import local_midnight_utc, local_today

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
    "return_visit_count",
    "patients_lapsed",
)
RATIO_COLUMNS = ("prr", "churn", "avg_value", "lifetime_value")
# The patient lists behind the counts (dashboard drill-down, Excel sheets).
PATIENT_FLAGS = ("at_start", "is_new", "at_end", "lost", "lapsed")


class ClinicRetentionKpi(models.AbstractModel):
    """Retention KPIs, defined once: ``_patient_flags_sql`` says which
    patients are active at the start, new, active at the end and lost;
    ``_kpi_sql`` aggregates those flags and states the ratios. The report
    view, the dashboard (figures and drill-down), the Excel export (figures,
    trend and the lost-patients list) and the tests all use them.

    For a period [start, end) of the clinic's local calendar and a department
    (or all):

    - a patient is **active** at a moment when they had a *done* visit in the
      ``clinic_active_days`` before it (365 by default: the company setting);
    - S: active at the start; E: active at the end; N: new, i.e. whose first
      done visit falls in the period;
    - patients who left for a natural reason (``NATURAL_LEAVE_REASONS``:
      deceased, moved away, treatment finished) are neither in S nor in E
      when the company says so (``clinic_churn_exclude_natural``, default);
    - PRR = (E − N) / S; lost: active at the start, not at the end; churn =
      lost / S; lost revenue: what the lost patients billed in the 12 months
      before the period;
    - average patient value: revenue of the 12 months up to the end ÷ E;
      average lifespan: years between the first and the latest done visit of
      the patients active at the end; lifetime value = value × lifespan;
    - average days between visits: the gaps between a patient's consecutive
      done visits (in the department) that end in the period (there are
      ``return_visit_count`` of them);
    - lapsed: active at the end, but with no done visit in the
      ``clinic_lapse_days`` before it (180 by default), as a patient's
      "Lapsed" status on that day.

    Who sees which figures is decided by record rules only: the departments
    are those the rules of the KPI report (``clinic.retention.report``) let
    the user read, and the visits those the rules of ``clinic.visit`` let
    them read (``_search``, embedded once in the ``visible_visit`` CTE of
    ``_visits_sql``, which every period reads).
    """

    _name = "clinic.retention.kpi"
    _description = "Retention KPIs"

    # ------------------------------------------------------------------
    # The definitions (SQL)
    # ------------------------------------------------------------------

    @api.model
    def _visits_sql(self, visit_filter=None):
        """The ``WITH`` clause of every KPI query: ``visible_visit``, the done
        visits (of the user's record rules: ``visit_filter``, an SQL
        condition on ``v``), each with whether its patient left for a natural
        reason. Selected once, however many periods read them."""
        return SQL(
            """
            WITH visible_visit AS MATERIALIZED (
                SELECT v.id, v.patient_id, v.start, v.amount, v.company_id, v.department_id,
                       COALESCE(pt.leave_reason IN %(natural)s, FALSE) AS natural_leave
                  FROM clinic_visit v
                  JOIN clinic_patient pt ON pt.id = v.patient_id
                 WHERE v.state = 'done' AND %(filter)s
            )
            """,
            natural=NATURAL_LEAVE_REASONS,
            filter=SQL("TRUE") if visit_filter is None else visit_filter,
        )

    @api.model
    def _patient_flags_sql(self):
        """Per patient of the period ``p`` (a row in scope, with the columns
        of ``_kpi_sql``'s ``periods``; visits from ``_visits_sql``):
        patient_id, first_visit, last_visit, the revenues, and the flags
        at_start, at_end, is_new, lost."""
        return SQL(
            """
            SELECT pp.patient_id,
                   pp.first_visit,
                   pp.last_visit,
                   COALESCE(pp.revenue_prev_12m, 0) AS revenue_prev_12m,
                   pp.revenue_last_12m,
                   pp.revenue_period,
                   flags.at_start,
                   flags.at_end,
                   pp.first_visit >= p.period_start AND NOT flags.is_natural AS is_new,
                   flags.at_start AND NOT flags.at_end AS lost,
                   flags.at_end AND pp.last_visit <= p.period_end - make_interval(days => p.lapse_days) AS lapsed
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
                       SUM(COALESCE(v.amount, 0)) FILTER (WHERE v.start >= p.period_start) AS revenue_period,
                       p.exclude_natural AND BOOL_OR(v.natural_leave) AS is_natural
                  FROM visible_visit v
                 WHERE %(visits)s
                 GROUP BY v.patient_id
              ) pp
             CROSS JOIN LATERAL (
                SELECT pp.is_natural,
                       COALESCE(pp.last_before_start > p.period_start - make_interval(days => p.active_days), FALSE)
                           AND NOT pp.is_natural AS at_start,
                       pp.last_visit > p.period_end - make_interval(days => p.active_days)
                           AND NOT pp.is_natural AS at_end
             ) flags
            """,
            visits=self._period_visits_sql(),
        )

    @api.model
    def _period_visits_sql(self):
        """The visits (of ``visible_visit``) of period ``p``'s company and departments before its end."""
        return SQL(
            "v.company_id = p.company_id"
            " AND (p.department_ids IS NULL OR v.department_id = ANY(p.department_ids))"
            " AND v.start < p.period_end"
        )

    @api.model
    def _kpi_sql(self, periods, visit_filter=None, gaps=True):
        """``periods``: an SQL query with the columns period_start,
        period_end (UTC timestamps), department_ids (an array: the
        departments taken together, a patient of several counting once;
        NULL: the whole clinic), company_id, active_days, lapse_days. Returns one row
        per period with its KPIs (``KPI_COLUMNS``) and ratios
        (``RATIO_COLUMNS``, as fractions). ``visit_filter``: an SQL condition
        on the visits ``v`` (the user's record rules). ``gaps=False`` leaves
        out the days between visits (zero): a window over every visit before
        each period's end, the costliest part, which a trend of PRR and
        churn does not need."""
        if gaps:
            gaps_sql = SQL(
                """
                SELECT COALESCE(AVG(gaps.gap_days), 0) AS avg_days_between_visits,
                       COUNT(gaps.gap_days) AS return_visit_count
                  FROM (
                    SELECT v.start,
                           EXTRACT(EPOCH FROM v.start - LAG(v.start) OVER (
                               PARTITION BY v.patient_id ORDER BY v.start)) / 86400.0 AS gap_days
                      FROM visible_visit v
                     WHERE %(visits)s
                  ) gaps
                 WHERE gaps.start >= p.period_start AND gaps.gap_days IS NOT NULL
                """,
                visits=self._period_visits_sql(),
            )
        else:
            gaps_sql = SQL("SELECT 0.0::float AS avg_days_between_visits, 0::bigint AS return_visit_count")
        return SQL(
            """
            %(visible)s
            SELECT p.*, k.*, g.avg_days_between_visits, g.return_visit_count,
                   CASE WHEN k.patients_start > 0
                        THEN (k.patients_end - k.patients_new)::float / k.patients_start ELSE 0 END AS prr,
                   CASE WHEN k.patients_start > 0
                        THEN k.patients_lost::float / k.patients_start ELSE 0 END AS churn,
                   CASE WHEN k.patients_end > 0 THEN k.value_12m::float / k.patients_end ELSE 0 END AS avg_value,
                   CASE WHEN k.patients_end > 0
                        THEN k.value_12m::float / k.patients_end * k.lifespan_years ELSE 0 END AS lifetime_value
              FROM (%(periods)s) p
             CROSS JOIN LATERAL (
                SELECT COUNT(*) FILTER (WHERE f.at_start) AS patients_start,
                       COUNT(*) FILTER (WHERE f.is_new) AS patients_new,
                       COUNT(*) FILTER (WHERE f.at_end) AS patients_end,
                       COUNT(*) FILTER (WHERE f.lost) AS patients_lost,
                       COUNT(*) FILTER (WHERE f.lapsed) AS patients_lapsed,
                       COALESCE(SUM(f.revenue_prev_12m) FILTER (WHERE f.lost), 0) AS lost_revenue,
                       COALESCE(SUM(f.revenue_period), 0) AS revenue,
                       COALESCE(SUM(f.revenue_last_12m) FILTER (WHERE f.at_end), 0) AS value_12m,
                       COALESCE(AVG(EXTRACT(EPOCH FROM f.last_visit - f.first_visit) / 86400.0 / 365.25)
                                FILTER (WHERE f.at_end), 0)::float AS lifespan_years
                  FROM (%(flags)s) f
             ) k
             CROSS JOIN LATERAL (%(gaps)s) g
            """,
            visible=self._visits_sql(visit_filter),
            periods=periods,
            flags=self._patient_flags_sql(),
            gaps=gaps_sql,
        )

    @api.model
    def _patients_sql(self, periods, flag, visit_filter=None):
        """The patients behind a count (``flag``: one of ``PATIENT_FLAGS``)
        of ``periods``: patient_id, last_visit, revenue_prev_12m."""
        if flag not in PATIENT_FLAGS:
            raise ValueError(f"unknown patient flag {flag!r}")
        return SQL(
            """
            %(visible)s
            SELECT DISTINCT f.patient_id, f.last_visit, f.revenue_prev_12m
              FROM (%(periods)s) p
             CROSS JOIN LATERAL (%(flags)s) f
             WHERE %(flag)s
            """,
            visible=self._visits_sql(visit_filter),
            periods=periods,
            flags=self._patient_flags_sql(),
            flag=SQL.identifier("f", flag),
        )

    # ------------------------------------------------------------------
    # Who sees what: record rules only
    # ------------------------------------------------------------------

    @api.model
    def _department_domain(self):
        """The record rules of the KPI report, moved onto ``clinic.department``.

        The report's rules are written on ``company_id`` and ``department_id``
        (its rows are a department and a month), so each of their conditions
        reads the same on the department itself. A rule on any other field
        cannot be moved, and raises rather than show too much."""
        rule_domain = self.env["ir.rule"]._compute_domain("clinic.retention.report", "read")
        moved = []
        for leaf in rule_domain:
            if not isinstance(leaf, (list, tuple)) or leaf[0] in (0, 1):
                moved.append(leaf)
                continue
            path, operator, value = leaf
            if path == "company_id":
                moved.append(leaf)
            elif path == "department_id":
                moved.append(("id", operator, value))
            elif path.startswith("department_id."):
                moved.append((path.removeprefix("department_id."), operator, value))
            else:
                raise ValueError(f"a record rule of clinic.retention.report on {path!r} has no department equivalent")
        return moved

    @api.model
    def _visible_departments(self, department_ids=None, company=None):
        """The departments whose figures the user may see (among
        ``department_ids`` when given), in ``company`` (default: the current one)."""
        company = company or self.env.company
        domain = [*self._department_domain(), ("company_id", "=", company.id)]
        if department_ids:
            domain.append(("id", "in", list(department_ids)))
        return self.env["clinic.department"].search(domain)

    @api.model
    def _visit_filter(self, company):
        """The visits the user may read (record rules of clinic.visit), as an
        SQL condition on ``v``; None for the superuser."""
        if self.env.su:
            return None
        query = self.env["clinic.visit"]._search([("company_id", "=", company.id)])
        return SQL("v.id IN %s", query.subselect())

    @api.model
    def _report_domain(self, department_ids=None, doctor_ids=None):
        """The rows of a selection in the report models with a department
        and a doctor (satisfaction, follow-up): the chosen departments and
        doctors; none chosen: no filter (record rules decide)."""
        domain = [("department_id", "in", list(department_ids))] if department_ids else []
        if doctor_ids:
            domain.append(("doctor_id", "in", list(doctor_ids)))
        return domain

    @api.model
    def _complaint_domain(self, department_ids=None, doctor_ids=None):
        """The complaints of a selection (dashboard and Excel export): those
        of the chosen departments and those with no department, which belong
        to no department and would otherwise be counted nowhere; none chosen:
        all (record rules decide). Doctors: the complaints naming one of
        them among the staff involved."""
        domain = []
        if department_ids:
            domain += ["|", ("department_id", "in", list(department_ids)), ("department_id", "=", False)]
        if doctor_ids:
            domain.append(("staff_ids", "in", list(doctor_ids)))
        return domain

    # ------------------------------------------------------------------
    # Python entry points
    # ------------------------------------------------------------------

    @api.model
    def _scopes(self, department_ids=None, company=None, by_department=False):
        """The selections to compute, as lists of departments (an empty one
        is the whole clinic): the chosen or visible departments taken
        together, then each department with ``by_department``. Empty when
        the user may see no department."""
        company = company or self.env.company
        departments = self._visible_departments(department_ids, company)
        if not departments:
            return []
        everything = self.env["clinic.department"].sudo().search_count([("company_id", "=", company.id)])
        whole_clinic = not department_ids and len(departments) == everything
        scopes = [self.env["clinic.department"] if whole_clinic else departments]
        if by_department and (whole_clinic or len(departments) > 1):
            scopes += list(departments)
        return scopes

    @api.model
    def _periods_sql(self, bounds, scopes, company):
        """``bounds``: [(date_from, date_to)]; one period row per bound × scope."""
        return SQL(" UNION ALL ").join(
            SQL(
                "SELECT %s::int AS seq, %s::timestamp AS period_start, %s::timestamp AS period_end, "
                "%s::int[] AS department_ids, %s::int AS company_id, %s::int AS active_days, "
                "%s::bool AS exclude_natural, %s::int AS lapse_days",
                seq,
                start,
                end,
                scope.ids or None,
                company.id,
                company.clinic_active_days or 365,
                company.clinic_churn_exclude_natural,
                company.clinic_lapse_days or 180,
            )
            for seq, (start, end, scope) in enumerate(
                (*self._bounds(date_from, date_to, company), scope) for date_from, date_to in bounds for scope in scopes
            )
        )

    @api.model
    def _compute(self, date_from, date_to, department_ids=None, company=None, by_department=False):
        """KPIs for [date_from, date_to] (dates, both included).

        The first line is the whole selection: without ``department_ids`` the
        whole clinic when the user may see all of it, else the departments
        they may see taken together; with them, those (that they may see).
        Either way a patient seen in several departments counts once.
        ``by_department`` adds one line per department (unless the selection
        is one).

        :return: a list of dicts (empty when the user may see no department):
            department (the departments of the line; empty for the whole
            clinic), the counts, and the ratios prr, churn, avg_value,
            lifetime_value (floats).
        """
        return self._compute_many([(date_from, date_to)], department_ids, company, by_department)[0]

    @api.model
    def _compute_many(self, bounds, department_ids=None, company=None, by_department=False, gaps=True):
        """``_compute`` for several periods in one query: a list of results
        (one per (date_from, date_to) of ``bounds``); ``gaps``: see ``_kpi_sql``."""
        company = company or self.env.company
        scopes = self._scopes(department_ids, company, by_department)
        if not scopes:
            return [[] for _bound in bounds]
        self.env.flush_all()
        kpi = self._kpi_sql(self._periods_sql(bounds, scopes, company), self._visit_filter(company), gaps=gaps)
        self.env.cr.execute(SQL("SELECT * FROM (%s) kpi ORDER BY kpi.seq", kpi))
        rows = iter(self.env.cr.dictfetchall())
        result = []
        for date_from, date_to in bounds:
            lines = []
            for scope, values in zip(scopes, rows, strict=False):
                line = {name: values[name] for name in (*KPI_COLUMNS, *RATIO_COLUMNS)}
                line["department"] = scope
                line["date_from"], line["date_to"] = date_from, date_to
                lines.append(line)
            result.append(lines)
        return result

    @api.model
    def _patients_query(self, flag, date_from, date_to, department_ids=None, company=None):
        """The SQL of the patients behind S (at_start), N (is_new), E
        (at_end), lost or lapsed for the user's selection (the same definition and
        the same rules as the counts); None when they may see nothing."""
        company = company or self.env.company
        scopes = self._scopes(department_ids, company)
        if not scopes:
            return None
        periods = self._periods_sql([(date_from, date_to)], scopes[:1], company)
        return self._patients_sql(periods, flag, self._visit_filter(company))

    @api.model
    def _patient_ids(self, flag, date_from, date_to, department_ids=None, company=None):
        """Ids of the patients behind a count (see ``_patients_query``)."""
        query = self._patients_query(flag, date_from, date_to, department_ids, company)
        if query is None:
            return []
        self.env.flush_all()
        self.env.cr.execute(query)
        return sorted(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _empty_line(self):
        """The line of a selection with no department the user may see: all zeros."""
        line = dict.fromkeys((*KPI_COLUMNS, *RATIO_COLUMNS), 0)
        line["department"] = self.env["clinic.department"]
        return line

    @api.model
    def _bounds(self, date_from, date_to, company=None):
        """[start, end) of the period as naive UTC datetimes: the clinic's
        local midnight of ``date_from`` and of the day after ``date_to``."""
        company = company or self.env.company
        return (
            local_midnight_utc(company, date_from),
            local_midnight_utc(company, date_to + relativedelta(days=1)),
        )

    @api.model
    def _periods(self, period="month", today=None):
        """(current, previous) as ((from, to), (from, to)) date pairs;
        ``today`` defaults to the clinic's local date."""
        today = today or local_today(self.env.company)
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

    @api.model
    def _month_bounds(self, last_month_first_day, count=12):
        """The ``count`` months ending with the one starting ``last_month_first_day``."""
        months = []
        for months_back in range(count - 1, -1, -1):
            first = last_month_first_day - relativedelta(months=months_back)
            months.append((first, first + relativedelta(months=1, days=-1)))
        return months
