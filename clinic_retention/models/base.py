from odoo import models
from odoo.exceptions import AccessError

MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


class Base(models.AbstractModel):
    """Bulk copies of patient data: exporting a list (the Export button)
    and importing a file of a Patient Care model are for Patient Care
    managers, and every list export of one is logged."""

    _inherit = "base"

    def _clinic_is_patient_data(self):
        return self._name.startswith("clinic.") and not self.env.su

    def export_data(self, fields_to_export):
        if not self._clinic_is_patient_data():
            return super().export_data(fields_to_export)
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only Patient Care managers export lists of patient data. "
                    "Use the Excel export in Reporting for your departments' figures."
                )
            )
        result = super().export_data(fields_to_export)
        self.env["clinic.audit.log"]._log(
            "list_export",
            description=self.env._(
                "List export of %(model)s: %(count)s record(s).",
                model=self.env["ir.model"]._get(self._name).name,
                count=len(self),
            ),
            details={"model": self._name, "fields": fields_to_export, "ids": self.ids[:1000]},
            count=len(self),
        )
        return result

    def load(self, fields, data):
        if self._clinic_is_patient_data() and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Patient Care managers import patient data."))
        return super().load(fields, data)
