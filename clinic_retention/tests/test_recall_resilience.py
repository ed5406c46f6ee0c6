from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.addons.clinic_retention.models import clinic_recall_rule
from odoo.addons.clinic_retention.models.clinic_followup_task_batch import BATCH_COMPANY_CHECKED
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_recall_engine import RecallCase

ENGINE_LOGGER = "odoo.addons.clinic_retention.models.clinic_recall_rule"


@tagged("post_install", "-at_install")
class TestRecallResilience(RecallCase):
    """The engine cannot be poisoned: key collisions are resolved, a bad
    rule or row is logged and skipped, archiving a task does not stop a
    patient's recalls, and dates are the clinic's local dates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.Rule.create(
            {
                "name": "Check-up every 6 months",
                "kind": "recall",
                "department_id": cls.dental.id,
                "service_id": cls.checkup.id,
                "interval_number": 6,
                "interval_unit": "months",
                "lead_days": 14,
                "max_overdue_days": 0,
            }
        )
        cls.anna = cls._consenting("Anna")
        cls.anna_visit = cls._visit(cls.anna, "2026-01-10 09:00:00", service_id=cls.checkup.id)

    def _key(self, patient, due):
        return f"r{self.rule.id}:p{patient.id}:d{due}"

    def test_three_write_poisoning_does_not_stop_the_engine(self):
        """Security review #5: an open task is re-keyed away, a manual task
        takes its key, and the next run's resync used to raise a unique
        violation on every run, for every rule."""
        with freeze_time("2026-06-28 08:00:00"):
            task = self._run(self.rule)
            key = self._key(self.anna, "2026-07-10")
            self.assertEqual(task.recall_key, key)
            # the three writes (the review did them as an agent over RPC; agents
            # can no longer write these fields, see the next test)
            task.write({"recall_key": "x", "due_date": "2000-01-01"})
            self.env.flush_all()
            squatter = self.Task.create(
                {"name": "n", "patient_id": self.anna.id, "department_id": self.dental.id, "recall_key": key}
            )
            self.assertFalse(self._run(self.rule), "no second open task for Anna")
            self.assertEqual(task.due_date, date(2026, 7, 10), "the open task follows the due date again")
            self.assertEqual(task.recall_key, f"{key}:t{task.id}", "and keeps a key of its own")
            self.assertEqual(squatter.recall_key, key)
            # the next run succeeds and is stable
            self.assertFalse(self._run(self.rule))
            bob = self._consenting("Bob")
            self._visit(bob, "2026-01-10 10:00:00", service_id=self.checkup.id)
            self.assertEqual(self._run(self.rule).patient_id, bob, "the engine still opens new tasks")

    def test_realistic_collision_after_a_cancelled_walk_in(self):
        """The review's realistic path: T1 closed on due D1, T2 opened for D2,
        then the visit behind D2 is cancelled: T2 moves back to D1, whose key
        T1 holds."""
        with freeze_time("2026-06-28 08:00:00"):
            first = self._run(self.rule)
            first._move_to("unreachable", outcome="not_reached")
        walk_in = self._visit(self.anna, "2026-07-20 09:00:00", service_id=self.checkup.id)
        with freeze_time("2027-01-06 08:00:00"):
            second = self._run(self.rule)
            self.assertEqual(second.due_date, date(2027, 1, 20))
            walk_in.write({"state": "cancelled"})
            self.assertFalse(self._run(self.rule))
            self.assertEqual(second.due_date, date(2026, 7, 10))
            self.assertEqual(second.recall_key, f"{self._key(self.anna, '2026-07-10')}:t{second.id}")
            self.assertEqual(first.recall_key, self._key(self.anna, "2026-07-10"))

    def test_agents_cannot_rewrite_engine_fields(self):
        with freeze_time("2026-06-28 08:00:00"):
            task = self._run(self.rule)
        agent_task = task.with_user(self.cs_user)
        with self.assertRaises(AccessError):
            agent_task.write({"recall_key": "x"})
        with self.assertRaises(AccessError):
            agent_task.write({"due_date": "2000-01-01"})
        with self.assertRaises(AccessError):
            self.Task.with_user(self.cs_user).create(
                {
                    "name": "n",
                    "patient_id": self.anna.id,
                    "department_id": self.dental.id,
                    "recall_key": self._key(self.anna, "2027-01-10"),
                }
            )
        agent_task.write({"name": "Call Anna"})  # the rest stays editable
        self.assertEqual(agent_task.copy().due_date, False, "a copy is a new task, not the recall")

    def test_a_failing_rule_is_skipped_and_the_others_run(self):
        cardio = self.Rule.create(
            {
                "name": "Cardiology yearly",
                "kind": "recall",
                "department_id": self.cardiology.id,
                "interval_number": 12,
                "interval_unit": "months",
                "max_overdue_days": 0,
            }
        )
        bob = self._consenting("Bob")
        self._visit(bob, "2025-07-01 09:00:00", department=self.cardiology)
        original = type(self.Rule)._prepare_run

        def prepare_run(rule, limit):
            if rule == self.rule:
                raise ValueError("broken rule")
            return original(rule, limit)

        with (
            freeze_time("2026-07-01"),
            patch.object(type(self.Rule), "_prepare_run", prepare_run),
            self.assertLogs(ENGINE_LOGGER, "ERROR") as logs,
        ):
            created, more = self.Rule._run_batch(rules=self.rule | cardio)
        self.assertEqual((created.patient_id, more), (bob, False))
        self.assertIn("failed and was skipped", logs.output[0])
        with freeze_time("2026-07-01"):
            self.assertEqual(self._run(self.rule).patient_id, self.anna, "once repaired, it runs")

    def test_a_bad_row_is_skipped_and_the_others_open(self):
        bob = self._consenting("Bob")
        values = [
            {"name": "Good", "patient_id": self.anna.id, "department_id": self.dental.id, "recall_key": "k1"},
            {"name": "Bad", "patient_id": bob.id, "department_id": self.dental.id, "satisfaction_score": 9},
            {"name": "Good too", "patient_id": bob.id, "department_id": self.dental.id, "recall_key": "k3"},
            {"name": "Taken", "patient_id": bob.id, "department_id": self.dental.id, "recall_key": "k1"},
        ]
        with mute_logger(ENGINE_LOGGER):
            tasks = self.Rule._create_tasks(values)
        self.assertEqual(tasks.mapped("name"), ["Good", "Good too"])

    def test_archiving_a_task_does_not_stop_the_recall(self):
        """Security review #17: an agent archiving a recall task (to clear the
        board) used to stop that patient's recalls for good."""
        self.assertTrue(self.Task._fields["active"].tracking, "archiving is tracked")
        with freeze_time("2026-06-28 08:00:00"):
            task = self._run(self.rule)
            task.with_user(self.cs_user).action_archive()
            again = self._run(self.rule)
            self.assertEqual(len(again), 1)
            self.assertEqual((again.patient_id, again.due_date), (self.anna, date(2026, 7, 10)))
            self.assertEqual(again.recall_key, self._key(self.anna, "2026-07-10"))
            self.assertEqual(task.recall_key, f"{self._key(self.anna, '2026-07-10')}:archived:{task.id}")
            self.assertFalse(self._run(self.rule), "once, not every run")
            # a closed task that is archived still stands for its recall
            again._move_to("done", outcome="reached")
            again.action_archive()
            self.assertFalse(self._run(self.rule))

    def test_due_dates_are_the_clinics_local_dates(self):
        """A 07:30 visit in Shanghai is 23:30 UTC the day before: the recall is
        due six months after the local day, not the UTC one."""
        self.company.clinic_tz = "Asia/Shanghai"
        early = self._consenting("Early bird")
        self._visit(early, datetime(2026, 1, 9, 23, 30), service_id=self.checkup.id)
        # 2026-06-26 00:30 in Shanghai: 14 days before 2026-07-10 already
        with freeze_time("2026-06-25 16:30:00"):
            tasks = self._run(self.rule)
        self.assertEqual(tasks.filtered(lambda t: t.patient_id == early).due_date, date(2026, 7, 10))
        self.assertIn(self.anna, tasks.patient_id, "'today' is Shanghai's 26 June, not UTC's 25 June")

    def test_run_now_is_for_managers_and_stays_short(self):
        with self.assertRaises(AccessError):
            self.rule.with_user(self.cs_user).action_run_now()
        for index in range(3):
            patient = self._consenting(f"Now {index}")
            self._visit(patient, "2026-01-10 09:00:00", service_id=self.checkup.id)
        cron = self.env.ref("clinic_retention.ir_cron_clinic_recall_rules")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        with freeze_time("2026-07-01"), patch.object(clinic_recall_rule, "RUN_NOW_LIMIT", 2):
            action = self.rule.with_user(self.manager).action_run_now()
        self.assertEqual(self.Task.search_count([("rule_id", "=", self.rule.id)]), 2, "two in the request")
        self.assertIn("background", action["params"]["message"])
        after = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertEqual(after, triggers + 1, "the scheduled action opens the rest")
        run_now = self.env.ref("clinic_retention.clinic_recall_rule_action_run_selected")
        self.assertEqual(run_now.groups_id, self.env.ref("clinic_retention.group_clinic_retention_manager"))


@tagged("post_install", "-at_install")
class TestRecallQueryCount(RecallCase):
    """The engine's queries per batch do not grow with the batch size."""

    def _queries_to_open(self, count, name):
        department = self.env["clinic.department"].create(
            {"name": name, "member_ids": [(6, 0, (self.cs_user | self.cs_user_2).ids)]}
        )
        rule = self.Rule.create(
            {
                "name": name,
                "kind": "recall",
                "department_id": department.id,
                "interval_number": 6,
                "interval_unit": "months",
                "max_overdue_days": 0,
            }
        )
        patients = self.env["clinic.patient"].create(
            [{"name": f"{name} {index}", "care_consent": True} for index in range(count)]
        )
        for patient in patients:
            self._visit(patient, "2026-01-10 09:00:00", department=department)
        self.env.flush_all()
        self.env.invalidate_all()
        with freeze_time("2026-07-01"):
            before = self.env.cr.sql_log_count
            created, more = self.Rule._run_batch(rules=rule)
            self.env.flush_all()
            queries = self.env.cr.sql_log_count - before
        self.assertEqual((len(created), more), (count, False))
        self.assertEqual(len(created.message_follower_ids), count, "each task followed by its assignee")
        return queries

    def test_queries_per_batch_are_constant(self):
        self._queries_to_open(2, "Warm-up")  # fills the registry caches (subtypes, defaults)
        small = self._queries_to_open(5, "Small batch")
        large = self._queries_to_open(60, "Large batch")
        self.assertEqual(small, large, "same queries for 5 and 60 tasks")
        self.assertLessEqual(large, 40)


@tagged("post_install", "-at_install")
class TestRecallBatchCompany(RecallCase):
    """The engine checks the companies of a batch of tasks at once (one
    query) and works out their defaults once, instead of record by record
    in create(): the same tasks, the same refusals."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.anna = cls._consenting("Anna")
        cls.bob = cls._consenting("Bob")
        cls.stranger = cls._consenting("Stranger", company_id=cls.other_company.id)
        cls.stranger_visit = cls._visit(cls.stranger, "2026-01-10 09:00:00", department=cls.other_department)

    def _values(self, *patients, **extra):
        return [
            dict(
                extra,
                name=f"Call {patient.name}",
                patient_id=patient.id,
                department_id=self.dental.id,
                recall_key=f"batch:{index}",
            )
            for index, patient in enumerate(patients)
        ]

    def test_a_cross_company_patient_is_refused_and_the_others_open(self):
        with self.assertLogs(ENGINE_LOGGER, "INFO") as logs:
            tasks = self.Rule._create_tasks(self._values(self.anna, self.stranger, self.bob))
        self.assertEqual(tasks.patient_id, self.anna | self.bob, "the rest of the batch opens, row by row")
        [refusal] = logs.output
        self.assertIn("the task batch:1 could not be opened; skipped", refusal)
        self.assertIn("Incompatible companies on records", refusal, "Odoo's own refusal")
        self.assertFalse(self.Task.search([("patient_id", "=", self.stranger.id)]))

    def test_a_cross_company_origin_visit_is_refused(self):
        values = self._values(self.anna, self.bob)
        values[1]["visit_id"] = self.stranger_visit.id
        with mute_logger(ENGINE_LOGGER):
            tasks = self.Rule._create_tasks(values)
        self.assertEqual(tasks.patient_id, self.anna)

    def test_the_batch_refuses_with_the_error_create_raises(self):
        Task = self.Task.sudo()
        errors = []
        for create in (Task.create, Task._create_batch):
            with self.assertRaises(UserError) as refusal, self.env.cr.savepoint():
                create(self._values(self.anna, self.stranger, self.bob))
            errors.append(str(refusal.exception))
        self.assertIn("Incompatible companies on records", errors[0])
        self.assertEqual(errors[1], errors[0])

    def test_a_consistent_batch_is_checked_once_with_the_same_defaults(self):
        """Rows like the engine's (every field that has a default given): one
        company query and one ``default_get`` for the batch; the defaults of
        the context and ``ir.default`` still apply to every row, and the
        tasks' later writes are checked as usual."""
        rule = self.Rule.create(
            {"name": "Yearly", "kind": "recall", "department_id": self.dental.id, "interval_number": 12}
        )
        self.env["ir.default"].set("clinic.followup.task", "notes", "<p>From the defaults</p>")
        Task = self.Task.sudo().with_context(default_color=4)
        TaskClass = type(self.Task)
        with (
            patch.object(TaskClass, "default_get", autospec=True, side_effect=TaskClass.default_get) as default_get,
            patch.object(
                TaskClass, "_check_company", autospec=True, side_effect=TaskClass._check_company
            ) as check_company,
        ):
            values = self._values(self.anna, self.bob, self.anna, user_id=self.cs_user.id, **rule._task_defaults())
            tasks = Task._create_batch(values)
        with patch.object(TaskClass, "_write_multi", autospec=True, side_effect=TaskClass._write_multi) as update:
            self.env.flush_all()
        self.assertFalse(update.called, "the flush found the stored computed fields computed already")
        self.assertEqual(len(tasks), 3)
        self.assertEqual(default_get.call_count, 2, "once for the company check, once for the defaults")
        self.assertEqual(check_company.call_count, 1, "create()'s check, skipped: the batch was checked")
        self.assertEqual(set(tasks.mapped("color")), {4})
        self.assertEqual(set(tasks.mapped("notes")), {"<p>From the defaults</p>"})
        self.assertEqual(tasks.stage_id, self.Task._stage_of_kind("new", self.dental))
        self.assertEqual((tasks.company_id, tasks.rule_id), (self.company, rule))
        tasks.invalidate_recordset()
        self.assertEqual(set(tasks.mapped("state")), {"new"})
        self.assertEqual(tasks.mapped("is_closed") + tasks.mapped("is_success"), [False] * 6)
        self.assertEqual(tasks.mapped("recovery_score"), [0.0] * 3)
        self.assertNotIn(BATCH_COMPANY_CHECKED, tasks.env.context, "the tasks do not carry the key")
        with self.assertRaises(UserError):
            tasks[0].write({"patient_id": self.stranger.id})

    def test_the_engine_gives_every_field_that_has_a_default(self):
        """Else create() asks ``default_get`` row by row again."""
        rule = self.Rule.create(
            {"name": "Yearly", "kind": "recall", "department_id": self.dental.id, "interval_number": 12}
        )
        given = set(
            rule._task_values(
                [
                    {
                        "patient_id": self.anna.id,
                        "due_date": date(2026, 7, 1),
                        "visit_id": False,
                        "step_id": False,
                        "recall_key": "k",
                    }
                ]
            )[0]
        )
        with_default = {name for name, field in self.Task._fields.items() if field.default}
        self.assertLessEqual(with_default, given)
