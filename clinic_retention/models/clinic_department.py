from odoo import api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import ValidationError


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
    team_id = fields.Many2one(
        "crm.team",
        string="CRM team",
        index=True,
        ondelete="restrict",
        tracking=True,
        check_company=True,
        help="The department's customer-service team in CRM: its members are the agents below, and its "
        "pipeline holds the department's prospects, reactivations and treatment plans. Created with the "
        "department; several departments may share one team (and then one member list).",
    )
    member_ids = fields.Many2many(
        "res.users",
        string="Customer-service team",
        compute="_compute_member_ids",
        inverse="_inverse_member_ids",
        search="_search_member_ids",
        compute_sudo=True,
        domain="[('share', '=', False)]",
        help="Staff who call and message this department's patients: the members of its CRM team. "
        "They see the department's follow-up tasks and pipeline.",
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

    # ------------------------------------------------------------------
    # The CRM team: one member list for tasks, pipeline and record rules
    # ------------------------------------------------------------------

    @api.depends("team_id.crm_team_member_ids.active", "team_id.crm_team_member_ids.user_id")
    def _compute_member_ids(self):
        for department in self:
            department.member_ids = department.team_id.member_ids

    @api.constrains("team_id")
    def _check_team_id(self):
        for department in self:
            if not department.team_id:
                raise ValidationError(
                    self.env._(
                        "The department “%(department)s” needs a CRM team: leave the field empty when you "
                        "create it and one is made for it.",
                        department=department.name,
                    )
                )

    def _inverse_member_ids(self):
        # Whoever may write the department (a manager) sets its team's
        # members; the team itself is CRM configuration, written as superuser.
        for department in self:
            if department.team_id:
                department.team_id.sudo().member_ids = department.member_ids

    def _search_member_ids(self, operator, value):
        if operator in ("in", "not in") and isinstance(value, int):
            value = [value]  # ('member_ids', 'in', uid), as written for the former stored field
        return [("team_id.member_ids", operator, value)]

    @api.model
    def _team_values(self, name, company_id):
        return {"name": name, "company_id": company_id, "use_opportunities": True}

    @api.model_create_multi
    def create(self, vals_list):
        Team = self.env["crm.team"].sudo()
        for vals in vals_list:
            if not vals.get("team_id"):
                company_id = vals.get("company_id") or self.env.company.id
                vals["team_id"] = Team.create(self._team_values(vals.get("name"), company_id)).id
        return super().create(vals_list)

    def write(self, vals):
        if "member_ids" in vals and not vals.get("team_id"):
            self.filtered(lambda d: not d.team_id)._create_teams()
        return super().write(vals)

    def _create_teams(self):
        """Give each department without a team a team of its own."""
        Team = self.env["crm.team"].sudo()
        for department in self:
            team = Team.create(self._team_values(department.name, department.company_id.id))
            super(ClinicDepartment, department).write({"team_id": team.id})  # pylint: disable=super-method-mismatch  # no loop
        return True

    @api.model
    def _setup_crm_teams(self, members_by_department=None):
        """Upgrade from 18.0.1: every department gets its team, whose members
        are the department's former agents (``members_by_department``:
        {department id: [user ids]}, read from the old member table)."""
        members_by_department = members_by_department or {}
        if any(
            sum(user_id in users for users in members_by_department.values()) > 1
            for user_id in {u for users in members_by_department.values() for u in users}
        ):
            self.env["crm.team"]._clinic_allow_multi_membership()
        departments = self.with_context(active_test=False).search([])  # pylint: disable=no-search-all  # a few dozen
        departments.filtered(lambda d: not d.team_id)._create_teams()
        for department in departments:
            users = self.env["res.users"].browse(members_by_department.get(department.id, [])).exists()
            missing = users - department.team_id.member_ids
            if missing:
                department.team_id.sudo().member_ids = department.team_id.member_ids | missing
        return departments

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
