from odoo import api, fields, models

INTERVAL_UNITS = [("days", "Days"), ("weeks", "Weeks"), ("months", "Months")]


def interval_parts(number, unit):
    """(months, days) of an interval given as a number of days, weeks or months."""
    number = number or 0
    if unit == "months":
        return number, 0
    if unit == "weeks":
        return 0, 7 * number
    return 0, number


class ClinicIntervalMixin(models.AbstractModel):
    """ "Every N days/weeks/months", stored as (months, days) so SQL can add
    it to a date with ``make_interval(months =>, days =>)``. Shared by recall
    rules, their cadence steps and patient overrides; each sets its own
    defaults by redeclaring ``interval_number``/``interval_unit``."""

    _name = "clinic.interval.mixin"
    _description = "Recall interval"

    interval_number = fields.Integer(string="Every", default=1)
    interval_unit = fields.Selection(INTERVAL_UNITS, default="months", required=True)
    interval_months = fields.Integer(compute="_compute_interval_parts", store=True)
    interval_days = fields.Integer(compute="_compute_interval_parts", store=True)

    @api.depends("interval_number", "interval_unit")
    def _compute_interval_parts(self):
        for record in self:
            record.interval_months, record.interval_days = interval_parts(record.interval_number, record.interval_unit)
