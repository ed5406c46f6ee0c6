import tempfile

import xlsxwriter

from odoo import api, models
from odoo.tools import SQL

# Rows fetched from PostgreSQL at a time for the long lists.
FETCH_SIZE = 2000


class ClinicRetentionXlsx(models.AbstractModel):
    """The manager's Excel workbook: KPI summary, one sheet per report, the
    lists behind them and native Excel charts. Written with xlsxwriter in
    constant-memory mode and long lists streamed from a server-side cursor,
    so memory stays flat however many rows are exported."""

    _name = "clinic.retention.xlsx"
    _description = "Retention Excel Export"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------

    @api.model
    def _build(self, date_from, date_to, department_ids=None, doctor_ids=None):
        """The workbook's bytes. Departments default to all those the user
        may see; doctors filter the figures that have one: satisfaction (the
        doctor of the visit), follow-ups and recalls (the doctor of the
        visit followed, else the patient's), complaints (staff involved).
        The retention KPIs and the lists behind them count patients, not a
        doctor's work: the doctor filter leaves them whole.

        What the user may see is decided by record rules only: the figures
        come from the KPI service and the report models, the lists from SQL
        that embeds the ORM's own query for the user (``_search``)."""
        company = self.env.company
        self.env.flush_all()
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            workbook = xlsxwriter.Workbook(
                tmp.name,
                {
                    "constant_memory": True,
                    "default_date_format": "yyyy-mm-dd",
                    "remove_timezone": True,
                    # a name such as "=HYPERLINK(...)" stays text, never a formula or a link
                    "strings_to_formulas": False,
                    "strings_to_urls": False,
                },
            )
            styles = self._styles(workbook)
            context = {
                "date_from": date_from,
                "date_to": date_to,
                "department_ids": list(department_ids or []),
                "doctor_ids": list(doctor_ids or []),
                "company": company,
                "styles": styles,
            }
            self._sheet_kpis(workbook, context)
            self._sheet_satisfaction(workbook, context)
            self._sheet_followup(workbook, context)
            self._sheet_followed(workbook, context)
            self._sheet_trend(workbook, context)
            self._sheet_lost_patients(workbook, context)
            self._sheet_overdue_tasks(workbook, context)
            self._sheet_complaints(workbook, context)
            self._sheet_open_complaints(workbook, context)
            # CRM: conversion funnel, treatment plans, referrals
            self.env["clinic.conversion.report"]._xlsx_sheets(self, workbook, context)
            workbook.close()
            tmp.seek(0)
            return tmp.read()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _styles(self, workbook):
        return {
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#168080", "font_color": "#FFFFFF", "border": 1, "text_wrap": True}
            ),
            "text": workbook.add_format({}),
            "int": workbook.add_format({"num_format": "#,##0"}),
            "dec": workbook.add_format({"num_format": "#,##0.00"}),
            "money": workbook.add_format({"num_format": "#,##0.00"}),
            "pct": workbook.add_format({"num_format": "0.0%"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        }

    def _write_table(self, sheet, styles, columns, rows, first_row=2):
        """Write a header (frozen, with filters) and ``rows`` one by one.
        ``columns``: (title, style, width). Returns the number of rows.

        Each column gets its typed writer once (no per-cell type dispatch):
        the export's speed is this loop's speed."""
        # The typed writers without xlsxwriter's A1-notation wrapper (the
        # public write_* only convert "A1" arguments, then call these): a
        # tenth of the time of a long list goes into that wrapper.
        writers = []
        for col, (title, style, width) in enumerate(columns):
            sheet.set_column(col, col, width)
            sheet.write(first_row, col, title, styles["header"])
            if style == "text":
                writers.append((col, sheet._write_string, None))
            elif style in ("date", "datetime"):
                writers.append((col, sheet._write_datetime, styles[style]))
            else:
                writers.append((col, sheet._write_number, styles[style]))
        sheet.freeze_panes(first_row + 1, 0)
        row_index = first_row
        for row in rows:
            row_index += 1
            for (col, write, style), value in zip(writers, row, strict=True):
                if value is None or value is False or value == "":
                    continue
                if style is None:
                    write(row_index, col, value if value.__class__ is str else str(value))
                elif value.__class__ is float or value.__class__ is int:
                    # numbers, and dates already as Excel serial numbers (see _excel_date)
                    sheet._write_number(row_index, col, value, style)
                else:
                    write(row_index, col, value, style)
        count = row_index - first_row
        sheet.autofilter(first_row, 0, first_row + max(count, 1), len(columns) - 1)
        return count

    def _title(self, sheet, context, title):
        sheet.write(0, 0, title, context["styles"]["title"])
        period = f"{context['date_from'].isoformat()} — {context['date_to'].isoformat()}"
        sheet.write(1, 0, f"{context['company'].name} · {period}")

    def _stream(self, query):
        """Rows of ``query`` from a server-side cursor (in this transaction),
        FETCH_SIZE at a time."""
        # A server-side cursor is planned for its first rows by default;
        # we read them all.
        self.env.cr.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        cursor = self.env.cr._cnx.cursor(name=f"clinic_export_{id(query)}")
        try:
            cursor.itersize = FETCH_SIZE
            cursor.execute(query.code, query.params)
            yield from cursor
        finally:
            cursor.close()

    def _excel_date(self, column):
        """A date column as an Excel serial number (days since 1899-12-30),
        computed by PostgreSQL rather than converted cell by cell."""
        return SQL("(%s - DATE '1899-12-30')", SQL(column))

    def _translated(self, column):
        """A translated (jsonb) name column in the user's language."""
        return SQL("COALESCE(%s->>%s, %s->>'en_US')", SQL(column), self.env.lang or "en_US", SQL(column))

    def _selection_label(self, model, field, value):
        return dict(self.env[model]._fields[field]._description_selection(self.env)).get(value, value or "")

    def _department_domain(self, context):
        """The chosen departments; none chosen: no filter (record rules decide)."""
        return [("department_id", "in", context["department_ids"])] if context["department_ids"] else []

    def _subquery(self, model, domain):
        """The ids of ``model`` matching ``domain`` that the user may read,
        as an SQL sub-query (the ORM's own query: record rules applied)."""
        return self.env[model]._search(domain).subselect()

    # ------------------------------------------------------------------
    # Sheets
    # ------------------------------------------------------------------

    def _sheet_kpis(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("KPIs"))
        self._title(sheet, context, self.env._("Retention KPIs"))
        lines = self.env["clinic.retention.kpi"]._compute(
            context["date_from"],
            context["date_to"],
            department_ids=context["department_ids"] or None,
            by_department=True,
        )
        context["kpi_lines"] = lines
        referrals = self.env["clinic.referral.report"]._figures(
            context["date_from"], context["date_to"], context["department_ids"] or None, top=0
        )
        referrals_by_department = {line["key"]: line["referrals"] for line in referrals["by_department"]}
        Ledger = self.env["clinic.visit.reminder"]

        def delivered(index, line):
            """Reminders delivered (the dashboard's figure), as a fraction; None: none left."""
            departments = (context["department_ids"] or None) if index == 0 else line["department"].ids
            rate = Ledger._delivery_rate(context["date_from"], context["date_to"], department_ids=departments)
            return None if rate is None else rate / 100

        columns = [
            (self.env._("Department"), "text", 24),
            (self.env._("Active at start (S)"), "int", 12),
            (self.env._("New (N)"), "int", 10),
            (self.env._("Active at end (E)"), "int", 12),
            (self.env._("PRR"), "pct", 10),
            (self.env._("Churn"), "pct", 10),
            (self.env._("Lost patients"), "int", 10),
            (self.env._("Lapsed at end"), "int", 10),
            (self.env._("Referrals"), "int", 10),
            (self.env._("Reminders delivered"), "pct", 11),
            (self.env._("Revenue of lost patients (12 months)"), "money", 16),
            (self.env._("Revenue"), "money", 14),
            (self.env._("Average patient value"), "money", 14),
            (self.env._("Lifetime value"), "money", 14),
            (self.env._("Days between visits"), "dec", 12),
        ]
        rows = (
            (
                ", ".join(line["department"].mapped("name")) or self.env._("All departments"),
                line["patients_start"],
                line["patients_new"],
                line["patients_end"],
                line["prr"],
                line["churn"],
                line["patients_lost"],
                line["patients_lapsed"],
                referrals["referrals"] if index == 0 else referrals_by_department.get(line["department"], 0),
                delivered(index, line),
                float(line["lost_revenue"]),
                float(line["revenue"]),
                line["avg_value"],
                line["lifetime_value"],
                float(line["avg_days_between_visits"]),
            )
            for index, line in enumerate(lines)
        )
        self._write_table(sheet, context["styles"], columns, rows)

    def _sheet_trend(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("PRR trend"))
        self._title(sheet, context, self.env._("Patient retention rate, month by month (12 months)"))
        Kpi = self.env["clinic.retention.kpi"]
        months = Kpi._month_bounds(context["date_to"].replace(day=1))
        results = Kpi._compute_many(months, department_ids=context["department_ids"] or None, gaps=False)  # one query
        rows = [
            (first, lines[0]["patients_start"], lines[0]["patients_new"], lines[0]["patients_end"], lines[0]["prr"])
            for (first, _last), lines in zip(months, results, strict=True)
            if lines
        ]
        columns = [
            (self.env._("Month"), "date", 12),
            (self.env._("Active at start (S)"), "int", 12),
            (self.env._("New (N)"), "int", 10),
            (self.env._("Active at end (E)"), "int", 12),
            (self.env._("PRR"), "pct", 10),
        ]
        count = self._write_table(sheet, context["styles"], columns, rows)
        if count:
            chart = workbook.add_chart({"type": "line"})
            chart.add_series(
                {
                    "name": self.env._("PRR"),
                    "categories": [sheet.name, 3, 0, 2 + count, 0],
                    "values": [sheet.name, 3, 4, 2 + count, 4],
                    "marker": {"type": "circle"},
                }
            )
            chart.set_title({"name": self.env._("PRR trend")})
            chart.set_y_axis({"num_format": "0%"})
            chart.set_x_axis({"date_axis": True, "num_format": "yyyy-mm"})
            chart.set_legend({"none": True})
            sheet.insert_chart(3, 7, chart)

    def _sheet_lost_patients(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Lost patients"))
        self._title(sheet, context, self.env._("Patients lost in the period"))
        lost = self.env["clinic.retention.kpi"]._patients_query(
            "lost", context["date_from"], context["date_to"], context["department_ids"] or None, context["company"]
        )
        if lost is None:
            lost = SQL("SELECT NULL::int AS patient_id, NULL::timestamp AS last_visit, 0 AS revenue_prev_12m LIMIT 0")
        query = SQL(
            """
            SELECT rp.name, COALESCE(rp.mobile, rp.phone), rp.email, lost.last_visit, lost.revenue_prev_12m
              FROM (%s) lost
              JOIN clinic_patient p ON p.id = lost.patient_id
              JOIN res_partner rp ON rp.id = p.partner_id
             ORDER BY lost.revenue_prev_12m DESC, rp.name
            """,
            lost,
        )
        columns = [
            (self.env._("Patient"), "text", 28),
            (self.env._("Phone"), "text", 18),
            (self.env._("Email"), "text", 28),
            (self.env._("Last visit"), "date", 14),
            (self.env._("Revenue, previous 12 months"), "money", 16),
        ]
        self._write_table(sheet, context["styles"], columns, self._stream(query))

    def _sheet_overdue_tasks(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Overdue tasks"))
        self._title(sheet, context, self.env._("Overdue follow-up tasks"))
        domain = [("is_overdue", "=", True), *self._department_domain(context)]
        if context["doctor_ids"]:
            # the doctor of the visit followed, else the patient's (as the follow-up report)
            domain += [
                "|",
                ("visit_id.doctor_id", "in", context["doctor_ids"]),
                "&",
                ("visit_id.doctor_id", "=", False),
                ("patient_id.doctor_id", "in", context["doctor_ids"]),
            ]
        tasks = self._subquery("clinic.followup.task", domain)
        query = self._task_list_query(SQL("t.id IN %s", tasks))
        self._write_table(sheet, context["styles"], self._task_columns(), self._task_rows(query))

    def _task_list_query(self, where):
        """Follow-up tasks as export rows (task, patient, phone, department,
        agent, deadline, attempts, reason), filtered by ``where``."""
        return SQL(
            """
            SELECT t.name, rp.name, COALESCE(rp.mobile, rp.phone), %s, u_p.name, %s,
                   t.attempt_count, t.reason
              FROM clinic_followup_task t
              JOIN clinic_patient p ON p.id = t.patient_id
              JOIN res_partner rp ON rp.id = p.partner_id
              JOIN clinic_department d ON d.id = t.department_id
              LEFT JOIN res_users u ON u.id = t.user_id
              LEFT JOIN res_partner u_p ON u_p.id = u.partner_id
             WHERE %s
             ORDER BY t.date_deadline, t.id
            """,
            self._translated("d.name"),
            self._excel_date("t.date_deadline"),
            where,
        )

    def _task_columns(self):
        return [
            (self.env._("Task"), "text", 30),
            (self.env._("Patient"), "text", 24),
            (self.env._("Phone"), "text", 18),
            (self.env._("Department"), "text", 18),
            (self.env._("Assigned to"), "text", 18),
            (self.env._("Deadline"), "date", 12),
            (self.env._("Attempts"), "int", 10),
            (self.env._("Reason"), "text", 14),
        ]

    def _task_rows(self, query):
        reasons = dict(self.env["clinic.followup.task"]._fields["reason"]._description_selection(self.env))
        for name, patient, phone, dept, agent, deadline, attempts, reason in self._stream(query):
            yield (name, patient, phone, dept, agent, deadline, attempts, reasons.get(reason, reason))
