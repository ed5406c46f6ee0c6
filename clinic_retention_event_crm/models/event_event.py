from odoo import fields, models


class EventEvent(models.Model):
    """An event run by a department as a free screening: its attendees are
    the department's prospects."""

    _inherit = "event.event"

    clinic_department_id = fields.Many2one(
        "clinic.department",
        string="Free screening of",
        index="btree_not_null",
        check_company=True,
        help="A free screening run by this department: attendees, graded by the staff at the screening, "
        "become prospects in the department's pipeline (see the lead generation rules).",
    )
