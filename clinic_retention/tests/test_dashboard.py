from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_report_xlsx import ExcelFiguresCase
from .test_reports import Q1

Q1_STRINGS = ("2026-01-01", "2026-03-31")
# a custom period's previous one: as many days (90) just before it
BEFORE_Q1 = (date(2025, 10, 3), date(2025, 12, 31))


@tagged("post_install", "-at_install")
class TestDashboardData(ExcelFiguresCase):
    """The dashboard client action's figures (``get_dashboard_data``) are
    the KPI service's, the report models' and the workbook's, on the
    hand-built clinic of the Excel tests; each tile and chart point opens
    the records behind it; agents see their departments only."""

    def _data(self, user, period="custom", dates=Q1_STRINGS, departments=None):
        Dashboard = self.env["clinic.retention.dashboard"].with_user(user).with_company(self.company)
        return Dashboard.get_dashboard_data(period, *dates, departments or [])

    def _drill(self, user, drill, dates=Q1_STRINGS, departments=None):
        Dashboard = self.env["clinic.retention.dashboard"].with_user(user).with_company(self.company)
        action = Dashboard.action_dashboard_drill(drill, "custom", *dates, departments or [])
        return self.env[action["res_model"]].with_user(user).with_company(self.company).search(action["domain"])

    @freeze_time("2026-06-15 10:00:00")
    def test_dashboard_equals_the_report_models_and_the_workbook(self):
        data = self._data(self.manager)
        self.assertEqual(data["current"], list(Q1_STRINGS))
        tiles = {tile["key"]: tile for tile in data["tiles"]}
        Kpi = self.env["clinic.retention.kpi"].with_user(self.manager).with_company(self.company)
        [line] = Kpi._compute(*Q1)
        [previous] = Kpi._compute(*BEFORE_Q1)
        for key in ("patients_start", "patients_new", "patients_end", "patients_lost"):
            self.assertEqual(tiles[key]["value"], line[key], key)
            self.assertEqual(tiles[key]["previous"], previous[key], key)
        self.assertAlmostEqual(tiles["prr"]["value"], 100 * line["prr"], places=1)
        self.assertAlmostEqual(tiles["churn"]["previous"], 100 * previous["churn"], places=1)

        book = self._book(self.manager)
        kpis = self._table(book["KPIs"])["All departments"]
        self.assertEqual(tiles["patients_start"]["value"], kpis["Active at start (S)"])
        self.assertEqual(tiles["patients_end"]["value"], kpis["Active at end (E)"])
        self.assertEqual(tiles["patients_lost"]["value"], kpis["Lost patients"])
        self.assertAlmostEqual(tiles["prr"]["value"], 100 * kpis["PRR"], places=1)
        self.assertAlmostEqual(tiles["churn"]["value"], 100 * kpis["Churn"], places=1)
        self.assertAlmostEqual(
            tiles["reminders_delivered"]["value"], 100 * (kpis["Reminders delivered"] or 0), places=1
        )

        Satisfaction = self.env["clinic.satisfaction.report"].with_user(self.manager).with_company(self.company)
        Followup = self.env["clinic.followup.report"].with_user(self.manager).with_company(self.company)
        self.assertAlmostEqual(tiles["satisfaction"]["value"], Satisfaction._figures(*Q1)["score"], places=2)
        self.assertAlmostEqual(tiles["satisfaction"]["value"], 3.0)
        self.assertAlmostEqual(tiles["success"]["value"], 100 * Followup._figures(*Q1)["success"], places=1)
        self.assertAlmostEqual(tiles["success"]["value"], 100 * 4 / 7, places=1)

        charts = {chart["key"]: chart for chart in data["charts"]}
        # satisfaction by department: the report's lines and the workbook's rows
        sheet = self._table(book["Satisfaction"])
        points = {point["label"]: point for point in charts["satisfaction_department"]["points"]}
        self.assertEqual(set(points), {"KPI Dental", "KPI Cardio"})
        for report_line in Satisfaction._figures(*Q1, groupby="department_id"):
            name = report_line["key"].name
            self.assertAlmostEqual(points[name]["value"], report_line["score"], msg=name)
            self.assertAlmostEqual(points[name]["value"], sheet[name]["Average score"], msg=name)
        self.assertAlmostEqual(points["KPI Dental"]["value"], 11 / 3)
        # by aspect: the total line's averages (the workbook's "All departments" row)
        total = self._table(book["Satisfaction"], "All departments")["All departments"]
        aspects = [point["value"] for point in charts["satisfaction_aspect"]["points"]]
        self.assertEqual(len(aspects), 4)
        self.assertAlmostEqual(aspects[0], total["Waiting time"])
        self.assertAlmostEqual(aspects[0], (4 + 2 + 3 + 1) / 4)
        # follow-up success by department and by agent
        sheet = self._table(book["Follow-up success"])
        points = {point["label"]: point for point in charts["success_department"]["points"]}
        for name in ("KPI Dental", "KPI Cardio"):
            self.assertAlmostEqual(points[name]["value"], 100 * sheet[name]["% success"], msg=name)
        self.assertAlmostEqual(points["KPI Dental"]["value"], 50.0)
        agents = self._table(book["Follow-up success"], "By agent")
        points = {point["label"]: point for point in charts["success_agent"]["points"]}
        self.assertEqual(set(points), set(agents))
        for name, row in agents.items():
            self.assertAlmostEqual(points[name]["value"], 100 * row["% success"], msg=name)
        # complaints now: the workbook's "Open today" (with the one of no department)
        complaints = self._table(book["Complaints"])["Total"]
        self.assertEqual(tiles["open_complaints"]["value"], complaints["Open today"])
        self.assertEqual(tiles["overdue_complaints"]["value"], complaints["Overdue today"])
        # the trend: twelve months ending with March 2026, from the KPI service
        trend = charts["trend"]
        self.assertEqual(trend["labels"][-1], "2026-03")
        self.assertEqual(len(trend["labels"]), 12)
        months = Kpi._month_bounds(date(2026, 3, 1), 12)
        expected = [lines[0]["churn"] for lines in Kpi._compute_many(months)]
        self.assertEqual(trend["datasets"][1]["data"], [100 * churn for churn in expected])

    @freeze_time("2026-06-15 10:00:00")
    def test_tiles_and_points_open_the_records_behind_them(self):
        Kpi = self.env["clinic.retention.kpi"].with_user(self.manager).with_company(self.company)
        data = self._data(self.manager)
        tiles = {tile["key"]: tile for tile in data["tiles"]}
        lost = self._drill(self.manager, {"kpi": tiles["patients_lost"]["kpi"], "method": "action_drill"})
        self.assertEqual(len(lost), tiles["patients_lost"]["value"])
        self.assertEqual(lost.ids, Kpi._patient_ids("lost", *Q1))
        previous = self._drill(self.manager, {"kpi": "patients_start", "which": "previous"})
        self.assertEqual(len(previous), tiles["patients_start"]["previous"])
        complaints = self._drill(self.manager, {"kpi": "open_complaints"})
        self.assertEqual(len(complaints), tiles["open_complaints"]["value"])
        reminders = self._drill(self.manager, {"kpi": "reminders"})
        self.assertTrue({"delivered", "sent", "failed"} <= set(reminders.mapped("state")))
        charts = {chart["key"]: chart for chart in data["charts"]}
        # a month of the trend: that month's lost patients
        trend = charts["trend"]
        march = trend["points"][-1]
        self.assertEqual(march, {"date_from": "2026-03-01", "date_to": "2026-03-31"})
        month_lost = self._drill(self.manager, {**march, "kpi": trend["datasets"][1]["kpi"]})
        self.assertEqual(month_lost.ids, Kpi._patient_ids("lost", date(2026, 3, 1), date(2026, 3, 31)))
        # a department's bar: that department's answers / closed tasks
        for point in charts["satisfaction_department"]["points"]:
            answers = self._drill(self.manager, point["drill"])
            self.assertEqual(answers.department_id.display_name, point["label"])
        for point in charts["success_department"]["points"]:
            tasks = self._drill(self.manager, point["drill"])
            self.assertEqual(tasks.department_id.display_name, point["label"])
        # an agent's bar: the tasks that agent closed in the period
        Followup = self.env["clinic.followup.report"].with_user(self.manager).with_company(self.company)
        for line, point in zip(
            Followup._figures(*Q1, groupby="user_id"), charts["success_agent"]["points"], strict=True
        ):
            tasks = self._drill(self.manager, point["drill"])
            self.assertEqual(len(tasks), line["tasks"], point["label"])
            self.assertEqual(tasks.user_id, line["key"])
        # a CRM tile
        action = (
            self.env["clinic.retention.dashboard"]
            .with_user(self.manager)
            .with_company(self.company)
            .action_dashboard_drill({"kpi": "conversion", "method": "action_drill_crm"}, "year")
        )
        self.assertEqual(action["res_model"], "clinic.conversion.report")

    def test_agent_sees_only_their_departments(self):
        manager = self._data(self.manager)
        self.assertEqual({d["name"] for d in manager["departments"]}, {"KPI Dental", "KPI Cardio"})
        agent = self._data(self.agent)
        self.assertEqual([d["id"] for d in agent["departments"]], self.dental.ids)
        charts = {chart["key"]: chart for chart in agent["charts"]}
        self.assertEqual([p["label"] for p in charts["satisfaction_department"]["points"]], ["KPI Dental"])
        self.assertEqual([p["label"] for p in charts["success_department"]["points"]], ["KPI Dental"])
        tiles = {tile["key"]: tile for tile in agent["tiles"]}
        [dental] = (
            self.env["clinic.retention.kpi"]
            .with_user(self.manager)
            .with_company(self.company)
            ._compute(*Q1, department_ids=self.dental.ids)
        )
        self.assertEqual(tiles["patients_start"]["value"], dental["patients_start"])
        # the manager filtering on dental sees the agent's figures (but complaints: the
        # manager's include those of no department, which the agent may not read)
        # (bridges may add managers-only tiles, e.g. Campaign ROI: compared on the agent's tiles)
        filtered = self._data(self.manager, departments=self.dental.ids)["tiles"]
        agent_keys = {tile["key"] for tile in agent["tiles"]}
        self.assertTrue(agent_keys <= {tile["key"] for tile in filtered})
        self.assertEqual(
            {tile["key"]: tile["value"] for tile in agent["tiles"] if "complaints" not in tile["key"]},
            {
                tile["key"]: tile["value"]
                for tile in filtered
                if "complaints" not in tile["key"] and tile["key"] in agent_keys
            },
        )
        # asking for another department shows nothing of it
        other = self._data(self.agent, departments=self.cardio.ids)
        self.assertEqual(other["department_ids"], [])
        charts = {chart["key"]: chart for chart in other["charts"]}
        self.assertEqual([p["label"] for p in charts["success_department"]["points"]], ["KPI Dental"])
        cardio_answers = self._drill(self.agent, {"kpi": "satisfaction", "department_id": self.cardio.id})
        self.assertFalse(cardio_answers.filtered(lambda answer: answer.department_id == self.cardio))

    def test_custom_period_needs_its_days(self):
        Dashboard = self.env["clinic.retention.dashboard"].with_user(self.manager).with_company(self.company)
        with self.assertRaises(UserError):
            Dashboard.get_dashboard_data("custom", "2026-03-31", "2026-01-01", [])
        with self.assertRaises(UserError):
            Dashboard.get_dashboard_data("custom", False, False, [])
        with self.assertRaises(UserError):
            Dashboard.get_dashboard_data("decade", False, False, [])
        with self.assertRaises(UserError):
            Dashboard.action_dashboard_drill({"kpi": "prr", "method": "unlink"}, "month")

    @freeze_time("2026-06-15 10:00:00")
    def test_complaint_and_reminder_charts(self):
        data = self._data(self.manager)
        charts = {chart["key"]: chart for chart in data["charts"]}
        tiles = {tile["key"]: tile for tile in data["tiles"]}
        # complaints open and overdue by department: the workbook's rows, the
        # one of no department included, adding up to the tiles
        chart = charts["complaints_department"]
        self.assertEqual(chart["labels"], ["KPI Cardio", "KPI Dental", "No department"])
        opened, overdue = (dict(zip(chart["labels"], dataset["data"], strict=True)) for dataset in chart["datasets"])
        sheet = self._table(self._book(self.manager)["Complaints"])
        for name in chart["labels"]:
            self.assertEqual(opened[name], sheet[name]["Open today"], name)
            self.assertEqual(overdue[name], sheet[name]["Overdue today"], name)
        self.assertEqual(opened, {"KPI Cardio": 1, "KPI Dental": 2, "No department": 1})
        self.assertEqual(sum(opened.values()), tiles["open_complaints"]["value"])
        self.assertEqual(sum(overdue.values()), tiles["overdue_complaints"]["value"])
        # a bar opens that department's complaints only
        for index, point in enumerate(chart["points"]):
            complaints = self._drill(self.manager, {**point, "kpi": "open_complaints"})
            self.assertEqual(len(complaints), chart["datasets"][0]["data"][index], chart["labels"][index])
            self.assertEqual(complaints.department_id.id or False, point["department_id"])
        orphan = self._drill(self.manager, {"department_id": False, "kpi": "open_complaints"})
        self.assertEqual(orphan, self.orphan_complaint)
        # reminders delivered % by month: each month's tile, as a month's dashboard shows it
        chart = charts["reminders_month"]
        self.assertEqual(chart["labels"], charts["trend"]["labels"])
        march = chart["points"][-1]
        month = self._data(self.manager, dates=(march["date_from"], march["date_to"]))
        month_tiles = {tile["key"]: tile for tile in month["tiles"]}
        self.assertAlmostEqual(chart["datasets"][0]["data"][-1], month_tiles["reminders_delivered"]["value"])
        self.assertTrue(any(chart["datasets"][0]["data"]), "the hand-built clinic's reminders show")
        reminders = self._drill(self.manager, {**march, "kpi": chart["datasets"][0]["kpi"]})
        left = reminders.filtered(lambda reminder: reminder.state in ("sent", "delivered", "failed", "bounced"))
        reached = left.filtered(lambda reminder: reminder.state in ("sent", "delivered"))
        if left:
            self.assertAlmostEqual(chart["datasets"][0]["data"][-1], 100 * len(reached) / len(left))
        # an agent's chart: their departments' complaints, none of another's
        agent = {chart["key"]: chart for chart in self._data(self.agent)["charts"]}
        self.assertNotIn("KPI Cardio", agent["complaints_department"]["labels"])

    def test_trend_without_gaps_keeps_every_retention_figure(self):
        """The trend's lighter query (no days between visits) gives the same
        counts and ratios as the full one."""
        Kpi = self.env["clinic.retention.kpi"].with_user(self.agent).with_company(self.company)
        months = Kpi._month_bounds(date(2026, 3, 1), 12)
        full = Kpi._compute_many(months, by_department=True)
        light = Kpi._compute_many(months, by_department=True, gaps=False)
        self.assertTrue(any(line["patients_end"] for lines in full for line in lines))
        for full_lines, light_lines in zip(full, light, strict=True):
            for full_line, light_line in zip(full_lines, light_lines, strict=True):
                for key in ("avg_days_between_visits", "return_visit_count"):
                    self.assertEqual(light_line.pop(key), 0)
                    full_line.pop(key)
                self.assertEqual(light_line, full_line)
