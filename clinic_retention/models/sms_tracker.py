from odoo import fields, models


class SmsTracker(models.Model):
    """The SMS provider's answers and delivery reports reach the care
    message that produced the SMS (as they reach mail notifications and
    mailing traces in core)."""

    _inherit = "sms.tracker"

    clinic_message_id = fields.Many2one("clinic.visit.reminder", ondelete="cascade", index="btree_not_null")

    def _action_update_from_provider_error(self, provider_error):
        error_status, failure_type, failure_reason = super()._action_update_from_provider_error(provider_error)
        if self.clinic_message_id:
            self.clinic_message_id._update_from_sms(
                "bounce" if error_status == "bounce" else "error", failure_type, failure_reason
            )
        return error_status, failure_type, failure_reason

    def _action_update_from_sms_state(  # pylint: disable=missing-return
        self, sms_state, failure_type=False, failure_reason=False
    ):
        super()._action_update_from_sms_state(sms_state, failure_type=failure_type, failure_reason=failure_reason)
        if self.clinic_message_id:
            self.clinic_message_id._update_from_sms(sms_state, failure_type, failure_reason)
