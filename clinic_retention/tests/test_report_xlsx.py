import io
from datetime import date, datetime, timedelta

import openpyxl
from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .test_reports import Q1, ReportsCase

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


@tagged("post_install", "-at_install")
class ExcelFiguresCase(ReportsCase):
    """The workbook read back cell by cell: every figure is the report
    models' (``_figures``, the KPI service) and the dashboard's, on the
    hand-built clinic of ``ReportsCase`` plus a second agent, a second
    doctor, the aspects of each answer and a complaint of no department."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_vals = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        cls.agent2 = new_test_user(
            cls.env,
            login="kpi_agent2",
            name="KPI Agent Two",
            groups="clinic_retention.group_clinic_retention_user",
            **company_vals,
        )
        cls.doctor2 = new_test_user(
            cls.env, login="kpi_doctor2", name="Dr. Kpi Two", groups="base.group_user", **company_vals
        )
        cls.dental.member_ids = [(4, cls.agent2.id)]
        (cls.p1 | cls.p2 | cls.p3 | cls.p4).doctor_id = cls.doctor
        cls.p5.doctor_id = cls.doctor2
        Task = cls.env["clinic.followup.task"]
        task_p3 = Task.search([("patient_id", "=", cls.p3.id), ("reason", "=", "post_visit")])
        task_p3.user_id = cls.agent2
        # aspects: dental waiting 4, 2, 3 (avg 3); doctor 5, -, 3 (avg 4: unanswered left out); cardio waiting 1
        Response = cls.env["clinic.survey.response"]
        responses = {r.patient_id: r for r in Response.search([("company_id", "=", cls.company.id)])}
        responses[cls.p1].write({"waiting_score": 4, "doctor_score": 5})
        responses[cls.p3].write({"waiting_score": 2})
        responses[cls.p4].write({"waiting_score": 3, "doctor_score": 3, "staff_score": 4, "cleanliness_score": 5})
        responses[cls.p5].write({"waiting_score": 1, "doctor_id": cls.doctor2.id})
        Complaint = cls.env["clinic.complaint"]
        # besides it, the low scores of P4 (dental, 2/5) and P5 (cardiology, 1/5) opened complaints today
        cls.dental_complaint = Complaint.search([("company_id", "=", cls.company.id), ("name", "=", "KPI complaint")])
        cls.dental_complaint.staff_ids = cls.doctor
        cls.orphan_complaint = Complaint.create(
            {
                "name": "KPI complaint about the parking",
                "description": "No space",
                "company_id": cls.company.id,
                "contact_name": "A passer-by",
            }
        )
        cls.orphan_complaint.write({"received_date": datetime(2026, 3, 2, 9)})
        # day-before reminders of P1's and P3's visits: delivered, sent, failed; one not sent (not counted)
        visits = cls.env["clinic.visit"].search([("patient_id", "in", (cls.p1 | cls.p3).ids)], order="start")
        cls.env["clinic.visit.reminder"]._claim(
            [
                {
                    "visit_id": visit.id,
                    "patient_id": visit.patient_id.id,
                    "company_id": cls.company.id,
                    "department_id": visit.department_id.id,
                    "kind": "day_before",
                    "channel": channel,
                    "visit_start": visit.start,
                    "state": state,
                    "scheduled_date": visit.start - timedelta(days=1),
                }
                for visit, channel, state in (
                    (visits[1], "sms", "delivered"),
                    (visits[1], "email", "skipped"),
                    (visits[2], "sms", "sent"),
                    (visits[2], "email", "failed"),
                )
            ]
        )
        cls.env.flush_all()

    # ------------------------------------------------------------------
    # Reading the workbook back
    # ------------------------------------------------------------------

    def _book(self, user, date_from=Q1[0], date_to=Q1[1], **filters):
        wizard = (
            self.env["clinic.retention.export"]
            .with_user(user)
            .with_company(self.company)
            .create(
                {
                    "date_from": date_from,
                    "date_to": date_to,
                    "department_ids": [(6, 0, filters.get("departments", []))],
                    "doctor_ids": [(6, 0, filters.get("doctors", []))],
                }
            )
        )
        return openpyxl.load_workbook(io.BytesIO(wizard._export_file()[1]))

    def _table(self, sheet, title=None):
        """{first cell: {header: value}} of the table under ``title`` (the
        first table, under the sheet's title, when None)."""
        rows = list(sheet.iter_rows(values_only=True))
        header_index = 2 if title is None else next(i for i, row in enumerate(rows) if row[0] == title) + 1
        header = rows[header_index]
        table = {}
        for row in rows[header_index + 1 :]:
            if row[0] is None:
                break
            table[row[0]] = {name: value for name, value in zip(header, row, strict=False) if name}
        return table

    def _assert_line(self, cells, expected, msg):
        for name, value in expected.items():
            got = cells.get(name)
            if isinstance(value, float):
                self.assertAlmostEqual(got or 0.0, value, places=6, msg=f"{msg}: {name}")
            else:
                self.assertEqual(got or 0, value, f"{msg}: {name}")

    def _satisfaction_cells(self, line):
        return {
            "Responses": line["responses"],
            "Average score": line["score"],
            "% satisfied (4-5)": line["satisfied"],
            "% dissatisfied (1-2)": line["dissatisfied"],
            "Waiting time": line["waiting_score"],
            "Doctor's care": line["doctor_score"],
            "Staff": line["staff_score"],
            "Cleanliness": line["cleanliness_score"],
        }

    def _followup_cells(self, line):
        return {
            "Tasks closed": line["tasks"],
            "% reached": line["reached"],
            "% success": line["success"],
            "Average attempts": line["attempts"],
            "Hours to first contact": line["hours"],
        }


@tagged("post_install", "-at_install")
class TestExcelFigures(ExcelFiguresCase):
    def test_workbook_equals_the_report_models(self):
        book = self._book(self.manager)
        Kpi = self.env["clinic.retention.kpi"].with_user(self.manager).with_company(self.company)
        # KPIs: the KPI service's lines, with lapsed and referrals
        kpis = self._table(book["KPIs"])
        lines = Kpi._compute(*Q1, by_department=True)
        self.assertEqual(len(kpis), len(lines))
        for line in lines:
            label = ", ".join(line["department"].mapped("name")) or "All departments"
            self._assert_line(
                kpis[label],
                {
                    "Active at start (S)": line["patients_start"],
                    "New (N)": line["patients_new"],
                    "Active at end (E)": line["patients_end"],
                    "PRR": line["prr"],
                    "Churn": line["churn"],
                    "Lost patients": line["patients_lost"],
                    "Lapsed at end": line["patients_lapsed"],
                    "Revenue": float(line["revenue"]),
                    "Lifetime value": line["lifetime_value"],
                    "Days between visits": float(line["avg_days_between_visits"]),
                },
                label,
            )
        self.assertIn("Lapsed at end", kpis["All departments"])
        self.assertIn("Referrals", kpis["All departments"])

        # Satisfaction by department × aspect: the report's figures, and by hand
        Satisfaction = self.env["clinic.satisfaction.report"].with_user(self.manager).with_company(self.company)
        sheet = book["Satisfaction"]
        by_department = self._table(sheet)
        for line in Satisfaction._figures(*Q1, groupby="department_id"):
            self._assert_line(by_department[line["key"].name], self._satisfaction_cells(line), line["key"].name)
        dental = by_department["KPI Dental"]
        self.assertEqual(dental["Responses"], 3)
        self.assertAlmostEqual(dental["Average score"], 11 / 3)
        self.assertAlmostEqual(dental["Waiting time"], 3.0)
        self.assertAlmostEqual(dental["Doctor's care"], 4.0, msg="the unanswered aspect is left out")
        self.assertAlmostEqual(dental["Staff"], 4.0)
        self.assertAlmostEqual(by_department["KPI Cardio"]["Waiting time"], 1.0)
        self.assertIsNone(by_department["KPI Cardio"]["Staff"], "nobody answered: empty, not 0")
        total = self._table(sheet, "All departments")["All departments"]
        self._assert_line(total, self._satisfaction_cells(Satisfaction._figures(*Q1)), "all")
        self.assertAlmostEqual(total["Average score"], (5 + 4 + 2 + 1) / 4)
        doctors = self._table(sheet, "By doctor")
        self.assertEqual(doctors["Dr. Kpi"]["Responses"], 3)
        self.assertEqual(doctors["Dr. Kpi Two"]["Responses"], 1)
        trend = self._table(sheet, "Month by month (12 months)")
        self.assertEqual(len(trend), 12, "April 2025 to March 2026")
        february = trend[datetime(2026, 2, 1)]
        self.assertEqual(february["Responses"], 4)
        self.assertAlmostEqual(february["Average score"], 3.0)
        self.assertAlmostEqual(february["KPI Dental"], 11 / 3)
        self.assertAlmostEqual(february["KPI Cardio"], 1.0)
        self.assertEqual(trend[datetime(2026, 1, 1)]["Responses"], 0)

        # Follow-up success by department, agent and channel
        Followup = self.env["clinic.followup.report"].with_user(self.manager).with_company(self.company)
        sheet = book["Follow-up success"]
        by_department = self._table(sheet)
        for line in Followup._figures(*Q1, groupby="department_id"):
            self._assert_line(by_department[line["key"].name], self._followup_cells(line), line["key"].name)
        # dental: 4 post-visit calls and 2 recalls, 3 of them reached or booked; cardiology: 1 reached
        self.assertEqual(by_department["KPI Dental"]["Tasks closed"], 6)
        self.assertAlmostEqual(by_department["KPI Dental"]["% success"], 0.5)
        self.assertAlmostEqual(by_department["KPI Cardio"]["% success"], 1.0)
        total = self._table(sheet, "All departments")["All departments"]
        self._assert_line(total, self._followup_cells(Followup._figures(*Q1)), "all")
        self.assertAlmostEqual(total["% success"], 4 / 7)
        agents = self._table(sheet, "By agent")
        for line in Followup._figures(*Q1, groupby="user_id"):
            label = line["key"].name or "Unassigned"
            self._assert_line(agents[label], self._followup_cells(line), label)
        self.assertEqual(agents["KPI Agent Two"]["Tasks closed"], 1)
        self.assertAlmostEqual(agents["KPI Agent Two"]["% success"], 1.0)
        channels = self._table(sheet, "By channel")
        self.assertEqual(channels["SMS"]["Tasks closed"], 1)
        self.assertEqual(sum(line["Tasks closed"] for line in channels.values()), 7)

        # Complaints: the one of no department is counted and listed
        complaints = self._table(book["Complaints"])
        self.assertEqual(complaints["No department"]["Received in the period"], 1)
        self.assertEqual(complaints["No department"]["Open today"], 1)
        self.assertEqual(complaints["KPI Dental"]["Received in the period"], 1)
        self.assertEqual(complaints["KPI Dental"]["Open today"], 2, "with P4's low score")
        self.assertEqual(complaints["KPI Cardio"]["Open today"], 1)
        self.assertEqual(complaints["Total"]["Open today"], 4)
        listed = self._table(book["Open complaints"])
        self.assertIn(self.orphan_complaint.reference, listed)
        self.assertEqual(listed[self.orphan_complaint.reference]["Department"], "No department")

    def test_workbook_equals_the_dashboard(self):
        with freeze_time("2026-06-15 10:00:00"):
            dashboard = (
                self.env["clinic.retention.dashboard"]
                .with_user(self.manager)
                .with_company(self.company)
                .create({"period": "year"})
            )
            figures = dashboard.read(
                [
                    "current_patients_start",
                    "current_patients_end",
                    "current_patients_lost",
                    "current_prr",
                    "current_satisfaction",
                    "current_success",
                    "open_complaint_count",
                    "overdue_complaint_count",
                    "reminders_delivered",
                ]
            )[0]
            book = self._book(self.manager, *YEAR)
        kpis = self._table(book["KPIs"])["All departments"]
        self.assertEqual(kpis["Active at start (S)"], figures["current_patients_start"])
        self.assertEqual(kpis["Active at end (E)"], figures["current_patients_end"])
        self.assertEqual(kpis["Lost patients"], figures["current_patients_lost"])
        self.assertAlmostEqual(100 * kpis["PRR"], figures["current_prr"], places=1)
        self.assertAlmostEqual(100 * kpis["Reminders delivered"], figures["reminders_delivered"], places=1)
        self.assertAlmostEqual(kpis["Reminders delivered"], 2 / 3, msg="2 of the 3 that left")
        satisfaction = self._table(book["Satisfaction"], "All departments")["All departments"]
        self.assertAlmostEqual(satisfaction["Average score"], figures["current_satisfaction"], places=2)
        self.assertAlmostEqual(satisfaction["Average score"], 3.0)
        success = self._table(book["Follow-up success"], "All departments")["All departments"]
        self.assertAlmostEqual(100 * success["% success"], figures["current_success"], places=1)
        complaints = self._table(book["Complaints"])["Total"]
        self.assertEqual(complaints["Open today"], figures["open_complaint_count"])
        self.assertEqual(complaints["Open today"], 4, "the complaint of no department included")
        self.assertEqual(complaints["Overdue today"], figures["overdue_complaint_count"])

    def test_doctor_filter_applies_to_every_figure_of_a_doctor(self):
        whole = self._book(self.manager)
        book = self._book(self.manager, doctors=self.doctor.ids)
        satisfaction = self._table(book["Satisfaction"])
        self.assertEqual(list(satisfaction), ["KPI Dental"], "Dr. Kpi Two's cardiology answer left out")
        followups = self._table(book["Follow-up success"])
        self.assertEqual(list(followups), ["KPI Dental"], "P5's doctor is Dr. Kpi Two")
        self.assertEqual(followups["KPI Dental"]["Tasks closed"], 6)
        complaints = self._table(book["Complaints"])
        self.assertEqual(complaints["Total"]["Received in the period"], 1, "the complaint naming Dr. Kpi")
        self.assertNotIn("No department", complaints)
        self.assertEqual(
            self._table(book["KPIs"]), self._table(whole["KPIs"]), "retention counts patients, not a doctor's work"
        )

    def test_chosen_department_keeps_complaints_of_no_department(self):
        book = self._book(self.manager, departments=self.dental.ids)
        complaints = self._table(book["Complaints"])
        self.assertEqual(set(complaints), {"KPI Dental", "No department", "Total"})
        listed = self._table(book["Open complaints"])
        expected = self.env["clinic.complaint"].search(
            [
                ("company_id", "=", self.company.id),
                ("is_open", "=", True),
                "|",
                ("department_id", "=", self.dental.id),
                ("department_id", "=", False),
            ]
        )
        self.assertEqual(len(expected), 3, "the dental complaint, P4's low score and the one of no department")
        self.assertEqual(set(listed), set(expected.mapped("reference")))
        self.assertIn(self.orphan_complaint.reference, listed)
        dashboard = (
            self.env["clinic.retention.dashboard"]
            .with_user(self.manager)
            .with_company(self.company)
            .create({"department_ids": [(6, 0, self.dental.ids)]})
        )
        self.assertEqual(dashboard.open_complaint_count, 3)
        drill = dashboard.with_context(kpi="open_complaints").action_drill()
        found = self.env["clinic.complaint"].with_user(self.manager).with_company(self.company).search(drill["domain"])
        self.assertEqual(found, expected)

    def test_agent_workbook_is_their_figures(self):
        book = self._book(self.agent)
        Followup = self.env["clinic.followup.report"].with_user(self.agent).with_company(self.company)
        followups = self._table(book["Follow-up success"])
        self.assertEqual(list(followups), ["KPI Dental"])
        total = self._table(book["Follow-up success"], "All departments")["All departments"]
        self._assert_line(total, self._followup_cells(Followup._figures(*Q1)), "agent")
        satisfaction = self._table(book["Satisfaction"])
        self.assertEqual(list(satisfaction), ["KPI Dental"])
        complaints = self._table(book["Complaints"])
        self.assertNotIn("No department", complaints, "record rules: not the agent's")
