"""Issue 12: a patient's internal notes moved from the shared contact
(``res.partner.comment``, readable by every employee) to the patient
(``clinic.patient.notes``, Patient Care users only). Copy each patient's
contact notes to the patient and clear them on the contact. A contact that
is the patient of several companies gives its notes to each."""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(
        SQL(
            """
            UPDATE clinic_patient p
               SET notes = partner.comment
              FROM res_partner partner
             WHERE partner.id = p.partner_id
               AND p.notes IS NULL
               AND COALESCE(partner.comment::text, '') NOT IN ('', '<p><br></p>')
            """
        )
    )
    cr.execute(
        SQL(
            """
            UPDATE res_partner partner
               SET comment = NULL
             WHERE EXISTS (SELECT 1 FROM clinic_patient p WHERE p.partner_id = partner.id)
               AND partner.comment IS NOT NULL
            """
        )
    )
