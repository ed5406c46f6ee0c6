from odoo import models


class MailMail(models.Model):
    """The mail queue's results (sent, or failed and why) reach the care
    messages that produced the e-mails, before auto-deleted mails go."""

    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        self.env["clinic.visit.reminder"]._update_from_mails(
            self, failure_type=failure_type, failure_reason=failure_reason
        )
        return super()._postprocess_sent_message(success_pids, failure_reason=failure_reason, failure_type=failure_type)
