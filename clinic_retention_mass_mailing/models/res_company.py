from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    clinic_campaign_window_days = fields.Integer(
        string="Campaign attribution window (days)",
        default=30,
        help="A visit booked within this many days after a patient received or clicked a campaign "
        "message is credited to that campaign (the last one, if several).",
    )

    _sql_constraints = [
        (
            "clinic_campaign_window_days_positive",
            "CHECK(clinic_campaign_window_days > 0)",
            "The campaign attribution window must be at least one day.",
        ),
    ]
