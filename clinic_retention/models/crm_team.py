from odoo import api, fields, models


class CrmTeam(models.Model):
    """A department's customer-service team is a CRM team: its members are
    the department's agents (``clinic.department.member_ids`` reads and
    writes them), its pipeline holds the department's opportunities."""

    _inherit = "crm.team"

    clinic_department_ids = fields.One2many(
        "clinic.department",
        "team_id",
        string="Clinic departments",
        help="The departments whose customer-service team this is (several departments may share a team).",
    )

    @api.model
    def _clinic_allow_multi_membership(self):
        """Agents often work for several departments, so for several teams:
        CRM's "multiple teams per salesperson" option (off by default, when
        a new membership archives the others) must be on. Called once at
        installation and by the upgrade script."""
        Param = self.env["ir.config_parameter"].sudo()
        if not Param.get_param("sales_team.membership_multi"):
            Param.set_param("sales_team.membership_multi", True)
        return True
