"""Issue 12: a patient's allergies and hereditary conditions are stored in
``medical_allergies`` / ``medical_hereditary_conditions``; ``allergies`` and
``hereditary_conditions`` became fields computed per reader (clinical data is
shown only to those who may see it). Rename the columns so that no value is
lost. The chronic conditions keep their table
(``clinic_patient_chronic_condition_rel``), now behind
``medical_condition_ids``."""

from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    for old, new in (
        ("allergies", "medical_allergies"),
        ("hereditary_conditions", "medical_hereditary_conditions"),
    ):
        if column_exists(cr, "clinic_patient", old) and not column_exists(cr, "clinic_patient", new):
            cr.execute(
                SQL("ALTER TABLE clinic_patient RENAME COLUMN %s TO %s", SQL.identifier(old), SQL.identifier(new))
            )
