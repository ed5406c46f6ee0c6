from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestFollowupBoard(ClinicRetentionCase):
    """The agent's board: folded closed columns, open tasks by urgency, a
    "today" count per agent, call outcomes (call back at, wrong number,
    asked to reschedule, complaint), staff cancellations that open a
    rebooking task, and all of it only on tasks the agent may see."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Task = cls.env["clinic.followup.task"]
        cls.today = fields.Date.context_today(cls.Task)
        cls.patient = cls._patient("Board Patient", mobile="138 0013 8000", care_consent=True)

    def _task(self, name="Board task", department=None, **vals):
        vals.setdefault("user_id", self.cs_user.id)
        return self.Task.create(
            dict(
                vals,
                name=name,
                patient_id=vals.pop("patient_id", self.patient.id),
                department_id=(department or self.dental).id,
            )
        )

    def _search_filter(self, name, user):
        arch = etree.fromstring(self.Task.get_views([(False, "search")])["views"]["search"]["arch"])
        domain = arch.xpath(f"//filter[@name='{name}']")[0].get("domain")
        return safe_eval(domain, {"uid": user.id, "context_today": lambda: self.today})

    # ------------------------------------------------------------------
    # The board
    # ------------------------------------------------------------------

    def test_closed_columns_fold_and_board_opens_on_open_tasks(self):
        stages = {
            kind: self.env.ref(f"clinic_retention.followup_stage_{kind}")
            for kind in ("new", "in_progress", "done", "unreachable")
        }
        self.assertEqual({kind: stage.fold for kind, stage in stages.items()}, {
            "new": False, "in_progress": False, "done": True, "unreachable": True,
        })  # fmt: skip
        action = self.env.ref("clinic_retention.clinic_followup_task_action")
        self.assertEqual(safe_eval(action.context).get("search_default_filter_open"), 1)
        open_domain = self._search_filter("filter_open", self.cs_user)
        done = self._task("Closed one")
        done.action_take()
        done._move_to("done", outcome="reached")
        still_open = self._task("Open one")
        found = self.Task.search([*open_domain, ("id", "in", (done | still_open).ids)])
        self.assertEqual(found, still_open)

    def test_open_tasks_sorted_by_urgency(self):
        normal_soon = self._task("normal, in a day", date_deadline=self.today + timedelta(days=1))
        urgent_later = self._task("urgent, in 3 days", date_deadline=self.today + timedelta(days=3), priority="1")
        normal_overdue = self._task("normal, 2 days late", date_deadline=self.today - timedelta(days=2))
        urgent_overdue = self._task("urgent, a day late", date_deadline=self.today - timedelta(days=1), priority="1")
        no_deadline = self._task("no deadline")
        kanban = self.env.ref("clinic_retention.clinic_followup_task_view_kanban")
        order = etree.fromstring(kanban.arch).get("default_order")
        self.assertEqual(order, "is_overdue desc, priority desc, date_deadline, id")
        tasks = urgent_overdue | normal_overdue | urgent_later | normal_soon | no_deadline
        self.assertEqual(
            self.Task.search([("id", "in", tasks.ids)], order=order).mapped("name"),
            ["urgent, a day late", "normal, 2 days late", "urgent, in 3 days", "normal, in a day", "no deadline"],
        )
        # the list view sorts the same way, and so does an agent
        list_view = self.env.ref("clinic_retention.clinic_followup_task_view_list")
        self.assertEqual(etree.fromstring(list_view.arch).get("default_order"), order)
        self.assertEqual(
            self.Task.with_user(self.cs_user).search([("id", "in", tasks.ids)], order=order)[:1], urgent_overdue
        )

    def test_today_counter_per_agent(self):
        self.dental.member_ids = [(4, self.cs_user_2.id)]
        self._task("mine, today", date_deadline=self.today)
        self._task("mine, late", date_deadline=self.today - timedelta(days=1))
        self._task("mine, tomorrow", date_deadline=self.today + timedelta(days=1))
        self._task("second agent, today", date_deadline=self.today, user_id=self.cs_user_2.id)
        closed = self._task("mine, done today", date_deadline=self.today)
        closed._move_to("done", outcome="reached")
        mine_today = self._search_filter("filter_my_today", self.cs_user)
        self.assertEqual(
            sorted(self.Task.with_user(self.cs_user).search(mine_today).mapped("name")),
            ["mine, late", "mine, today"],
        )
        # the board's search panel counts each agent's tasks of the current search ("Today")
        arch = etree.fromstring(self.Task.get_views([(False, "search")])["views"]["search"]["arch"])
        self.assertTrue(arch.xpath("//searchpanel/field[@name='user_id'][@enable_counters='1']"))
        today = self._search_filter("filter_today", self.cs_user)
        panel = self.Task.with_user(self.cs_user).search_panel_select_range(
            "user_id",
            search_domain=[*today, ("department_id", "=", self.dental.id)],
            enable_counters=True,
            hierarchize=False,
        )
        counts = {value["id"]: value["__count"] for value in panel["values"]}
        self.assertEqual(counts[self.cs_user.id], 2)
        self.assertEqual(counts[self.cs_user_2.id], 1)
        menu = self.env.ref("clinic_retention.clinic_followup_task_menu_today")
        self.assertEqual(menu.action, self.env.ref("clinic_retention.clinic_followup_task_action_today"))

    # ------------------------------------------------------------------
    # Call outcomes
    # ------------------------------------------------------------------

    def test_call_back_at_moves_the_task_without_burning_an_attempt(self):
        task = self._task("Recall", date_deadline=self.today - timedelta(days=1), reason="recall")
        task = task.with_user(self.cs_user)
        action = task.action_call_back()
        self.assertEqual(action["res_model"], "clinic.followup.task.callback")
        when = fields.Datetime.now().replace(microsecond=0) + timedelta(days=3)
        wizard = (
            self.env["clinic.followup.task.callback"]
            .with_user(self.cs_user)
            .create({"task_id": task.id, "callback_date": when, "note": "At work until Thursday"})
        )
        wizard.action_confirm()
        day = fields.Datetime.context_timestamp(task, when).date()
        self.assertRecordValues(
            task,
            [
                {
                    "state": "in_progress",
                    "outcome": "call_back",
                    "callback_date": when,
                    "date_deadline": day,
                    "attempt_count": 0,
                    "is_overdue": False,
                    "is_closed": False,
                }
            ],
        )
        self.assertTrue(task.first_contact_date)
        activity = task.activity_ids
        self.assertEqual((activity.date_deadline, activity.user_id), (day, self.cs_user))
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        past = (
            self.env["clinic.followup.task.callback"]
            .with_user(self.cs_user)
            .create({"task_id": task.id, "callback_date": fields.Datetime.now() - timedelta(hours=1)})
        )
        with self.assertRaises(UserError):
            past.action_confirm()

    def test_wrong_number_flags_the_patient_phone_for_review(self):
        task = self._task("Recall", reason="recall").with_user(self.cs_user)
        task.action_wrong_number()
        self.assertEqual((task.state, task.outcome), ("unreachable", "wrong_number"))
        self.assertTrue(self.patient.phone_wrong_reported)
        flagged = self.env["clinic.patient"].search([("phone_wrong_reported", "=", True)])
        self.assertIn(self.patient, flagged)
        self.patient.with_user(self.cs_user).write({"mobile": "139 0013 8000"})
        self.assertFalse(self.patient.phone_wrong_reported, "a corrected number clears the flag")

    def test_asked_to_reschedule_cancels_the_visit_and_books_again(self):
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=2)
        visit = self._visit(self.patient, start, state="scheduled")
        task = self._task("Reminder failed", reason="message_failed", visit_id=visit.id).with_user(self.cs_user)
        wizard = (
            self.env["clinic.followup.task.reached"]
            .with_user(self.cs_user)
            .create({"task_id": task.id, "outcome": "reschedule", "channel": "phone"})
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()  # the preferred times are needed
        wizard.preferred_times = "Saturday morning"
        action = wizard.action_confirm()
        self.assertEqual(action["res_model"], "clinic.visit", "the booking form opens at once")
        self.assertEqual(action["context"]["default_booked_from_task_id"], task.id)
        self.assertEqual(visit.state, "cancelled")
        self.assertRecordValues(
            task, [{"state": "in_progress", "outcome": "reschedule", "attempt_count": 0, "is_closed": False}]
        )
        self.assertFalse(
            self.Task.search([("visit_id", "=", visit.id), ("reason", "=", "cancellation")]),
            "this task rebooks: no second task",
        )
        self.assertIn("Saturday morning", task.message_ids[0].body)

    def test_complaint_from_the_task_in_one_click(self):
        task = self._task("Post-visit call", reason="post_visit").with_user(self.cs_user)
        action = task.action_new_complaint()
        self.assertEqual((action["res_model"], action["target"]), ("clinic.complaint", "new"))
        form = Form(self.env["clinic.complaint"].with_user(self.cs_user).with_context(**action["context"]))
        form.description = "Nobody told me the doctor was late."
        complaint = form.save()
        self.assertRecordValues(
            complaint,
            [
                {
                    "patient_id": self.patient.id,
                    "department_id": self.dental.id,
                    "followup_task_id": task.id,
                    "channel": "phone",
                }
            ],
        )
        self.assertEqual(task.complaint_count, 1)
        self.assertIn(complaint.reference, task.message_ids[0].body)
        self.assertEqual(task.action_open_complaints()["domain"], [("followup_task_id", "=", task.id)])

    def test_complaint_from_a_patient_without_any(self):
        self.assertEqual(self.patient.complaint_count, 0)
        arch = self.env["clinic.patient"].get_views([(False, "form")])["views"]["form"]["arch"]
        button = etree.fromstring(arch).xpath("//button[@name='action_open_complaints']")[0]
        self.assertFalse(button.get("invisible"), "the Complaints button shows even with none")
        self.assertTrue(etree.fromstring(arch).xpath("//button[@name='action_new_complaint']"))
        action = self.patient.with_user(self.cs_user).action_new_complaint()
        form = Form(self.env["clinic.complaint"].with_user(self.cs_user).with_context(**action["context"]))
        form.name = "Wrong bill"
        form.department_id = self.dental
        form.description = "The bill was wrong."
        complaint = form.save()
        self.assertEqual(complaint.patient_id, self.patient)
        self.patient.invalidate_recordset(["complaint_count"])
        self.assertEqual(self.patient.complaint_count, 1)

    # ------------------------------------------------------------------
    # Cancellations by phone
    # ------------------------------------------------------------------

    def test_staff_cancellation_opens_a_rebooking_task(self):
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=3)
        visit = self._visit(self.patient, start, state="scheduled")
        visit.with_user(self.cs_user).action_cancel()
        task = self.Task.search([("visit_id", "=", visit.id)])
        self.assertRecordValues(
            task,
            [
                {
                    "reason": "cancellation",
                    "name": "Cancelled by phone: rebook",
                    "department_id": self.dental.id,
                    "user_id": self.cs_user.id,
                    "state": "new",
                }
            ],
        )
        # the patient's own link afterwards opens nothing more
        self.assertFalse(visit._patient_cancel())
        self.assertEqual(self.Task.search_count([("visit_id", "=", visit.id)]), 1)

    def test_staff_cancellation_of_a_visit_booked_by_a_task_reopens_it(self):
        task = self._task("Recall", reason="recall")
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=3)
        visit = self._visit(self.patient, start, state="scheduled", booked_from_task_id=task.id)
        self.assertEqual(task.outcome, "visit_booked")
        visit.action_cancel()
        self.assertFalse(task.is_closed, "the task that booked it is open again")
        self.assertFalse(self.Task.search([("visit_id", "=", visit.id), ("reason", "=", "cancellation")]))

    # ------------------------------------------------------------------
    # Access: only on tasks the agent may see
    # ------------------------------------------------------------------

    def test_agent_of_another_department_cannot_use_the_actions(self):
        task = self._task("Dental recall", reason="recall", user_id=self.cs_user.id)
        stranger = self.cs_user_2  # cardiology only
        foreign = task.with_user(stranger)
        for method in (
            "action_call_back",
            "action_new_complaint",
            "action_send_sms",
            "action_send_email",
            "action_wrong_number",
        ):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(foreign, method)()
        with self.assertRaises(AccessError):
            foreign._set_call_back(fields.Datetime.now() + timedelta(days=1))
        with self.assertRaises(AccessError):
            self.env["clinic.followup.task.callback"].with_user(stranger).create(
                {"task_id": task.id, "callback_date": fields.Datetime.now() + timedelta(days=1)}
            )
        with self.assertRaises(AccessError):
            self.env["clinic.complaint"].with_user(stranger).create(
                {
                    "name": "Forged",
                    "description": "x",
                    "department_id": self.cardiology.id,
                    "followup_task_id": task.id,
                }
            )
        self.assertRecordValues(task, [{"state": "new", "attempt_count": 0, "outcome": False}])
        self.assertFalse(self.patient.phone_wrong_reported)
        # the agent of the department may
        self.assertTrue(task.with_user(self.cs_user).action_call_back())
