from odoo import models

PATIENT_MODEL = "clinic.patient"


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _process_mail_values_state(self, mail_values_dict):
        """A campaign e-mail to a patient without marketing consent is
        cancelled (an opt-out, whatever else is wrong with the address):
        its trace says "Excluded: no consent"."""
        mail_values_dict = super()._process_mail_values_state(mail_values_dict)
        if self.composition_mode != "mass_mail" or not self.mass_mailing_id or self.model != PATIENT_MODEL:
            return mail_values_dict
        refused = (
            self.env[PATIENT_MODEL]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "in", list(mail_values_dict)), ("marketing_consent", "=", False)])
        )
        for res_id in refused.ids:
            mail_values_dict[res_id].update(
                {"state": "cancel", "failure_type": "mail_optout", "is_notification": False}
            )
        return mail_values_dict
