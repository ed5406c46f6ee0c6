"""Issue 12: the Excel export is no longer stored in its wizard
(``clinic.retention.export.file`` was a binary column readable by every
agent): it is built when downloaded and streamed. Drop the column, and the
workbooks it still held."""

from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    for column in ("file", "filename"):
        if column_exists(cr, "clinic_retention_export", column):
            cr.execute(SQL("ALTER TABLE clinic_retention_export DROP COLUMN %s", SQL.identifier(column)))
