from odoo import models
from odoo.tools import SQL, email_normalize


class PrivacyLookupWizard(models.TransientModel):
    """Odoo's Privacy Lookup (Settings → Technical → Privacy Lookup) finds a
    person's records by name and e-mail address. It already finds their
    patient record (through the contact); this adds the patient data it
    cannot see: complaints filed on the public form (contact e-mail) and the
    message ledger (the address a message went to).

    A patient is a contact by delegation: its ``active`` flag is the
    contact's, not a column of its table, which Odoo's generic query expects
    (it would fail on every search). Patients are looked up here instead."""

    _inherit = "privacy.lookup.wizard"

    def _get_query_models_blacklist(self):
        return [*super()._get_query_models_blacklist(), "clinic.patient"]

    def _get_query(self):
        query = super()._get_query()
        email = email_normalize(self.email.strip()) or self.email.strip()
        model_id = self.env["ir.model"]._get_id
        return SQL(
            """
            %s
            UNION ALL
            SELECT %s AS res_model_id, p.id AS res_id, partner.active AS is_active
              FROM clinic_patient p JOIN res_partner partner ON partner.id = p.partner_id
             WHERE p.partner_id IN (SELECT id FROM indirect_references)
            UNION ALL
            SELECT %s AS res_model_id, id AS res_id, active AS is_active
              FROM clinic_complaint WHERE contact_email = %s OR contact_name ILIKE %s
            UNION ALL
            SELECT %s AS res_model_id, id AS res_id, TRUE AS is_active
              FROM clinic_visit_reminder
             WHERE destination = %s
                OR patient_id IN (SELECT p.id FROM clinic_patient p
                                   WHERE p.partner_id IN (SELECT id FROM indirect_references))
            """,
            query,
            model_id("clinic.patient"),
            model_id("clinic.complaint"),
            email,
            self.name.strip(),
            model_id("clinic.visit.reminder"),
            email,
        )
