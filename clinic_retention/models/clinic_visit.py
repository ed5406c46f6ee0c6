import re
import uuid
from datetime import datetime, time, timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import create_index
from odoo.tools.rendering_tools import parse_inline_template
from odoo.tools.safe_eval import _BUILTINS, _SAFE_OPCODES, check_values, test_expr

from ..tools.phone import can_receive_sms
from .clinic_followup_task import BOOKING_REASONS

# The language expression of our templates: read it, don't render it per message.
PATIENT_LANG_EXPRESSION = "{{ object.patient_id.lang }}"
# A mail template body that only calls a QWeb view (see views/clinic_mail_templates.xml).
# "{{ expression }}" in inline templates, and what an expression reads of the record.
INLINE_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
OBJECT_USAGE = re.compile(r"\bobject\b[\w.]*")
VIEW_CALL_BODY = re.compile(r'^\s*(?:<div>\s*)?<t\s+t-call="([\w.]+)"\s*/>\s*(?:</div>\s*)?$')

CONFIRMATION_STATES = [
    ("unconfirmed", "Not confirmed"),
    ("confirmed", "Confirmed by the patient"),
    ("cancelled", "Cancelled by the patient"),
]

VISIT_STATES = [
    ("scheduled", "Scheduled"),
    ("done", "Done"),
    ("no_show", "No-show"),
    ("cancelled", "Cancelled"),
]

# Fields a calendar event and its visit keep equal (visit field: event field).
CALENDAR_SYNCED_FIELDS = {"start": "start", "stop": "stop", "doctor_id": "user_id"}


class ClinicVisit(models.Model):
    _name = "clinic.visit"
    _description = "Visit"
    _inherit = ["mail.thread", "mail.activity.mixin", "portal.mixin"]
    _order = "start desc, id desc"
    _rec_names_search = ["patient_id.name", "service_id.name", "department_id.name"]
    _check_company_auto = True

    patient_id = fields.Many2one(
        "clinic.patient",
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
        check_company=True,
    )
    partner_id = fields.Many2one(related="patient_id.partner_id", string="Contact")
    department_id = fields.Many2one(
        "clinic.department",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    doctor_id = fields.Many2one(
        "res.users",
        tracking=True,
        index="btree_not_null",
        domain="[('share', '=', False)]",
    )
    service_id = fields.Many2one(
        "clinic.service",
        string="Service / condition",
        tracking=True,
        index="btree_not_null",
        check_company=True,
        domain="['|', ('department_id', '=', False), ('department_id', '=', department_id)]",
    )
    start = fields.Datetime(required=True, tracking=True, default=lambda self: self._default_start())
    stop = fields.Datetime(
        string="End",
        required=True,
        compute="_compute_stop",
        store=True,
        readonly=False,
        precompute=True,
    )
    state = fields.Selection(
        VISIT_STATES,
        required=True,
        default="scheduled",
        tracking=True,
        index=True,
        copy=False,
    )
    amount = fields.Monetary(string="Amount billed", currency_field="currency_id", tracking=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    notes = fields.Html()
    calendar_event_id = fields.Many2one(
        "calendar.event",
        string="Calendar appointment",
        ondelete="set null",
        index="btree_not_null",
        copy=False,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    patient_phone = fields.Char(related="patient_id.mobile", string="Patient mobile")
    booked_from_task_id = fields.Many2one(
        "clinic.followup.task",
        string="Booked from follow-up",
        index="btree_not_null",
        copy=False,
        help="The follow-up task during which this visit was booked.",
    )
    followup_task_ids = fields.One2many("clinic.followup.task", "visit_id", string="Follow-ups")
    # CRM: the opportunity and treatment plan this visit was booked for, the plans proposed at it
    lead_id = fields.Many2one(
        "crm.lead", string="Booked for opportunity", index="btree_not_null", ondelete="set null", copy=False
    )
    treatment_plan_id = fields.Many2one(
        "clinic.treatment.plan",
        string="Carries out plan",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        check_company=True,
        domain="[('patient_id', '=', patient_id), ('state', 'in', ('proposed', 'accepted', 'booked'))]",
    )
    treatment_plan_ids = fields.One2many("clinic.treatment.plan", "visit_id", string="Treatment plans proposed")

    # The personal link in reminders: unguessable, indexed, checked with consteq.
    access_token = fields.Char(
        "Security Token",
        copy=False,
        readonly=True,
        index="btree_not_null",
        default=lambda self: str(uuid.uuid4()),
    )
    confirmation_url = fields.Char(compute="_compute_confirmation_url")
    confirmation_state = fields.Selection(
        CONFIRMATION_STATES, default="unconfirmed", required=True, tracking=True, copy=False
    )
    confirmation_date = fields.Datetime(readonly=True, copy=False)
    reminder_ids = fields.One2many("clinic.visit.reminder", "visit_id", string="Messages sent")

    # Satisfaction
    survey_response_ids = fields.One2many("clinic.survey.response", "visit_id", string="Satisfaction")
    satisfaction_score = fields.Integer(
        compute="_compute_satisfaction_score",
        store=True,
        aggregator="avg",
        help="The patient's overall score for this visit (survey, or phone when no survey answer).",
    )
    satisfaction_survey_url = fields.Char(compute="_compute_satisfaction_survey_url")

    def _auto_init(self):
        result = super()._auto_init()
        # Reminder rules scan "scheduled visits starting between two times".
        create_index(
            self.env.cr,
            "clinic_visit_state_start_idx",
            self._table,
            ["state", "start"],
        )
        # Recalls and retention KPIs read "visits of a patient by date".
        create_index(
            self.env.cr,
            "clinic_visit_patient_state_start_idx",
            self._table,
            ["patient_id", "state", "start"],
        )
        create_index(
            self.env.cr,
            "clinic_visit_department_state_start_idx",
            self._table,
            ["department_id", "state", "start"],
        )
        return result

    @api.model
    def _default_start(self):
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        return now + timedelta(minutes=(15 - now.minute % 15) % 15)

    @api.depends("start")
    def _compute_stop(self):
        for visit in self:
            if visit.start and (not visit.stop or visit.stop <= visit.start):
                visit.stop = visit.start + timedelta(minutes=30)

    @api.depends("department_id", "patient_id")
    def _compute_company_id(self):
        for visit in self:
            visit.company_id = (
                visit.department_id.company_id or visit.patient_id.company_id or visit.company_id or self.env.company
            )

    @api.depends("patient_id", "service_id", "department_id", "start")
    def _compute_display_name(self):
        for visit in self:
            what = visit.service_id.name or visit.department_id.name or self.env._("Visit")
            when = (
                fields.Datetime.context_timestamp(visit, visit.start).strftime("%Y-%m-%d %H:%M") if visit.start else ""
            )
            visit.display_name = " · ".join(filter(None, [visit.patient_id.name, what, when]))

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for visit in self:
            visit.access_url = f"/clinic/visit/{visit.id}"

    def _compute_confirmation_url(self):
        base_urls = {}  # one lookup per clinic, not per visit (thousands in a reminder batch)
        for visit in self:
            if visit.company_id not in base_urls:
                base_urls[visit.company_id] = visit.get_base_url()
            visit.confirmation_url = (
                f"{base_urls[visit.company_id]}/clinic/visit/{visit.id}/{visit.access_token}"
                if visit.id and visit.access_token
                else False
            )

    @api.depends("survey_response_ids.score", "survey_response_ids.state", "survey_response_ids.source")
    def _compute_satisfaction_score(self):
        for visit in self:
            answered = visit.survey_response_ids.filtered(lambda r: r.state == "answered" and r.score)
            preferred = answered.filtered(lambda r: r.source == "survey") or answered
            visit.satisfaction_score = preferred.sorted("last_update_date")[-1:].score if preferred else 0

    def _compute_satisfaction_survey_url(self):
        surveys = (
            self.env["clinic.survey.response"].sudo().search([("visit_id", "in", self.ids), ("source", "=", "survey")])
        )
        by_visit = {response.visit_id.id: response.survey_url for response in surveys}
        for visit in self:
            visit.satisfaction_survey_url = by_visit.get(visit.id, False)

    @api.constrains("start", "stop")
    def _check_dates(self):
        for visit in self:
            if visit.stop and visit.start and visit.stop < visit.start:
                raise ValidationError(
                    self.env._("The visit of %(patient)s ends before it starts.", patient=visit.patient_id.name)
                )

    # ------------------------------------------------------------------
    # CRUD and calendar synchronisation
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        visits = super().create(vals_list)
        visits._close_answered_tasks()
        self.env["crm.lead"]._clinic_on_visits_state(visits)
        self.env["base.automation"].sudo()._clinic_schedule_checks(visits)
        return visits

    def write(self, vals):
        if "start" in vals and "confirmation_state" not in vals:
            # a moved visit must be confirmed again (and its reminders re-arm)
            new_start = fields.Datetime.to_datetime(vals["start"])
            if self.filtered(lambda v: v.start != new_start and v.confirmation_state == "confirmed"):
                vals = dict(vals, confirmation_state="unconfirmed", confirmation_date=False)
        result = super().write(vals)
        if "state" in vals or "lead_id" in vals or "treatment_plan_id" in vals:
            self.env["crm.lead"]._clinic_on_visits_state(self)
        if vals.get("state") in ("scheduled", "done"):
            self._close_answered_tasks()
        elif vals.get("state") == "cancelled":
            self._reopen_tasks_of_cancelled_booking()
        if "start" in vals or "state" in vals:
            self.env["base.automation"].sudo()._clinic_schedule_checks(self)
        if self.env.context.get("clinic_from_calendar"):
            return result
        event_vals = {
            event_field: vals[visit_field]
            for visit_field, event_field in CALENDAR_SYNCED_FIELDS.items()
            if visit_field in vals
        }
        with_event = self.filtered("calendar_event_id")
        if event_vals and with_event:
            with_event.calendar_event_id.with_context(clinic_from_visit=True).write(event_vals)
        if vals.get("state") == "cancelled" and with_event:
            with_event.calendar_event_id.with_context(clinic_from_visit=True).write({"active": False})
        if vals.get("state") == "scheduled" and with_event:
            with_event.calendar_event_id.filtered(lambda e: not e.active).with_context(clinic_from_visit=True).write(
                {"active": True}
            )
        return result

    # ------------------------------------------------------------------
    # Follow-up tasks
    # ------------------------------------------------------------------

    def _close_answered_tasks(self):
        """A booking (or a walk-in visit) answers the open recall, chronic,
        reactivation, no-show and cancellation tasks of its patient in its
        department, and the task it was booked from. One query per batch."""
        now = fields.Datetime.now()
        answering = self.filtered(
            lambda v: (v.state == "scheduled" and v.start >= now - timedelta(hours=12)) or v.state == "done"
        )
        if not answering:
            return
        Task = self.env["clinic.followup.task"].sudo()
        tasks = Task.search(
            [
                ("patient_id", "in", answering.patient_id.ids),
                ("is_closed", "=", False),
                ("reason", "in", BOOKING_REASONS),
            ]
        )
        for visit in answering:
            answered = tasks.filtered(
                lambda t, v=visit: (
                    t.patient_id == v.patient_id
                    and t.department_id == v.department_id
                    and not t.is_closed
                    and (v.state == "scheduled" or v.start >= t.open_date)
                )
            )
            answered |= visit.booked_from_task_id.sudo().filtered(lambda t: not t.is_closed)
            if answered:
                answered._close_as_booked(visit)

    def _reopen_tasks_of_cancelled_booking(self):
        """The visit a follow-up booked is cancelled: the follow-up is open again."""
        tasks = (
            self.env["clinic.followup.task"]
            .sudo()
            .search([("booked_visit_id", "in", self.ids), ("outcome", "=", "visit_booked")])
        )
        for task in tasks:
            task.action_reopen()
            task.message_post(
                body=self.env._("The visit booked by this follow-up was cancelled: the patient needs a new booking.")
            )
        return tasks

    def _open_followup_tasks(self, reason, max_age_days=14):
        """Open one follow-up task per visit (no-show, cancellation), assigned
        round-robin in the department's team. Idempotent: never twice for
        the same visit and reason. Visits older than ``max_age_days`` (an
        import of history) open nothing."""
        Task = self.env["clinic.followup.task"].sudo()
        oldest = fields.Datetime.now() - timedelta(days=max_age_days)
        self = self.filtered(lambda v: v.start >= oldest)
        keys = {visit: f"{reason}:v{visit.id}" for visit in self}
        existing = set(
            Task.with_context(active_test=False)
            .search([("recall_key", "in", list(keys.values()))])
            .mapped("recall_key")
        )
        today = fields.Date.context_today(self)
        titles = {
            "no_show": self.env._("No-show: call the patient and rebook"),
            "cancellation": self.env._("Cancelled by the patient: rebook"),
        }
        vals_list = []
        for department, visits in self.grouped("department_id").items():
            visits = visits.filtered(lambda v: keys[v] not in existing)
            assignees = Task._balanced_assignees(department, department.member_ids, len(visits))
            for visit, user_id in zip(visits, assignees, strict=True):
                vals_list.append(
                    {
                        "name": titles[reason],
                        "patient_id": visit.patient_id.id,
                        "department_id": department.id,
                        "reason": reason,
                        "visit_id": visit.id,
                        "recall_key": keys[visit],
                        "date_deadline": today,
                        "user_id": user_id,
                        "priority": "1",
                    }
                )
        return self.env["clinic.recall.rule"]._create_tasks(vals_list)

    # ------------------------------------------------------------------
    # Reminders and care messages (called by the automation rules)
    # ------------------------------------------------------------------

    def _send_care_message(
        self,
        kind,
        channel,
        email_template=None,
        sms_template=None,
        states=("scheduled",),
        upcoming=True,
        max_age_days=3,
    ):
        """Send the ``kind`` message (e.g. "day_before") about these visits
        by ``channel`` ("email" or "sms"), exactly once per visit, kind,
        channel and visit time.

        Respects care consent, "do not contact", the email and phone
        blacklists, and a daily cap (one message per visit and channel a
        day). SMS go only to numbers that can receive them (mobile, or
        fixed-line-or-mobile); other patients get the email version when
        ``email_template`` is given. Every decision is written to the
        ledger (``clinic.visit.reminder``), sent or not and why.

        ``upcoming`` messages (reminders) are only about visits that have not
        started; the others (thank-you) only about visits of the last
        ``max_age_days`` days, so importing history sends nothing.

        :return: the ledger rows this call wrote (rows written before by
            another run, or another worker, are left alone).
        """
        now = fields.Datetime.now()
        oldest = now - timedelta(days=max_age_days)
        visits = self.sudo().filtered(
            lambda v: v.state in states and (v.start > now if upcoming else v.start >= oldest)
        )
        Ledger = self.env["clinic.visit.reminder"].sudo()
        if not visits:
            return Ledger
        patients = visits.patient_id
        emails = {p.email_normalized for p in patients if p.email_normalized}
        blacklisted_emails = (
            set(self.env["mail.blacklist"].sudo().search([("email", "in", list(emails))]).mapped("email"))
            if emails
            else set()
        )
        sms_numbers = {}
        if channel == "sms":
            for patient in patients:
                sms_numbers[patient] = next(
                    (n for n in (patient.mobile, patient.phone) if n and can_receive_sms(n)), False
                )
        numbers = {n for n in sms_numbers.values() if n}
        blacklisted_numbers = (
            set(self.env["phone.blacklist"].sudo().search([("number", "in", list(numbers))]).mapped("number"))
            if numbers
            else set()
        )
        day_start = datetime.combine(now.date(), time.min)
        already_today = {
            (row.visit_id.id, row.channel)
            for row in Ledger.search(
                [("visit_id", "in", visits.ids), ("state", "=", "sent"), ("sent_date", ">=", day_start)]
            )
        }
        automation_id = self.env.context.get("clinic_automation_id") or False
        rows = []
        for visit in visits:
            patient = visit.patient_id
            row_channel, destination, reason = channel, False, False
            if not patient.care_consent:
                reason = "no_consent"
            elif patient.preferred_channel == "none":
                reason = "do_not_contact"
            elif channel == "sms":
                number = sms_numbers[patient]
                if not number:
                    if email_template:
                        row_channel = "email"
                    else:
                        reason = "no_number"
                elif number in blacklisted_numbers:
                    reason = "blacklisted"
                else:
                    destination = number
            if row_channel == "email" and not reason:
                if not patient.email_normalized:
                    reason = "no_email"
                elif patient.email_normalized in blacklisted_emails:
                    reason = "blacklisted"
                else:
                    destination = patient.email_normalized
            if not reason and (visit.id, row_channel) in already_today:
                reason = "daily_cap"
            rows.append(
                {
                    "visit_id": visit.id,
                    "patient_id": patient.id,
                    "company_id": visit.company_id.id,
                    "kind": kind,
                    "channel": row_channel,
                    "visit_start": visit.start,
                    "sent_date": now,
                    "state": "skipped" if reason else "sent",
                    "skip_reason": reason,
                    "automation_id": automation_id,
                    "destination": destination,
                }
            )
        claimed = Ledger._claim(rows)
        to_send = claimed.filtered(lambda r: r.state == "sent")
        by_email = to_send.filtered(lambda r: r.channel == "email").visit_id
        by_sms = to_send.filtered(lambda r: r.channel == "sms")
        if by_email:
            by_email._queue_template_emails(self.env.ref(email_template))
        if by_sms:
            template = self.env.ref(sms_template).sudo()
            bodies, cache = {}, {}
            for lang_template, res_ids in by_sms.visit_id._per_lang(template):
                render_context = self._batch_render_context(lang_template.env, cache)
                bodies.update(by_sms.visit_id._render_inline_batch(lang_template, "body", res_ids, render_context))
            self.env["sms.sms"].sudo().create(
                [
                    {
                        "number": row.destination,
                        "partner_id": row.visit_id.patient_id.partner_id.id,
                        "body": bodies[row.visit_id.id],
                        "state": "outgoing",
                    }
                    for row in by_sms
                ]
            )
        return claimed

    @api.model
    def _batch_render_context(self, env, cache):
        """Extra rendering context for a batch of messages in ``env``'s
        language: the templates' ``format_datetime``, memoized in ``cache``
        (thousands of reminders share a few hundred distinct times, and
        babel formatting is the costly part of rendering them)."""

        def format_datetime_cached(dt, tz=False, dt_format=False, lang_code=False):
            key = (dt, tz, dt_format, lang_code, env.lang)
            if key not in cache:
                cache[key] = tools.format_datetime(env, dt, tz, dt_format, lang_code)
            return cache[key]

        return {"format_datetime": format_datetime_cached}

    def _render_per_company(self, template, field, res_ids, add_context=None):
        """``template._render_field(field, res_ids)``, rendered once per
        company when the field's expressions only read the visit's company
        (or the user): a subject like "Reminder of your visit to
        {{ object.company_id.name }}" is the same for every visit of a clinic."""
        source = template[field] or ""
        expressions = INLINE_EXPRESSION.findall(source)
        if not all(
            all(usage.startswith("object.company_id.") for usage in OBJECT_USAGE.findall(expression))
            for expression in expressions
        ):
            return template._render_field(field, res_ids, add_context=add_context)
        by_company = {}
        for visit in self.browse(res_ids):
            by_company.setdefault(visit.company_id.id, []).append(visit.id)
        rendered = {}
        for ids in by_company.values():
            value = template._render_field(field, ids[:1], add_context=add_context)[ids[0]]
            rendered.update(dict.fromkeys(ids, value))
        return rendered

    def _render_inline_batch(self, template, field, res_ids, add_context=None):
        """``template._render_field(field, res_ids)`` for an inline template
        such as an SMS body, with each ``{{ expression }}`` checked by the
        sandbox once for the batch instead of once per message
        (``safe_eval`` disassembles and checks an expression's bytecode on
        every call: for thousands of SMS, a fifth of a reminder pass). The
        expressions still run sandboxed: the same checked bytecode, the same
        restricted builtins, the same rendering context as the mail
        renderer's. Other engines, and users the mail renderer would refuse,
        take the stock path."""
        source = str(template[field] or "")
        if (
            getattr(template._fields[field], "render_engine", "inline_template") != "inline_template"
            or not source
            or not template._has_unsafe_expression_template_inline_template(source, template.render_model)
            or not (
                template._unrestricted_rendering
                or self.env.is_admin()
                or self.env.user.has_group("mail.group_mail_template_editor")
            )
        ):
            # Plain field paths are rendered without safe_eval anyway.
            return template._render_field(field, res_ids, add_context=add_context)
        try:
            instructions = [
                (string, expression and test_expr(expression, _SAFE_OPCODES, mode="eval"), default)
                for string, expression, default in parse_inline_template(source)
            ]
            variables = template._render_eval_context()
            variables.update(add_context or {})
            check_values(variables)
            variables["__builtins__"] = _BUILTINS
            results = {}
            # records read in the template's language, as the mail renderer does
            for record in template.env[template.render_model].browse(res_ids):
                scope = dict(variables, object=record)
                parts = []
                for string, code, default in instructions:
                    parts.append(string)
                    if code:
                        value = eval(code, scope) or default  # pylint: disable=eval-used  # checked by test_expr above
                        if value:
                            parts.append(str(value))
                results[record.id] = "".join(parts)
        except Exception as e:
            raise UserError(
                self.env._("Failed to render inline_template template: %(template_txt)s", template_txt=source)
            ) from e
        return results

    def _per_lang(self, template):
        """``(template in a language, visit ids)`` pairs: the template's
        ``_classify_per_lang``, without rendering its language expression for
        every visit when it is simply the patient's language."""
        if (template.lang or "").strip() != PATIENT_LANG_EXPRESSION:
            return list(template._classify_per_lang(self.ids).values())
        groups = {}
        for visit in self:
            groups.setdefault(visit.patient_id.lang or False, []).append(visit.id)
        return [(template.with_context(lang=lang) if lang else template, ids) for lang, ids in groups.items()]

    def _queue_template_emails(self, template):
        """Queue one email per visit from the mail ``template``: its subject,
        sender, language and body, to the patient, deleted once sent, as
        ``mail.template.send_mail_batch`` would. Two differences make it
        several times cheaper for thousands of reminders: a body that only
        calls a QWeb view is rendered from the view's cached compilation (a
        template body is compiled again for every email), and no chatter copy
        of the body is stored."""
        template = template.sudo()
        values_list = []
        visits = self.sudo().with_prefetch(self.ids)
        reply_to = visits._notify_get_reply_to()  # one pass for the batch, not one per email
        cache = {}
        for lang_template, res_ids in self._per_lang(template):
            render_context = self._batch_render_context(lang_template.env, cache)
            subjects = visits._render_per_company(lang_template, "subject", res_ids, render_context)
            senders = (
                visits._render_per_company(lang_template, "email_from", res_ids, render_context)
                if template.email_from
                else {}
            )
            match = VIEW_CALL_BODY.match(lang_template.body_html or "")
            if match:
                bodies = lang_template._render_template_postprocess(
                    self._name,
                    lang_template._render_template_qweb_view(
                        match.group(1), self._name, res_ids, add_context=render_context
                    ),
                )
            else:
                bodies = lang_template._render_field("body_html", res_ids, add_context=render_context)
            for visit in visits.browse(res_ids):
                values = {
                    "subject": subjects[visit.id],
                    "body_html": bodies[visit.id],
                    "model": self._name,
                    "res_id": visit.id,
                    "recipient_ids": [fields.Command.link(visit.patient_id.partner_id.id)],
                    "auto_delete": template.auto_delete,
                    "message_type": "email_outgoing",
                    "reply_to": reply_to.get(visit.id),
                }
                if senders.get(visit.id):
                    values["email_from"] = senders[visit.id]
                values_list.append(values)
        return self.env["mail.mail"].sudo().create(values_list)

    def _send_satisfaction_survey(self, max_age_days=3):
        """After a visit: thank the patient and ask, by a personal link, how
        it went. By SMS for patients who prefer it, by email otherwise (and
        by email when the number cannot get SMS). Once per visit."""
        oldest = fields.Datetime.now() - timedelta(days=max_age_days)
        visits = self.sudo().filtered(lambda v: v.state == "done" and v.start >= oldest)
        Response = self.env["clinic.survey.response"].sudo()
        have_survey = set(Response.search([("visit_id", "in", visits.ids), ("source", "=", "survey")]).visit_id.ids)
        # A survey (its link) only for patients we may write to about their care.
        Response.create(
            [
                {"visit_id": visit.id}
                for visit in visits
                if visit.id not in have_survey and visit.patient_id.care_consent
            ]
        )
        by_sms = visits.filtered(lambda v: v.patient_id.preferred_channel == "sms")
        (visits - by_sms)._send_care_message(
            "satisfaction",
            "email",
            email_template="clinic_retention.mail_template_visit_thank_you",
            states=("done",),
            upcoming=False,
            max_age_days=max_age_days,
        )
        by_sms._send_care_message(
            "satisfaction",
            "sms",
            sms_template="clinic_retention.sms_template_satisfaction",
            email_template="clinic_retention.mail_template_visit_thank_you",
            states=("done",),
            upcoming=False,
            max_age_days=max_age_days,
        )
        return True

    # ------------------------------------------------------------------
    # The patient's answers from the public link
    # ------------------------------------------------------------------

    def _is_link_usable(self):
        """A confirm/cancel link works until the visit starts, while it is scheduled."""
        self.ensure_one()
        return self.state == "scheduled" and self.start > fields.Datetime.now()

    def _patient_confirm(self):
        """The patient confirmed from the reminder link. Idempotent."""
        self.ensure_one()
        if self.confirmation_state == "confirmed":
            return False
        self.write({"confirmation_state": "confirmed", "confirmation_date": fields.Datetime.now()})
        self.message_post(body=self.env._("The patient confirmed the visit from the reminder link."))
        return True

    def _patient_cancel(self):
        """The patient cancelled from the reminder link: cancel the visit and
        make sure someone calls them to rebook. Idempotent."""
        self.ensure_one()
        if self.state == "cancelled":
            return False
        self.write(
            {
                "state": "cancelled",
                "confirmation_state": "cancelled",
                "confirmation_date": fields.Datetime.now(),
            }
        )
        self.message_post(body=self.env._("The patient cancelled the visit from the reminder link."))
        reopened = (
            self.env["clinic.followup.task"]
            .sudo()
            .search([("booked_visit_id", "=", self.id), ("is_closed", "=", False)])
        )
        if not reopened:
            self._open_followup_tasks("cancellation")
        return True

    # ------------------------------------------------------------------
    # State buttons
    # ------------------------------------------------------------------

    def _set_state(self, state, allowed_from):
        wrong = self.filtered(lambda v: v.state not in allowed_from)
        if wrong:
            labels = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "%(visit)s is %(state)s and cannot be marked %(new_state)s.",
                    visit=wrong[0].display_name,
                    state=labels[wrong[0].state],
                    new_state=labels[state],
                )
            )
        self.write({"state": state})
        return True

    def action_mark_done(self):
        return self._set_state("done", ("scheduled", "no_show"))

    def action_mark_no_show(self):
        return self._set_state("no_show", ("scheduled",))

    def action_cancel(self):
        return self._set_state("cancelled", ("scheduled",))

    def action_reset_scheduled(self):
        return self._set_state("scheduled", ("no_show", "cancelled", "done"))
