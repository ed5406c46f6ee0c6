from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    clinic_new_days = fields.Integer(
        string="Patients stay new for (days)",
        default=90,
        help="A patient whose first completed visit is more recent than this is 'new'.",
    )
    clinic_lapse_days = fields.Integer(
        string="Lapsed after (days)",
        default=180,
        help="A patient with no completed visit for this many days is 'lapsed' and surfaces for reactivation.",
    )
    clinic_active_days = fields.Integer(
        string="Active window (days)",
        default=365,
        help="A patient is active when their last completed visit is within "
        "this many days; past it they are 'lost'. Retention KPIs use the same "
        "definition.",
    )

    _sql_constraints = [
        (
            "clinic_lifecycle_days_check",
            "CHECK(clinic_new_days > 0 AND clinic_lapse_days > 0 AND clinic_active_days > clinic_lapse_days)",
            "The active window must be longer than the lapse delay, and both positive.",
        ),
    ]
