from odoo import api, models
from odoo.tools import html2plaintext


class MailThread(models.AbstractModel):
    """A bounce of a care e-mail marks its message bounced (the e-mail itself
    is usually deleted once sent, so core cannot find it)."""

    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        result = super()._routing_handle_bounce(email_message, message_dict)
        if message_dict.get("bounced_msg_ids"):
            self.env["clinic.visit.reminder"]._update_from_bounce(
                message_dict["bounced_msg_ids"], html2plaintext(message_dict.get("body") or "")[:500] or False
            )
        return result
