from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import create_index

REASONS = [
    ("recall", "Recall"),
    ("chronic", "Chronic care"),
    ("post_visit", "Post-visit"),
    ("reactivation", "Reactivation"),
    ("no_show", "No-show"),
    ("cancellation", "Cancellation"),
    ("complaint", "Complaint"),
    ("manual", "Manual"),
    ("message_failed", "Message failed"),
]

# Reasons whose task is about getting the patient booked again: a booking
# in the department answers them.
BOOKING_REASONS = ("recall", "chronic", "reactivation", "no_show", "cancellation")

TASK_CHANNELS = [
    ("phone", "Phone call"),
    ("sms", "SMS"),
    ("email", "Email"),
    ("messaging", "Messaging app"),
    ("home_visit", "Home visit"),
    ("web", "Web"),
    ("app", "App"),
]

OUTCOMES = [
    ("reached", "Reached"),
    ("not_reached", "Not reached"),
    ("visit_booked", "Visit booked"),
    ("refused", "Refused"),
    ("wrong_number", "Wrong number"),
    ("call_back", "Call back later"),
    ("reschedule", "Asked to reschedule"),
]

# Outcomes that count as a success in reports (issue: success = reached or booked).
SUCCESS_OUTCOMES = ("reached", "visit_booked")

# Fields only the recall engine (superuser) writes.
ENGINE_FIELDS = ("recall_key", "due_date")

DEFAULT_RETRY_DAYS = 2
DEFAULT_MAX_ATTEMPTS = 3


class ClinicFollowupTask(models.Model):
    """One call (or message, or home visit) to make to one patient.

    Customer-service staff work these on a kanban per department. The
    recall engine (``clinic.recall.rule``) opens most of them; no-shows,
    cancellations and complaints open others; staff add manual ones.
    """

    _name = "clinic.followup.task"
    _description = "Follow-up Task"
    _inherit = ["mail.thread", "mail.activity.mixin", "clinic.stage.mixin"]
    _stage_model = "clinic.followup.stage"
    _order = "priority desc, date_deadline, id"
    _check_company_auto = True
    _mail_post_access = "read"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    patient_id = fields.Many2one(
        "clinic.patient",
        required=True,
        index=True,
        ondelete="cascade",
        tracking=True,
        check_company=True,
    )
    partner_id = fields.Many2one(related="patient_id.partner_id", string="Contact")
    patient_phone = fields.Char(compute="_compute_patient_phone", string="Phone")
    patient_lang = fields.Selection(related="patient_id.lang", string="Language")
    patient_leave_reason = fields.Selection(
        related="patient_id.leave_reason", readonly=False, string="Reason for leaving"
    )
    department_id = fields.Many2one("clinic.department", required=True, index=True, tracking=True, check_company=True)
    reason = fields.Selection(REASONS, required=True, default="manual", tracking=True)
    rule_id = fields.Many2one("clinic.recall.rule", string="Recall rule", index="btree_not_null", ondelete="set null")
    rule_step_id = fields.Many2one("clinic.recall.rule.step", string="Rule step", ondelete="set null")
    visit_id = fields.Many2one(
        "clinic.visit", string="Origin visit", index="btree_not_null", ondelete="set null", check_company=True
    )
    booked_visit_id = fields.Many2one(
        "clinic.visit", string="Booked visit", index="btree_not_null", ondelete="set null", copy=False
    )
    recall_key = fields.Char(
        copy=False,
        readonly=True,
        help="Set by the recall engine: the rule, patient and due date (or visit) this task answers. "
        "Unique, so no run of the engine ever opens the same task twice.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assignee",
        index=True,
        tracking=True,
        domain="[('share', '=', False)]",
        default=lambda self: self.env.user if not self.env.su else False,
    )
    stage_id = fields.Many2one(
        "clinic.followup.stage",
        index=True,
        tracking=True,
        group_expand="_read_group_stage_ids",
        ondelete="restrict",
        copy=False,
        default=lambda self: self._default_stage(),
    )
    state = fields.Selection(related="stage_id.kind", store=True, index=True, string="Status")
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True, index=True)
    date_deadline = fields.Date(string="Deadline", index=True, tracking=True)
    due_date = fields.Date(help="When the visit this task is about is due (recalls).", readonly=True, copy=False)
    priority = fields.Selection([("0", "Normal"), ("1", "Urgent")], default="0")
    color = fields.Integer()
    attempt_count = fields.Integer(string="Attempts", default=0, tracking=True, copy=False)
    max_attempts = fields.Integer(default=lambda self: DEFAULT_MAX_ATTEMPTS)
    retry_delay_days = fields.Integer(string="Retry after (days)", default=lambda self: DEFAULT_RETRY_DAYS)
    open_date = fields.Datetime(string="Opened on", default=fields.Datetime.now, readonly=True, copy=False, index=True)
    first_contact_date = fields.Datetime(
        readonly=True, copy=False, help="First attempt to reach the patient, reached or not."
    )
    last_attempt_date = fields.Datetime(readonly=True, copy=False)
    closed_date = fields.Datetime(readonly=True, copy=False, index=True)
    reopen_date = fields.Date(copy=False, help="An unreachable task goes back to New on this date (set from the rule).")
    reopen_count = fields.Integer(copy=False, readonly=True)
    channel = fields.Selection(TASK_CHANNELS, default="phone", tracking=True)
    outcome = fields.Selection(OUTCOMES, tracking=True, copy=False, index=True)
    is_success = fields.Boolean(compute="_compute_is_success", store=True)
    satisfaction_score = fields.Integer(
        tracking=True, copy=False, aggregator="avg", help="1 (very dissatisfied) to 5 (very satisfied)."
    )
    recovery_template_id = fields.Many2one("clinic.recovery.template", string="Recovery template")
    recovery_score_ids = fields.One2many("clinic.followup.recovery.score", "task_id", string="Recovery scores")
    recovery_score = fields.Float(
        compute="_compute_recovery_score",
        store=True,
        aggregator="avg",
        digits=(3, 2),
        help="Average of the recovery criteria scored (1 to 5).",
    )
    health_guidance = fields.Html(help="Advice given to the patient during the follow-up.")
    notes = fields.Html()
    is_overdue = fields.Boolean(compute="_compute_is_overdue", search="_search_is_overdue")
    # computed for a whole batch at flush (a precomputed related field is
    # computed record by record in create(), a quarter of the recall engine's time)
    company_id = fields.Many2one(related="department_id.company_id", store=True, index=True, readonly=True)

    _sql_constraints = [
        # The idempotency key of the recall engine: a second run, a re-run
        # after a crash or two runs at once can never open the same task twice.
        ("recall_key_uniq", "unique(recall_key)", "The recall engine already opened this follow-up."),
        (
            "satisfaction_score_range",
            "CHECK(satisfaction_score BETWEEN 0 AND 5)",
            "The satisfaction score goes from 1 to 5.",
        ),
    ]

    def _auto_init(self):
        result = super()._auto_init()
        # "Is there already an open task of this rule for this patient?"
        create_index(
            self.env.cr,
            "clinic_followup_task_open_rule_patient_idx",
            self._table,
            ["rule_id", "patient_id"],
            where="NOT is_closed",
        )
        return result

    # ------------------------------------------------------------------
    # Defaults and group expand
    # ------------------------------------------------------------------

    @api.model
    def _default_stage(self):
        department_id = self.env.context.get("default_department_id")
        return self._stage_of_kind("new", self.env["clinic.department"].browse(department_id))

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("patient_id.mobile", "patient_id.phone")
    def _compute_patient_phone(self):
        for task in self:
            task.patient_phone = task.patient_id.mobile or task.patient_id.phone

    @api.depends("outcome")
    def _compute_is_success(self):
        for task in self:
            task.is_success = task.outcome in SUCCESS_OUTCOMES

    @api.depends("recovery_score_ids.score")
    def _compute_recovery_score(self):
        for task in self:
            scores = [s.score for s in task.recovery_score_ids if s.score]
            task.recovery_score = sum(scores) / len(scores) if scores else 0.0

    @api.depends("date_deadline", "is_closed")
    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for task in self:
            task.is_overdue = bool(task.date_deadline and task.date_deadline < today and not task.is_closed)

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Unsupported search on overdue tasks."))
        today = fields.Date.context_today(self)
        overdue = ["&", ("is_closed", "=", False), ("date_deadline", "<", today)]
        if (operator == "=") == value:
            return overdue
        return [
            "|",
            ("is_closed", "=", True),
            "|",
            ("date_deadline", "=", False),
            ("date_deadline", ">=", today),
        ]

    @api.constrains("satisfaction_score")
    def _check_satisfaction_score(self):
        for task in self:
            if task.satisfaction_score and not 1 <= task.satisfaction_score <= 5:
                raise ValidationError(self.env._("The satisfaction score goes from 1 to 5."))

    @api.onchange("department_id")
    def _onchange_department_id(self):
        if self.department_id and (
            not self.stage_id
            or (self.stage_id.department_ids and self.department_id not in self.stage_id.department_ids)
        ):
            self.stage_id = self._stage_of_kind(self.stage_id.kind or "new", self.department_id)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def _check_engine_fields(self, vals_list):
        """The recall key and due date belong to the recall engine (it runs as
        superuser): a user rewriting them could make it skip a patient."""
        if not self.env.su and any(vals.get(name) for vals in vals_list for name in ENGINE_FIELDS):
            raise AccessError(self.env._("The recall key and due date of a follow-up are set by the recall engine."))

    @api.model_create_multi
    def create(self, vals_list):
        self._check_engine_fields(vals_list)
        departments = self.env["clinic.department"].browse(
            {vals["department_id"] for vals in vals_list if vals.get("department_id")}
        )
        new_stages = {department.id: self._stage_of_kind("new", department) for department in departments}
        for vals in vals_list:
            if not vals.get("stage_id") and vals.get("department_id"):
                vals["stage_id"] = new_stages[vals["department_id"]].id
        return super().create(vals_list)

    def write(self, vals):
        self._check_engine_fields([vals])
        if "stage_id" in vals:
            stage = self.env["clinic.followup.stage"].browse(vals["stage_id"])
            now = fields.Datetime.now()
            if stage.is_closed:
                vals.setdefault("closed_date", now)
                if stage.kind == "unreachable":
                    vals.setdefault("outcome", "not_reached")
            else:
                vals.setdefault("closed_date", False)
        return super().write(vals)

    @api.model
    def _balanced_assignees(self, department, team, count):
        """``count`` user ids, round-robin over ``team``, starting with the
        members who have the fewest open tasks in ``department``. Stateless,
        so concurrent runs never fight over a counter."""
        team = team.filtered("active").sorted("id")
        if not team:
            return [department.manager_id.id or False] * count
        load = dict.fromkeys(team.ids, 0)
        for user, open_count in self.sudo()._read_group(
            [("department_id", "=", department.id), ("is_closed", "=", False), ("user_id", "in", team.ids)],
            ["user_id"],
            ["__count"],
        ):
            load[user.id] = open_count
        assignees = []
        for _index in range(count):
            user_id = min(load, key=lambda uid: (load[uid], uid))
            load[user_id] += 1
            assignees.append(user_id)
        return assignees

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def _check_open(self):
        closed = self.filtered("is_closed")
        if closed:
            raise UserError(self.env._("The follow-up “%(task)s” is already closed.", task=closed[0].name))

    def _record_attempt(self):
        now = fields.Datetime.now()
        for task in self:
            task.write(
                {
                    "attempt_count": task.attempt_count + 1,
                    "last_attempt_date": now,
                    "first_contact_date": task.first_contact_date or now,
                }
            )

    def action_take(self):
        """Put the task in progress and assign it to me."""
        self._check_open()
        self._move_to("in_progress", user_id=self.env.user.id)
        return True

    def action_reached(self):
        """Open the outcome dialog: reached, booked, refused, with scores."""
        self._check_open()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Patient reached"),
            "res_model": "clinic.followup.task.reached",
            "view_mode": "form",
            "target": "new",
            "context": {"default_task_id": self.id},
        }

    def action_not_reached(self):
        """Log an unsuccessful attempt; retry later or give up after the maximum."""
        self._check_open()
        today = fields.Date.context_today(self)
        self._record_attempt()
        for task in self:
            if task.max_attempts and task.attempt_count >= task.max_attempts:
                reopen_days = task.rule_id.reopen_after_days
                can_reopen = reopen_days and task.reopen_count < (task.rule_id.max_reopen or 0)
                task._move_to(
                    "unreachable",
                    outcome="not_reached",
                    reopen_date=today + timedelta(days=reopen_days) if can_reopen else False,
                )
                task.message_post(
                    body=self.env._(
                        "Not reached after %(count)s attempts: moved to Unreachable.",
                        count=task.attempt_count,
                    )
                )
                if not can_reopen:
                    self.env["clinic.reactivation"]._handover_unreachable(task)
            else:
                task._move_to(
                    "in_progress",
                    outcome="not_reached",
                    date_deadline=today + timedelta(days=task.retry_delay_days or DEFAULT_RETRY_DAYS),
                )
                task.message_post(
                    body=self.env._(
                        "Attempt %(count)s of %(max)s: not reached. Next try on %(date)s.",
                        count=task.attempt_count,
                        max=task.max_attempts or "∞",
                        date=task.date_deadline,
                    )
                )
        return True

    def action_wrong_number(self):
        self._check_open()
        self._record_attempt()
        self._move_to("unreachable", outcome="wrong_number")
        for task in self:
            task.patient_id.message_post(
                body=self.env._(
                    "Follow-up “%(task)s”: the number %(phone)s is wrong. Please update it.",
                    task=task.name,
                    phone=task.patient_phone or "",
                )
            )
        return True

    def action_book_visit(self):
        """Open a new visit for the patient; saving it closes the task as booked."""
        self._check_open()
        self.ensure_one()
        service = self.visit_id.service_id or self.rule_id.service_id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Book a visit"),
            "res_model": "clinic.visit",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_patient_id": self.patient_id.id,
                "default_department_id": self.department_id.id,
                "default_service_id": service.id,
                "default_doctor_id": self.patient_id.doctor_id.id,
                "default_booked_from_task_id": self.id,
            },
        }

    def _record_phone_satisfaction(self, comment=None):
        """The satisfaction score taken by phone lands with the survey answers,
        marked as taken by phone (a low one opens a complaint)."""
        self.ensure_one()
        Response = self.env["clinic.survey.response"].sudo()
        visit = self.visit_id or self.booked_visit_id
        now = fields.Datetime.now()
        return Response.create(
            {
                "patient_id": self.patient_id.id,
                "visit_id": visit.id,
                "department_id": self.department_id.id,
                "doctor_id": visit.doctor_id.id,
                "company_id": self.company_id.id,
                "source": "phone",
                "task_id": self.id,
                "state": "answered",
                "score": self.satisfaction_score,
                "comment": comment or False,
                "submitted_date": now,
                "last_update_date": now,
                "expiry_date": now,
            }
        )

    def action_reopen(self):
        self._move_to("new", outcome=False, attempt_count=0, reopen_date=False)
        return True

    def _close_as_booked(self, visit):
        """The patient booked ``visit``: close the task as a success."""
        self._record_attempt_if_none()
        self._move_to("done", outcome="visit_booked", booked_visit_id=visit.id)
        for task in self:
            task.message_post(
                body=self.env._("Visit booked: %(visit)s", visit=visit.display_name),
            )

    def _record_attempt_if_none(self):
        now = fields.Datetime.now()
        for task in self.filtered(lambda t: not t.first_contact_date):
            task.first_contact_date = now

    # ------------------------------------------------------------------
    # Visits answer, reopen and open follow-ups
    # ------------------------------------------------------------------

    @api.model
    def _close_answered_by(self, visits):
        """A booking (or a walk-in visit) answers the open recall, chronic,
        reactivation, no-show and cancellation tasks of its patient in its
        department, and the task it was booked from (same patient only)."""
        now = fields.Datetime.now()
        answering = visits.filtered(
            lambda v: (v.state == "scheduled" and v.start >= now - timedelta(hours=12)) or v.state == "done"
        )
        if not answering:
            return
        domain = [("patient_id", "in", answering.patient_id.ids), ("is_closed", "=", False)]
        tasks = self.sudo().search([*domain, ("reason", "in", BOOKING_REASONS)])
        for visit in answering:
            answered = tasks.filtered(
                lambda t, v=visit: (
                    t.patient_id == v.patient_id
                    and t.department_id == v.department_id
                    and not t.is_closed
                    and (v.state == "scheduled" or v.start >= t.open_date)
                )
            )
            booked_from = visit.sudo().booked_from_task_id
            answered |= booked_from.filtered(lambda t, v=visit: not t.is_closed and t.patient_id == v.patient_id)
            if answered:
                answered._close_as_booked(visit)

    @api.model
    def _reopen_for_cancelled(self, visits):
        """The visit a follow-up booked is cancelled: the follow-up is open again."""
        tasks = self.sudo().search([("booked_visit_id", "in", visits.ids), ("outcome", "=", "visit_booked")])
        for task in tasks:
            task.action_reopen()
            task.message_post(
                body=self.env._("The visit booked by this follow-up was cancelled: the patient needs a new booking.")
            )
        return tasks

    @api.model
    def _open_for_visits(self, visits, reason, max_age_days=14, title=None, notes=None):
        """One task per visit (no-show, cancellation), assigned round-robin
        in the department's team; never twice for a visit and reason, and
        nothing for visits older than ``max_age_days`` (history imports).
        ``title`` and ``notes`` (HTML) replace the reason's default title and
        fill the task's notes (e.g. the times the patient asked for)."""
        oldest = fields.Datetime.now() - timedelta(days=max_age_days)
        visits = visits.filtered(lambda v: v.start >= oldest)
        keys = {visit: f"{reason}:v{visit.id}" for visit in visits}
        Task = self.sudo().with_context(active_test=False)
        existing = set(Task.search([("recall_key", "in", list(keys.values()))]).mapped("recall_key"))
        titles = {
            "no_show": self.env._("No-show: call the patient and rebook"),
            "cancellation": self.env._("Cancelled by the patient: rebook"),
        }
        today = fields.Date.context_today(self)
        vals_list = []
        for department, department_visits in visits.grouped("department_id").items():
            todo = department_visits.filtered(lambda v: keys[v] not in existing)
            assignees = self._balanced_assignees(department, department.member_ids, len(todo))
            vals_list += [
                {
                    "name": title or titles[reason],
                    "notes": notes or False,
                    "patient_id": visit.patient_id.id,
                    "department_id": department.id,
                    "reason": reason,
                    "visit_id": visit.id,
                    "recall_key": keys[visit],
                    "date_deadline": today,
                    "user_id": user_id,
                    "priority": "1",
                }
                for visit, user_id in zip(todo, assignees, strict=True)
            ]
        return self.env["clinic.recall.rule"]._create_tasks(vals_list)

    # ------------------------------------------------------------------
    # Scheduled maintenance
    # ------------------------------------------------------------------

    @api.model
    def _reopen_unreachable(self, limit=1000):
        """Unreachable tasks whose reopen date has come go back to New, once
        per the rule's "re-open after N days" setting."""
        today = fields.Date.context_today(self)
        tasks = self.search(
            [("state", "=", "unreachable"), ("reopen_date", "!=", False), ("reopen_date", "<=", today)],
            limit=limit,
        )
        for task in tasks:
            task._move_to(
                "new",
                outcome=False,
                attempt_count=0,
                reopen_date=False,
                reopen_count=task.reopen_count + 1,
                date_deadline=today,
            )
            task.message_post(body=self.env._("Re-opened: let's try to reach the patient again."))
        return tasks

    @api.model
    def _demo_history(self):
        """Demo data: 18 months of worked follow-ups, reminders, answers and
        complaints (see ``demo/demo_history.py``); on a fresh install only."""
        from ..demo.demo_history import generate  # demo-only code

        generate(self.env)
