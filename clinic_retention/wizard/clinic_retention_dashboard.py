from odoo import api, fields, models

PERIODS = [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")]
# (key, what the drill-down opens)
PATIENT_FLAG_BY_KPI = {
    "patients_start": "at_start",
    "patients_new": "is_new",
    "patients_end": "at_end",
    "patients_lost": "lost",
}
PATIENT_KPIS = tuple(PATIENT_FLAG_BY_KPI)


class ClinicRetentionDashboard(models.TransientModel):
    """The manager's dashboard: this period's KPIs next to the previous
    period's, each number a button to the list behind it."""

    _name = "clinic.retention.dashboard"
    _description = "Retention Dashboard"

    period = fields.Selection(PERIODS, required=True, default="month")
    department_ids = fields.Many2many("clinic.department", string="Departments", help="Empty: all you may see.")
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
        current, previous = self.env["clinic.retention.kpi"]._periods(self.period or "month")
        return current if which == "current" else previous

    def _department_domain(self):
        """The chosen departments; none chosen: no filter (record rules decide)."""
        return [("department_id", "in", self.department_ids.ids)] if self.department_ids else []

    @api.depends("period", "department_ids")
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

    @api.depends("period", "department_ids")
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
        elif kpi in ("open_complaints", "overdue_complaints"):
            action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_complaint_action")
            field = "is_open" if kpi == "open_complaints" else "is_overdue"
            complaints = self.env["clinic.retention.kpi"]._complaint_domain(self.department_ids.ids)
            action["domain"] = [(field, "=", True), *complaints]
            action["context"] = {}
            action["view_mode"] = "list,kanban,form"
            action["views"] = [(False, "list"), (False, "kanban"), (False, "form")]
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

    @api.depends("period", "department_ids")
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
