from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import create_index

from .clinic_followup_task import BOOKING_REASONS

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
    _inherit = ["mail.thread", "mail.activity.mixin"]
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

    def _auto_init(self):
        result = super()._auto_init()
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
                visit.department_id.company_id
                or visit.patient_id.company_id
                or visit.company_id
                or self.env.company
            )

    @api.depends("patient_id", "service_id", "department_id", "start")
    def _compute_display_name(self):
        for visit in self:
            what = visit.service_id.name or visit.department_id.name or self.env._("Visit")
            when = (
                fields.Datetime.context_timestamp(visit, visit.start).strftime("%Y-%m-%d %H:%M")
                if visit.start
                else ""
            )
            visit.display_name = " · ".join(filter(None, [visit.patient_id.name, what, when]))

    @api.constrains("start", "stop")
    def _check_dates(self):
        for visit in self:
            if visit.stop and visit.start and visit.stop < visit.start:
                raise ValidationError(
                    self.env._(
                        "The visit of %(patient)s ends before it starts.", patient=visit.patient_id.name
                    )
                )

    # ------------------------------------------------------------------
    # CRUD and calendar synchronisation
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        visits = super().create(vals_list)
        visits._close_answered_tasks()
        return visits

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") in ("scheduled", "done"):
            self._close_answered_tasks()
        elif vals.get("state") == "cancelled":
            self._reopen_tasks_of_cancelled_booking()
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
            with_event.calendar_event_id.filtered(lambda e: not e.active).with_context(
                clinic_from_visit=True
            ).write({"active": True})
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
                body=self.env._(
                    "The visit booked by this follow-up was cancelled: the patient needs a new booking."
                )
            )
        return tasks

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
        return self._set_state("scheduled", ("no_show", "cancelled"))
