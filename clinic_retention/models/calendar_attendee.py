from odoo import models


class CalendarAttendee(models.Model):
    """Invitations to a clinic appointment show its time in the clinic's
    zone (the visit's ``local_tz``), not in each attendee's own zone, which
    for patients is often unset or the zone of whoever created them."""

    _inherit = "calendar.attendee"

    def _compute_mail_tz(self):  # pylint: disable=missing-return
        super()._compute_mail_tz()
        for attendee in self:
            zone = attendee.event_id.sudo()._clinic_local_tz()
            if zone:
                attendee.mail_tz = zone
