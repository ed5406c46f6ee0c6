from odoo import models


class PrivacyLookupWizardLine(models.TransientModel):
    """A patient found by Odoo's Privacy Lookup is anonymised with the
    clinic's own tool (which keeps the statistics), not deleted."""

    _inherit = "privacy.lookup.wizard.line"

    def action_clinic_anonymise(self):
        self.ensure_one()
        patient = self.env["clinic.patient"].with_context(active_test=False).browse(self.res_id)
        action = patient.action_open_anonymise_wizard()
        self.execution_details = self.env._("Anonymisation of patient #%(id)s opened", id=self.res_id)
        return action
