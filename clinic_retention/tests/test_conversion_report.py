import io
from datetime import date, datetime, timedelta

import openpyxl
from freezegun import freeze_time

from odoo.tests import tagged

from .crm_common import ClinicCrmCase

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@tagged("post_install", "-at_install")
class TestConversionReport(ClinicCrmCase):
    """The funnel on a hand-built month of prospects, with hand-worked answers.

    Dental, March 2026 (days between steps in brackets):

    ==  ========  =====  ========  ======  =============  ===============  ========  ===========
        recorded  grade  source    agent   reached        booked           visit     outcome
    ==  ========  =====  ========  ======  =============  ===============  ========  ===========
    L1  03-02     A      referral  cs      03-03 (1)      03-04 (1)        03-10 (6) done: 8 days
    L2  03-05     B      website   cs      03-08 (3)      03-09 (1)        03-12 (3) done: 7 days
    L3  03-06     B      website   mgr     03-11 (5)      03-13 (2)        03-20      no-show
    L4  03-10     C      referral  mgr     03-12 (2)      —                —          lost
    L5  03-15     E      walk-in   cs      —              —                —          open
    ==  ========  =====  ========  ======  =============  ===============  ========  ===========

    Dental: 5 prospects, 4 reached (80%), 3 booked (60%), 2 won (40%), 1 lost;
    medians: to reach [1, 2, 3, 5] → 2.5; reached → booked [1, 1, 2] → 1;
    booked → visit (won) [3, 6] → 4.5; to convert [7, 8] → 7.5.

    Also a cardiology prospect (L6, 03-03 → reached 03-04 09:00 → booked
    03-04 10:00 → done 03-06 09:00), an April dental prospect (outside),
    two dental reactivations (one won, one lost) and four treatment plans.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.phone = 13800139000
        cls.l1 = cls._walk("L1", "03-02", "A", cls.source_referral, cls.cs_user, "03-03", "03-04", "03-10", "done")
        cls.l2 = cls._walk("L2", "03-05", "B", cls.source_website, cls.cs_user, "03-08", "03-09", "03-12", "done")
        cls.l3 = cls._walk("L3", "03-06", "B", cls.source_website, cls.manager, "03-11", "03-13", "03-20", "no_show")
        cls.l4 = cls._walk("L4", "03-10", "C", cls.source_referral, cls.manager, "03-12", None, None, "lost")
        cls.l5 = cls._walk("L5", "03-15", "E", cls.source_walk_in, cls.cs_user, None, None, None, None)
        with freeze_time("2026-03-03 09:00:00"):
            cls.l6 = cls._prospect(
                "L6",
                department=cls.cardiology,
                phone="13800138999",
                clinic_grade_id=cls.grades["A"].id,
                source_id=cls.source_website.id,
                user_id=cls.cs_user_2.id,
            )
        with freeze_time("2026-03-04 09:00:00"):
            cls.l6._clinic_move_to("reached")
        with freeze_time("2026-03-04 10:00:00"):
            visit = cls._book(cls.l6, "2026-03-06 09:00:00")
        with freeze_time("2026-03-06 10:00:00"):
            visit.action_mark_done()
        cls.l7 = cls._walk("L7", "04-02", "A", cls.source_website, cls.cs_user, "04-03", None, None, None)
        # reactivations: one came back, one did not
        for index, won in enumerate((True, False)):
            with freeze_time(f"2026-03-0{5 + index} 09:00:00"):
                lead = cls._prospect(f"R{index}", phone=f"1380013{8990 + index}", clinic_kind="reactivation")
                (lead.action_set_won if won else lead.action_set_lost)()
        # treatment plans: done, declined, still proposed; and one in April
        patient = cls._patient("Plan Patient", mobile="13800138980")
        for day, amount, fate in (
            ("03-02", 400, "done"),
            ("03-04", 600, "declined"),
            ("03-20", 200, None),
            ("04-01", 900, None),
        ):
            with freeze_time(f"2026-{day} 09:00:00"):
                plan = cls.env["clinic.treatment.plan"].create(
                    {
                        "name": f"Plan {day}",
                        "patient_id": patient.id,
                        "department_id": cls.dental.id,
                        "line_ids": [(0, 0, {"name": "Treatment", "amount": amount})],
                    }
                )
            if fate == "done":
                plan.lead_id.action_set_won()
            elif fate == "declined":
                plan.lead_id.action_set_lost(lost_reason_id=cls.env.ref("crm.lost_reason_1").id)
        cls.Report = cls.env["clinic.conversion.report"].with_user(cls.manager)

    @classmethod
    def _walk(cls, name, recorded, grade, source, user, reached, booked, visit_day, outcome):
        cls.phone += 1
        with freeze_time(f"2026-{recorded} 09:00:00"):
            lead = cls._prospect(
                name, phone=str(cls.phone), clinic_grade_id=cls.grades[grade].id, source_id=source.id, user_id=user.id
            )
        if reached:
            with freeze_time(f"2026-{reached} 09:00:00"):
                lead._clinic_move_to("reached")
        if booked:
            with freeze_time(f"2026-{booked} 09:00:00"):
                visit = cls._book(lead, f"2026-{visit_day} 09:00:00")
            with freeze_time(datetime.fromisoformat(f"2026-{visit_day} 09:00:00") + timedelta(hours=1)):
                if outcome == "done":
                    visit.action_mark_done()
                elif outcome == "no_show":
                    visit.action_mark_no_show()
        if outcome == "lost":
            lead.action_set_lost(lost_reason_id=cls.reason_elsewhere.id)
        return lead

    def _assert_line(self, line, prospects, reached, booked, won, lost=None):
        self.assertEqual(
            (line["prospects"], line["reached"], line["booked"], line["won"]), (prospects, reached, booked, won)
        )
        if lost is not None:
            self.assertEqual(line["lost"], lost)

    def test_dental_funnel_rates_and_median_days(self):
        [line] = self.Report._funnel(*MARCH, department_ids=self.dental.ids)
        self._assert_line(line, 5, 4, 3, 2, lost=1)
        self.assertAlmostEqual(line["reached_rate"], 0.8)
        self.assertAlmostEqual(line["booked_rate"], 0.6)
        self.assertAlmostEqual(line["won_rate"], 0.4)
        self.assertAlmostEqual(line["to_reach"], 2.5)
        self.assertAlmostEqual(line["to_book"], 1.0)
        self.assertAlmostEqual(line["to_visit"], 4.5)
        self.assertAlmostEqual(line["to_win"], 7.5)

    def test_whole_clinic_and_by_department(self):
        [line] = self.Report._funnel(*MARCH)
        self._assert_line(line, 6, 5, 4, 3)
        self.assertAlmostEqual(line["to_reach"], 2.0)  # [1, 1, 2, 3, 5]
        self.assertAlmostEqual(line["to_visit"], 3.0)  # [47/24, 3, 6]
        self.assertAlmostEqual(line["to_win"], 7.0)  # [3, 7, 8]
        by_department = {line["key"]: line for line in self.Report._funnel(*MARCH, group_by="department_id")}
        self.assertEqual(set(by_department), {self.dental, self.cardiology})
        self._assert_line(by_department[self.dental], 5, 4, 3, 2)
        self._assert_line(by_department[self.cardiology], 1, 1, 1, 1)

    def test_by_source_grade_and_consultant(self):
        dental = self.dental.ids
        by_source = {line["key"]: line for line in self.Report._funnel(*MARCH, dental, group_by="source_id")}
        self._assert_line(by_source[self.source_referral], 2, 2, 1, 1)
        self._assert_line(by_source[self.source_website], 2, 2, 2, 1)
        self._assert_line(by_source[self.source_walk_in], 1, 0, 0, 0)
        by_grade = {line["key"].code: line for line in self.Report._funnel(*MARCH, dental, group_by="grade_id")}
        self.assertEqual(set(by_grade), {"A", "B", "C", "E"})
        self._assert_line(by_grade["A"], 1, 1, 1, 1)
        self._assert_line(by_grade["B"], 2, 2, 2, 1)
        self._assert_line(by_grade["E"], 1, 0, 0, 0)
        by_user = {line["key"]: line for line in self.Report._funnel(*MARCH, dental, group_by="user_id")}
        self._assert_line(by_user[self.cs_user], 3, 2, 2, 2)
        self._assert_line(by_user[self.manager], 2, 2, 1, 0)

    def test_agent_gets_their_departments_only(self):
        [line] = self.env["clinic.conversion.report"].with_user(self.cs_user_2)._funnel(*MARCH)
        self._assert_line(line, 1, 1, 1, 1)

    def test_treatment_plan_conversion_and_value(self):
        figures = self.Report._treatment_figures(*MARCH, department_ids=self.dental.ids)
        self.assertEqual(
            {key: figures[key] for key in ("proposed", "proposed_value", "done", "done_value", "declined", "open")},
            {"proposed": 3, "proposed_value": 1200, "done": 1, "done_value": 400, "declined": 1, "open": 1},
        )
        self.assertAlmostEqual(figures["conversion_rate"], 1 / 3)
        self.assertAlmostEqual(figures["value_rate"], 1 / 3)

    def test_reactivation_rate(self):
        figures = self.Report._reactivation_figures(*MARCH, department_ids=self.dental.ids)
        self.assertEqual((figures["opened"], figures["won"], figures["lost"]), (2, 1, 1))
        self.assertAlmostEqual(figures["rate"], 0.5)

    def test_pivot_rates_are_shares_of_prospects(self):
        start, end = datetime(2026, 3, 1), datetime(2026, 4, 1)
        [(count, won_pct, reached_pct)] = self.Report._read_group(
            [
                ("department_id", "=", self.dental.id),
                ("kind", "=", "prospect"),
                ("date", ">=", start),
                ("date", "<", end),
            ],
            [],
            ["prospect_count:sum", "won_pct:avg", "reached_pct:avg"],
        )
        self.assertEqual(count, 5)
        self.assertAlmostEqual(won_pct, 40.0)
        self.assertAlmostEqual(reached_pct, 80.0)

    def test_excel_sheets(self):
        content = (
            self.env["clinic.retention.xlsx"].with_user(self.manager)._build(*MARCH, department_ids=self.dental.ids)
        )
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        self.assertLessEqual({"Conversion", "Treatment plans", "Referrals"}, set(workbook.sheetnames))
        conversion = workbook["Conversion"]
        rows = list(conversion.iter_rows(values_only=True))
        total = next(row for row in rows if row[0] == "All")
        self.assertEqual(total[1:6], (5, 4, 3, 2, 1))
        self.assertAlmostEqual(total[8], 0.4)
        self.assertAlmostEqual(total[9], 2.5)
        self.assertAlmostEqual(total[12], 7.5)
        grade_a = next(row for row in rows if row[0] == self.grades["A"].display_name)
        self.assertEqual(grade_a[1:5], (1, 1, 1, 1))
        reactivation_header = next(
            index for index, row in enumerate(rows) if row[0] == "Reactivation of lapsed patients"
        )
        self.assertEqual(rows[reactivation_header + 2][:4], (2, 1, 1, 1), "won implies reached and booked")
        treatment = list(workbook["Treatment plans"].iter_rows(values_only=True))
        self.assertEqual(next(row for row in treatment if row[0] == "All departments")[1:4], (3, 1200, 1))

    def test_dashboard_tiles(self):
        with freeze_time("2026-03-20 12:00:00"):
            dashboard = (
                self.env["clinic.retention.dashboard"]
                .with_user(self.manager)
                .create({"period": "month", "department_ids": [(6, 0, self.dental.ids)]})
            )
            self.assertAlmostEqual(dashboard.current_conversion_rate, 40.0)
            self.assertAlmostEqual(dashboard.current_treatment_rate, 33.3, places=1)
            self.assertAlmostEqual(dashboard.current_reactivation_rate, 50.0)
            self.assertEqual(dashboard.current_referral_count, 0)
            action = dashboard.with_context(kpi="conversion", which="current").action_drill_crm()
            self.assertEqual(action["res_model"], "clinic.conversion.report")
