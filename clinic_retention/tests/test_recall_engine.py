from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ClinicRetentionCase


class RecallCase(ClinicRetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Demo rules must not interfere: these tests run their own.
        cls.env["clinic.recall.rule"].search([]).active = False
        cls.Rule = cls.env["clinic.recall.rule"]
        cls.Task = cls.env["clinic.followup.task"]

    @classmethod
    def _consenting(cls, name, **vals):
        return cls._patient(name, care_consent=True, mobile=vals.pop("mobile", False), **vals)

    def _run(self, rules):
        """Run ``rules`` to the end, like the cron does, batch after batch."""
        created = self.Task
        more = True
        while more:
            # as the cron does: with tracking and followers
            batch, more = self.Rule.with_context(tracking_disable=False)._run_batch(
                batch_size=1000, rules=rules.with_context(tracking_disable=False)
            )
            created |= batch
        return created


@tagged("post_install", "-at_install")
class TestRecallEngine(RecallCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.checkup_rule = cls.Rule.create(
            {
                "name": "Check-up every 6 months",
                "kind": "recall",
                "department_id": cls.dental.id,
                "service_id": cls.checkup.id,
                "interval_number": 6,
                "interval_unit": "months",
                "lead_days": 14,
            }
        )
        cls.anna = cls._consenting("Anna")
        cls._visit(cls.anna, "2026-01-10 09:00:00", service_id=cls.checkup.id)

    def test_recall_opens_one_task_lead_days_before_due(self):
        with freeze_time("2026-06-25 08:00:00"):
            self.assertFalse(self._run(self.checkup_rule), "due 2026-07-10: 15 days ahead, not yet")
        with freeze_time("2026-06-26 08:00:00"):
            task = self._run(self.checkup_rule)
            self.assertEqual(len(task), 1)
            self.assertRecordValues(
                task,
                [
                    {
                        "patient_id": self.anna.id,
                        "department_id": self.dental.id,
                        "reason": "recall",
                        "rule_id": self.checkup_rule.id,
                        "due_date": date(2026, 7, 10),
                        "date_deadline": date(2026, 7, 10),
                        "state": "new",
                        "user_id": self.cs_user.id,
                        "attempt_count": 0,
                        "max_attempts": 3,
                    }
                ],
            )
            self.assertIn(self.cs_user.partner_id, task.message_partner_ids, "the assignee follows the task")
            # a second run, the next day too, opens nothing
            self.assertFalse(self._run(self.checkup_rule))
        with freeze_time("2026-06-27 08:00:00"):
            self.assertFalse(self._run(self.checkup_rule))
        self.assertEqual(self.Task.search_count([("rule_id", "=", self.checkup_rule.id)]), 1)

    def test_other_services_and_departments_do_not_count(self):
        bob = self._consenting("Bob")
        self._visit(bob, "2026-01-10 09:00:00", service_id=self.extraction.id)
        self._visit(bob, "2026-01-11 09:00:00", department=self.cardiology)
        with freeze_time("2026-07-01"):
            tasks = self._run(self.checkup_rule)
        self.assertEqual(tasks.patient_id, self.anna)

    def test_booking_stops_the_recall(self):
        with freeze_time("2026-06-28 08:00:00"):
            task = self._run(self.checkup_rule)
            booked = self._visit(self.anna, "2026-07-08 10:00:00", state="scheduled")
            self.assertEqual(task.state, "done")
            self.assertEqual(task.outcome, "visit_booked")
            self.assertEqual(task.booked_visit_id, booked)
            # cancelling the booking re-opens the recall
            booked.action_cancel()
            self.assertEqual(task.state, "new")
            self.assertFalse(task.outcome)

    def test_already_booked_patient_gets_no_task(self):
        self._visit(self.anna, "2026-07-09 10:00:00", state="scheduled")
        with freeze_time("2026-07-01"):
            self.assertFalse(self._run(self.checkup_rule))

    def test_walk_in_visit_closes_and_restarts_the_cycle(self):
        with freeze_time("2026-06-28 08:00:00"):
            task = self._run(self.checkup_rule)
            self._visit(self.anna, "2026-06-28 09:00:00", service_id=self.checkup.id)
            self.assertEqual((task.state, task.outcome), ("done", "visit_booked"))
            self.assertFalse(self._run(self.checkup_rule), "next check-up due in December")
        with freeze_time("2026-12-15"):
            task2 = self._run(self.checkup_rule)
            self.assertEqual(task2.due_date, date(2026, 12, 28))

    def test_per_patient_override(self):
        self.env["clinic.recall.override"].create(
            {
                "rule_id": self.checkup_rule.id,
                "patient_id": self.anna.id,
                "interval_number": 3,
                "interval_unit": "months",
            }
        )
        with freeze_time("2026-03-28"):
            task = self._run(self.checkup_rule)
        self.assertEqual(task.due_date, date(2026, 4, 10))

    def test_rule_change_is_picked_up_by_the_next_run(self):
        with freeze_time("2026-06-28"):
            task = self._run(self.checkup_rule)
            self.assertEqual(task.due_date, date(2026, 7, 10))
            self.checkup_rule.interval_number = 5
            self.assertFalse(self._run(self.checkup_rule), "no second task")
            self.assertEqual(task.due_date, date(2026, 6, 10), "the open task follows the rule")
            self.assertEqual(task.date_deadline, date(2026, 6, 10))
            self.assertEqual(task.recall_key, f"r{self.checkup_rule.id}:p{self.anna.id}:d2026-06-10")

    def test_visit_change_is_picked_up_by_the_next_run(self):
        with freeze_time("2026-06-28"):
            task = self._run(self.checkup_rule)
            self.anna.visit_ids.write({"start": datetime(2026, 1, 20, 9)})
            self._run(self.checkup_rule)
            self.assertEqual(task.due_date, date(2026, 7, 20))

    def test_filters_consent_channel_archived_and_domain(self):
        no_consent = self._patient("No consent")
        do_not_contact = self._consenting("Do not contact", preferred_channel="none")
        archived = self._consenting("Archived")
        outside = self._consenting("Outside domain", gender="male")
        for patient in no_consent | do_not_contact | archived | outside:
            self._visit(patient, "2026-01-10 09:00:00", service_id=self.checkup.id)
        archived.action_archive()
        self.checkup_rule.patient_domain = "[('gender', '!=', 'male')]"
        with freeze_time("2026-07-01"):
            tasks = self._run(self.checkup_rule)
        self.assertEqual(tasks.patient_id, self.anna)
        self.checkup_rule.only_with_care_consent = False
        with freeze_time("2026-07-01"):
            self.assertEqual(self._run(self.checkup_rule).patient_id, no_consent)

    def test_long_overdue_patients_are_left_to_the_lapsed_rule(self):
        self.checkup_rule.max_overdue_days = 30
        with freeze_time("2026-09-01"):
            self.assertFalse(self._run(self.checkup_rule), "due 2026-07-10, 53 days ago")
        self.checkup_rule.max_overdue_days = 0
        with freeze_time("2026-09-01"):
            self.assertEqual(len(self._run(self.checkup_rule)), 1)

    def test_batches_and_cron_progress(self):
        for index in range(4):
            patient = self._consenting(f"Batch {index}")
            self._visit(patient, "2026-01-10 09:00:00", service_id=self.checkup.id)
        with freeze_time("2026-07-01"):
            first, more = self.Rule._run_batch(batch_size=2, rules=self.checkup_rule)
            self.assertEqual((len(first), more), (2, True))
            second, more = self.Rule._run_batch(batch_size=2, rules=self.checkup_rule)
            self.assertEqual((len(second), more), (2, True))
            third, more = self.Rule._run_batch(batch_size=2, rules=self.checkup_rule)
            self.assertEqual((len(third), more), (1, False))
            self.assertFalse(first & second or second & third)

            # The scheduled action reports its progress to the cron runner.
            self.env["clinic.followup.task"].search([("rule_id", "=", self.checkup_rule.id)]).unlink()
            progress = self.env["ir.cron.progress"].create(
                {"cron_id": self.env.ref("clinic_retention.ir_cron_clinic_recall_rules").id}
            )
            Rule = self.Rule.with_context(ir_cron_progress_id=progress.id)
            Rule._cron_run_recall_rules(batch_size=3)
            self.assertEqual((progress.done, progress.remaining), (3, 1))
            Rule._cron_run_recall_rules(batch_size=3)
            self.assertEqual((progress.done, progress.remaining), (2, 0))

    def test_round_robin_balances_the_team(self):
        self.dental.member_ids = self.cs_user | self.cs_user_2
        self.Task.create(
            {
                "name": "Busy",
                "patient_id": self.anna.id,
                "department_id": self.dental.id,
                "user_id": self.cs_user.id,
            }
        )
        for index in range(3):
            patient = self._consenting(f"Team {index}")
            self._visit(patient, "2026-01-10 09:00:00", service_id=self.checkup.id)
        with freeze_time("2026-07-01"):
            tasks = self._run(self.checkup_rule)
        self.assertEqual(len(tasks), 4)
        per_user = {user: len(tasks.filtered(lambda t, u=user: t.user_id == u)) for user in tasks.user_id}
        # cs_user already had an open task: the four new ones go 2 and 2, the
        # first to the idle agent.
        self.assertEqual(per_user, {self.cs_user: 2, self.cs_user_2: 2})
        self.assertEqual(tasks.sorted("id")[0].user_id, self.cs_user_2)

        fixed = self.checkup_rule.copy({"name": "Fixed", "assignment": "fixed", "user_id": self.manager.id})
        self.assertEqual(fixed._assignees(2), [self.manager.id, self.manager.id])
        fixed.assignment = "none"
        self.assertEqual(fixed._assignees(1), [False])


@tagged("post_install", "-at_install")
class TestRecallKinds(RecallCase):
    def test_chronic_cadence_weekly_then_monthly(self):
        rule = self.Rule.create(
            {
                "name": "Hypertension",
                "kind": "chronic",
                "department_id": self.cardiology.id,
                "service_id": self.hypertension.id,
                "interval_number": 2,
                "interval_unit": "months",
                "lead_days": 1,
                "step_ids": [
                    (0, 0, {"min_visits": 0, "interval_number": 1, "interval_unit": "weeks"}),
                    (0, 0, {"min_visits": 4, "interval_number": 1, "interval_unit": "months"}),
                ],
            }
        )
        patient = self._consenting("Chronic")
        self._visit(patient, "2026-03-02 09:00:00", department=self.cardiology, service_id=self.hypertension.id)
        with freeze_time("2026-03-08"):
            task = self._run(rule)
            self.assertEqual(task.due_date, date(2026, 3, 9), "weekly while fewer than 4 visits")
            self.assertEqual(task.reason, "chronic")
        for day in (9, 16, 23):
            self._visit(
                patient,
                f"2026-03-{day:02d} 09:00:00",
                department=self.cardiology,
                service_id=self.hypertension.id,
            )
        self.assertEqual(task.state, "done", "the visit answered it")
        with freeze_time("2026-03-30"):
            self.assertFalse(self._run(rule), "4 visits: monthly now, next due 2026-04-23")
        with freeze_time("2026-04-22"):
            self.assertEqual(self._run(rule).due_date, date(2026, 4, 23))

    def test_post_visit_steps_day_3_and_day_30(self):
        rule = self.Rule.create(
            {
                "name": "After surgery",
                "kind": "post_visit",
                "department_id": self.dental.id,
                "service_id": self.extraction.id,
                "lead_days": 0,
                "max_overdue_days": 7,
                "step_ids": [
                    (0, 0, {"name": "Day 3", "offset_days": 3}),
                    (0, 0, {"name": "Day 30", "offset_days": 30}),
                ],
            }
        )
        patient = self._consenting("Operated")
        visit = self._visit(patient, "2026-05-04 10:00:00", service_id=self.extraction.id)
        old = self._visit(self._consenting("Old surgery"), "2025-01-04 10:00:00", service_id=self.extraction.id)
        with freeze_time("2026-05-06"):
            self.assertFalse(self._run(rule))
        with freeze_time("2026-05-07"):
            day3 = self._run(rule)
            self.assertEqual(len(day3), 1)
            self.assertEqual((day3.visit_id, day3.due_date, day3.reason), (visit, date(2026, 5, 7), "post_visit"))
            self.assertEqual(day3.name, "After surgery — Day 3")
            # booking a visit does not answer a post-visit check
            self._visit(patient, "2026-05-20 10:00:00", state="scheduled")
            self.assertFalse(day3.is_closed)
        with freeze_time("2026-06-03"):
            day30 = self._run(rule)
            self.assertEqual(day30.due_date, date(2026, 6, 3))
            self.assertFalse(self._run(rule))
        self.assertFalse(self.Task.search([("visit_id", "=", old.id)]), "history beyond 7 days overdue is skipped")
        self.assertEqual(self.Task.search_count([("rule_id", "=", rule.id)]), 2)

    def test_lapsed_patients_are_reactivated_once(self):
        rule = self.Rule.create(
            {
                "name": "Lapsed",
                "kind": "lapsed",
                "department_id": self.dental.id,
                "lapsed_scope": "clinic",
                "interval_number": 6,
                "interval_unit": "months",
                "lead_days": 0,
                "max_overdue_days": 365,
            }
        )
        lapsed = self._consenting("Lapsed")
        self._visit(lapsed, "2025-11-01 09:00:00")
        elsewhere = self._consenting("Seen in cardiology")
        rule.patient_domain = f"[('id', 'in', {(lapsed | elsewhere).ids})]"  # not the demo patients
        self._visit(elsewhere, "2025-11-01 09:00:00")
        self._visit(elsewhere, "2026-04-01 09:00:00", department=self.cardiology)
        with freeze_time("2026-05-02"):
            task = self._run(rule)
            self.assertEqual(task.patient_id, lapsed)
            self.assertEqual((task.reason, task.due_date), ("reactivation", date(2026, 5, 1)))
            task.action_not_reached()
            task.action_not_reached()
            task.action_not_reached()
            self.assertEqual(task.state, "unreachable")
            self.assertFalse(self._run(rule), "same lapse episode: no new task")
        rule.lapsed_scope = "department"
        with freeze_time("2026-05-02"):
            self.assertEqual(self._run(rule).patient_id, elsewhere)
