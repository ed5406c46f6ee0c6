from odoo import api, fields, models
from odoo.tools import SQL


class ClinicPatient(models.Model):
    """Possible duplicates: patients of the same company sharing a phone
    number (E.164) or a normalized email address."""

    # one concern per file: clinic_patient.py would pass the 600-line limit
    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    duplicate_patient_ids = fields.Many2many(
        "clinic.patient",
        compute="_compute_duplicate_patient_ids",
        string="Possible duplicates",
    )
    is_possible_duplicate = fields.Boolean(
        compute="_compute_duplicate_patient_ids",
        search="_search_is_possible_duplicate",
        string="Possible duplicate",
    )

    @api.depends("phone", "mobile", "email_normalized", "company_id")
    def _compute_duplicate_patient_ids(self):
        by_key = {}
        keys_of = {}
        for patient in self:
            keys = {n for n in (patient.phone, patient.mobile) if n}
            if patient.email_normalized:
                keys.add("mailto:" + patient.email_normalized)
            keys_of[patient] = keys
        all_keys = set().union(*keys_of.values()) if keys_of else set()
        if all_keys:
            phones = [k for k in all_keys if not k.startswith("mailto:")]
            emails = [k[7:] for k in all_keys if k.startswith("mailto:")]
            candidates = self.search(
                [
                    ("company_id", "in", self.company_id.ids),
                    "|",
                    "|",
                    ("phone", "in", phones),
                    ("mobile", "in", phones),
                    ("email_normalized", "in", emails),
                ]
            )
            for candidate in candidates:
                candidate_keys = {n for n in (candidate.phone, candidate.mobile) if n}
                if candidate.email_normalized:
                    candidate_keys.add("mailto:" + candidate.email_normalized)
                for key in candidate_keys:
                    by_key[key] = by_key.get(key, self.browse()) | candidate
        for patient in self:
            duplicates = self.browse()
            for key in keys_of[patient]:
                duplicates |= by_key.get(key, self.browse())
            duplicates = duplicates.filtered(
                lambda p, me=patient: p.id != me._origin.id and p.company_id == me.company_id
            )
            patient.duplicate_patient_ids = duplicates
            patient.is_possible_duplicate = bool(duplicates)

    def _search_is_possible_duplicate(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Unsupported search on possible duplicates."))
        self.env["clinic.patient"].flush_model(["company_id", "partner_id"])
        self.env["res.partner"].flush_model(["phone", "mobile", "email_normalized", "active"])
        # One pass: every (company, phone-or-email) key shared by two patients.
        self.env.cr.execute(
            SQL(
                """
                WITH keys AS (
                    SELECT patient.id, patient.company_id, key.value
                      FROM clinic_patient patient
                      JOIN res_partner partner ON partner.id = patient.partner_id
                     CROSS JOIN LATERAL (VALUES (partner.phone), (partner.mobile),
                                                ('mailto:' || partner.email_normalized))
                           AS key(value)
                     WHERE partner.active AND key.value IS NOT NULL AND key.value != ''
                ), shared AS (
                    SELECT company_id, value
                      FROM keys
                  GROUP BY company_id, value
                    HAVING COUNT(DISTINCT id) > 1
                )
                SELECT DISTINCT keys.id FROM keys JOIN shared USING (company_id, value)
                """
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", ids)]
