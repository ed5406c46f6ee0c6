from datetime import date, datetime, timedelta

from odoo.tests import TransactionCase, new_test_user, tagged

REPORTS = ("clinic.satisfaction.report", "clinic.followup.report", "clinic.followed.report", "clinic.retention.report")


@tagged("post_install", "-at_install")
class TestReportQueryCount(TransactionCase):
    """The dashboard, the report models and the Excel export run the same
    number of queries whatever the number of patients, visits, tasks,
    answers and complaints: aggregates are computed by PostgreSQL, never
    record by record."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, no_reset_password=True))
        cls.company = cls.env["res.company"].create({"name": "Query Clinic"})
        company_vals = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        cls.manager = new_test_user(
            cls.env, login="queries_manager", groups="clinic_retention.group_clinic_retention_manager", **company_vals
        )
        cls.agent = new_test_user(
            cls.env, login="queries_agent", groups="clinic_retention.group_clinic_retention_user", **company_vals
        )
        cls.department = cls.env["clinic.department"].create(
            {"name": "Query Dental", "company_id": cls.company.id, "member_ids": [(6, 0, cls.agent.ids)]}
        )
        cls.serial = 0

    def _add_data(self, count):
        """``count`` patients, each with two done visits (one this year), a
        closed and an overdue follow-up, a survey answer and an open complaint."""
        Patient = self.env["clinic.patient"].with_company(self.company)
        today = date.today()
        done = self.env.ref("clinic_retention.followup_stage_done")
        for _index in range(count):
            self.serial += 1
            patient = Patient.create({"name": f"Query patient {self.serial}", "company_id": self.company.id})
            for start in (datetime.now() - timedelta(days=400), datetime.now() - timedelta(days=20)):
                visit = self.env["clinic.visit"].create(
                    {
                        "patient_id": patient.id,
                        "department_id": self.department.id,
                        "company_id": self.company.id,
                        "start": start,
                        "stop": start + timedelta(minutes=30),
                        "state": "done",
                        "amount": 50,
                    }
                )
            Task = self.env["clinic.followup.task"]
            Task.create(
                {"name": "closed", "patient_id": patient.id, "department_id": self.department.id, "reason": "recall"}
            ).write({"stage_id": done.id, "outcome": "reached"})
            Task.create(
                {
                    "name": "overdue",
                    "patient_id": patient.id,
                    "department_id": self.department.id,
                    "date_deadline": today - timedelta(days=2),
                    "user_id": self.agent.id,
                }
            )
            self.env["clinic.survey.response"].create(
                {
                    "patient_id": patient.id,
                    "visit_id": visit.id,
                    "department_id": self.department.id,
                    "company_id": self.company.id,
                    "state": "answered",
                    "score": 4,
                    "submitted_date": datetime.now() - timedelta(days=19),
                }
            )
            self.env["clinic.complaint"].create(
                {
                    "name": "complaint",
                    "description": "Waited",
                    "company_id": self.company.id,
                    "patient_id": patient.id,
                    "department_id": self.department.id,
                }
            )
        self.env["clinic.retention.report"]._refresh()
        self.env.flush_all()

    def _count(self, function):
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        function()  # warm the registry caches (views, rules, translations)
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        function()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def _as(self, user):
        return self.env(user=user, context=dict(self.env.context, allowed_company_ids=self.company.ids))

    def _dashboard(self, user):
        env = self._as(user)

        def run():
            dashboard = env["clinic.retention.dashboard"].create({"period": "year"})
            dashboard.read([name for name in dashboard._fields if name.startswith(("current_", "previous_"))])
            dashboard.read(["open_complaint_count", "overdue_complaint_count", "overdue_task_count"])
            for kpi in ("patients_start", "patients_new", "patients_end", "patients_lost"):
                dashboard.with_context(kpi=kpi).action_drill()
            # the client action's one call: tiles and every chart
            env["clinic.retention.dashboard"].get_dashboard_data("year")

        return run

    def _reports(self, user):
        env = self._as(user)

        def run():
            for model in REPORTS:
                env[model]._read_group([], ["department_id"], ["__count"])
                env[model].search_read([], limit=80)

        return run

    def _export(self, user):
        env = self._as(user)

        def run():
            env["clinic.retention.xlsx"]._build(date.today().replace(month=1, day=1), date.today())

        return run

    def test_queries_do_not_grow_with_records(self):
        self._add_data(2)
        small = {
            (name, user.login): self._count(factory(user))
            for name, factory in (("dashboard", self._dashboard), ("reports", self._reports), ("export", self._export))
            for user in (self.manager, self.agent)
        }
        self._add_data(25)
        large = {
            (name, user.login): self._count(factory(user))
            for name, factory in (("dashboard", self._dashboard), ("reports", self._reports), ("export", self._export))
            for user in (self.manager, self.agent)
        }
        self.assertEqual(small, large, "the same queries for 2 and 27 patients")
        # the form view's figures and drill-downs, and the client action's whole call
        self.assertLessEqual(large[("dashboard", self.manager.login)], 120)
