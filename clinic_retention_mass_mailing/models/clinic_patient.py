from odoo import models


class ClinicPatient(models.Model):
    _inherit = "clinic.patient"

    def _mailing_get_default_domain(self, mailing):
        """A new campaign to patients leaves out those who complained in the
        last 90 days (the manager may remove the condition). Consent and a
        usable address or mobile number are checked at sending, where the
        patients left out are counted on the mailing."""
        return [("segment_complained", "=", False)]
