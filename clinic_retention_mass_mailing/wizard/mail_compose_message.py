from odoo import models

PATIENT_MODEL = "clinic.patient"
# the models whose opt-out list clinic_retention builds from the patients' consent
CONSENT_MODELS = (PATIENT_MODEL, "res.partner")


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _get_optout_emails(self, mail_values_dict):
        """mass_mailing asks the mailing for its opt-out list again at each
        batch of 50 records it renders, and the lists of patients and
        contacts (their marketing consent) look at all the mailing's
        recipients: sending was quadratic. The list is computed once per
        composer (on this cursor) and kept as a set. A patient campaign has a
        composer per chunk of patients (``clinic_chunk_ids``, see
        ``mailing.mailing._clinic_send_streamed``): its list is only the
        chunk's addresses that a refusing recipient shares."""
        if self.composition_mode != "mass_mail" or not self.mass_mailing_id or self.model not in CONSENT_MODELS:
            return super()._get_optout_emails(mail_values_dict)
        key = ("clinic_retention_mass_mailing.opt_out", self.id)
        if key not in self.env.cr.cache:
            chunk = self.env.context.get("clinic_chunk_ids")
            if chunk is not None and self.model == PATIENT_MODEL:
                # a chunk of a streamed campaign: only its own addresses (mailing.mailing._clinic_send_streamed)
                opt_out = self.mass_mailing_id._clinic_opt_out_emails_among(chunk)
            else:
                opt_out = super()._get_optout_emails(mail_values_dict)
            self.env.cr.cache[key] = frozenset(opt_out)
        return set(self.env.cr.cache[key])

    def _clinic_forget_opt_out(self):
        """Drop the opt-out list kept for this composer's sending."""
        self.env.cr.cache.pop(("clinic_retention_mass_mailing.opt_out", self.id), None)

    def _get_done_emails(self, mail_values_dict):
        """mass_mailing asks, at each batch of 50 records, for every address
        the mailing already reached (a set of up to all its recipients, read
        again each time: quadratic in the recipients). Only the batch's own
        addresses can be found in it: for patients, the mailing is asked for
        those (``mailing.mailing._get_seen_list``, ``clinic_seen_among``)."""
        if self.composition_mode != "mass_mail" or not self.mass_mailing_id or self.model != PATIENT_MODEL:
            return super()._get_done_emails(mail_values_dict)
        among = {
            email
            for recipients in self._get_recipients_data(mail_values_dict).values()
            for email in recipients["mail_to_normalized"]
        }
        composer = self.with_context(clinic_seen_among=sorted(among))
        return super(MailComposeMessage, composer)._get_done_emails(mail_values_dict)

    def _process_mail_values_state(self, mail_values_dict):
        """A campaign e-mail to a patient without marketing consent is
        cancelled (an opt-out, whatever else is wrong with the address):
        its trace says "Excluded: no consent"."""
        mail_values_dict = super()._process_mail_values_state(mail_values_dict)
        if self.composition_mode != "mass_mail" or not self.mass_mailing_id or self.model != PATIENT_MODEL:
            return mail_values_dict
        if self.env.context.get("clinic_chunk_ids") is not None:
            # a chunk of a streamed campaign: its patients without consent were left out before rendering
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
