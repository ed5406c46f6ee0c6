from odoo import models
from odoo.tools import SQL

from ..models.clinic_complaint_stage import COMPLAINT_STAGE_KINDS
from .clinic_satisfaction_report import ASPECTS


class ClinicRetentionXlsx(models.AbstractModel):
    """The care sheets of the manager's workbook: satisfaction (by
    department and aspect, by doctor, month by month), follow-up success
    (by department, agent and channel), followed vs not, complaints. Every
    figure comes from the report models' ``_figures`` (what the dashboard
    shows); the doctors chosen filter each of them."""

    _inherit = "clinic.retention.xlsx"

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _write_block(self, sheet, styles, row, title, columns, rows):
        """A titled table from ``row`` down (several per sheet, written in
        order: the workbook is written row by row). Returns (first data row,
        rows written, next free row)."""
        sheet.write(row, 0, title, styles["title"])
        for col, (header, _style, _width) in enumerate(columns):
            sheet.write(row + 1, col, header, styles["header"])
        count = 0
        for values in rows:
            count += 1
            for col, ((_header, style, _width), value) in enumerate(zip(columns, values, strict=True)):
                if value is not None and value is not False:
                    sheet.write(row + 1 + count, col, value, styles[style])
        return row + 2, count, row + count + 5

    def _chart(self, workbook, sheet, kind, title, first, count, series, anchor, percent=False):
        """A native chart of the rows [first, first + count) of ``sheet``:
        ``series`` is [(name, value column)], categories in column 0."""
        chart = workbook.add_chart({"type": kind})
        for name, col in series:
            chart.add_series(
                {
                    "name": name,
                    "categories": [sheet.name, first, 0, first + count - 1, 0],
                    "values": [sheet.name, first, col, first + count - 1, col],
                    **({"marker": {"type": "circle"}} if kind == "line" else {}),
                }
            )
        chart.set_title({"name": title})
        axis = {"num_format": "0%", "min": 0, "max": 1} if percent else {"min": 0}
        if kind == "bar":
            chart.set_x_axis(axis)
        else:
            chart.set_y_axis(axis if percent else {"min": 0, "max": 5})
        if len(series) == 1:
            chart.set_legend({"none": True})
        sheet.insert_chart(*anchor, chart)

    def _filters(self, context):
        return context["department_ids"] or None, context["doctor_ids"] or None

    # ------------------------------------------------------------------
    # Satisfaction
    # ------------------------------------------------------------------

    def _satisfaction_columns(self, first):
        return [
            (first, "text", 24),
            (self.env._("Responses"), "int", 11),
            (self.env._("Average score"), "dec", 11),
            (self.env._("% satisfied (4-5)"), "pct", 12),
            (self.env._("% dissatisfied (1-2)"), "pct", 12),
            (self.env._("Waiting time"), "dec", 11),
            (self.env._("Doctor's care"), "dec", 11),
            (self.env._("Staff"), "dec", 11),
            (self.env._("Cleanliness"), "dec", 11),
        ]

    def _satisfaction_row(self, label, line):
        return (
            label,
            line["responses"],
            line["score"],
            line["satisfied"],
            line["dissatisfied"],
            *(line[aspect] or None for aspect in ASPECTS),
        )

    def _sheet_satisfaction(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Satisfaction"))
        self._title(sheet, context, self.env._("Satisfaction by department and aspect"))
        styles = context["styles"]
        Report = self.env["clinic.satisfaction.report"]
        departments, doctors = self._filters(context)
        period = (context["date_from"], context["date_to"], departments, doctors)
        columns = self._satisfaction_columns(self.env._("Department"))
        lines = Report._figures(*period, groupby="department_id")
        count = self._write_table(
            sheet,
            styles,
            columns,
            (self._satisfaction_row(line["key"].name or self.env._("No department"), line) for line in lines),
        )
        if count:
            self._chart(
                workbook,
                sheet,
                "column",
                self.env._("Satisfaction by department and aspect"),
                3,
                count,
                [(columns[col][0], col) for col in (2, 5, 6, 7, 8)],
                (3, 10),
            )
        row = 3 + max(count, 15) + 2
        total = Report._figures(*period)
        everything = self.env._("All departments")
        _first, _count, row = self._write_block(
            sheet, styles, row, everything, columns, [self._satisfaction_row(everything, total)]
        )
        doctor_lines = Report._figures(*period, groupby="doctor_id")
        _first, _count, row = self._write_block(
            sheet,
            styles,
            row,
            self.env._("By doctor"),
            self._satisfaction_columns(self.env._("Doctor")),
            (self._satisfaction_row(line["key"].name or self.env._("No doctor"), line) for line in doctor_lines),
        )
        self._satisfaction_trend(workbook, sheet, context, row)

    def _satisfaction_trend(self, workbook, sheet, context, row):
        """The 12 months up to the period's end: the clinic's (the
        selection's) average and each department's."""
        Report = self.env["clinic.satisfaction.report"]
        departments, doctors = self._filters(context)
        Kpi = self.env["clinic.retention.kpi"]
        months = [first for first, _last in Kpi._month_bounds(context["date_to"].replace(day=1))]
        total = Report._monthly(context["date_to"], department_ids=departments, doctor_ids=doctors)
        cells = Report._monthly(context["date_to"], department_ids=departments, doctor_ids=doctors, by_department=True)
        columns_departments = sorted({department for _month, department in cells}, key=lambda d: d.name or "")
        columns = [
            (self.env._("Month"), "date", 12),
            (self.env._("Responses"), "int", 11),
            (self.env._("Average score"), "dec", 11),
            (self.env._("% satisfied (4-5)"), "pct", 12),
            *((department.name or self.env._("No department"), "dec", 11) for department in columns_departments),
        ]
        empty = {"responses": 0, "score": None, "satisfied": None}
        rows = [
            (
                month,
                total.get(month, empty)["responses"],
                total.get(month, empty)["score"],
                total.get(month, empty)["satisfied"],
                *((cells.get((month, department)) or {}).get("score") for department in columns_departments),
            )
            for month in months
        ]
        first, count, _row = self._write_block(
            sheet, context["styles"], row, self.env._("Month by month (12 months)"), columns, rows
        )
        chart = workbook.add_chart({"type": "line"})
        chart.add_series(
            {
                "name": self.env._("Average score"),
                "categories": [sheet.name, first, 0, first + count - 1, 0],
                "values": [sheet.name, first, 2, first + count - 1, 2],
                "marker": {"type": "circle"},
            }
        )
        chart.set_title({"name": self.env._("Satisfaction, month by month")})
        chart.set_y_axis({"min": 0, "max": 5})
        chart.set_x_axis({"date_axis": True, "num_format": "yyyy-mm"})
        chart.set_legend({"none": True})
        sheet.insert_chart(row, len(columns) + 1, chart)

    # ------------------------------------------------------------------
    # Follow-up success
    # ------------------------------------------------------------------

    def _followup_columns(self, first):
        return [
            (first, "text", 24),
            (self.env._("Tasks closed"), "int", 12),
            (self.env._("% reached"), "pct", 12),
            (self.env._("% success"), "pct", 12),
            (self.env._("Average attempts"), "dec", 12),
            (self.env._("Hours to first contact"), "dec", 14),
        ]

    def _followup_row(self, label, line):
        return (label, line["tasks"], line["reached"], line["success"], line["attempts"], line["hours"])

    def _sheet_followup(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Follow-up success"))
        self._title(sheet, context, self.env._("Follow-up success by department, agent and channel"))
        styles = context["styles"]
        Report = self.env["clinic.followup.report"]
        departments, doctors = self._filters(context)
        period = (context["date_from"], context["date_to"], departments, doctors)
        lines = Report._figures(*period, groupby="department_id")
        count = self._write_table(
            sheet,
            styles,
            self._followup_columns(self.env._("Department")),
            (self._followup_row(line["key"].name, line) for line in lines),
        )
        success = self.env._("% success")
        if count:
            self._chart(
                workbook,
                sheet,
                "bar",
                self.env._("Success rate by department"),
                3,
                count,
                [(success, 3)],
                (3, 8),
                percent=True,
            )
        row = 3 + max(count, 15) + 2
        total = Report._figures(*period)
        _first, _count, row = self._write_block(
            sheet,
            styles,
            row,
            self.env._("All departments"),
            self._followup_columns(self.env._("All departments")),
            [self._followup_row(self.env._("All departments"), total)],
        )
        channels = dict(Report._fields["channel"]._description_selection(self.env))
        for title, groupby, label, chart_title in (
            (
                self.env._("By agent"),
                "user_id",
                lambda key: key.name or self.env._("Unassigned"),
                self.env._("Success rate by agent"),
            ),
            (
                self.env._("By channel"),
                "channel",
                lambda key: channels.get(key, key or self.env._("None")),
                self.env._("Success rate by channel"),
            ),
        ):
            lines = Report._figures(*period, groupby=groupby)
            start = row
            first, count, row = self._write_block(
                sheet,
                styles,
                row,
                title,
                self._followup_columns(title),
                (self._followup_row(label(line["key"]), line) for line in lines),
            )
            if count:
                self._chart(workbook, sheet, "bar", chart_title, first, count, [(success, 3)], (start, 8), True)
            row = max(row, start + 17)

    def _sheet_followed(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Followed vs not"))
        self._title(sheet, context, self.env._("Patients due a recall: followed vs not followed"))
        departments, doctors = self._filters(context)
        domain = [("due_date", ">=", context["date_from"]), ("due_date", "<=", context["date_to"])]
        domain += self.env["clinic.retention.kpi"]._report_domain(departments, doctors)
        groups = self.env["clinic.followed.report"]._read_group(
            domain, ["followed"], ["patient_count:sum", "revisit_pct:avg", "complaint_pct:avg"]
        )
        columns = [
            (self.env._("Group"), "text", 26),
            (self.env._("Patients due"), "int", 12),
            (self.env._("% came back in 90 days"), "pct", 16),
            (self.env._("% complained"), "pct", 14),
        ]
        self._write_table(
            sheet,
            context["styles"],
            columns,
            (
                (
                    self._selection_label("clinic.followed.report", "followed", followed),
                    n,
                    (revisit or 0.0) / 100,
                    (complaint or 0.0) / 100,
                )
                for followed, n, revisit, complaint in groups
            ),
        )

    # ------------------------------------------------------------------
    # Complaints
    # ------------------------------------------------------------------

    def _complaint_figures(self, context):
        """Complaints received in the period by department and by where they
        stand today, and those open and overdue today (the dashboard's
        figures), with those of no department: ``{department: line}``."""
        Complaint = self.env["clinic.complaint"]
        departments, doctors = self._filters(context)
        selection = self.env["clinic.retention.kpi"]._complaint_domain(departments, doctors)
        start, end = self.env["clinic.retention.kpi"]._bounds(context["date_from"], context["date_to"])
        received = [("received_date", ">=", start), ("received_date", "<", end), *selection]
        lines = {}

        def line(department):
            return lines.setdefault(department, {"received": 0, "open": 0, "overdue": 0})

        for department, state, count in Complaint._read_group(received, ["department_id", "state"], ["__count"]):
            line(department)["received"] += count
            line(department)[state or "new"] = line(department).get(state or "new", 0) + count
        for department, count in Complaint._read_group(
            [("is_open", "=", True), *selection], ["department_id"], ["__count"]
        ):
            line(department)["open"] = count
        for department, count in Complaint._read_group(
            [("is_overdue", "=", True), *selection], ["department_id"], ["__count"]
        ):
            line(department)["overdue"] = count
        return lines

    def _sheet_complaints(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Complaints"))
        self._title(sheet, context, self.env._("Complaints by department"))
        kinds = dict(COMPLAINT_STAGE_KINDS)
        stage_labels = dict(self.env["clinic.complaint"]._fields["state"]._description_selection(self.env))
        columns = [
            (self.env._("Department"), "text", 24),
            (self.env._("Received in the period"), "int", 12),
            *((stage_labels.get(kind, label), "int", 12) for kind, label in kinds.items()),
            (self.env._("Open today"), "int", 11),
            (self.env._("Overdue today"), "int", 11),
        ]
        lines = self._complaint_figures(context)
        ordered = sorted(lines.items(), key=lambda item: (not item[0], item[0].name or ""))
        rows = [
            (
                department.name or self.env._("No department"),
                line["received"],
                *(line.get(kind, 0) for kind in kinds),
                line["open"],
                line["overdue"],
            )
            for department, line in ordered
        ]
        if rows:
            rows.append((self.env._("Total"), *(sum(row[col] for row in rows) for col in range(1, len(columns)))))
        self._write_table(sheet, context["styles"], columns, rows)

    def _sheet_open_complaints(self, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Open complaints"))
        self._title(sheet, context, self.env._("Open complaints"))
        departments, doctors = self._filters(context)
        selection = self.env["clinic.retention.kpi"]._complaint_domain(departments, doctors)
        query = SQL(
            """
            SELECT c.reference, c.received_date, c.name, COALESCE(rp.name, c.contact_name), %s, c.severity,
                   %s, c.deadline, c.escalation_level, u_p.name
              FROM clinic_complaint c
              LEFT JOIN clinic_patient p ON p.id = c.patient_id
              LEFT JOIN res_partner rp ON rp.id = p.partner_id
              LEFT JOIN clinic_department d ON d.id = c.department_id
              LEFT JOIN clinic_complaint_stage s ON s.id = c.stage_id
              LEFT JOIN res_users u ON u.id = c.user_id
              LEFT JOIN res_partner u_p ON u_p.id = u.partner_id
             WHERE c.id IN %s
             ORDER BY c.deadline, c.id
            """,
            self._translated("d.name"),
            self._translated("s.name"),
            self._subquery("clinic.complaint", [("is_open", "=", True), *selection]),
        )
        severities = dict(self.env["clinic.complaint"]._fields["severity"]._description_selection(self.env))
        columns = [
            (self.env._("Reference"), "text", 16),
            (self.env._("Received"), "datetime", 16),
            (self.env._("Subject"), "text", 30),
            (self.env._("Patient"), "text", 24),
            (self.env._("Department"), "text", 18),
            (self.env._("Severity"), "text", 10),
            (self.env._("Stage"), "text", 14),
            (self.env._("Deadline"), "datetime", 16),
            (self.env._("Escalation"), "int", 10),
            (self.env._("Responsible"), "text", 18),
        ]
        no_department = self.env._("No department")
        rows = (
            (
                ref,
                received,
                name,
                patient,
                dept or no_department,
                severities.get(severity, severity),
                stage,
                deadline,
                level,
                user,
            )
            for ref, received, name, patient, dept, severity, stage, deadline, level, user in self._stream(query)
        )
        self._write_table(sheet, context["styles"], columns, rows)
