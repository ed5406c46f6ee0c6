import threading
import time
from datetime import datetime

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestRecallConcurrency(TransactionCase):
    """Two runs of the engine at once, in two real transactions, never open
    the same follow-up twice. The data is committed (each run needs its own
    connection to see it) and removed at the end."""

    PATIENTS = 5

    def _env(self, cr):
        # Give the cursor its transaction ourselves: looking the registry up
        # again would wait on the registry lock the test runner holds.
        cr.transaction = api.Transaction(self.registry)
        return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            active_rules = env["clinic.recall.rule"].search([])
            active_rules.write({"active": False})
            department = env["clinic.department"].create({"name": "Concurrency dental"})
            patients = env["clinic.patient"].create(
                [{"name": f"Concurrent {index}", "care_consent": True} for index in range(self.PATIENTS)]
            )
            env["clinic.visit"].create(
                [
                    {
                        "patient_id": patient.id,
                        "department_id": department.id,
                        "state": "done",
                        "start": datetime(2020, 1, 1, 9),
                        "stop": datetime(2020, 1, 1, 9, 30),
                    }
                    for patient in patients
                ]
            )
            rule = env["clinic.recall.rule"].create(
                {
                    "name": "Concurrency rule",
                    "department_id": department.id,
                    "interval_number": 1,
                    "interval_unit": "months",
                    "max_overdue_days": 0,
                    "assignment": "none",
                }
            )
            self.fixture = {
                "rule": rule.id,
                "department": department.id,
                "patients": patients.ids,
                "partners": patients.partner_id.ids,
                "rules_off": active_rules.ids,
            }
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            fixture = self.fixture
            env["clinic.followup.task"].search([("rule_id", "=", fixture["rule"])]).unlink()
            env["clinic.recall.rule"].browse(fixture["rule"]).unlink()
            env["clinic.visit"].search([("patient_id", "in", fixture["patients"])]).unlink()
            env["clinic.patient"].browse(fixture["patients"]).unlink()
            env["res.partner"].browse(fixture["partners"]).unlink()
            env["clinic.department"].browse(fixture["department"]).unlink()
            env["clinic.recall.rule"].browse(fixture["rules_off"]).write({"active": True})

    def _count_tasks(self):
        with self.registry.cursor() as cr:
            return self._env(cr)["clinic.followup.task"].search_count([("rule_id", "=", self.fixture["rule"])])

    def _run(self, env):
        rule = env["clinic.recall.rule"].browse(self.fixture["rule"])
        return rule._run_batch(rules=rule)[0]

    def test_second_run_with_an_older_snapshot_creates_nothing(self):
        """Run B started before run A committed: B still sees no task, tries
        to open all of them, and the unique key refuses every one."""
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a, env_b = self._env(cr_a), self._env(cr_b)
            cr_b.execute("SELECT COUNT(*) FROM clinic_followup_task")  # B's snapshot starts now
            created_a = self._run(env_a)
            cr_a.commit()
            created_b = self._run(env_b)
            cr_b.commit()
            self.assertEqual(len(created_a), self.PATIENTS)
            self.assertEqual(len(created_b), 0)
        self.assertEqual(self._count_tasks(), self.PATIENTS)

    def _wait_until_blocked(self, pid, thread, timeout=30):
        """Wait until the backend ``pid`` waits on a lock (PostgreSQL says so
        in pg_stat_activity); False if the thread ended or time ran out."""
        deadline = time.monotonic() + timeout
        with self.registry.cursor() as cr:
            while time.monotonic() < deadline and thread.is_alive():
                cr.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
                row = cr.fetchone()
                if row and row[0] == "Lock":
                    return True
                cr.rollback()  # a fresh snapshot of pg_stat_activity
                thread.join(timeout=0.05)
        return False

    def test_two_runs_at_the_same_time(self):
        """Run B inserts while run A has inserted but not committed: B waits
        on A's lock (PostgreSQL shows B's backend waiting on a Lock), then
        skips what A opened."""
        results = {}
        with self.registry.cursor() as cr_a:
            env_a = self._env(cr_a)
            results["a"] = len(self._run(env_a))

            def run_b():
                with self.registry.cursor() as cr_b:
                    cr_b.execute("SELECT pg_backend_pid()")
                    results["pid_b"] = cr_b.fetchone()[0]
                    started.set()
                    results["b"] = len(self._run(self._env(cr_b)))

            started = threading.Event()
            thread = threading.Thread(target=run_b)
            thread.start()
            self.assertTrue(started.wait(timeout=30))
            self.assertTrue(
                self._wait_until_blocked(results["pid_b"], thread), "B waits on A's lock on the uncommitted keys"
            )
            cr_a.commit()
        thread.join(timeout=60)
        self.assertFalse(thread.is_alive())
        self.assertEqual((results["a"], results["b"]), (self.PATIENTS, 0))
        self.assertEqual(self._count_tasks(), self.PATIENTS)

    def test_rerun_after_commit_creates_nothing(self):
        with self.registry.cursor() as cr:
            self.assertEqual(len(self._run(self._env(cr))), self.PATIENTS)
        with self.registry.cursor() as cr:
            self.assertEqual(len(self._run(self._env(cr))), 0)
        self.assertEqual(self._count_tasks(), self.PATIENTS)
