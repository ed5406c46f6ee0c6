from odoo import fields, models
from odoo.addons.base.models.res_partner import _tz_get


class ClinicDepartment(models.Model):
    _name = "clinic.department"
    _description = "Clinic Department"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    code = fields.Char(help="Short code used in reports and exports, e.g. DENT.")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    manager_id = fields.Many2one(
        "res.users",
        tracking=True,
        check_company=True,
        domain="[('share', '=', False)]",
        help="Responsible for the department's patients, complaints and results.",
    )
    member_ids = fields.Many2many(
        "res.users",
        "clinic_department_member_rel",
        "department_id",
        "user_id",
        string="Customer-service team",
        check_company=True,
        domain="[('share', '=', False)]",
        help="Staff who call and message this department's patients. They see the department's follow-up tasks.",
    )
    description = fields.Html()
    service_ids = fields.One2many("clinic.service", "department_id", string="Services")
    visit_count = fields.Integer(compute="_compute_visit_count")
    satisfaction_avg = fields.Float(
        string="Satisfaction", compute="_compute_satisfaction", digits=(3, 2), help="Average overall score (1-5)."
    )
    satisfaction_count = fields.Integer(string="Responses", compute="_compute_satisfaction")
    # Times shown to patients (see clinic.visit.local_tz)
    tz = fields.Selection(
        _tz_get,
        string="Time zone",
        help="For a site in another zone than the clinic: its visit times are shown to patients in this zone.",
    )
    use_patient_tz = fields.Boolean(
        string="Times in the patient's zone",
        help="Remote consultations: show visit times in the patient's own time zone when it is set on the "
        "patient (otherwise in the department's or the clinic's zone).",
    )

    _sql_constraints = [
        ("code_company_uniq", "unique(code, company_id)", "A department code must be unique per company."),
    ]

    def _compute_visit_count(self):
        counts = dict(
            self.env["clinic.visit"]._read_group([("department_id", "in", self.ids)], ["department_id"], ["__count"])
        )
        for department in self:
            department.visit_count = counts.get(department._origin, 0)

    def _compute_satisfaction(self):
        stats = {
            department: (count, average)
            for department, count, average in self.env["clinic.survey.response"]._read_group(
                [("department_id", "in", self.ids), ("state", "=", "answered"), ("score", ">", 0)],
                ["department_id"],
                ["__count", "score:avg"],
            )
        }
        for department in self:
            count, average = stats.get(department._origin, (0, 0.0))
            department.satisfaction_count = count
            department.satisfaction_avg = average or 0.0

    def action_open_visits(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_visit_action")
        action["domain"] = [("department_id", "=", self.id)]
        action["context"] = {"default_department_id": self.id}
        return action
