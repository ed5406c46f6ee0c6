from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.clinic_patient_anonymise import ANONYMISE_REASONS


class ClinicPatientAnonymise(models.TransientModel):
    """Confirm the anonymisation of a patient: irreversible, so the manager
    says why and ticks that they understand."""

    _name = "clinic.patient.anonymise"
    _description = "Anonymise a patient"
    _transient_max_hours = 1.0

    patient_id = fields.Many2one("clinic.patient", required=True, readonly=True, ondelete="cascade")
    reason = fields.Selection(ANONYMISE_REASONS, required=True, default="request")
    note = fields.Char(help="The request's reference, for the log. Do not write the patient's name here.")
    confirm = fields.Boolean(string="I understand that this cannot be undone")

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        wizards.patient_id._check_privacy_manager()
        return wizards

    def action_anonymise(self):
        self.ensure_one()
        if not self.confirm:
            raise UserError(self.env._("Tick the box to confirm: anonymisation cannot be undone."))
        self.patient_id._anonymise(self.reason, self.note)
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.patient",
            "res_id": self.patient_id.id,
            "view_mode": "form",
            "target": "current",
            "context": {"active_test": False},
        }
