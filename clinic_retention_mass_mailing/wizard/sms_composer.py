from odoo import models
from odoo.addons.clinic_retention.tools.phone import can_receive_sms

PATIENT_MODEL = "clinic.patient"


class SmsComposer(models.TransientModel):
    _inherit = "sms.composer"

    def _clinic_is_patient_campaign(self):
        return self.composition_mode == "mass" and self.mailing_id and self.res_model == PATIENT_MODEL

    def _prepare_recipient_values(self, records):
        """A campaign SMS goes to the patient's first number that can
        receive SMS (mobile, then phone), never to a landline, and never to
        another number of the contact."""
        if not self._clinic_is_patient_campaign():
            return super()._prepare_recipient_values(records)
        result = {}
        for patient in records:
            numbers = [number for number in (patient.mobile, patient.phone) if number]
            usable = next((number for number in numbers if can_receive_sms(number)), False)
            result[patient.id] = {
                "partner": patient.partner_id,
                "sanitized": usable,
                "number": usable or (numbers[0] if numbers else False),
                "partner_store": False,
                "field_store": "mobile" if usable and usable == patient.mobile else "phone",
            }
        return result

    def _prepare_mass_sms_values(self, records):
        """A campaign SMS to a patient without marketing consent is
        cancelled as an opt-out: its trace says "Excluded: no consent"."""
        result = super()._prepare_mass_sms_values(records)
        if not self._clinic_is_patient_campaign():
            return result
        refused = records.sudo().with_context(active_test=False).filtered(lambda patient: not patient.marketing_consent)
        for patient in refused:
            sms_values = result[patient.id]
            sms_values.update({"state": "canceled", "failure_type": "sms_optout"})
            for command in sms_values.get("mailing_trace_ids") or []:
                command[2].update({"trace_status": "cancel", "failure_type": "sms_optout"})
        return result
