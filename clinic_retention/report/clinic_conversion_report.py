from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..models.crm_lead import CLINIC_KINDS, CLINIC_STATUSES

# The funnel's dimensions (fields of this report) and its steps.
FUNNEL_DIMENSIONS = ("department_id", "user_id", "source_id", "grade_id", "kind", "campaign_id")
FUNNEL_STEPS = ("prospects", "reached", "booked", "won")
PROSPECT_DATE = "COALESCE(l.clinic_prospect_date, l.create_date)"


class ClinicConversionReport(models.Model):
    """Conversion funnel: one row per Patient Care opportunity (its id is
    the opportunity's id, lost ones included), with the date it reached
    each step: prospect → reached / invited → visit booked → visit done
    (won). By department, consultant (salesperson), source, campaign,
    need grade and kind (new patient, reactivation, treatment plan).

    Rates are averages of 0/100 per row, so the pivot shows them for any
    grouping; medians (which a pivot cannot aggregate) come from
    ``_funnel``, used by the Excel export and the dashboard."""

    _name = "clinic.conversion.report"
    _description = "Conversion Funnel Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "name"

    name = fields.Char(string="Opportunity", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Opportunity record", readonly=True)
    patient_id = fields.Many2one("clinic.patient", readonly=True)
    department_id = fields.Many2one("clinic.department", readonly=True)
    team_id = fields.Many2one("crm.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Consultant", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    medium_id = fields.Many2one("utm.medium", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    grade_id = fields.Many2one("clinic.need.grade", string="Need grade", readonly=True)
    kind = fields.Selection(CLINIC_KINDS, readonly=True)
    status = fields.Selection(CLINIC_STATUSES, string="Result", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    lost_reason_id = fields.Many2one("crm.lost.reason", readonly=True)
    date = fields.Datetime(string="Prospect since", readonly=True)
    reached_date = fields.Datetime(string="Reached on", readonly=True)
    booked_date = fields.Datetime(string="Visit booked on", readonly=True)
    won_date = fields.Datetime(string="Visit done on", readonly=True)
    prospect_count = fields.Integer(string="Prospects", readonly=True)
    reached_count = fields.Integer(string="Reached", readonly=True)
    booked_count = fields.Integer(string="Visits booked", readonly=True)
    won_count = fields.Integer(string="Visits done (won)", readonly=True)
    lost_count = fields.Integer(string="Lost", readonly=True)
    reached_pct = fields.Float(string="% reached", readonly=True, aggregator="avg", digits=(5, 1))
    booked_pct = fields.Float(string="% booked", readonly=True, aggregator="avg", digits=(5, 1))
    won_pct = fields.Float(string="% converted", readonly=True, aggregator="avg", digits=(5, 1))
    days_to_reach = fields.Float(string="Days to reach", readonly=True, aggregator="avg", digits=(6, 1))
    days_to_book = fields.Float(string="Days reached → booked", readonly=True, aggregator="avg", digits=(6, 1))
    days_to_visit = fields.Float(string="Days booked → visit", readonly=True, aggregator="avg", digits=(6, 1))
    days_to_win = fields.Float(string="Days to convert", readonly=True, aggregator="avg", digits=(6, 1))
    expected_revenue = fields.Float(string="Expected revenue", readonly=True)
    won_revenue = fields.Float(string="Won revenue", readonly=True)

    _depends = {
        "crm.lead": [
            "name",
            "clinic_patient_id",
            "clinic_department_id",
            "team_id",
            "user_id",
            "company_id",
            "source_id",
            "medium_id",
            "campaign_id",
            "clinic_grade_id",
            "clinic_kind",
            "clinic_status",
            "stage_id",
            "lost_reason_id",
            "clinic_prospect_date",
            "clinic_reached_date",
            "clinic_booked_date",
            "clinic_done_date",
            "expected_revenue",
            "active",
        ],
    }

    @api.model
    def _query(self):
        return SQL(
            """
            SELECT l.id AS id,
                   l.id AS lead_id,
                   l.name AS name,
                   l.clinic_patient_id AS patient_id,
                   l.clinic_department_id AS department_id,
                   l.team_id AS team_id,
                   l.user_id AS user_id,
                   l.company_id AS company_id,
                   l.source_id AS source_id,
                   l.medium_id AS medium_id,
                   l.campaign_id AS campaign_id,
                   l.clinic_grade_id AS grade_id,
                   l.clinic_kind AS kind,
                   l.clinic_status AS status,
                   l.stage_id AS stage_id,
                   l.lost_reason_id AS lost_reason_id,
                   COALESCE(l.clinic_prospect_date, l.create_date) AS date,
                   l.clinic_reached_date AS reached_date,
                   l.clinic_booked_date AS booked_date,
                   CASE WHEN l.clinic_status = 'won' THEN l.clinic_done_date END AS won_date,
                   1 AS prospect_count,
                   (l.clinic_reached_date IS NOT NULL)::int AS reached_count,
                   (l.clinic_booked_date IS NOT NULL)::int AS booked_count,
                   (l.clinic_status = 'won')::int AS won_count,
                   (l.clinic_status = 'lost')::int AS lost_count,
                   CASE WHEN l.clinic_reached_date IS NOT NULL THEN 100.0 ELSE 0.0 END AS reached_pct,
                   CASE WHEN l.clinic_booked_date IS NOT NULL THEN 100.0 ELSE 0.0 END AS booked_pct,
                   CASE WHEN l.clinic_status = 'won' THEN 100.0 ELSE 0.0 END AS won_pct,
                   %(days_to_reach)s AS days_to_reach,
                   %(days_to_book)s AS days_to_book,
                   %(days_to_visit)s AS days_to_visit,
                   %(days_to_win)s AS days_to_win,
                   COALESCE(l.expected_revenue, 0) AS expected_revenue,
                   CASE WHEN l.clinic_status = 'won' THEN COALESCE(l.expected_revenue, 0) ELSE 0 END AS won_revenue
              FROM crm_lead l
             WHERE l.clinic_department_id IS NOT NULL
            """,
            days_to_reach=self._days(PROSPECT_DATE, "l.clinic_reached_date"),
            days_to_book=self._days("l.clinic_reached_date", "l.clinic_booked_date"),
            days_to_visit=self._days("l.clinic_booked_date", "l.clinic_done_date", won_only=True),
            days_to_win=self._days(PROSPECT_DATE, "l.clinic_done_date", won_only=True),
        )

    @api.model
    def _days(self, start, end, won_only=False):
        """Days (fractional, never negative) between two step dates of a row."""
        # (GREATEST ignores NULL: a step not reached must stay NULL, not count as 0 days)
        condition = SQL("%s IS NOT NULL AND %s IS NOT NULL", SQL(start), SQL(end))
        if won_only:
            condition = SQL("%s AND l.clinic_status = 'won'", condition)
        return SQL(
            "CASE WHEN %s THEN GREATEST(EXTRACT(EPOCH FROM (%s - %s)) / 86400.0, 0) END",
            condition,
            SQL(end),
            SQL(start),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))

    # ------------------------------------------------------------------
    # Figures for the Excel export and the dashboard
    # ------------------------------------------------------------------

    @api.model
    def _period_domain(self, date_from, date_to, department_ids=None, date_field="date"):
        start, end = self.env["clinic.retention.kpi"]._bounds(date_from, date_to)
        departments = self.env["clinic.retention.kpi"]._visible_departments(department_ids)
        return [(date_field, ">=", start), (date_field, "<", end), ("department_id", "in", departments.ids)]

    @api.model
    def _funnel(self, date_from, date_to, department_ids=None, group_by=None, kinds=("prospect",)):
        """The funnel of the opportunities recorded in [date_from, date_to]
        (dates, both included), within the departments the user may see.

        :param group_by: one of FUNNEL_DIMENSIONS, or None for one line;
        :param kinds: the kinds of opportunity counted (new patients by default);
        :return: a list of dicts, largest group first: ``key`` (the record or
            selection value of the group, False for the whole selection),
            the counts prospects, reached, booked, won, lost, the rates
            reached_rate, booked_rate, won_rate (0..1, of the prospects) and
            the median days between steps: to_reach (prospect → reached),
            to_book (reached → booked), to_visit (booked → visit done) and
            to_win (prospect → visit done), None when no row has them.
        """
        if group_by and group_by not in FUNNEL_DIMENSIONS:
            raise ValueError(group_by)
        domain = self._period_domain(date_from, date_to, department_ids)
        if kinds:
            domain.append(("kind", "in", list(kinds)))
        query = self._search(domain)
        query.order = None
        column = SQL.identifier(self._table, group_by) if group_by else SQL("NULL")
        if group_by:
            query.groupby = column

        def median(field):
            return SQL("percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)", SQL.identifier(self._table, field))

        self.env.cr.execute(
            query.select(
                column,
                SQL("COUNT(*)"),
                SQL("SUM(%s)", SQL.identifier(self._table, "reached_count")),
                SQL("SUM(%s)", SQL.identifier(self._table, "booked_count")),
                SQL("SUM(%s)", SQL.identifier(self._table, "won_count")),
                SQL("SUM(%s)", SQL.identifier(self._table, "lost_count")),
                median("days_to_reach"),
                median("days_to_book"),
                median("days_to_visit"),
                median("days_to_win"),
            )
        )
        field = self._fields.get(group_by) if group_by else None
        lines = []
        for key, prospects, reached, booked, won, lost, to_reach, to_book, to_visit, to_win in self.env.cr.fetchall():
            if field is not None and field.type == "many2one":
                key = self.env[field.comodel_name].browse(key)
            lines.append(
                {
                    "key": key if group_by else False,
                    "prospects": prospects,
                    "reached": reached or 0,
                    "booked": booked or 0,
                    "won": won or 0,
                    "lost": lost or 0,
                    "reached_rate": (reached or 0) / prospects if prospects else 0.0,
                    "booked_rate": (booked or 0) / prospects if prospects else 0.0,
                    "won_rate": (won or 0) / prospects if prospects else 0.0,
                    "to_reach": to_reach,
                    "to_book": to_book,
                    "to_visit": to_visit,
                    "to_win": to_win,
                }
            )
        return sorted(lines, key=lambda line: (-line["prospects"], str(line["key"])))

    @api.model
    def _treatment_figures(self, date_from, date_to, department_ids=None):
        """Treatment plans proposed in the period: how many and how much was
        proposed, accepted, booked, done and declined, and the conversion
        rates (done ÷ proposed, in number and in value)."""
        Plan = self.env["clinic.treatment.plan"]
        departments = self.env["clinic.retention.kpi"]._visible_departments(department_ids)
        domain = [
            ("proposed_date", ">=", date_from),
            ("proposed_date", "<=", date_to),
            ("department_id", "in", departments.ids),
        ]
        by_state = {
            state: (count, amount or 0.0)
            for state, count, amount in Plan._read_group(domain, ["state"], ["__count", "amount_total:sum"])
        }
        proposed = sum(count for count, _amount in by_state.values())
        proposed_value = sum(amount for _count, amount in by_state.values())
        done, done_value = by_state.get("done", (0, 0.0))
        declined, declined_value = by_state.get("declined", (0, 0.0))
        open_count = sum(by_state.get(state, (0, 0.0))[0] for state in ("proposed", "accepted", "booked"))
        open_value = sum(by_state.get(state, (0, 0.0))[1] for state in ("proposed", "accepted", "booked"))
        return {
            "proposed": proposed,
            "proposed_value": proposed_value,
            "done": done,
            "done_value": done_value,
            "declined": declined,
            "declined_value": declined_value,
            "open": open_count,
            "open_value": open_value,
            "conversion_rate": done / proposed if proposed else 0.0,
            "value_rate": done_value / proposed_value if proposed_value else 0.0,
        }

    @api.model
    def _reactivation_figures(self, date_from, date_to, department_ids=None):
        """Reactivation opportunities (lapsed patients, unreachable recalls)
        opened in the period, and the share that came back for a visit."""
        lines = self._funnel(date_from, date_to, department_ids, kinds=("reactivation",))
        line = lines[0] if lines else {"prospects": 0, "reached": 0, "booked": 0, "won": 0, "lost": 0}
        return {
            "opened": line["prospects"],
            "reached": line["reached"],
            "booked": line["booked"],
            "won": line["won"],
            "lost": line["lost"],
            "rate": line["won"] / line["prospects"] if line["prospects"] else 0.0,
        }

    # ------------------------------------------------------------------
    # Excel: the Conversion, Treatment plans and Referrals sheets
    # ------------------------------------------------------------------

    @api.model
    def _xlsx_sheets(self, builder, workbook, context):
        """Add the CRM sheets to the manager's workbook (``builder`` is
        ``clinic.retention.xlsx``, ``context`` its build context)."""
        self._xlsx_sheet_conversion(builder, workbook, context)
        self._xlsx_sheet_treatment(builder, workbook, context)
        self._xlsx_sheet_referrals(builder, workbook, context)

    def _xlsx_department_ids(self, context):
        """The departments chosen for the workbook; None: all the user may see."""
        return context["department_ids"] or None

    def _xlsx_departments(self, context):
        """Each department the workbook covers (chosen, or all the user may see)."""
        return self.env["clinic.retention.kpi"]._visible_departments(context["department_ids"], context["company"])

    def _xlsx_table(self, sheet, styles, row, title, columns, lines):
        """A titled table written from ``row`` down (the workbook is written
        row by row); returns the next free row."""
        sheet.write(row, 0, title, styles["title"])
        row += 1
        for col, (header, _style, _width) in enumerate(columns):
            sheet.write(row, col, header, styles["header"])
        for line in lines:
            row += 1
            for col, ((_header, style, _width), value) in enumerate(zip(columns, line, strict=True)):
                if value is not None and value is not False:
                    sheet.write(row, col, value, styles[style])
        return row + 3

    def _xlsx_funnel_columns(self, first):
        return [
            (first, "text", 26),
            (self.env._("Prospects"), "int", 11),
            (self.env._("Reached / invited"), "int", 11),
            (self.env._("Visit booked"), "int", 11),
            (self.env._("Visit done (won)"), "int", 11),
            (self.env._("Lost"), "int", 9),
            (self.env._("% reached"), "pct", 10),
            (self.env._("% booked"), "pct", 10),
            (self.env._("% converted"), "pct", 11),
            (self.env._("Median days to reach"), "dec", 12),
            (self.env._("Median days reached → booked"), "dec", 13),
            (self.env._("Median days booked → visit"), "dec", 13),
            (self.env._("Median days to convert"), "dec", 12),
        ]

    def _xlsx_funnel_row(self, label, line):
        return (
            label,
            line["prospects"],
            line["reached"],
            line["booked"],
            line["won"],
            line["lost"],
            line["reached_rate"],
            line["booked_rate"],
            line["won_rate"],
            line["to_reach"],
            line["to_book"],
            line["to_visit"],
            line["to_win"],
        )

    def _xlsx_label(self, group_by, key):
        if not key:
            return self.env._("None")
        if group_by == "kind":
            return dict(self._fields["kind"]._description_selection(self.env)).get(key, key)
        return key.display_name

    def _xlsx_sheet_conversion(self, builder, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Conversion"))
        builder._title(sheet, context, self.env._("Conversion funnel of new patients"))
        styles = context["styles"]
        for col, (_title, _style, width) in enumerate(self._xlsx_funnel_columns("")):
            sheet.set_column(col, col, width)
        args = (context["date_from"], context["date_to"], self._xlsx_department_ids(context))
        total = self._funnel(*args)[0]
        row = self._xlsx_table(
            sheet,
            styles,
            3,
            self.env._("All new-patient prospects"),
            self._xlsx_funnel_columns(self.env._("Prospects recorded in the period")),
            [self._xlsx_funnel_row(self.env._("All"), total)],
        )
        chart = workbook.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": self.env._("Funnel"),
                "categories": [sheet.name, 4, 1, 4, 4],
                "values": [sheet.name, 5, 1, 5, 4],
            }
        )
        chart.set_title({"name": self.env._("Prospects → visit done")})
        chart.set_legend({"none": True})
        sheet.insert_chart(1, 14, chart)
        for group_by, title in (
            ("department_id", self.env._("By department")),
            ("user_id", self.env._("By consultant")),
            ("source_id", self.env._("By source")),
            ("grade_id", self.env._("By need grade")),
        ):
            lines = self._funnel(*args, group_by=group_by)
            row = self._xlsx_table(
                sheet,
                styles,
                row,
                title,
                self._xlsx_funnel_columns(title),
                [self._xlsx_funnel_row(self._xlsx_label(group_by, line["key"]), line) for line in lines],
            )
        reactivation = self._reactivation_figures(*args)
        self._xlsx_table(
            sheet,
            styles,
            row,
            self.env._("Reactivation of lapsed patients"),
            [
                (self.env._("Opportunities opened"), "int", 26),
                (self.env._("Reached / invited"), "int", 11),
                (self.env._("Visit booked"), "int", 11),
                (self.env._("Came back (won)"), "int", 11),
                (self.env._("Lost"), "int", 9),
                (self.env._("Reactivation rate"), "pct", 10),
            ],
            [
                (
                    reactivation["opened"],
                    reactivation["reached"],
                    reactivation["booked"],
                    reactivation["won"],
                    reactivation["lost"],
                    reactivation["rate"],
                )
            ],
        )

    def _xlsx_sheet_treatment(self, builder, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Treatment plans"))
        builder._title(sheet, context, self.env._("Treatment plans proposed in the period"))
        columns = [
            (self.env._("Department"), "text", 26),
            (self.env._("Proposed"), "int", 10),
            (self.env._("Value proposed"), "money", 14),
            (self.env._("Done"), "int", 10),
            (self.env._("Value done"), "money", 14),
            (self.env._("Declined"), "int", 10),
            (self.env._("Still open"), "int", 10),
            (self.env._("Value open"), "money", 14),
            (self.env._("Conversion rate"), "pct", 11),
            (self.env._("Value conversion"), "pct", 11),
        ]
        for col, (_title, _style, width) in enumerate(columns):
            sheet.set_column(col, col, width)
        department_ids = self._xlsx_department_ids(context)
        scopes = [(self.env._("All departments"), department_ids)] + [
            (department.display_name, department.ids) for department in self._xlsx_departments(context)
        ]
        lines = []
        for label, ids in scopes:
            figures = self._treatment_figures(context["date_from"], context["date_to"], ids)
            lines.append(
                (
                    label,
                    figures["proposed"],
                    figures["proposed_value"],
                    figures["done"],
                    figures["done_value"],
                    figures["declined"],
                    figures["open"],
                    figures["open_value"],
                    figures["conversion_rate"],
                    figures["value_rate"],
                )
            )
        self._xlsx_table(sheet, context["styles"], 3, self.env._("Conversion of treatment plans"), columns, lines)

    def _xlsx_sheet_referrals(self, builder, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Referrals"))
        builder._title(sheet, context, self.env._("Referrals made in the period"))
        figures = self.env["clinic.referral.report"]._figures(
            context["date_from"], context["date_to"], self._xlsx_department_ids(context), top=20
        )
        columns = [
            ("", "text", 32),
            (self.env._("Referrals"), "int", 11),
            (self.env._("First visit done"), "int", 11),
            (self.env._("% converted"), "pct", 11),
            (self.env._("Revenue of the referred"), "money", 16),
        ]
        for col, (_title, _style, width) in enumerate(columns):
            sheet.set_column(col, col, width)

        def rows(lines):
            return [
                (
                    line["key"].display_name if line["key"] else self.env._("None"),
                    line["referrals"],
                    line["converted"],
                    line["rate"],
                    line["revenue"],
                )
                for line in lines
            ]

        summary = [
            (
                self.env._("All referrals"),
                figures["referrals"],
                figures["converted"],
                figures["rate"],
                figures["revenue"],
            )
        ]
        styles = context["styles"]
        row = self._xlsx_table(
            sheet, styles, 3, self.env._("Referrals"), [(self.env._("Referrals"), "text", 32), *columns[1:]], summary
        )
        row = self._xlsx_table(
            sheet,
            styles,
            row,
            self.env._("Top referrers"),
            [(self.env._("Referrer"), "text", 32), *columns[1:]],
            rows(figures["top_referrers"]),
        )
        self._xlsx_table(
            sheet,
            styles,
            row,
            self.env._("By department"),
            [(self.env._("Department"), "text", 32), *columns[1:]],
            rows(figures["by_department"]),
        )
