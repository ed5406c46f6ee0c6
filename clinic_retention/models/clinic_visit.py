from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import create_index

from ..tools import locale_dates

CONFIRMATION_STATES = [
    ("unconfirmed", "Not confirmed"),
    ("confirmed", "Confirmed by the patient"),
    ("cancelled", "Cancelled by the patient"),
    ("reschedule", "Patient asked for another time"),
]

VISIT_STATES = [
    ("scheduled", "Scheduled"),
    ("done", "Done"),
    ("no_show", "No-show"),
    ("cancelled", "Cancelled"),
]

# Fields a calendar event and its visit keep equal (visit field: event field).
CALENDAR_SYNCED_FIELDS = {"start": "start", "stop": "stop", "doctor_id": "user_id"}

# Template expressions (plain field paths) that core's mail renderer reads
# without its sandbox (see ``mail_allowed_qweb_expressions``): the shipped
# reminder templates use only these, so thousands of them render fast.
MESSAGE_EXPRESSIONS = (
    "object.company_id.name",
    "object.company_id.email_formatted",
    "object.department_id.name",
    "object.doctor_id.name",
    "object.patient_id.name",
    "object.patient_id.lang",
    "object.start_local_short",
    "object.start_local_time",
    "object.start_local_long",
    "object.local_tz",
    "object.confirmation_url",
    "object.satisfaction_survey_url",
)


class ClinicVisit(models.Model):
    """A patient's visit to a department: scheduled, done, no-show or
    cancelled. What the patient is told about it (reminders, thank-you and
    survey) is the care-message service's business (``clinic.care.message``,
    ledger ``clinic.visit.reminder``); the follow-up tasks it opens or closes
    are ``clinic.followup.task``'s."""

    _name = "clinic.visit"
    _description = "Visit"
    _inherit = ["mail.thread", "mail.activity.mixin", "clinic.public.link.mixin"]
    _order = "start desc, id desc"
    _rec_names_search = ["patient_id.name", "service_id.name", "department_id.name"]
    _check_company_auto = True
    _public_link_path = "/clinic/visit"

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
        string="Status",
        required=True,
        default="scheduled",
        tracking=True,
        index=True,
        copy=False,
    )
    done_date = fields.Datetime(
        string="Marked done on",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="When the visit was marked done: the thank-you message follows it.",
    )
    amount = fields.Monetary(
        string="Amount billed",
        currency_field="currency_id",
        tracking=True,
        groups="clinic_retention.group_clinic_retention_clinical",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    notes = fields.Html(string="Clinical notes", groups="clinic_retention.group_clinic_retention_clinical")
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
        check_company=True,
        domain="[('patient_id', '=', patient_id)]",
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

    # What the patient reads: times in the clinic's zone, in their language
    local_tz = fields.Char(
        string="Time zone shown to the patient",
        compute="_compute_local_tz",
        help="The department's zone, else the clinic's; the patient's own zone only for departments "
        "that say so (remote consultations).",
    )
    start_local_short = fields.Char(compute="_compute_start_local_short", string="Visit time (short)")
    start_local_time = fields.Char(compute="_compute_start_local_time", string="Visit hour")
    start_local_long = fields.Char(compute="_compute_start_local_long", string="Visit time (long)")
    patient_text_dir = fields.Char(
        related="patient_id.clinic_text_dir",
        string="Patient's writing direction",
        help="rtl when the patient's language is written right to left (Persian): e-mails are laid out so.",
    )

    # The personal link in reminders (see clinic.public.link.mixin)
    confirmation_url = fields.Char(compute="_compute_confirmation_url", groups="base.group_system")
    confirmation_state = fields.Selection(
        CONFIRMATION_STATES, default="unconfirmed", required=True, tracking=True, copy=False
    )
    confirmation_date = fields.Datetime(readonly=True, copy=False)
    reminder_ids = fields.One2many("clinic.visit.reminder", "visit_id", string="Care messages")

    # Satisfaction
    survey_response_ids = fields.One2many("clinic.survey.response", "visit_id", string="Satisfaction")
    satisfaction_score = fields.Integer(
        compute="_compute_satisfaction_score",
        store=True,
        aggregator="avg",
        help="The patient's overall score for this visit (survey, or phone when no survey answer).",
    )
    satisfaction_survey_url = fields.Char(compute="_compute_satisfaction_survey_url", groups="base.group_system")

    def _auto_init(self):
        result = super()._auto_init()
        # Reminder rules scan "scheduled visits starting between two times".
        create_index(self.env.cr, "clinic_visit_state_start_idx", self._table, ["state", "start"])
        # Recalls and retention KPIs read "visits of a patient by date".
        create_index(self.env.cr, "clinic_visit_patient_state_start_idx", self._table, ["patient_id", "state", "start"])
        create_index(
            self.env.cr, "clinic_visit_department_state_start_idx", self._table, ["department_id", "state", "start"]
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

    @api.depends("department_id.tz", "department_id.use_patient_tz", "company_id.clinic_tz", "patient_id.tz")
    def _compute_local_tz(self):
        for visit in self:
            department = visit.department_id
            zone = department.tz or visit.company_id.clinic_tz or "UTC"
            if department.use_patient_tz and visit.patient_id.tz:
                zone = visit.patient_id.tz
            visit.local_tz = zone

    def _format_start_local(self, fname, formatter):
        """The visit time as the patient reads it: in ``local_tz``, formatted
        for the language being rendered (templates render per language), no
        seconds (``tools/locale_dates.py``). One babel call per distinct time
        and zone in the batch."""
        cache = {}
        for visit in self:
            key = (visit.start, visit.local_tz)
            if key not in cache:
                cache[key] = formatter(visit.start, visit.local_tz) if visit.start else False
            visit[fname] = cache[key]

    @api.depends("start", "local_tz")
    @api.depends_context("lang")
    def _compute_start_local_short(self):
        self._format_start_local(
            "start_local_short",
            lambda start, tz: locale_dates.format_patient_datetime(self.env, start, tz, length="medium"),
        )

    @api.depends("start", "local_tz")
    @api.depends_context("lang")
    def _compute_start_local_time(self):
        self._format_start_local(
            "start_local_time",
            lambda start, tz: tools.format_datetime(self.env, start, tz=tz, dt_format="HH:mm"),
        )

    @api.depends("start", "local_tz")
    @api.depends_context("lang")
    def _compute_start_local_long(self):
        self._format_start_local(
            "start_local_long",
            lambda start, tz: locale_dates.format_patient_datetime(self.env, start, tz, length="long"),
        )

    @api.depends("access_token")
    @api.depends_context("uid")
    def _compute_confirmation_url(self):
        urls = self._public_link_urls()
        for visit in self:
            visit.confirmation_url = urls.get(visit.id, False)

    @api.depends("survey_response_ids.score", "survey_response_ids.state", "survey_response_ids.source")
    def _compute_satisfaction_score(self):
        for visit in self:
            answered = visit.survey_response_ids.filtered(lambda r: r.state == "answered" and r.score)
            preferred = answered.filtered(lambda r: r.source == "survey") or answered
            visit.satisfaction_score = preferred.sorted("last_update_date")[-1:].score if preferred else 0

    @api.depends_context("uid")
    def _compute_satisfaction_survey_url(self):
        surveys = self.env["clinic.survey.response"]
        if self.env.su:
            surveys = surveys.search([("visit_id", "in", self.ids), ("source", "=", "survey")])
        urls = surveys._public_link_urls()
        by_visit = {survey.visit_id.id: urls.get(survey.id) for survey in surveys}
        for visit in self:
            visit.satisfaction_survey_url = by_visit.get(visit.id, False)

    @api.constrains("start", "stop")
    def _check_dates(self):
        for visit in self:
            if visit.stop and visit.start and visit.stop < visit.start:
                raise ValidationError(
                    self.env._("The visit of %(patient)s ends before it starts.", patient=visit.patient_id.name)
                )

    @api.constrains("booked_from_task_id", "patient_id")
    def _check_booked_from_task(self):
        for visit in self.filtered("booked_from_task_id"):
            if visit.booked_from_task_id.sudo().patient_id != visit.patient_id:
                raise ValidationError(
                    self.env._("A visit can only be booked from a follow-up task of the same patient.")
                )

    # ------------------------------------------------------------------
    # CRUD and calendar synchronisation
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            if vals.get("state") == "done":
                vals.setdefault("done_date", now)
        self._check_task_access(vals_list)
        visits = super().create(vals_list)
        self.env["clinic.followup.task"]._close_answered_by(visits)
        self.env["crm.lead"]._clinic_on_visits_state(visits)
        return visits

    def write(self, vals):
        if "start" in vals:
            # a moved visit must be confirmed again; links sent for the old time stop working
            new_start = fields.Datetime.to_datetime(vals["start"])
            moved = self.filtered(lambda v: v.start != new_start)
            if (
                moved
                and "confirmation_state" not in vals
                and moved.filtered(lambda v: v.confirmation_state == "confirmed")
            ):
                vals = dict(vals, confirmation_state="unconfirmed", confirmation_date=False)
            moved._rotate_access_token()
        if vals.get("state") == "done":
            vals = dict(vals, done_date=vals.get("done_date") or fields.Datetime.now())
        self._check_task_access([vals])
        result = super().write(vals)
        if "state" in vals or "lead_id" in vals or "treatment_plan_id" in vals:
            self.env["crm.lead"]._clinic_on_visits_state(self)
        Task = self.env["clinic.followup.task"]
        if vals.get("state") in ("scheduled", "done") or vals.get("booked_from_task_id"):
            Task._close_answered_by(self)
        elif vals.get("state") == "cancelled":
            Task._reopen_for_cancelled(self)
        if self.env.context.get("clinic_from_calendar"):
            return result
        event_vals = {
            event_field: vals[visit_field]
            for visit_field, event_field in CALENDAR_SYNCED_FIELDS.items()
            if visit_field in vals
        }
        with_event = self.filtered("calendar_event_id")
        Event = with_event.calendar_event_id.with_context(clinic_from_visit=True)
        if event_vals and with_event:
            Event.write(event_vals)
        if vals.get("state") == "cancelled" and with_event:
            Event.with_context(dont_notify=self.env.context.get("clinic_silent_cancel", False)).write({"active": False})
        if vals.get("state") == "scheduled" and with_event:
            Event.filtered(lambda e: not e.active).write({"active": True})
        return result

    def _check_task_access(self, vals_list):
        """Booking "from" a follow-up closes that task: the user must be
        allowed to read it (no closing another team's task by its id)."""
        task_ids = {vals["booked_from_task_id"] for vals in vals_list if vals.get("booked_from_task_id")}
        if task_ids and not self.env.su:
            self.env["clinic.followup.task"].browse(task_ids).check_access("read")

    @api.model
    def _get_thread_with_access(self, thread_id, mode="read", **kwargs):
        # The personal link's token is not a portal token: it opens the
        # confirmation page only, never the visit's chatter or attachments.
        for key in ("token", "hash", "pid"):
            kwargs.pop(key, None)
        return super()._get_thread_with_access(thread_id, mode, **kwargs)

    @api.model
    def mail_allowed_qweb_expressions(self):
        return super().mail_allowed_qweb_expressions() + MESSAGE_EXPRESSIONS

    # ------------------------------------------------------------------
    # Adapters for the automation rules (the service does the work)
    # ------------------------------------------------------------------

    def _send_care_message(self, kind, channel, email_template=None, sms_template=None, **options):
        """Queue the ``kind`` message about these visits by ``channel``: see
        ``clinic.care.message._schedule``. Never raises into the caller."""
        return self.env["clinic.care.message"]._schedule(
            self, kind, channel, email_template=email_template, sms_template=sms_template, **options
        )

    def _send_satisfaction_survey(self, max_age_days=3):
        """After a visit: thank the patient and ask, by a personal link, how
        it went; by SMS for patients who prefer it, by e-mail otherwise."""
        visits = self.sudo()
        by_sms = visits.filtered(lambda v: v.patient_id.preferred_channel == "sms")
        options = {"states": ("done",), "upcoming": False, "max_age_days": max_age_days}
        email_template = "clinic_retention.mail_template_visit_thank_you"
        (visits - by_sms)._send_care_message("satisfaction", "email", email_template=email_template, **options)
        by_sms._send_care_message(
            "satisfaction",
            "sms",
            sms_template="clinic_retention.sms_template_satisfaction",
            email_template=email_template,
            **options,
        )
        return True

    def _open_followup_tasks(self, reason, max_age_days=14):
        return self.env["clinic.followup.task"]._open_for_visits(self, reason, max_age_days=max_age_days)

    @api.model
    def _precise_automation_after_pass(self, automations, automatic=False):
        """Precise-rule hook: the rules queued their messages; send those
        due now (the care-message cron shares this work, see SKIP LOCKED)."""
        self.env["clinic.care.message"]._dispatch_due(automatic=automatic, report_progress=False)

    def _precise_automation_too_late(self, automation):
        """Precise-rule hook: these visits were booked (or moved) after the
        rule's time, too close to the visit to be worth a message. The rule's
        actions record it in the ledger ("skipped: booked too late")."""
        automation._precise_run_actions(self.with_context(clinic_too_late=True))

    @api.model
    def _cancel_for_inactive_patients(self, patients):
        """Archived (e.g. deceased) patients: their future visits are
        cancelled, silently (no message, no rebooking task)."""
        visits = self.sudo().search(
            [("patient_id", "in", patients.ids), ("state", "=", "scheduled"), ("start", ">", fields.Datetime.now())]
        )
        visits.with_context(clinic_silent_cancel=True).write({"state": "cancelled"})
        for visit in visits:
            visit._message_log(body=self.env._("Cancelled: the patient was archived."))
        return visits

    # ------------------------------------------------------------------
    # The patient's answers from the public link
    # ------------------------------------------------------------------

    def _is_link_usable(self):
        """A confirm/cancel link works until the visit starts, while it is
        scheduled (or cancelled by the patient, to show that page again)."""
        self.ensure_one()
        if self.start <= fields.Datetime.now():
            return False
        return self.state == "scheduled" or self.confirmation_state in ("cancelled", "reschedule")

    def _patient_confirm(self):
        """The patient confirmed from the reminder link. Idempotent."""
        self.ensure_one()
        if self.confirmation_state == "confirmed" or self.state != "scheduled":
            return False
        self.write({"confirmation_state": "confirmed", "confirmation_date": fields.Datetime.now()})
        self.message_post(body=self.env._("The patient confirmed the visit from the reminder link."))
        return True

    def _patient_cancel(self):
        """The patient cancelled from the reminder link: cancel the visit and
        make sure someone calls them to rebook. Idempotent."""
        self.ensure_one()
        if self.state != "scheduled":
            return False
        self.write(
            {
                "state": "cancelled",
                "confirmation_state": "cancelled",
                "confirmation_date": fields.Datetime.now(),
            }
        )
        self.message_post(body=self.env._("The patient cancelled the visit from the reminder link."))
        Task = self.env["clinic.followup.task"].sudo()
        if not Task.search([("booked_visit_id", "=", self.id), ("is_closed", "=", False)]):
            Task._open_for_visits(self, "cancellation")
        return True

    def _patient_reschedule(self, preferred):
        """The patient cannot come and wrote, from the reminder link, when
        they could: the visit is cancelled and the department's team gets a
        rebooking task with their words. Idempotent (a second submission
        changes nothing and opens no second task)."""
        self.ensure_one()
        if self.state != "scheduled":
            return False
        self.write(
            {
                "state": "cancelled",
                "confirmation_state": "reschedule",
                "confirmation_date": fields.Datetime.now(),
            }
        )
        self.message_post(
            body=self.env._(
                "The patient asked for another time from the reminder link: %(preferred)s", preferred=preferred
            )
        )
        Task = self.env["clinic.followup.task"].sudo()
        reopened = Task.search([("booked_visit_id", "=", self.id), ("is_closed", "=", False)])
        notes = Markup("<p>%s</p>%s") % (
            self.env._("The patient asked for another time. Their preferred days and times:"),
            tools.plaintext2html(preferred),
        )
        if reopened:
            reopened.write({"notes": notes + (reopened[0].notes or "")})
        else:
            Task._open_for_visits(self, "cancellation", title=Task._rebook_title("another_time"), notes=notes)
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
        """Cancelled by staff (e.g. the patient phoned): like a cancellation
        from the link, the department's team gets a task to rebook, unless
        a follow-up already works on it (the one that booked the visit, or
        the one rescheduling it: context ``clinic_no_rebooking_task``)."""
        self._set_state("cancelled", ("scheduled",))
        if not self.env.context.get("clinic_no_rebooking_task"):
            Task = self.env["clinic.followup.task"].sudo()
            reopened = Task.search([("booked_visit_id", "in", self.ids), ("is_closed", "=", False)]).booked_visit_id
            Task._open_for_visits(self - reopened, "cancellation", title=Task._rebook_title("staff"))
        return True

    def action_reset_scheduled(self):
        return self._set_state("scheduled", ("no_show", "cancelled", "done"))
