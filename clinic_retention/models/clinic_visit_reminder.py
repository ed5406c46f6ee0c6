import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, create_index, format_datetime

_logger = logging.getLogger(__name__)

MESSAGE_KINDS = [
    ("day_before", "Reminder the day before"),
    ("two_hours", "Reminder shortly before"),
    ("satisfaction", "Thank-you and survey"),
    # sent by an agent from a follow-up task (see clinic_care_message_task.py)
    ("recall_invitation", "Recall invitation"),
    ("reactivation", "Reactivation"),
    ("unreachable", "Unreachable after attempts"),
    ("birthday", "Birthday greeting"),
]
# Kinds about the patient, not a visit: their key is ``message_key``.
PATIENT_KINDS = ("birthday",)
# Kinds counted by the daily cap (a thank-you is not a reminder).
REMINDER_KINDS = ("day_before", "two_hours")

REMINDER_CHANNELS = [("email", "Email"), ("sms", "SMS")]

REMINDER_STATES = [
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("bounced", "Bounced"),
    ("skipped", "Not sent"),
    ("cancelled", "Cancelled"),
]
# States of a message that went out or is on its way (the daily cap counts them).
LIVE_STATES = ("queued", "sent", "delivered", "failed", "bounced")

SKIP_REASONS = [
    ("no_consent", "No consent to care messages"),
    ("no_marketing_consent", "No consent to marketing messages"),
    ("do_not_contact", "Patient asked not to be contacted"),
    ("blacklisted", "Number or email blacklisted (opted out)"),
    ("no_email", "No email address"),
    ("no_number", "No number that can receive SMS"),
    ("daily_cap", "Daily limit reached before the visit"),
    ("quiet_hours", "Quiet hours last until the visit"),
    ("inactive", "Patient archived"),
    ("too_late", "Booked too late"),
    ("visit_changed", "Visit cancelled or moved before sending"),
]

FAILURE_TYPES = [
    ("render", "The template could not be written for this patient"),
    ("mail_smtp", "Mail server unreachable"),
    ("mail_email_invalid", "Invalid email address"),
    ("mail_email_missing", "No email address"),
    ("mail_from", "Invalid sender address"),
    ("mail_bounce", "Email bounced"),
    ("sms_credit", "No SMS credit left"),
    ("sms_number", "Invalid or missing number"),
    ("sms_country", "Country not supported by the SMS provider"),
    ("sms_server", "SMS provider error"),
    ("sms_acc", "SMS account not registered"),
    ("sms_rejected", "SMS rejected by the operator"),
    ("sms_expired", "SMS not delivered in time"),
    ("unknown", "Unknown error"),
]
# Core's failure types (mail.mail, sms.sms, sms.tracker) in our words.
CORE_FAILURES = {
    "mail_smtp": "mail_smtp",
    "mail_email_invalid": "mail_email_invalid",
    "mail_email_missing": "mail_email_missing",
    "mail_from_invalid": "mail_from",
    "mail_from_missing": "mail_from",
    "mail_bounce": "mail_bounce",
    "sms_credit": "sms_credit",
    "sms_number_missing": "sms_number",
    "sms_number_format": "sms_number",
    "sms_country_not_supported": "sms_country",
    "sms_registration_needed": "sms_country",
    "sms_server": "sms_server",
    "sms_acc": "sms_acc",
    "sms_blacklist": "sms_rejected",
    "sms_optout": "sms_rejected",
    "sms_invalid_destination": "sms_number",
    "sms_not_allowed": "sms_rejected",
    "sms_rejected": "sms_rejected",
    "sms_expired": "sms_expired",
    "sms_not_delivered": "sms_expired",
}
# Failures that trying again cannot fix: straight to a follow-up task.
PERMANENT_FAILURES = {"mail_email_invalid", "mail_email_missing", "mail_bounce", "sms_number", "sms_country"}

CLAIM_COLUMNS = (
    "visit_id",
    "message_key",
    "patient_id",
    "company_id",
    "department_id",
    "kind",
    "channel",
    "visit_start",
    "sent_date",
    "state",
    "skip_reason",
    "deferred_reason",
    "automation_id",
    "destination",
    "scheduled_date",
    "local_date",
    "mail_template_id",
    "sms_template_id",
)


class ClinicVisitReminder(models.Model):
    """A care message about a visit (reminder, thank-you and survey), from
    the decision to its delivery: queued (maybe deferred by quiet hours or
    the daily cap), sent, delivered, failed or bounced; or not sent, and why.

    One row per visit, kind of message, channel and visit time: the unique
    key makes every message go out once however often, late or concurrently
    the rules run; a visit moved to another time is a new key. The row links
    the ``mail.mail`` or ``sms.sms`` it produced and follows its fate (mail
    queue results, SMS delivery reports, bounces); passing failures are
    retried with back-off, and what still fails opens a follow-up task.
    The policy and the sending live in ``clinic.care.message``."""

    _name = "clinic.visit.reminder"
    _description = "Care message"
    _order = "scheduled_date desc, id desc"
    _rec_name = "kind"
    _check_company_auto = True

    visit_id = fields.Many2one("clinic.visit", index=True, ondelete="cascade", check_company=True)
    task_id = fields.Many2one(
        "clinic.followup.task",
        string="Follow-up",
        index="btree_not_null",
        ondelete="cascade",
        help="The follow-up task an agent sent this message from (recall invitation, reactivation...).",
    )
    task_key = fields.Char(
        copy=False,
        readonly=True,
        help="A message sent from a follow-up: the task, kind, channel and day. Unique, so a double click sends once.",
    )
    message_key = fields.Char(
        readonly=True,
        copy=False,
        help="The exactly-once key of a message about the patient rather than a visit, e.g. birthday:<patient>:<year>.",
    )
    patient_id = fields.Many2one(
        "clinic.patient", compute="_compute_about", store=True, readonly=False, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", compute="_compute_about", store=True, readonly=False, index=True)
    department_id = fields.Many2one(
        "clinic.department", compute="_compute_about", store=True, readonly=False, index=True
    )
    kind = fields.Selection(MESSAGE_KINDS, required=True)
    channel = fields.Selection(REMINDER_CHANNELS, required=True)
    visit_start = fields.Datetime(
        help="The visit time the message is about (empty for a message sent from a follow-up or about the patient)."
    )
    state = fields.Selection(REMINDER_STATES, string="Status", required=True, default="queued", index=True)
    skip_reason = fields.Selection(SKIP_REASONS, string="Reason not sent")
    deferred_reason = fields.Selection(
        [("quiet_hours", "Quiet hours"), ("daily_cap", "Daily limit")],
        string="Waited for",
        help="Why the message was planned for later than its rule's time.",
    )
    automation_id = fields.Many2one("base.automation", string="Automation rule", ondelete="set null")
    destination = fields.Char(help="The email address or number it goes to.")
    mail_template_id = fields.Many2one("mail.template", ondelete="set null")
    sms_template_id = fields.Many2one("sms.template", ondelete="set null")
    scheduled_date = fields.Datetime(
        string="Planned for", index=True, help="Not before this time (quiet hours, daily limit, retries)."
    )
    local_date = fields.Date(string="Patient's day", help="The patient's local day the message is planned for.")
    handover_date = fields.Datetime(
        string="Queued on", readonly=True, help="Handed to Odoo's outgoing mail or SMS queue."
    )
    sent_date = fields.Datetime(string="Sent on", default=fields.Datetime.now, index=True)
    delivered_date = fields.Datetime(string="Delivered on")
    attempt_count = fields.Integer(string="Attempts", default=0)
    next_attempt_date = fields.Datetime(string="Next attempt", index="btree_not_null")
    failure_type = fields.Selection(FAILURE_TYPES)
    failure_reason = fields.Text(help="The error, as reported by the template, the mail server or the SMS provider.")
    mail_mail_id = fields.Many2one("mail.mail", string="Email", ondelete="set null", index="btree_not_null")
    message_id = fields.Char(string="Message-Id", index="btree_not_null", help="Email header, to match bounces.")
    sms_id = fields.Many2one("sms.sms", string="SMS", ondelete="set null", index="btree_not_null")
    sms_uuid = fields.Char(string="SMS UUID", index="btree_not_null")
    followup_task_id = fields.Many2one("clinic.followup.task", string="Follow-up opened", ondelete="set null")

    _sql_constraints = [
        (
            "visit_kind_channel_start_uniq",
            "unique(visit_id, kind, channel, visit_start)",
            "This message was already sent for this visit.",
        ),
        ("task_key_uniq", "unique(task_key)", "This message was already sent from this follow-up today."),
        ("message_key_uniq", "unique(message_key)", "This message was already sent to this patient."),
        (
            "visit_or_task",
            "CHECK(visit_id IS NOT NULL OR task_id IS NOT NULL OR message_key IS NOT NULL)",
            "A care message is about a visit, a follow-up or a patient.",
        ),
    ]

    def _auto_init(self):
        result = super()._auto_init()
        # The dispatcher's queue: messages due to leave, or to be tried again.
        create_index(
            self.env.cr,
            "clinic_visit_reminder_due_idx",
            self._table,
            ["scheduled_date"],
            where="state = 'queued' AND handover_date IS NULL",
        )
        # The daily cap reads "this patient's messages on this local day".
        create_index(self.env.cr, "clinic_visit_reminder_cap_idx", self._table, ["patient_id", "channel", "local_date"])
        return result

    @api.depends(
        "visit_id.patient_id",
        "visit_id.company_id",
        "visit_id.department_id",
        "task_id.patient_id",
        "task_id.company_id",
        "task_id.department_id",
    )
    def _compute_about(self):
        """A visit's or a follow-up's message is about its patient, company and
        department; a message about the patient (birthday) keeps the patient
        and company it was written for."""
        for message in self:
            about = message.visit_id or message.task_id
            message.patient_id = about.patient_id or message.patient_id
            message.company_id = about.company_id or message.company_id
            message.department_id = about.department_id or message.department_id

    @api.depends("kind", "channel", "visit_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for message in self:
            message.display_name = f"{kinds.get(message.kind, '')} ({channels.get(message.channel, '')})"

    # ------------------------------------------------------------------
    # Claims: exactly once, whoever runs
    # ------------------------------------------------------------------

    @api.model
    def _claim(self, rows):
        """Write ``rows`` to the ledger, skipping those whose key is already
        there (``INSERT ... ON CONFLICT DO NOTHING``): only the rows returned
        may be acted upon. Two runs at once cannot both claim a row. The key
        is the visit, kind, channel and visit time, or ``message_key`` for a
        message about the patient."""
        if not rows:
            return self.browse()
        self.env.flush_all()
        uid = self.env.uid
        now = self.env.cr.now()
        # one parameter per row (psycopg2 writes a tuple as a parenthesized list)
        values = SQL(", ").join(
            SQL("%s", (*(row.get(column) or None for column in CLAIM_COLUMNS), 0, uid, uid, now, now)) for row in rows
        )
        self.env.cr.execute(
            SQL(
                """
            INSERT INTO clinic_visit_reminder (%s, attempt_count, create_uid, write_uid, create_date, write_date)
            VALUES %s
            ON CONFLICT DO NOTHING
            RETURNING id, state, scheduled_date
            """,
                SQL(", ").join(SQL.identifier(column) for column in CLAIM_COLUMNS),
                values,
            )
        )
        returned = self.env.cr.fetchall()
        claimed = self.browse([row[0] for row in returned])
        self.invalidate_model()
        # what the caller reads next, known without reading the rows back
        self.env.cache.update(claimed, self._fields["state"], [row[1] for row in returned])
        self.env.cache.update(claimed, self._fields["scheduled_date"], [row[2] for row in returned])
        self.env["clinic.visit"].invalidate_model(["reminder_ids"])
        return claimed

    @api.model
    def _lock_due(self, limit):
        """Lock up to ``limit`` messages due to leave now (queued, or failed
        and due for another attempt) that no other worker holds: several
        dispatchers share the queue without ever taking the same message."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
            SELECT id FROM clinic_visit_reminder
             WHERE (state = 'queued' AND handover_date IS NULL AND scheduled_date <= %(now)s)
                OR (state = 'failed' AND next_attempt_date <= %(now)s)
             ORDER BY scheduled_date, id
             LIMIT %(limit)s
               FOR UPDATE SKIP LOCKED
            """,
                now=fields.Datetime.now(),
                limit=limit,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _count_due(self):
        self.env.cr.execute(
            SQL(
                """
            SELECT count(*) FROM clinic_visit_reminder
             WHERE (state = 'queued' AND handover_date IS NULL AND scheduled_date <= %(now)s)
                OR (state = 'failed' AND next_attempt_date <= %(now)s)
            """,
                now=fields.Datetime.now(),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _cron_dispatch(self, batch_size=None):
        """Scheduled action: send the care messages due (see
        ``clinic.care.message._dispatch_due``)."""
        return self.env["clinic.care.message"]._dispatch_due(batch_size=batch_size, automatic=True)

    # ------------------------------------------------------------------
    # A message's life, as the mail queue and the SMS provider report it
    # ------------------------------------------------------------------

    def _set_sent(self, when=None):
        self.filtered(lambda m: m.state in ("queued", "failed")).write(
            {
                "state": "sent",
                "sent_date": when or fields.Datetime.now(),
                "failure_type": False,
                "next_attempt_date": False,
            }
        )

    def _set_delivered(self):
        self.filtered(lambda m: m.state in ("queued", "sent", "failed")).write(
            {"state": "delivered", "delivered_date": fields.Datetime.now(), "next_attempt_date": False}
        )

    def _set_bounced(self, failure_type, reason=False):
        messages = self.filtered(lambda m: m.state not in ("bounced", "skipped", "cancelled"))
        messages.write(
            {
                "state": "bounced",
                "failure_type": CORE_FAILURES.get(failure_type, failure_type),
                "failure_reason": reason or False,
                "next_attempt_date": False,
            }
        )
        messages._open_followup_tasks()

    def _register_failure(self, failure_type, reason=False):
        """A message failed (template, mail server, SMS provider). A passing
        failure is tried again later, with back-off, while it is still
        useful; otherwise, or after the last attempt, customer service gets
        a follow-up task to reach the patient another way."""
        failure_type = CORE_FAILURES.get(failure_type, failure_type or "unknown")
        if failure_type not in dict(FAILURE_TYPES):
            failure_type = "unknown"
        now = fields.Datetime.now()
        final = self.browse()
        for message in self.filtered(lambda m: m.state in ("queued", "sent", "failed")):
            company = message.company_id
            attempts = max(message.attempt_count, 1)
            retry_at = now + timedelta(minutes=(company.clinic_message_retry_minutes or 30) * 2 ** (attempts - 1))
            retry_at = self.env["clinic.care.message"]._next_allowed_time(message, retry_at)
            can_retry = (
                failure_type not in PERMANENT_FAILURES
                and attempts < (company.clinic_message_max_attempts or 1)
                and message._still_useful(retry_at)
            )
            message.write(
                {
                    "state": "failed",
                    "failure_type": failure_type,
                    "failure_reason": reason or False,
                    "next_attempt_date": retry_at if can_retry else False,
                }
            )
            if not can_retry:
                final |= message
        final._open_followup_tasks()
        return final

    def _still_useful(self, when):
        """A reminder after the visit started helps nobody."""
        self.ensure_one()
        return self.kind not in REMINDER_KINDS or (when and when < self.visit_start)

    def _open_followup_tasks(self):
        """One follow-up task per message that could not be delivered, for
        the department's team, saying what happened in plain words."""
        self.filtered(lambda m: m.task_id and not m.visit_id)._report_to_task()
        messages = self.filtered(lambda m: not m.followup_task_id and m.visit_id)
        if not messages:
            return self.env["clinic.followup.task"]
        Task = self.env["clinic.followup.task"].sudo()
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        channels = dict(self._fields["channel"]._description_selection(self.env))
        failures = dict(self._fields["failure_type"]._description_selection(self.env))
        today = fields.Date.context_today(self)
        vals_list = []
        for department, department_messages in messages.grouped("department_id").items():
            assignees = Task._balanced_assignees(department, department.member_ids, len(department_messages))
            for message, user_id in zip(department_messages, assignees, strict=True):
                visit = message.visit_id
                when = format_datetime(self.env, visit.start, tz=visit.local_tz, dt_format="short")
                vals_list.append(
                    {
                        "name": self.env._(
                            "%(kind)s not delivered: contact the patient", kind=kinds.get(message.kind, "")
                        ),
                        "patient_id": visit.patient_id.id,
                        "department_id": department.id,
                        "reason": "message_failed",
                        "visit_id": visit.id,
                        "recall_key": f"message_failed:m{message.id}",
                        "date_deadline": today,
                        "user_id": user_id,
                        "priority": "1",
                        "channel": "phone",
                        "notes": self.env._(
                            "The %(channel)s “%(kind)s” about the visit of %(when)s could not be delivered "
                            "to %(destination)s after %(attempts)s attempt(s): %(why)s",
                            channel=channels.get(message.channel, ""),
                            kind=kinds.get(message.kind, ""),
                            when=when,
                            destination=message.destination or "-",
                            attempts=max(message.attempt_count, 1),
                            why=" ".join(
                                filter(None, [failures.get(message.failure_type, ""), message.failure_reason])
                            ),
                        ),
                    }
                )
        tasks = self.env["clinic.recall.rule"]._create_tasks(vals_list)
        by_key = {task.recall_key: task for task in tasks}
        for message in messages:
            task = by_key.get(f"message_failed:m{message.id}")
            if task:
                message.followup_task_id = task
        return tasks

    def _report_to_task(self):
        """A message an agent sent from a follow-up did not arrive: the
        follow-up says so (it is already the task to reach the patient)."""
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        channels = dict(self._fields["channel"]._description_selection(self.env))
        failures = dict(self._fields["failure_type"]._description_selection(self.env))
        for message in self:
            message.task_id.sudo().message_post(
                body=self.env._(
                    "The %(channel)s “%(kind)s” could not be delivered to %(destination)s: %(why)s",
                    channel=channels.get(message.channel, ""),
                    kind=kinds.get(message.kind, ""),
                    destination=message.destination or "-",
                    why=" ".join(filter(None, [failures.get(message.failure_type, ""), message.failure_reason])),
                )
            )

    @api.model
    def _update_from_mails(self, mails, failure_type=None, failure_reason=False):
        """The mail queue tried to send ``mails`` (``mail.mail``)."""
        messages = self.sudo().search([("mail_mail_id", "in", mails.ids)])
        if not messages:
            return
        if failure_type and failure_type not in ("mail_email_invalid", "mail_email_missing"):
            # the whole mail failed (a partly invalid recipient list still went out)
            by_mail = messages.grouped("mail_mail_id")
            for mail, mail_messages in by_mail.items():
                mail_messages._register_failure(failure_type, failure_reason or mail.failure_reason)
            return
        failed = self.browse()
        if failure_type:
            failed = messages.filtered(lambda m: m.mail_mail_id.state == "exception")
            failed._register_failure(failure_type, failure_reason or False)
        for message in messages - failed:
            message.message_id = message.mail_mail_id.message_id or message.message_id
        (messages - failed)._set_sent()

    def _update_from_sms(self, sms_state, failure_type=False, failure_reason=False):
        """The SMS provider answered or sent a delivery report (see sms.tracker)."""
        messages = self.sudo()
        if sms_state == "pending":
            messages._set_sent()
        elif sms_state == "sent":
            messages._set_delivered()
        elif sms_state == "bounce":
            messages._set_bounced(failure_type, failure_reason)
        elif sms_state == "error":
            messages._register_failure(failure_type or "unknown", failure_reason)

    @api.model
    def _update_from_bounce(self, message_ids, reason=False):
        """An email bounced: ``message_ids`` are the Message-Id headers it answers."""
        if message_ids:
            self.sudo().search([("message_id", "in", list(message_ids))])._set_bounced("mail_bounce", reason)

    # ------------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------------

    @api.model
    def _delivery_rate(self, date_from, date_to, department_ids=None, kinds=REMINDER_KINDS):
        """Share (0-100) of the messages of ``kinds`` planned in the period
        that reached the patient (sent and not bounced, or delivered), among
        those that left or failed; None when there were none. Record rules
        apply: each user gets the figure of the departments they see."""
        domain = [
            ("kind", "in", list(kinds)),
            ("scheduled_date", ">=", fields.Datetime.to_datetime(date_from)),
            ("scheduled_date", "<", fields.Datetime.to_datetime(date_to) + timedelta(days=1)),
            ("state", "in", ["sent", "delivered", "failed", "bounced"]),
        ]
        if department_ids:
            domain.append(("department_id", "in", list(department_ids)))
        counts = dict(self._read_group(domain, ["state"], ["__count"]))
        total = sum(counts.values())
        if not total:
            return None
        return 100.0 * (counts.get("sent", 0) + counts.get("delivered", 0)) / total
