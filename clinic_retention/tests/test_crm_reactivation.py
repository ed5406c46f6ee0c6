from freezegun import freeze_time

from odoo.tests import tagged

from .crm_common import ClinicCrmCase


@tagged("post_install", "-at_install")
class TestCrmReactivation(ClinicCrmCase):
    """Lapsed patients and unreachable recalls become reactivation
    opportunities in the department's pipeline, once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["clinic.recall.rule"].search([]).active = False
        cls.Rule = cls.env["clinic.recall.rule"]
        cls.Task = cls.env["clinic.followup.task"]
        cls.lapsed_rule = cls.Rule.create(
            {
                "name": "Lapsed 6 months",
                "kind": "lapsed",
                "department_id": cls.dental.id,
                "lapsed_scope": "department",
                "interval_number": 6,
                "interval_unit": "months",
                "lead_days": 0,
                "max_overdue_days": 365,
                "open_opportunities": True,
                "assignment": "balanced",
            }
        )
        cls.anna = cls._patient("Anna Lapsed", care_consent=True, mobile="13800138500")
        cls._visit(cls.anna, "2026-01-10 09:00:00")

    def _recall(self, **vals):
        """A check-up recall rule of the dental department (6 months, 14 days ahead)."""
        return self.Rule.create(
            dict(
                {
                    "name": "Check-up recall",
                    "kind": "recall",
                    "department_id": self.dental.id,
                    "interval_number": 6,
                    "interval_unit": "months",
                    "lead_days": 14,
                },
                **vals,
            )
        )

    def _run(self, rules):
        created = self.Task
        more = True
        while more:
            batch, more = self.Rule._run_batch(batch_size=1000, rules=rules)
            created |= batch
        return created

    def _reactivations(self, patients):
        return self.Lead.with_context(active_test=False).search(
            [("clinic_kind", "=", "reactivation"), ("clinic_patient_id", "in", patients.ids)]
        )

    def test_lapsed_rule_opens_one_opportunity_not_a_task(self):
        with freeze_time("2026-07-09 08:00:00"):
            self._run(self.lapsed_rule)
            self.assertFalse(self._reactivations(self.anna), "due 2026-07-10")
        with freeze_time("2026-07-11 08:00:00"):
            tasks = self._run(self.lapsed_rule)
            self.assertFalse(tasks)
            self.assertFalse(self.Task.search([("patient_id", "=", self.anna.id)]))
            lead = self._reactivations(self.anna)
            self.assertEqual(len(lead), 1)
            self.assertRecordValues(
                lead,
                [
                    {
                        "clinic_department_id": self.dental.id,
                        "team_id": self.dental.team_id.id,
                        "stage_id": self.stage_new.id,
                        "user_id": self.cs_user.id,
                        "partner_id": self.anna.partner_id.id,
                        "clinic_recall_rule_id": self.lapsed_rule.id,
                        "clinic_recall_key": f"r{self.lapsed_rule.id}:p{self.anna.id}:d2026-07-10",
                        "source_id": self.env.ref("clinic_retention.utm_source_reactivation").id,
                    }
                ],
            )
            self.assertEqual(lead.activity_ids.user_id, self.cs_user)
            # idempotent like tasks: a second run opens nothing
            self._run(self.lapsed_rule)
            self.assertEqual(self._reactivations(self.anna), lead)

    def test_lost_reactivation_is_not_reopened_for_the_same_due_date(self):
        with freeze_time("2026-07-11 08:00:00"):
            self._run(self.lapsed_rule)
            lead = self._reactivations(self.anna)
            lead.action_set_lost(lost_reason_id=self.env.ref("clinic_retention.crm_lost_reason_moved_away").id)
            self._run(self.lapsed_rule)
            self.assertEqual(self._reactivations(self.anna), lead)

    def test_booking_moves_it_and_the_completed_visit_wins_it(self):
        with freeze_time("2026-07-11 08:00:00"):
            self._run(self.lapsed_rule)
            lead = self._reactivations(self.anna)
            visit = self._visit(self.anna, "2026-07-20 09:00:00", state="scheduled")
            self.assertEqual(lead.stage_id, self.stage_booked)
            self.assertEqual(lead.clinic_visit_id, visit)
        with freeze_time("2026-07-20 10:00:00"):
            visit.action_mark_done()
            self.assertEqual(lead.clinic_status, "won")
            # a new lapse later is a new due date: not now
            self._run(self.lapsed_rule)
            self.assertEqual(self._reactivations(self.anna), lead)

    def test_visit_in_another_department_also_reactivates(self):
        with freeze_time("2026-07-11 08:00:00"):
            self._run(self.lapsed_rule)
            lead = self._reactivations(self.anna)
            self._visit(self.anna, "2026-07-11 07:00:00", department=self.cardiology, state="done")
            self.assertEqual(lead.clinic_status, "won")

    def test_task_rule_skips_patients_in_reactivation_and_vice_versa(self):
        task_rule = self.lapsed_rule.copy({"name": "Lapsed, tasks", "open_opportunities": False})
        bob = self._patient("Bob Lapsed", care_consent=True, mobile="13800138501")
        self._visit(bob, "2026-01-12 09:00:00")
        with freeze_time("2026-07-20 08:00:00"):
            self._run(task_rule)  # Bob and Anna get reactivation tasks
            self.assertEqual(self.Task.search([("rule_id", "=", task_rule.id)]).patient_id, self.anna | bob)
            self._run(self.lapsed_rule)
            self.assertFalse(self._reactivations(self.anna | bob), "on the task list already: not on the pipeline too")
        carl = self._patient("Carl Lapsed", care_consent=True, mobile="13800138502")
        self._visit(carl, "2026-01-15 09:00:00")
        with freeze_time("2026-07-20 08:00:00"):
            self._run(self.lapsed_rule)
            self.assertEqual(self._reactivations(self.anna | bob | carl).clinic_patient_id, carl)
            self._run(task_rule)
            self.assertFalse(self.Task.search([("patient_id", "=", carl.id)]), "in the pipeline already")

    def test_unreachable_recall_is_handed_over_once(self):
        recall = self._recall(max_attempts=2, reopen_after_days=0)
        with freeze_time("2026-07-01 08:00:00"):
            task = self._run(recall)
            self.assertEqual(task.patient_id, self.anna)
            task.action_not_reached()
            self.assertFalse(self._reactivations(self.anna), "one attempt left")
            task.action_not_reached()
            self.assertEqual(task.state, "unreachable")
            lead = self._reactivations(self.anna)
            self.assertEqual(len(lead), 1)
            self.assertEqual(lead.clinic_recall_key, f"handover:t{task.id}")
            self.assertEqual(lead.clinic_department_id, self.dental)
            self.assertIn("2 attempts", lead.description)

    def test_no_handover_while_a_reopen_is_left_or_when_disabled(self):
        recall = self._recall(max_attempts=1, reopen_after_days=30, max_reopen=1)
        with freeze_time("2026-07-01 08:00:00"):
            task = self._run(recall)
            task.action_not_reached()
            self.assertEqual(task.state, "unreachable")
            self.assertFalse(self._reactivations(self.anna), "it will be re-opened in 30 days")
        recall.handover_unreachable = False
        with freeze_time("2026-08-01 08:00:00"):
            self.Task._reopen_unreachable()
            task.action_not_reached()
            self.assertFalse(self._reactivations(self.anna), "the rule does not hand over")

    def test_wrong_number_is_not_handed_over(self):
        recall = self._recall(reopen_after_days=0)
        with freeze_time("2026-07-01 08:00:00"):
            task = self._run(recall)
            task.action_wrong_number()
            self.assertFalse(self._reactivations(self.anna))
