import logging
import threading
from collections import defaultdict

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL, mute_logger
from odoo.tools.safe_eval import safe_eval

from ..tools import recall_sql

_logger = logging.getLogger(__name__)

RULE_KINDS = [
    ("recall", "Recall after the last visit"),
    ("chronic", "Chronic-care cadence"),
    ("post_visit", "Post-visit follow-ups"),
    ("lapsed", "Lapsed-patient reactivation"),
]

TASK_REASON_BY_KIND = {
    "recall": "recall",
    "chronic": "chronic",
    "post_visit": "post_visit",
    "lapsed": "reactivation",
}

# One candidate query finds up to BATCH_SIZE due tasks; they are created
# CHUNK_SIZE at a time (and committed per chunk when the cron runs them).
# The candidate query reads the rule's whole visit history, so a large batch
# runs it rarely (at 100,000 patients: twice, not eight times).
DEFAULT_BATCH_SIZE = 50000
CHUNK_SIZE = 2000
# "Run now" opens at most this many tasks in the user's request; the
# scheduled action opens the rest in the background.
RUN_NOW_LIMIT = 2000
MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


class ClinicRecallRule(models.Model):
    """When to call a patient back, and who calls.

    * recall: N days/weeks/months after the last completed visit of a
      service or condition in a department, open one task ``lead_days``
      before it is due;
    * chronic: the same, with a cadence that changes with the number of
      visits (hypertension: weekly for the first checks, then monthly);
    * post_visit: one task per step (day 3, day 30) after each completed visit;
    * lapsed: no completed visit for the interval (6 months) → reactivation.

    The engine (``_run_batch``) is set-based: one SQL query per rule finds
    the patients due now that have no task yet, and the tasks are created
    through the ORM in batches. Every task carries a unique ``recall_key``
    (rule + patient + due date, or rule + step + visit), so re-runs,
    crashed-and-resumed runs and concurrent runs never open a task twice.
    A rule that fails is logged and skipped; the other rules still run.
    Dates (due dates, "today") are the clinic's local dates.
    """

    _name = "clinic.recall.rule"
    _description = "Recall Rule"
    _inherit = ["mail.thread", "clinic.interval.mixin"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    kind = fields.Selection(RULE_KINDS, required=True, default="recall", tracking=True)
    department_id = fields.Many2one(
        "clinic.department",
        required=True,
        tracking=True,
        check_company=True,
        help="The department whose visits the rule reads and whose team works the tasks.",
    )
    service_id = fields.Many2one(
        "clinic.service",
        string="Service / condition",
        tracking=True,
        check_company=True,
        help="Only visits of this service or condition count. Leave empty for any visit of the department.",
    )
    lapsed_scope = fields.Selection(
        [("clinic", "A visit in any department"), ("department", "A visit in this department")],
        default="clinic",
        string="Counts as a visit",
        help="Lapsed rules: which visits keep a patient from lapsing.",
    )
    patient_domain = fields.Char(
        string="Patients",
        default="[]",
        help="Only patients matching this filter are recalled.",
    )
    interval_number = fields.Integer(default=6, tracking=True)
    interval_unit = fields.Selection(default="months", tracking=True)
    lead_days = fields.Integer(
        string="Open the task (days before due)",
        default=14,
        tracking=True,
        help="The task appears this many days before the visit is due, so staff can book it in time.",
    )
    max_overdue_days = fields.Integer(
        string="Ignore when overdue by more than (days)",
        compute="_compute_max_overdue_days",
        store=True,
        readonly=False,
        help="Patients whose due date is further in the past are not recalled by this rule "
        "(the lapsed-patient rule reactivates them). 0: no limit.",
    )
    step_ids = fields.One2many("clinic.recall.rule.step", "rule_id", string="Steps", copy=True)
    override_ids = fields.One2many("clinic.recall.override", "rule_id", string="Patient overrides")
    only_with_care_consent = fields.Boolean(string="Only patients who consent to care messages", default=True)
    assignment = fields.Selection(
        [
            ("balanced", "Round-robin in the team"),
            ("fixed", "Always the same person"),
            ("none", "Unassigned"),
        ],
        default="balanced",
        required=True,
        help="Round-robin gives each new task to the team member with the fewest open tasks.",
    )
    user_id = fields.Many2one("res.users", string="Assign to", domain="[('share', '=', False)]", check_company=True)
    team_user_ids = fields.Many2many(
        "res.users",
        "clinic_recall_rule_team_rel",
        "rule_id",
        "user_id",
        string="Team",
        domain="[('share', '=', False)]",
        help="Leave empty to use the department's customer-service team.",
    )
    channel = fields.Selection(
        selection=lambda self: self.env["clinic.followup.task"]._fields["channel"].selection,
        default="phone",
    )
    task_name = fields.Char(translate=True, help="Title of the tasks; the rule's name when empty.")
    retry_delay_days = fields.Integer(string="Retry after (days)", default=2)
    max_attempts = fields.Integer(default=3)
    reopen_after_days = fields.Integer(
        string="Re-open unreachable after (days)",
        default=30,
        help="An unreachable task goes back to New after this many days. 0: never.",
    )
    max_reopen = fields.Integer(string="Re-open at most", default=1)
    recovery_template_id = fields.Many2one("clinic.recovery.template", check_company=True)
    task_ids = fields.One2many("clinic.followup.task", "rule_id", string="Tasks")
    # CRM (see crm_lead.py): reactivation is worked in the department's pipeline
    open_opportunities = fields.Boolean(
        string="Open reactivation opportunities instead of tasks",
        help="Lapsed-patient rules: each patient due gets an opportunity in the department's pipeline "
        "(once per patient and due date) instead of a follow-up task.",
    )
    handover_unreachable = fields.Boolean(
        string="Hand unreachable patients over to reactivation",
        default=True,
        help="Recall and chronic rules: a patient not reached after the last attempt (and no re-open "
        "left) gets a reactivation opportunity in the department's pipeline.",
    )
    task_count = fields.Integer(compute="_compute_task_counts")
    open_task_count = fields.Integer(compute="_compute_task_counts")

    @api.depends("kind")
    def _compute_max_overdue_days(self):
        for rule in self:
            rule.max_overdue_days = 7 if rule.kind == "post_visit" else 180

    def _compute_task_counts(self):
        totals, opened = defaultdict(int), defaultdict(int)
        groups = self.env["clinic.followup.task"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id", "is_closed"], ["__count"]
        )
        for rule, is_closed, count in groups:
            totals[rule] += count
            if not is_closed:
                opened[rule] += count
        for rule in self:
            rule.task_count = totals[rule]
            rule.open_task_count = opened[rule]

    @api.constrains("kind", "interval_number", "step_ids", "lead_days", "max_overdue_days")
    def _check_configuration(self):
        for rule in self:
            if rule.kind == "post_visit" and not rule.step_ids:
                raise ValidationError(
                    self.env._("The post-visit rule “%(rule)s” needs at least one step (e.g. day 3).", rule=rule.name)
                )
            if rule.kind in ("recall", "lapsed") and rule.interval_number <= 0:
                raise ValidationError(
                    self.env._("The rule “%(rule)s” needs an interval of at least one day.", rule=rule.name)
                )
            if rule.kind == "chronic" and rule.interval_number <= 0 and not rule.step_ids:
                raise ValidationError(
                    self.env._("The chronic rule “%(rule)s” needs an interval or cadence steps.", rule=rule.name)
                )
            if rule.lead_days < 0 or rule.max_overdue_days < 0:
                raise ValidationError(self.env._("Lead and overdue days cannot be negative."))

    @api.constrains("patient_domain")
    def _check_patient_domain(self):
        for rule in self:
            try:
                self.env["clinic.patient"].search_count(rule._patient_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The patient filter of “%(rule)s” is not valid: %(error)s",
                        rule=rule.name,
                        error=error,
                    )
                ) from error

    def _patient_domain(self):
        self.ensure_one()
        return safe_eval(self.patient_domain or "[]")

    # ------------------------------------------------------------------
    # Engine: which patients are due (one query per rule)
    # ------------------------------------------------------------------

    def _candidate_filters(self, alias_patient):
        """SQL conditions on the patient shared by every rule kind."""
        return recall_sql.candidate_filters(self, alias_patient)

    def _due_sql(self):
        """For recall, chronic and lapsed rules: ``(patient_id, due_date)``
        of every patient with a completed visit of the rule's kind."""
        return recall_sql.due_sql(self)

    def _candidates_sql(self, limit):
        """Rows ``(patient_id, due_date, visit_id, step_id, recall_key)`` due
        now, with no task yet, ordered by due date."""
        return recall_sql.candidates_sql(self, limit)

    def _recall_candidates(self, limit):
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(self._candidates_sql(limit))
        return self.env.cr.dictfetchall()

    # ------------------------------------------------------------------
    # Engine: open the tasks (ORM, batched, idempotent)
    # ------------------------------------------------------------------

    def _assignees(self, count):
        """``count`` assignees for new tasks, per the rule's assignment."""
        self.ensure_one()
        if self.assignment == "none" or count == 0:
            return [False] * count
        if self.assignment == "fixed":
            return [self.user_id.id] * count
        return self.env["clinic.followup.task"]._balanced_assignees(
            self.department_id, self.team_user_ids or self.department_id.member_ids, count
        )

    def _task_defaults(self):
        """The values every task of this rule shares, worked out once per
        batch (the "new" stage of the department is one search, not one per
        task): with the per-task values, every stored field that has a
        default is given, so create() computes none record by record, and
        so is every stored computed field, so the flush finds them computed
        already and updates none of the new rows."""
        self.ensure_one()
        Task = self.env["clinic.followup.task"]
        stage = Task._stage_of_kind("new", self.department_id)
        return {
            **Task._new_task_computed_values(self.department_id, stage),
            "department_id": self.department_id.id,
            "stage_id": stage.id,
            "reason": TASK_REASON_BY_KIND[self.kind],
            "rule_id": self.id,
            "channel": self.channel or "phone",
            "max_attempts": self.max_attempts,
            "retry_delay_days": self.retry_delay_days,
            "open_date": fields.Datetime.now(),
            "active": True,
            "priority": "0",
            "attempt_count": 0,
        }

    def _task_values(self, rows):
        self.ensure_one()
        steps = {step.id: step for step in self.step_ids}
        visits = self.env["clinic.visit"].sudo().browse([row["visit_id"] for row in rows if row["visit_id"]])
        templates = self.env["clinic.recovery.template"].sudo()._by_service(visits.service_id | self.service_id)
        visit_by_id = {visit.id: visit for visit in visits}
        name = self.task_name or self.name
        defaults = self._task_defaults()
        vals_list = []
        for row, user_id in zip(rows, self._assignees(len(rows)), strict=True):
            step = steps.get(row["step_id"])
            visit = visit_by_id.get(row["visit_id"])
            template = self.recovery_template_id or templates.get((visit.service_id if visit else self.service_id).id)
            vals_list.append(
                dict(
                    defaults,
                    name=f"{name} — {step.name}" if step and step.name else name,
                    patient_id=row["patient_id"],
                    rule_step_id=step.id if step else False,
                    visit_id=visit.id if visit else False,
                    recall_key=row["recall_key"],
                    due_date=row["due_date"],
                    date_deadline=row["due_date"],
                    user_id=user_id,
                    recovery_template_id=template.id if template else False,
                )
            )
        return vals_list

    @api.model
    def _create_tasks(self, vals_list):
        """Create tasks in one batch. If the batch fails (another run opened
        some of the same keys meanwhile and the unique key refuses them, or
        one row is bad), create them one by one: a key already taken is
        skipped quietly, a bad row is logged and skipped, the others open.

        Tasks are regular ORM records (access rules, computed fields, chatter)
        created without a "created" log line or an "assigned to you" e-mail
        per task (``tracking_disable``): a nightly run opens hundreds, agents
        find them on their board, and each assignee follows their tasks
        (one follower insert per batch, ``_subscribe_assignees``). The batch
        checks its companies and works out its defaults once, not task by
        task (``clinic.followup.task._create_batch``).
        """
        Task = self.env["clinic.followup.task"].sudo().with_context(mail_create_nolog=True, tracking_disable=True)
        if not vals_list:
            return Task
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                tasks = Task._create_batch(vals_list)
        except Exception as error:  # retried row by row below
            _logger.info(
                "Recall engine: %s task(s) at once failed (%s); opening them one by one", len(vals_list), error
            )
            created_ids = []
            for vals in vals_list:
                try:
                    with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                        created_ids += Task.create(vals).ids
                except psycopg2.errors.UniqueViolation:
                    continue  # opened by another run meanwhile
                except Exception:
                    _logger.exception("Recall engine: the task %s could not be opened; skipped", vals.get("recall_key"))
            tasks = Task.browse(created_ids)
        self._subscribe_assignees(tasks)
        return tasks

    @api.model
    def _subscribe_assignees(self, tasks):
        """Each assignee follows their new tasks with the default subtypes,
        as mail.thread's auto-subscription would make them: one INSERT for the
        whole batch (followers and their subtypes), where the ORM would create
        and check each follower one by one."""
        pairs = [(task.id, task.user_id.partner_id.id) for task in tasks if task.user_id.partner_id]
        if not pairs:
            return
        subtypes = self.env["mail.message.subtype"].default_subtypes(tasks._name)[0]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH follower AS (
                    INSERT INTO mail_followers (res_model, res_id, partner_id)
                    SELECT %(model)s, pair.res_id, pair.partner_id
                      FROM unnest(%(res_ids)s::int[], %(partner_ids)s::int[]) AS pair(res_id, partner_id)
                    ON CONFLICT DO NOTHING
                 RETURNING id
                )
                INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
                SELECT follower.id, subtype.id FROM follower CROSS JOIN unnest(%(subtypes)s::int[]) AS subtype(id)
                """,
                model=tasks._name,
                res_ids=[task_id for task_id, _partner_id in pairs],
                partner_ids=[partner_id for _task_id, partner_id in pairs],
                subtypes=subtypes.ids,
            )
        )
        self.env["mail.followers"].invalidate_model()
        tasks.invalidate_recordset(["message_follower_ids", "message_partner_ids"])

    def _open_tasks(self, rows):
        self.ensure_one()
        if self.kind == "lapsed" and self.open_opportunities:
            self.env["clinic.reactivation"]._open_for_rule(self, rows)
            return self.env["clinic.followup.task"]
        return self._create_tasks(self._task_values(rows))

    def _release_archived_keys(self):
        """An archived task that was not closed does not stand for its recall
        (an agent clearing their board must not stop a patient's recalls for
        good): free its key, so the engine opens the recall again."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE clinic_followup_task
                   SET recall_key = recall_key || ':archived:' || id
                 WHERE rule_id = %s AND NOT active AND NOT is_closed
                   AND recall_key IS NOT NULL AND recall_key NOT LIKE %s
                """,
                self.id,
                "%:archived:%",
            )
        )
        if self.env.cr.rowcount:
            self.env["clinic.followup.task"].invalidate_model(["recall_key"])

    def _resync_open_tasks(self):
        """A visit or the rule changed: move the deadline of open tasks nobody
        has worked on yet to the patient's current due date, and their key
        with it. When another task (closed, archived, manual) already holds
        that key, the moved task keeps a key of its own (suffixed with its
        id): a collision is resolved, never raised."""
        self.ensure_one()
        Task = self.env["clinic.followup.task"].sudo()
        if self.kind == "post_visit":
            return Task
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT task.id, due.due_date
                  FROM clinic_followup_task task
                  JOIN (%s) AS due ON due.patient_id = task.patient_id
                 WHERE task.rule_id = %s AND NOT task.is_closed AND task.active AND task.attempt_count = 0
                   AND task.due_date IS DISTINCT FROM due.due_date
                """,
                self._due_sql(),
                self.id,
            )
        )
        moved = defaultdict(list)
        for task_id, due_date in self.env.cr.fetchall():
            moved[due_date].append(task_id)
        if not moved:
            return Task
        tasks = Task.browse([task_id for task_ids in moved.values() for task_id in task_ids])
        for due_date, task_ids in moved.items():
            Task.browse(task_ids).write({"due_date": due_date, "date_deadline": due_date})
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE clinic_followup_task task
                   SET recall_key = CASE
                           WHEN wanted.rank = 1 AND NOT EXISTS (
                                SELECT 1 FROM clinic_followup_task other
                                 WHERE other.recall_key = wanted.key AND other.id <> task.id)
                           THEN wanted.key
                           ELSE wanted.key || ':t' || task.id END
                  FROM (SELECT t.id,
                               CONCAT('r', t.rule_id, ':p', t.patient_id, ':d', t.due_date) AS key,
                               ROW_NUMBER() OVER (PARTITION BY t.rule_id, t.patient_id, t.due_date
                                                  ORDER BY t.id) AS rank
                          FROM clinic_followup_task t
                         WHERE t.id = ANY(%s)) AS wanted
                 WHERE task.id = wanted.id
             RETURNING task.recall_key <> wanted.key
                """,
                tasks.ids,
            )
        )
        collisions = sum(1 for (suffixed,) in self.env.cr.fetchall() if suffixed)
        if collisions:
            _logger.info(
                "Recall engine: rule %s: %s moved task(s) kept a key of their own (another task holds the due date)",
                self.id,
                collisions,
            )
        Task.invalidate_model(["recall_key"])
        return tasks

    def _prepare_run(self, limit):
        """Everything a run does for this rule before opening tasks: free
        archived keys, resync the open tasks, find up to ``limit`` due rows."""
        self.ensure_one()
        self._release_archived_keys()
        self._resync_open_tasks()
        return self._recall_candidates(limit)

    @api.model
    def _run_batch(self, batch_size=DEFAULT_BATCH_SIZE, rules=None, commit=False):
        """Open at most ``batch_size`` due tasks over ``rules`` (all active
        rules by default), ``CHUNK_SIZE`` at a time, committing after each
        chunk when ``commit`` (the cron). A rule that fails (a bad patient
        filter, a database error) is rolled back, logged and skipped: the
        other rules still run. Returns ``(tasks created, more remaining)``."""
        if rules is None:
            rules = self.sudo().search([])  # pylint: disable=no-search-all  # the active rules, a few dozen
        Task = self.env["clinic.followup.task"].sudo()
        created_ids = []
        budget = batch_size
        for rule in rules:
            if budget <= 0:
                return Task.browse(created_ids), True
            try:
                with self.env.cr.savepoint():
                    rows = rule._prepare_run(budget + 1)
            except Exception:
                self.env.invalidate_all()
                _logger.exception("Recall engine: rule %s (id %s) failed and was skipped", rule.name, rule.id)
                continue
            more = len(rows) > budget
            rows = rows[:budget]
            for start in range(0, len(rows), CHUNK_SIZE):
                created_ids += rule._open_tasks(rows[start : start + CHUNK_SIZE]).ids
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit  # cron: a crash keeps the chunks done; the keys skip them on re-run
                    self.env.invalidate_all()  # constant memory over large runs
            budget -= len(rows)
            if more:
                return Task.browse(created_ids), True
        return Task.browse(created_ids), False

    @api.model
    def _cron_run_recall_rules(self, batch_size=DEFAULT_BATCH_SIZE):
        """Scheduled action: one batch per call, committed chunk by chunk,
        re-run at once while work remains (``_notify_progress``)."""
        testing = getattr(threading.current_thread(), "testing", False)
        created, more = self._run_batch(batch_size, commit=not testing)
        reopened = self.env["clinic.followup.task"].sudo()._reopen_unreachable()
        _logger.info("Recall engine: %s task(s) opened, %s re-opened", len(created), len(reopened))
        self.env["ir.cron"]._notify_progress(done=len(created) + len(reopened), remaining=1 if more else 0)
        return created

    def action_run_now(self):
        """Button (managers only): open the due tasks of these rules now, at
        most ``RUN_NOW_LIMIT`` in this request (a short transaction); when
        more are due, the scheduled action opens them in the background."""
        if not self.env.is_superuser() and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Patient Care managers can run recall rules."))
        created, more = self._run_batch(RUN_NOW_LIMIT, rules=self.filtered("active"))
        if more:
            self.env.ref("clinic_retention.ir_cron_clinic_recall_rules").sudo()._trigger()
            message = self.env._(
                "%(count)s follow-up task(s) opened; the others open in the background within a few minutes.",
                count=len(created),
            )
        else:
            message = self.env._("%(count)s follow-up task(s) opened.", count=len(created))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Recall rules run"),
                "message": message,
                "type": "success" if created else "info",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_open_tasks(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_followup_task_action")
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"default_department_id": self.department_id.id}
        return action

    @api.model
    def _demo_work_followups(self):
        """Demo data: open the due follow-ups and work some of them."""
        from ..demo.demo_generator import work_followups  # demo-only code

        work_followups(self.env)
