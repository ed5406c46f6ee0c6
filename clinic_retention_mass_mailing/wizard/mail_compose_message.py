from odoo import models

from ..models.res_partner import BATCH_KEY

PATIENT_MODEL = "clinic.patient"


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _get_optout_emails(self, mail_values_dict):
        """The opt-out list of a mailing to patients or contacts is built
        for the batch being rendered (its records in the context), not for
        all the mailing's recipients at each batch."""
        composer = self
        if self.composition_mode == "mass_mail" and self.mass_mailing_id:
            composer = self.with_context(**{BATCH_KEY: list(mail_values_dict)})
        return super(MailComposeMessage, composer)._get_optout_emails(mail_values_dict)

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
