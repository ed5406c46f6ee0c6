from datetime import date

from odoo.tests import tagged

from .test_reports import ReportsCase

Q1_MONTHS = [("date", ">=", date(2026, 1, 1)), ("date", "<=", date(2026, 3, 1))]


@tagged("post_install", "-at_install")
class TestRetentionPivotTotals(ReportsCase):
    """The monthly KPI report's totals are the rates of the totals, not
    averages of the rows. The rows of Q1 2026 (365-day window, 180-day
    lapse), worked out by hand from the visits of ``ReportsCase``:

    ========  ======  ===  ===  ===  ====  =====  ======
    dept      month   S    N    E    lost  PRR    lapsed
    ========  ======  ===  ===  ===  ====  =====  ======
    dental    Jan     2    0    3    0     150 %  2
    dental    Feb     3    0    2    1     67 %   0
    dental    Mar     2    1    3    0     100 %  0
    cardio    Jan-Mar 1    0    1    0     100 %  0
    ========  ======  ===  ===  ===  ====  =====  ======

    Dental Jan: S = P1, P2; E = P1, P2, P4 (back on 20 January); P1 (June)
    and P2 (February 2025) had no visit in the 180 days before 1 February.
    Dental Feb: P2 leaves the window. Dental Mar: P3 is new.
    """

    def _report(self, user=None):
        return self.env["clinic.retention.report"].with_user(user or self.manager).with_company(self.company)

    def _domain(self, *extra):
        return [("company_id", "=", self.company.id), *Q1_MONTHS, *extra]

    def test_rows_worked_out_by_hand(self):
        rows = self._report().search(self._domain())
        figures = {
            (row.department_id, row.date.month): (
                row.patients_start,
                row.patients_new,
                row.patients_end,
                row.patients_lost,
                round(row.prr, 2),
                row.patients_lapsed,
            )
            for row in rows
        }
        self.assertEqual(
            figures,
            {
                (self.dental, 1): (2, 0, 3, 0, 150.0, 2),
                (self.dental, 2): (3, 0, 2, 1, round(200 / 3, 2), 0),
                (self.dental, 3): (2, 1, 3, 0, 100.0, 0),
                (self.cardio, 1): (1, 0, 1, 0, 100.0, 0),
                (self.cardio, 2): (1, 0, 1, 0, 100.0, 0),
                (self.cardio, 3): (1, 0, 1, 0, 100.0, 0),
            },
        )

    def test_total_rates_are_rates_of_the_totals(self):
        Report = self._report()
        aggregates = ["patients_start:sum", "patients_new:sum", "patients_end:sum", "prr:avg", "churn:avg"]
        [(start, new, end, prr, churn)] = Report._read_group(self._domain(), [], aggregates)
        # S = 2+3+2+1+1+1, N = 1, E = 3+2+3+1+1+1, lost = 1
        self.assertEqual((start, new, end), (10, 1, 11))
        self.assertAlmostEqual(prr, 100.0 * (11 - 1) / 10)
        self.assertAlmostEqual(churn, 100.0 * 1 / 10)
        row_average = sum(Report.search(self._domain()).mapped("prr")) / 6
        self.assertNotAlmostEqual(prr, row_average, places=1, msg="not the average of the rows (102.8 %)")
        # per department over the quarter: dental S = 7, N = 1, E = 8, lost = 1
        by_department = {
            department: (prr, churn)
            for department, prr, churn in Report._read_group(
                self._domain(), ["department_id"], ["prr:avg", "churn:avg"]
            )
        }
        self.assertAlmostEqual(by_department[self.dental][0], 100.0 * (8 - 1) / 7)
        self.assertAlmostEqual(by_department[self.dental][1], 100.0 / 7)
        self.assertAlmostEqual(by_department[self.cardio][0], 100.0)

    def test_pivot_and_list_totals(self):
        """What the pivot and the grouped list ask for (``read_group`` with
        the fields' own aggregators)."""
        Report = self._report()
        fields = ["prr", "churn", "avg_value", "lifetime_value", "avg_days_between_visits", "patients_start"]
        [total] = Report.read_group(self._domain(), fields, [])
        rows = Report.search(self._domain())
        self.assertAlmostEqual(total["prr"], 100.0)
        self.assertAlmostEqual(total["churn"], 10.0)
        self.assertEqual(total["patients_start"], 10)
        ends = sum(rows.mapped("patients_end"))
        self.assertAlmostEqual(total["avg_value"], sum(r.avg_value * r.patients_end for r in rows) / ends, places=4)
        self.assertAlmostEqual(
            total["lifetime_value"], sum(r.lifetime_value * r.patients_end for r in rows) / ends, places=4
        )
        returns = sum(rows.mapped("return_visit_count"))
        self.assertEqual(returns, 3, "P1 (February), P4 (January), P5 (March)")
        self.assertAlmostEqual(
            total["avg_days_between_visits"],
            sum(r.avg_days_between_visits * r.return_visit_count for r in rows) / returns,
            places=4,
        )
        by_month = dict(Report._read_group(self._domain(), ["date:month"], ["prr:avg"]))
        self.assertEqual(len(by_month), 3)
        # February over both departments: (2 + 1 − 0) / (3 + 1)
        self.assertAlmostEqual(by_month[date(2026, 2, 1)], 75.0)
        # one row: its own figures
        [single] = Report.read_group(
            self._domain(("department_id", "=", self.dental.id), ("date", "=", date(2026, 1, 1))), ["prr"], []
        )
        self.assertAlmostEqual(single["prr"], 150.0)

    def test_agent_totals_cover_their_departments_only(self):
        [(prr, start)] = self._report(self.agent)._read_group(self._domain(), [], ["prr:avg", "patients_start:sum"])
        self.assertEqual(start, 7, "dental only")
        self.assertAlmostEqual(prr, 100.0)

    def test_lapsed_in_the_kpis(self):
        Kpi = self.env["clinic.retention.kpi"].with_user(self.manager).with_company(self.company)
        [january] = Kpi._compute(date(2026, 1, 1), date(2026, 1, 31), department_ids=self.dental.ids)
        self.assertEqual(january["patients_lapsed"], 2)
        patients = Kpi._patient_ids("lapsed", date(2026, 1, 1), date(2026, 1, 31), department_ids=self.dental.ids)
        self.assertEqual(patients, sorted((self.p1 | self.p2).ids))
        [quarter] = self._kpis(self.manager)
        self.assertEqual(quarter["patients_lapsed"], 0)
        self.assertEqual(quarter["return_visit_count"], 3)
