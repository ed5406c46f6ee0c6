"""Issue 11 (care messages), before the module update.

The precise-timing flag of automation rules is generic now: the column
``base_automation.clinic_precise`` becomes ``is_precise`` (values kept), with
its field definition and XML id, so nothing is lost or re-created.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    if column_exists(cr, "base_automation", "clinic_precise") and not column_exists(
        cr, "base_automation", "is_precise"
    ):
        cr.execute(SQL("ALTER TABLE base_automation RENAME COLUMN clinic_precise TO is_precise"))
        cr.execute(
            SQL(
                "UPDATE ir_model_fields SET name = 'is_precise' "
                "WHERE model = 'base.automation' AND name = 'clinic_precise'"
            )
        )
        cr.execute(
            SQL(
                "UPDATE ir_model_data SET name = 'field_base_automation__is_precise' "
                "WHERE module = 'clinic_retention' AND name = 'field_base_automation__clinic_precise'"
            )
        )
