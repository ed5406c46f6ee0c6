"""Issue 12: the public forms' rate limit keeps counters per key and time
window (``window_start``, ``count``) instead of one row per submission.
The old rows are counters of the last hours only: drop them (the limit
starts afresh at the upgrade) so that the new required columns can be set."""

from odoo.tools import SQL
from odoo.tools.sql import table_exists


def migrate(cr, version):
    if table_exists(cr, "clinic_public_submission"):
        cr.execute(SQL("DELETE FROM clinic_public_submission"))
