import base64

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class ClinicRetentionExport(models.TransientModel):
    """The manager's Excel export: pick a period, departments and doctors,
    get one .xlsx (see ``clinic.retention.xlsx``)."""

    _name = "clinic.retention.export"
    _description = "Retention Excel Export"

    @api.model
    def _default_date_from(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(months=1)

    @api.model
    def _default_date_to(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(days=1)

    date_from = fields.Date(required=True, default=lambda self: self._default_date_from())
    date_to = fields.Date(required=True, default=lambda self: self._default_date_to())
    department_ids = fields.Many2many(
        "clinic.department", string="Departments", help="Empty: every department you may see."
    )
    doctor_ids = fields.Many2many(
        "res.users", string="Doctors", domain="[('share', '=', False)]", help="Filters the satisfaction figures."
    )
    file = fields.Binary(readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    def action_export(self):
        self.ensure_one()
        if self.date_to < self.date_from:
            raise UserError(self.env._("The period ends before it starts."))
        content = self.env["clinic.retention.xlsx"]._build(
            self.date_from, self.date_to, self.department_ids.ids, self.doctor_ids.ids
        )
        self.write(
            {
                "file": base64.b64encode(content),
                "filename": f"patient-care-{self.date_from.isoformat()}-{self.date_to.isoformat()}.xlsx",
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Excel export"),
        }
