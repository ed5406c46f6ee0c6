import logging
import threading
from collections import defaultdict
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, mute_logger
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

RULE_KINDS = [
    ("recall", "Recall after the last visit"),
    ("chronic", "Chronic-care cadence"),
    ("post_visit", "Post-visit follow-ups"),
    ("lapsed", "Lapsed-patient reactivation"),
]

INTERVAL_UNITS = [("days", "Days"), ("weeks", "Weeks"), ("months", "Months")]

TASK_REASON_BY_KIND = {
    "recall": "recall",
    "chronic": "chronic",
    "post_visit": "post_visit",
    "lapsed": "reactivation",
}

# One candidate query finds up to BATCH_SIZE due tasks; they are created
# CHUNK_SIZE at a time (and committed per chunk when the cron runs them).
DEFAULT_BATCH_SIZE = 10000
CHUNK_SIZE = 1000


def interval_parts(number, unit):
    """(months, days) of an interval given as a number of days, weeks or months."""
    number = number or 0
    if unit == "months":
        return number, 0
    if unit == "weeks":
        return 0, 7 * number
    return 0, number


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
    """

    _name = "clinic.recall.rule"
    _description = "Recall Rule"
    _inherit = ["mail.thread"]
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
    interval_number = fields.Integer(string="Every", default=6, tracking=True)
    interval_unit = fields.Selection(INTERVAL_UNITS, default="months", required=True, tracking=True)
    interval_months = fields.Integer(compute="_compute_interval_parts", store=True)
    interval_days = fields.Integer(compute="_compute_interval_parts", store=True)
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

    @api.depends("interval_number", "interval_unit")
    def _compute_interval_parts(self):
        for rule in self:
            rule.interval_months, rule.interval_days = interval_parts(rule.interval_number, rule.interval_unit)

    @api.depends("kind")
    def _compute_max_overdue_days(self):
        for rule in self:
            rule.max_overdue_days = 7 if rule.kind == "post_visit" else 180

    def _compute_task_counts(self):
        Task = self.env["clinic.followup.task"]
        totals = dict(Task._read_group([("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        opened = dict(
            Task._read_group([("rule_id", "in", self.ids), ("is_closed", "=", False)], ["rule_id"], ["__count"])
        )
        for rule in self:
            rule.task_count = totals.get(rule, 0)
            rule.open_task_count = opened.get(rule, 0)

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
        self.ensure_one()
        conditions = [
            SQL("partner.active"),
            SQL("%s.preferred_channel IS DISTINCT FROM 'none'", SQL.identifier(alias_patient)),
            SQL("%s.company_id = %s", SQL.identifier(alias_patient), self.company_id.id),
        ]
        if self.only_with_care_consent:
            conditions.append(SQL("%s.care_consent", SQL.identifier(alias_patient)))
        domain = self._patient_domain()
        if domain:
            query = self.env["clinic.patient"].sudo().with_context(active_test=False)._search(domain)
            conditions.append(SQL("%s.id IN %s", SQL.identifier(alias_patient), query.subselect()))
        return SQL(" AND ").join(conditions)

    def _due_sql(self):
        """For recall, chronic and lapsed rules: ``(patient_id, due_date)``
        of every patient with a completed visit of the rule's kind."""
        self.ensure_one()
        visit_filter = [SQL("v.state = 'done'"), SQL("v.company_id = %s", self.company_id.id)]
        if self.kind != "lapsed" or self.lapsed_scope == "department":
            visit_filter.append(SQL("v.department_id = %s", self.department_id.id))
        if self.kind != "lapsed" and self.service_id:
            visit_filter.append(SQL("v.service_id = %s", self.service_id.id))
        months, days = self.interval_months, self.interval_days
        return SQL(
            """
            SELECT last_visit.patient_id,
                   (last_visit.last_start::date + make_interval(
                        months => COALESCE(override.interval_months, cadence.interval_months, %(months)s),
                        days => COALESCE(override.interval_days, cadence.interval_days, %(days)s)))::date
                       AS due_date
              FROM (SELECT v.patient_id, MAX(v.start) AS last_start, COUNT(*) AS done_count
                      FROM clinic_visit v
                     WHERE %(visit_filter)s
                  GROUP BY v.patient_id) AS last_visit
         LEFT JOIN clinic_recall_override override
                ON override.rule_id = %(rule)s AND override.patient_id = last_visit.patient_id
               AND override.active
         LEFT JOIN LATERAL (
                   SELECT step.interval_months, step.interval_days
                     FROM clinic_recall_rule_step step
                    WHERE step.rule_id = %(rule)s AND %(is_chronic)s
                      AND step.min_visits <= last_visit.done_count
                 ORDER BY step.min_visits DESC
                    LIMIT 1) AS cadence ON TRUE
            """,
            months=months,
            days=days,
            visit_filter=SQL(" AND ").join(visit_filter),
            rule=self.id,
            is_chronic=self.kind == "chronic",
        )

    def _candidates_sql(self, limit):
        """Rows ``(patient_id, due_date, visit_id, step_id, recall_key)`` due
        now, with no task yet, ordered by due date."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        horizon = today + timedelta(days=self.lead_days)
        oldest = today - timedelta(days=self.max_overdue_days) if self.max_overdue_days else None
        now = fields.Datetime.now()
        if self.kind == "post_visit":
            max_offset = max(self.step_ids.mapped("offset_days") or [0])
            visit_filter = [
                SQL("v.state = 'done'"),
                SQL("v.company_id = %s", self.company_id.id),
                SQL("v.department_id = %s", self.department_id.id),
            ]
            if self.service_id:
                visit_filter.append(SQL("v.service_id = %s", self.service_id.id))
            if oldest:
                # lets the (department, state, start) index skip older history
                visit_filter.append(SQL("v.start >= %s", oldest - timedelta(days=max_offset + 1)))
            return SQL(
                """
                SELECT candidate.* FROM (
                    SELECT v.patient_id,
                           (v.start::date + step.offset_days) AS due_date,
                           v.id AS visit_id,
                           step.id AS step_id,
                           CONCAT('r', %(rule)s, ':s', step.id, ':v', v.id) AS recall_key
                      FROM clinic_visit v
                      JOIN clinic_recall_rule_step step ON step.rule_id = %(rule)s
                      JOIN clinic_patient patient ON patient.id = v.patient_id
                      JOIN res_partner partner ON partner.id = patient.partner_id
                     WHERE %(visit_filter)s AND %(patient_filter)s
                       AND (v.start::date + step.offset_days) <= %(horizon)s
                       AND (%(oldest)s::date IS NULL
                            OR (v.start::date + step.offset_days) >= %(oldest)s::date)
                ) AS candidate
                 WHERE NOT EXISTS (SELECT 1 FROM clinic_followup_task task
                                    WHERE task.recall_key = candidate.recall_key)
              ORDER BY candidate.due_date, candidate.visit_id, candidate.step_id
                 LIMIT %(limit)s
                """,
                rule=self.id,
                visit_filter=SQL(" AND ").join(visit_filter),
                patient_filter=self._candidate_filters("patient"),
                horizon=horizon,
                oldest=oldest,
                limit=limit,
            )
        booked_department = (
            SQL("") if self.kind == "lapsed" else SQL("AND booked.department_id = %s", self.department_id.id)
        )
        return SQL(
            """
            SELECT candidate.* FROM (
                SELECT due.patient_id,
                       due.due_date,
                       NULL::integer AS visit_id,
                       NULL::integer AS step_id,
                       CONCAT('r', %(rule)s, ':p', due.patient_id, ':d', due.due_date) AS recall_key
                  FROM (%(due)s) AS due
                  JOIN clinic_patient patient ON patient.id = due.patient_id
                  JOIN res_partner partner ON partner.id = patient.partner_id
                 WHERE %(patient_filter)s
                   AND due.due_date <= %(horizon)s
                   AND (%(oldest)s::date IS NULL OR due.due_date >= %(oldest)s::date)
                   AND NOT EXISTS (SELECT 1 FROM clinic_visit booked
                                    WHERE booked.patient_id = due.patient_id %(booked_department)s
                                      AND booked.state = 'scheduled' AND booked.start >= %(now)s)
                   AND NOT EXISTS (SELECT 1 FROM clinic_followup_task open_task
                                    WHERE open_task.rule_id = %(rule)s
                                      AND open_task.patient_id = due.patient_id
                                      AND NOT open_task.is_closed)
                   AND %(no_reactivation)s
            ) AS candidate
             WHERE NOT EXISTS (SELECT 1 FROM clinic_followup_task task
                                WHERE task.recall_key = candidate.recall_key)
          ORDER BY candidate.due_date, candidate.patient_id
             LIMIT %(limit)s
            """,
            rule=self.id,
            due=self._due_sql(),
            patient_filter=self._candidate_filters("patient"),
            horizon=horizon,
            oldest=oldest,
            booked_department=booked_department,
            now=now,
            limit=limit,
            no_reactivation=self.env["clinic.reactivation"]._exclusion_sql(self),
        )

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

    def _task_values(self, rows):
        self.ensure_one()
        steps = {step.id: step for step in self.step_ids}
        visits = self.env["clinic.visit"].sudo().browse([row["visit_id"] for row in rows if row["visit_id"]])
        templates = self.env["clinic.recovery.template"].sudo()._by_service(visits.service_id | self.service_id)
        visit_by_id = {visit.id: visit for visit in visits}
        reason = TASK_REASON_BY_KIND[self.kind]
        name = self.task_name or self.name
        # Every stored field is given, so create() computes no default nor
        # precomputed value record by record.
        Task = self.env["clinic.followup.task"]
        {
            "department_id": self.department_id.id,
            "company_id": self.department_id.company_id.id,
            "stage_id": Task._stage_of_kind("new", self.department_id).id,
            "reason": reason,
            "rule_id": self.id,
            "channel": self.channel or "phone",
            "max_attempts": self.max_attempts,
            "retry_delay_days": self.retry_delay_days,
            "open_date": fields.Datetime.now(),
            "active": True,
            "priority": "0",
            "attempt_count": 0,
            "color": 0,
        }
        vals_list = []
        for row, user_id in zip(rows, self._assignees(len(rows)), strict=True):
            step = steps.get(row["step_id"])
            visit = visit_by_id.get(row["visit_id"])
            template = self.recovery_template_id or templates.get((visit.service_id if visit else self.service_id).id)
            vals_list.append(
                {
                    "name": f"{name} — {step.name}" if step and step.name else name,
                    "patient_id": row["patient_id"],
                    "department_id": self.department_id.id,
                    "reason": reason,
                    "rule_id": self.id,
                    "rule_step_id": step.id if step else False,
                    "visit_id": visit.id if visit else False,
                    "recall_key": row["recall_key"],
                    "due_date": row["due_date"],
                    "date_deadline": row["due_date"],
                    "user_id": user_id,
                    "channel": self.channel or "phone",
                    "max_attempts": self.max_attempts,
                    "retry_delay_days": self.retry_delay_days,
                    "recovery_template_id": template.id if template else False,
                }
            )
        return vals_list

    @api.model
    def _create_tasks(self, vals_list):
        """Create tasks in one batch; if another run created some of the
        same keys meanwhile, skip those (the unique key refused them).

        Tasks are regular ORM records (access rules, computed fields,
        chatter); the per-record follower subscription of mail.thread is
        replaced by one insert per assignee.
        """
        Task = self.env["clinic.followup.task"].sudo().with_context(mail_create_nolog=True, tracking_disable=True)
        if not vals_list:
            return Task
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                tasks = Task.create(vals_list)
        except psycopg2.errors.UniqueViolation:
            _logger.info("Recall engine: another run opened some of these %s tasks; skipping them", len(vals_list))
            tasks = Task.browse()
            for vals in vals_list:
                try:
                    with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                        tasks |= Task.create(vals)
                except psycopg2.errors.UniqueViolation:
                    continue
        tasks._subscribe_assignees()
        return tasks

    def _open_tasks(self, rows):
        self.ensure_one()
        if self.kind == "lapsed" and self.open_opportunities:
            self.env["clinic.reactivation"]._open_for_rule(self, rows)
            return self.env["clinic.followup.task"]
        return self._create_tasks(self._task_values(rows))

    def _resync_open_tasks(self):
        """A visit or the rule changed: move the deadline of open tasks nobody
        has worked on yet to the patient's current due date."""
        self.ensure_one()
        if self.kind == "post_visit":
            return self.env["clinic.followup.task"]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT task.id, due.due_date
                  FROM clinic_followup_task task
                  JOIN (%s) AS due ON due.patient_id = task.patient_id
                 WHERE task.rule_id = %s AND NOT task.is_closed AND task.attempt_count = 0
                   AND task.due_date IS DISTINCT FROM due.due_date
                """,
                self._due_sql(),
                self.id,
            )
        )
        moved = defaultdict(list)
        for task_id, due_date in self.env.cr.fetchall():
            moved[due_date].append(task_id)
        Task = self.env["clinic.followup.task"].sudo()
        tasks = Task.browse()
        for due_date, task_ids in moved.items():
            batch = Task.browse(task_ids)
            for task in batch:
                task.write(
                    {
                        "due_date": due_date,
                        "date_deadline": due_date,
                        "recall_key": f"r{self.id}:p{task.patient_id.id}:d{due_date}",
                    }
                )
            tasks |= batch
        return tasks

    @api.model
    def _run_batch(self, batch_size=DEFAULT_BATCH_SIZE, rules=None, commit=False):
        """Open at most ``batch_size`` due tasks over ``rules`` (all active
        rules by default), ``CHUNK_SIZE`` at a time, committing after each
        chunk when ``commit`` (the cron). Returns ``(tasks created, more
        remaining)``."""
        rules = rules if rules is not None else self.sudo().search([])
        Task = self.env["clinic.followup.task"].sudo()
        created_ids = []
        budget = batch_size
        for rule in rules:
            if budget <= 0:
                return Task.browse(created_ids), True
            rule._resync_open_tasks()
            rows = rule._recall_candidates(budget + 1)
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
        """Button: run these rules to the end and say how many tasks opened."""
        total = self.env["clinic.followup.task"]
        more = True
        while more:
            created, more = self._run_batch(DEFAULT_BATCH_SIZE, rules=self)
            total |= created
        message = self.env._("%(count)s follow-up task(s) opened.", count=len(total))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Recall rules run"),
                "message": message,
                "type": "success" if total else "info",
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
