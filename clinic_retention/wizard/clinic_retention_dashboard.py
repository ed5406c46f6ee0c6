from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.clinic_visit_reminder import REMINDER_KINDS
from ..report.clinic_satisfaction_report import ASPECTS
from ..tools.clinic_time import local_today

PERIODS = [("month", "Month"), ("quarter", "Quarter"), ("year", "Year"), ("custom", "Custom")]
# (key, what the drill-down opens)
PATIENT_FLAG_BY_KPI = {
    "patients_start": "at_start",
    "patients_new": "is_new",
    "patients_end": "at_end",
    "patients_lost": "lost",
}
PATIENT_KPIS = tuple(PATIENT_FLAG_BY_KPI)
COMPLAINT_KPIS = ("open_complaints", "overdue_complaints")


class ClinicRetentionDashboard(models.TransientModel):
    """The manager's dashboard: this period's KPIs next to the previous
    period's, each number a button to the list behind it."""

    _name = "clinic.retention.dashboard"
    _description = "Retention Dashboard"

    period = fields.Selection(PERIODS, required=True, default="month")
    department_ids = fields.Many2many("clinic.department", string="Departments", help="Empty: all you may see.")
    date_from = fields.Date(help="First day of a custom period.")
    date_to = fields.Date(help="Last day of a custom period.")
    currency_id = fields.Many2one("res.currency", default=lambda self: self.env.company.currency_id)
    current_label = fields.Char(compute="_compute_kpis")
    previous_label = fields.Char(compute="_compute_kpis")

    current_patients_start = fields.Integer(compute="_compute_kpis")
    current_patients_new = fields.Integer(compute="_compute_kpis")
    current_patients_end = fields.Integer(compute="_compute_kpis")
    current_patients_lost = fields.Integer(compute="_compute_kpis")
    current_prr = fields.Float(compute="_compute_kpis", digits=(5, 1))
    current_churn = fields.Float(compute="_compute_kpis", digits=(5, 1))
    current_lost_revenue = fields.Monetary(compute="_compute_kpis")
    current_revenue = fields.Monetary(compute="_compute_kpis")
    current_avg_value = fields.Monetary(compute="_compute_kpis")
    current_lifetime_value = fields.Monetary(compute="_compute_kpis")
    current_gap_days = fields.Float(compute="_compute_kpis", digits=(6, 1))
    current_satisfaction = fields.Float(compute="_compute_kpis", digits=(3, 2))
    current_success = fields.Float(compute="_compute_kpis", digits=(5, 1))

    previous_patients_start = fields.Integer(compute="_compute_kpis")
    previous_patients_new = fields.Integer(compute="_compute_kpis")
    previous_patients_end = fields.Integer(compute="_compute_kpis")
    previous_patients_lost = fields.Integer(compute="_compute_kpis")
    previous_prr = fields.Float(compute="_compute_kpis", digits=(5, 1))
    previous_churn = fields.Float(compute="_compute_kpis", digits=(5, 1))
    previous_lost_revenue = fields.Monetary(compute="_compute_kpis")
    previous_revenue = fields.Monetary(compute="_compute_kpis")
    previous_avg_value = fields.Monetary(compute="_compute_kpis")
    previous_lifetime_value = fields.Monetary(compute="_compute_kpis")
    previous_gap_days = fields.Float(compute="_compute_kpis", digits=(6, 1))
    previous_satisfaction = fields.Float(compute="_compute_kpis", digits=(3, 2))
    previous_success = fields.Float(compute="_compute_kpis", digits=(5, 1))

    # Care messages (the figure comes from the care-message ledger)
    reminders_delivered = fields.Float(string="Reminders delivered %", compute="_compute_care_messages", digits=(5, 1))
    clinic_tz_missing = fields.Boolean(compute="_compute_care_messages")

    open_complaint_count = fields.Integer(compute="_compute_now")
    overdue_complaint_count = fields.Integer(compute="_compute_now")
    overdue_task_count = fields.Integer(compute="_compute_now")

    def _bounds(self, which):
        """(date_from, date_to) of the current or previous period; a custom
        period's previous one is as many days just before it."""
        if self.period == "custom":
            if not (self.date_from and self.date_to) or self.date_from > self.date_to:
                raise UserError(self.env._("A custom period needs a first day on or before its last day."))
            if which == "current":
                return self.date_from, self.date_to
            days = (self.date_to - self.date_from).days + 1
            return self.date_from - relativedelta(days=days), self.date_from - relativedelta(days=1)
        current, previous = self.env["clinic.retention.kpi"]._periods(self.period or "month")
        return current if which == "current" else previous

    def _department_domain(self):
        """The chosen departments; none chosen: no filter (record rules decide)."""
        return [("department_id", "in", self.department_ids.ids)] if self.department_ids else []

    @api.depends("period", "date_from", "date_to", "department_ids")
    def _compute_kpis(self):
        Kpi = self.env["clinic.retention.kpi"]
        for dashboard in self:
            bounds = [dashboard._bounds("current"), dashboard._bounds("previous")]
            results = Kpi._compute_many(bounds, department_ids=dashboard.department_ids.ids or None)
            for which, (date_from, date_to), lines in zip(("current", "previous"), bounds, results, strict=True):
                line = lines[0] if lines else Kpi._empty_line()
                # the figures of the Excel export (one definition: the report models' _figures)
                departments = dashboard.department_ids.ids or None
                satisfaction = self.env["clinic.satisfaction.report"]._figures(date_from, date_to, departments)
                success = self.env["clinic.followup.report"]._figures(date_from, date_to, departments)
                dashboard.update(
                    {
                        f"{which}_label": f"{date_from.isoformat()} — {date_to.isoformat()}",
                        f"{which}_patients_start": line["patients_start"],
                        f"{which}_patients_new": line["patients_new"],
                        f"{which}_patients_end": line["patients_end"],
                        f"{which}_patients_lost": line["patients_lost"],
                        f"{which}_prr": 100 * line["prr"],
                        f"{which}_churn": 100 * line["churn"],
                        f"{which}_lost_revenue": line["lost_revenue"],
                        f"{which}_revenue": line["revenue"],
                        f"{which}_avg_value": line["avg_value"],
                        f"{which}_lifetime_value": line["lifetime_value"],
                        f"{which}_gap_days": line["avg_days_between_visits"],
                        f"{which}_satisfaction": satisfaction["score"],
                        f"{which}_success": 100 * success["success"],
                    }
                )

    @api.depends("period", "date_from", "date_to", "department_ids")
    def _compute_care_messages(self):
        for dashboard in self:
            date_from, date_to = dashboard._bounds("current")
            rate = self.env["clinic.visit.reminder"]._delivery_rate(
                date_from, date_to, department_ids=dashboard.department_ids.ids or None
            )
            dashboard.reminders_delivered = rate or 0.0
            dashboard.clinic_tz_missing = not self.env.company.clinic_tz

    @api.depends("department_ids")
    def _compute_now(self):
        Complaint = self.env["clinic.complaint"]
        Task = self.env["clinic.followup.task"]
        Kpi = self.env["clinic.retention.kpi"]
        for dashboard in self:
            departments = dashboard._department_domain()
            # with the complaints of no department (as the Excel export)
            complaints = Kpi._complaint_domain(dashboard.department_ids.ids)
            dashboard.open_complaint_count = Complaint.search_count([("is_open", "=", True), *complaints])
            dashboard.overdue_complaint_count = Complaint.search_count([("is_overdue", "=", True), *complaints])
            dashboard.overdue_task_count = Task.search_count([("is_overdue", "=", True), *departments])

    # ------------------------------------------------------------------
    # Drill-down: the list behind each number
    # ------------------------------------------------------------------

    def _patient_ids(self, kpi, which):
        """Ids of the patients behind S, N, E or lost for the period: the
        KPI service's own definition (``clinic.retention.kpi._patients_sql``)."""
        date_from, date_to = self._bounds(which)
        return self.env["clinic.retention.kpi"]._patient_ids(
            PATIENT_FLAG_BY_KPI[kpi], date_from, date_to, self.department_ids.ids or None
        )

    def action_drill(self):
        self.ensure_one()
        kpi = self.env.context.get("kpi")
        which = self.env.context.get("which", "current")
        date_from, date_to = self._bounds(which)
        start, end = self.env["clinic.retention.kpi"]._bounds(date_from, date_to)
        departments = self._department_domain()
        if kpi in PATIENT_KPIS:
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_patient_action")
            action["domain"] = [("id", "in", self._patient_ids(kpi, which))]
            action["context"] = {}
        elif kpi == "satisfaction":
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_satisfaction_report_action")
            action["domain"] = [*departments, ("date", ">=", start), ("date", "<", end)]
        elif kpi == "success":
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_followup_report_action")
            action["domain"] = [*departments, ("closed_date", ">=", start), ("closed_date", "<", end)]
        elif kpi == "revenue":
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_visit_action")
            action["domain"] = [("state", "=", "done"), *departments, ("start", ">=", start), ("start", "<", end)]
            action["context"] = {}
        elif kpi in COMPLAINT_KPIS:
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_complaint_action")
            field = "is_open" if kpi == "open_complaints" else "is_overdue"
            complaints = self.env["clinic.retention.kpi"]._complaint_domain(self.department_ids.ids)
            action["domain"] = [(field, "=", True), *complaints]
            action["context"] = {}
            action["view_mode"] = "list,kanban,form"
            action["views"] = [(False, "list"), (False, "kanban"), (False, "form")]
        elif kpi == "reminders":
            # the messages behind "reminders delivered %" (clinic.visit.reminder._delivery_rate)
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_visit_reminder_action")
            action["domain"] = [
                ("kind", "in", list(REMINDER_KINDS)),
                ("scheduled_date", ">=", fields.Datetime.to_datetime(date_from)),
                ("scheduled_date", "<", fields.Datetime.to_datetime(date_to) + relativedelta(days=1)),
                *departments,
            ]
            action["context"] = {}
            action["view_mode"] = "list,form"
            action["views"] = [(False, "list"), (False, "form")]
        else:  # overdue tasks
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_followup_task_action")
            action["domain"] = [("is_overdue", "=", True), *departments]
            action["context"] = {}
            action["view_mode"] = "list,kanban,form"
            action["views"] = [(False, "list"), (False, "kanban"), (False, "form")]
        if kpi in PATIENT_KPIS or kpi == "revenue":
            action["view_mode"] = "list,form"
            action["views"] = [(False, "list"), (False, "form")]
        period = f"{date_from} — {date_to}"
        action["display_name"] = self.env._("%(what)s (%(period)s)", what=action["name"], period=period)
        return action

    def action_export(self):
        self.ensure_one()
        date_from, date_to = self._bounds("current")
        wizard = self.env["clinic.retention.export"].create(
            {
                "date_from": date_from,
                "date_to": date_to,
                "department_ids": [fields.Command.set(self.department_ids.ids)],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.retention.export",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Excel export"),
        }

    # ------------------------------------------------------------------
    # CRM tiles (issue 13): conversion of new patients, treatment plans,
    # reactivation, referrals; figures from clinic.conversion.report
    # ------------------------------------------------------------------

    current_conversion_rate = fields.Float(compute="_compute_crm_kpis", digits=(5, 1))
    current_treatment_rate = fields.Float(compute="_compute_crm_kpis", digits=(5, 1))
    current_reactivation_rate = fields.Float(compute="_compute_crm_kpis", digits=(5, 1))
    current_referral_count = fields.Integer(compute="_compute_crm_kpis")
    previous_conversion_rate = fields.Float(compute="_compute_crm_kpis", digits=(5, 1))
    previous_treatment_rate = fields.Float(compute="_compute_crm_kpis", digits=(5, 1))
    previous_reactivation_rate = fields.Float(compute="_compute_crm_kpis", digits=(5, 1))
    previous_referral_count = fields.Integer(compute="_compute_crm_kpis")

    @api.depends("period", "date_from", "date_to", "department_ids")
    def _compute_crm_kpis(self):
        Report = self.env["clinic.conversion.report"]
        for dashboard in self:
            ids = dashboard.department_ids.ids or None
            for which in ("current", "previous"):
                date_from, date_to = dashboard._bounds(which)
                [funnel] = Report._funnel(date_from, date_to, ids)
                dashboard.update(
                    {
                        f"{which}_conversion_rate": 100 * funnel["won_rate"],
                        f"{which}_treatment_rate": 100
                        * Report._treatment_figures(date_from, date_to, ids)["conversion_rate"],
                        f"{which}_reactivation_rate": 100
                        * Report._reactivation_figures(date_from, date_to, ids)["rate"],
                        f"{which}_referral_count": self.env["clinic.referral.report"]._figures(
                            date_from, date_to, ids, top=0
                        )["referrals"],
                    }
                )

    def action_drill_crm(self):
        """The report behind a CRM tile, for the period and departments."""
        self.ensure_one()
        kpi = self.env.context.get("kpi")
        date_from, date_to = self._bounds(self.env.context.get("which", "current"))
        Kpi = self.env["clinic.retention.kpi"]
        start, end = Kpi._bounds(date_from, date_to)
        departments = Kpi._visible_departments(self.department_ids.ids)
        if kpi == "treatment":
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "clinic_retention.clinic_treatment_plan_action_analysis"
            )
            action["domain"] = [
                ("department_id", "in", departments.ids),
                ("proposed_date", ">=", date_from),
                ("proposed_date", "<=", date_to),
            ]
        elif kpi == "referrals":
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_referral_report_action")
            action["domain"] = [("referral_date", ">=", start), ("referral_date", "<", end)]
        else:
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_conversion_report_action")
            action["domain"] = [
                ("department_id", "in", departments.ids),
                ("kind", "=", "reactivation" if kpi == "reactivation" else "prospect"),
                ("date", ">=", start),
                ("date", "<", end),
            ]
            action["context"] = {}
        period = f"{date_from} — {date_to}"
        action["display_name"] = self.env._("%(what)s (%(period)s)", what=action["name"], period=period)
        return action

    # ------------------------------------------------------------------
    # The dashboard client action (static/src/dashboard): tiles and charts
    # from the figures above, drill-down through action_drill(_crm)
    # ------------------------------------------------------------------

    @api.model
    def _dashboard_tiles(self):
        """(key, label, format, drill kpi, drill method, has a previous period)."""
        return [
            ("patients_start", self.env._("Active at start (S)"), "integer", "patients_start", "action_drill", True),
            ("patients_new", self.env._("New (N)"), "integer", "patients_new", "action_drill", True),
            ("patients_end", self.env._("Active at end (E)"), "integer", "patients_end", "action_drill", True),
            ("prr", self.env._("PRR %"), "percent", "patients_end", "action_drill", True),
            ("churn", self.env._("Churn %"), "percent", "patients_lost", "action_drill", True),
            ("patients_lost", self.env._("Lost patients"), "integer", "patients_lost", "action_drill", True),
            ("lost_revenue", self.env._("Revenue of lost patients"), "monetary", "patients_lost", "action_drill", True),
            ("revenue", self.env._("Revenue"), "monetary", "revenue", "action_drill", True),
            ("satisfaction", self.env._("Satisfaction (1-5)"), "score", "satisfaction", "action_drill", True),
            ("success", self.env._("Follow-up success %"), "percent", "success", "action_drill", True),
            ("reminders_delivered", self.env._("Reminders delivered %"), "percent", "reminders", "action_drill", True),
            ("open_complaints", self.env._("Open complaints"), "integer", "open_complaints", "action_drill", False),
            (
                "overdue_complaints",
                self.env._("Overdue complaints"),
                "integer",
                "overdue_complaints",
                "action_drill",
                False,
            ),
            ("overdue_tasks", self.env._("Overdue follow-ups"), "integer", "overdue_tasks", "action_drill", False),
            (
                "conversion_rate",
                self.env._("New patients converted %"),
                "percent",
                "conversion",
                "action_drill_crm",
                True,
            ),
            ("treatment_rate", self.env._("Treatment plans done %"), "percent", "treatment", "action_drill_crm", True),
            ("reactivation_rate", self.env._("Reactivated %"), "percent", "reactivation", "action_drill_crm", True),
            ("referral_count", self.env._("Referrals"), "integer", "referrals", "action_drill_crm", True),
        ]

    @api.model
    def _dashboard_create(self, period, date_from=None, date_to=None, department_ids=None):
        """A dashboard record for the client action's filters; the departments
        are those of ``department_ids`` the user may see."""
        if period not in dict(PERIODS):
            raise UserError(self.env._("Unknown period: %(period)s", period=period))
        departments = self.env["clinic.department"]
        if department_ids:
            departments = self.env["clinic.retention.kpi"]._visible_departments([int(i) for i in department_ids])
        return self.create(
            {
                "period": period,
                "date_from": fields.Date.to_date(date_from) if period == "custom" else False,
                "date_to": fields.Date.to_date(date_to) if period == "custom" else False,
                "department_ids": [fields.Command.set(departments.ids)],
            }
        )

    @api.model
    def get_dashboard_data(self, period="month", date_from=None, date_to=None, department_ids=None):
        """Everything the dashboard shows, for the period and the departments
        (none: all the user may see): tiles with the previous period's value,
        and chart series (labels, values and what a click opens). The figures
        are the KPI service's and the report models' ``_figures``, as the
        Excel export's."""
        dashboard = self._dashboard_create(period, date_from, date_to, department_ids)
        Kpi = self.env["clinic.retention.kpi"]
        current, previous = dashboard._bounds("current"), dashboard._bounds("previous")
        chosen = dashboard.department_ids.ids or None
        previous_delivered = self.env["clinic.visit.reminder"]._delivery_rate(*previous, department_ids=chosen)
        values = {
            "current": {
                "open_complaints": dashboard.open_complaint_count,
                "overdue_complaints": dashboard.overdue_complaint_count,
                "overdue_tasks": dashboard.overdue_task_count,
                "reminders_delivered": dashboard.reminders_delivered,
            },
            "previous": {"reminders_delivered": previous_delivered or 0.0},
        }
        for which in ("current", "previous"):
            for key in ("patients_start", "patients_new", "patients_end", "patients_lost", "prr", "churn"):
                values[which][key] = dashboard[f"{which}_{key}"]
            for key in ("lost_revenue", "revenue", "satisfaction", "success"):
                values[which][key] = dashboard[f"{which}_{key}"]
            for key in ("conversion_rate", "treatment_rate", "reactivation_rate", "referral_count"):
                values[which][key] = dashboard[f"{which}_{key}"]
        tiles = [
            {
                "key": key,
                "label": label,
                "format": value_format,
                "value": values["current"][key],
                "previous": values["previous"].get(key) if has_previous else None,
                "kpi": kpi,
                "method": method,
            }
            for key, label, value_format, kpi, method, has_previous in self._dashboard_tiles()
        ]
        return {
            "period": dashboard.period,
            "current": [fields.Date.to_string(day) for day in current],
            "previous": [fields.Date.to_string(day) for day in previous],
            "departments": [
                {"id": department.id, "name": department.display_name} for department in Kpi._visible_departments()
            ],
            "department_ids": dashboard.department_ids.ids,
            "currency_id": dashboard.currency_id.id,
            "tiles": tiles,
            "charts": dashboard._dashboard_charts(current, chosen),
            "tz_missing": dashboard.clinic_tz_missing,
        }

    def _dashboard_charts(self, current, department_ids):
        """The chart series of the client action: each point carries the
        drill-down (kpi, and the month, department or agent it is about)."""
        Kpi = self.env["clinic.retention.kpi"]
        Satisfaction = self.env["clinic.satisfaction.report"]
        Followup = self.env["clinic.followup.report"]
        # the twelve months up to the period's last one, or this month when that is still to come
        months = Kpi._month_bounds(min(current[1], local_today(self.env.company)).replace(day=1), 12)
        trend = Kpi._compute_many(months, department_ids, gaps=False)
        trend = [lines[0] if lines else Kpi._empty_line() for lines in trend]
        to_string = fields.Date.to_string
        month_points = [{"date_from": to_string(first), "date_to": to_string(last)} for first, last in months]

        # as the Excel export names them
        none_labels = {"department_id": self.env._("No department"), "user_id": self.env._("Unassigned")}

        def by_key(lines, measure, kpi, key_name):
            points = []
            for line in lines:
                key = line["key"]
                points.append(
                    {
                        "label": key.display_name if key else none_labels[key_name],
                        "value": measure(line),
                        "drill": {"kpi": kpi, key_name: key.id if key else False},
                    }
                )
            return points

        satisfaction = Satisfaction._figures(*current, department_ids)
        charts = [
            {
                "key": "trend",
                "title": self.env._("PRR and churn by month"),
                "type": "line",
                "labels": [first.strftime("%Y-%m") for first, _last in months],
                "datasets": [
                    {
                        "label": self.env._("PRR %"),
                        "data": [100 * line["prr"] for line in trend],
                        "kpi": "patients_end",
                    },
                    {
                        "label": self.env._("Churn %"),
                        "data": [100 * line["churn"] for line in trend],
                        "kpi": "patients_lost",
                    },
                ],
                "points": month_points,
            },
            {
                "key": "satisfaction_department",
                "title": self.env._("Satisfaction by department (1-5)"),
                "type": "bar",
                "points": by_key(
                    Satisfaction._figures(*current, department_ids, groupby="department_id"),
                    lambda line: line["score"],
                    "satisfaction",
                    "department_id",
                ),
            },
            {
                "key": "satisfaction_aspect",
                "title": self.env._("Satisfaction by aspect (1-5)"),
                "type": "bar",
                "points": [
                    {
                        "label": Satisfaction._fields[aspect].get_description(self.env)["string"],
                        "value": satisfaction[aspect],
                        "drill": {"kpi": "satisfaction", "aspect": aspect},
                    }
                    for aspect in ASPECTS
                ],
            },
            {
                "key": "success_department",
                "title": self.env._("Follow-up success % by department"),
                "type": "bar",
                "points": by_key(
                    Followup._figures(*current, department_ids, groupby="department_id"),
                    lambda line: 100 * line["success"],
                    "success",
                    "department_id",
                ),
            },
            {
                "key": "success_agent",
                "title": self.env._("Follow-up success % by agent"),
                "type": "bar",
                "points": by_key(
                    Followup._figures(*current, department_ids, groupby="user_id"),
                    lambda line: 100 * line["success"],
                    "success",
                    "user_id",
                ),
            },
        ]
        return [*charts, *self._dashboard_care_charts(months, department_ids)]

    def _dashboard_care_charts(self, months, department_ids):
        """Complaints open and overdue by department (now; the complaints of
        no department with the chosen ones, as the tiles), and the reminders
        delivered % of each month of the trend."""
        Complaint = self.env["clinic.complaint"]
        Reminder = self.env["clinic.visit.reminder"]
        complaints = self.env["clinic.retention.kpi"]._complaint_domain(department_ids)
        counts = {
            kpi: dict(Complaint._read_group([(field, "=", True), *complaints], ["department_id"], ["__count"]))
            for kpi, field in (("open_complaints", "is_open"), ("overdue_complaints", "is_overdue"))
        }
        departments = sorted(
            set(counts["open_complaints"]) | set(counts["overdue_complaints"]),
            key=lambda department: (not department, department.display_name or ""),
        )
        to_string = fields.Date.to_string
        return [
            {
                "key": "complaints_department",
                "title": self.env._("Complaints open and overdue by department"),
                "type": "bar",
                "labels": [
                    department.display_name if department else self.env._("No department") for department in departments
                ],
                "datasets": [
                    {
                        "label": label,
                        "data": [counts[kpi].get(department, 0) for department in departments],
                        "kpi": kpi,
                        "digits": 0,
                    }
                    for kpi, label in (
                        ("open_complaints", self.env._("Open complaints")),
                        ("overdue_complaints", self.env._("Overdue complaints")),
                    )
                ],
                "points": [{"department_id": department.id or False} for department in departments],
            },
            {
                "key": "reminders_month",
                "title": self.env._("Reminders delivered % by month"),
                "type": "line",
                "labels": [first.strftime("%Y-%m") for first, _last in months],
                "datasets": [
                    {
                        "label": self.env._("Reminders delivered %"),
                        "data": [Reminder._delivery_rate(first, last, department_ids) or 0.0 for first, last in months],
                        "kpi": "reminders",
                    }
                ],
                "points": [{"date_from": to_string(first), "date_to": to_string(last)} for first, last in months],
            },
        ]

    @api.model
    def action_dashboard_drill(self, drill, period="month", date_from=None, date_to=None, department_ids=None):
        """The records behind a tile or a chart point of the client action.
        ``drill``: kpi, which (current/previous), method (action_drill or
        action_drill_crm), and the point's month (date_from, date_to),
        department_id, user_id or aspect."""
        method = drill.get("method") or "action_drill"
        if method not in ("action_drill", "action_drill_crm"):
            raise UserError(self.env._("Unknown drill-down."))
        if drill.get("date_from"):
            period, date_from, date_to = "custom", drill["date_from"], drill["date_to"]
        if drill.get("department_id"):
            department_ids = [drill["department_id"]]
        dashboard = self._dashboard_create(period, date_from, date_to, department_ids)
        context = {"kpi": drill.get("kpi"), "which": drill.get("which") or "current"}
        action = getattr(dashboard.with_context(**context), method)()
        if "user_id" in drill:
            action["domain"] = [*action["domain"], ("user_id", "=", int(drill["user_id"] or 0) or False)]
        if "department_id" in drill and (not drill["department_id"] or drill.get("kpi") in COMPLAINT_KPIS):
            # a complaint chart's bar: that department's complaints only (the
            # selection's complaints include those of no department)
            action["domain"] = [*action["domain"], ("department_id", "=", drill["department_id"] or False)]
        if drill.get("aspect") in ASPECTS:
            action["domain"] = [*action["domain"], (drill["aspect"], "!=", False)]
        return action
