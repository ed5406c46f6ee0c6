from odoo import api, fields, models
from odoo.exceptions import AccessError

# Changing any of these on an event re-reads it into its visit.
SYNC_TRIGGER_FIELDS = {
    "start",
    "stop",
    "start_date",
    "stop_date",
    "allday",
    "user_id",
    "active",
    "clinic_patient_id",
    "clinic_department_id",
    "clinic_service_id",
}


class CalendarEvent(models.Model):
    """An appointment booked in Odoo Calendar for a patient in a department
    is a scheduled visit: creating, moving or cancelling the event creates,
    moves or cancels the visit."""

    _inherit = "calendar.event"

    clinic_patient_id = fields.Many2one(
        "clinic.patient",
        string="Patient",
        index="btree_not_null",
        groups="clinic_retention.group_clinic_retention_user",
    )
    clinic_department_id = fields.Many2one(
        "clinic.department",
        string="Department",
        groups="clinic_retention.group_clinic_retention_user",
    )
    clinic_service_id = fields.Many2one(
        "clinic.service",
        string="Service / condition",
        groups="clinic_retention.group_clinic_retention_user",
        domain="['|', ('department_id', '=', False), ('department_id', '=', clinic_department_id)]",
    )
    clinic_visit_ids = fields.One2many(
        "clinic.visit",
        "calendar_event_id",
        string="Visits",
        groups="clinic_retention.group_clinic_retention_user",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("clinic_patient_id"):
                # colleagues outside the appointment see "busy", not who the patient is
                vals.setdefault("privacy", "private")
        events = super().create(vals_list)
        if not self.env.context.get("clinic_from_visit") and any(vals.get("clinic_patient_id") for vals in vals_list):
            events._clinic_sync_visits()
        return events

    def write(self, vals):
        syncing = not self.env.context.get("clinic_from_visit") and SYNC_TRIGGER_FIELDS & vals.keys()
        if syncing:
            self._clinic_check_visit_rights()
        result = super().write(vals)
        if syncing:
            self._clinic_sync_visits()
        return result

    def unlink(self):
        self._clinic_check_visit_rights()
        visits = self.sudo().clinic_visit_ids.filtered(lambda v: v.state == "scheduled")
        visits.with_env(self.env).with_context(clinic_from_calendar=True).write({"state": "cancelled"})
        return super().unlink()

    def _clinic_check_visit_rights(self):
        """Moving or cancelling an appointment moves or cancels a patient's
        visit (and messages the patient): only Patient Care users who may
        change that visit, in its company, do it from Calendar."""
        if self.env.su:
            return
        visits = self.sudo().clinic_visit_ids
        if not visits:
            return
        allowed = self.env.user.has_group("clinic_retention.group_clinic_retention_user") and not (
            visits.company_id - self.env.user.company_ids
        )
        if allowed:
            try:
                visits.with_env(self.env).check_access("write")
            except AccessError:
                allowed = False
        if not allowed:
            raise AccessError(
                self.env._(
                    "This appointment is a patient's visit: only the Patient Care staff of its department "
                    "(%(company)s) can move or cancel it.",
                    company=", ".join(visits.company_id.mapped("name")),
                )
            )

    def _clinic_local_tz(self):
        """The zone a clinic appointment's times are shown in (False for
        other events): its visit's, else its department's or clinic's."""
        self.ensure_one()
        visit = self.sudo().clinic_visit_ids[:1]
        if visit:
            return visit.local_tz
        department = self.sudo().clinic_department_id
        if not department:
            return False
        return department.tz or department.company_id.clinic_tz or False

    def _get_mail_tz(self):
        return self._clinic_local_tz() or super()._get_mail_tz()

    def _clinic_sync_visits(self):
        """Create or update the scheduled visit of each event booked for a
        patient and department; cancel it when the event is archived or no
        longer booked for a patient. The event is read as the superuser (a
        private event hides its fields from non-attendees); the visit is
        written with the user's rights (``_clinic_check_visit_rights``)."""
        Visit = self.env["clinic.visit"].with_context(clinic_from_calendar=True)
        to_create = []
        for event in self.sudo():
            visit = event.clinic_visit_ids.sorted("id")[:1].with_env(Visit.env)
            booked = event.active and event.clinic_patient_id and event.clinic_department_id
            if not booked:
                if visit.state == "scheduled":
                    visit.with_context(clinic_from_calendar=True).state = "cancelled"
                continue
            vals = {
                "patient_id": event.clinic_patient_id.id,
                "department_id": event.clinic_department_id.id,
                "service_id": event.clinic_service_id.id,
                "doctor_id": event.user_id.id,
                "start": event.start,
                "stop": event.stop,
            }
            if not visit:
                to_create.append(dict(vals, calendar_event_id=event.id))
            elif visit.state in ("scheduled", "cancelled"):
                # an archived-then-restored event books the visit again
                vals["state"] = "scheduled"
                changed = {
                    fname: value
                    for fname, value in vals.items()
                    if (visit[fname].id if visit._fields[fname].type == "many2one" else visit[fname]) != value
                }
                if changed:
                    visit.with_context(clinic_from_calendar=True).write(changed)
        if to_create:
            Visit.create(to_create)
