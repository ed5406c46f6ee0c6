from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

KIND = "list_message"


class ClinicPatientBulkMessage(models.TransientModel):
    """Send a message with a template to patients selected in any list.

    Each message goes through the care-message service and its ledger, like
    visit reminders: care consent, "do not contact", opt-outs (blacklists),
    SMS only to numbers that can get one (e-mail otherwise), quiet hours,
    delivery states, retries. It is about the patient's last completed visit
    in the department (the template reads it: department, clinic), so the
    ledger's unique key sends it once per patient, last visit and channel."""

    _name = "clinic.patient.bulk.message"
    _description = "Send a message to selected patients"

    patient_ids = fields.Many2many("clinic.patient", string="Patients", required=True)
    patient_count = fields.Integer(compute="_compute_patient_count")
    allowed_department_ids = fields.Many2many("clinic.department", compute="_compute_allowed_department_ids")
    department_id = fields.Many2one(
        "clinic.department",
        required=True,
        domain="[('id', 'in', allowed_department_ids)]",
        help="Patients are written to about their last completed visit in this department.",
    )
    channel = fields.Selection(
        [("email", "Email"), ("sms", "SMS (email when the patient has no mobile)")],
        required=True,
        default="email",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email template",
        domain="[('model', '=', 'clinic.visit')]",
        default=lambda self: self.env.ref(
            "clinic_retention.mail_template_patient_list_invitation", raise_if_not_found=False
        ),
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS template",
        domain="[('model', '=', 'clinic.visit')]",
        default=lambda self: self.env.ref(
            "clinic_retention.sms_template_patient_list_invitation", raise_if_not_found=False
        ),
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "clinic.patient" and context.get("active_ids"):
            values.setdefault("patient_ids", [fields.Command.set(context["active_ids"])])
        departments = self.env["clinic.patient.bulk.task"]._allowed_departments()
        if len(departments) == 1:
            values.setdefault("department_id", departments.id)
        return values

    @api.depends("patient_ids")
    def _compute_patient_count(self):
        for wizard in self:
            wizard.patient_count = len(wizard.patient_ids)

    def _compute_allowed_department_ids(self):
        departments = self.env["clinic.patient.bulk.task"]._allowed_departments()
        for wizard in self:
            wizard.allowed_department_ids = departments

    def _last_visits(self, patients):
        """The last completed visit of each patient in the department."""
        visits = (
            self.env["clinic.visit"]
            .sudo()
            .search(
                [
                    ("patient_id", "in", patients.ids),
                    ("department_id", "=", self.department_id.id),
                    ("state", "=", "done"),
                ],
                order="start desc, id desc",
            )
        )
        last = {}
        for visit in visits:
            last.setdefault(visit.patient_id, visit)
        return self.env["clinic.visit"].sudo().browse([visit.id for visit in last.values()])

    @api.model
    def _template_xml_id(self, template):
        """The care-message service takes templates by XML id (one is made
        for a template created in the interface)."""
        if not template:
            return None
        template = template.sudo()
        xml_id = template.get_external_id()[template.id]
        if not xml_id:
            # as an export does for a record without one (__export__.<table>_<id>)
            name = f"{template._table}_{template.id}_clinic"
            self.env["ir.model.data"].sudo().create(
                {"module": "__export__", "name": name, "model": template._name, "res_id": template.id}
            )
            xml_id = f"__export__.{name}"
        return xml_id

    def action_send(self):
        self.ensure_one()
        department = self.department_id
        if department not in self.env["clinic.patient.bulk.task"]._allowed_departments():
            raise AccessError(
                self.env._(
                    "You can write only to the patients of the departments whose team you are in, not %(department)s.",
                    department=department.display_name,
                )
            )
        if self.channel == "email" and not self.mail_template_id:
            raise UserError(self.env._("Choose the email template."))
        if self.channel == "sms" and not self.sms_template_id:
            raise UserError(self.env._("Choose the SMS template."))
        patients = self.patient_ids.filtered(lambda p: p.company_id == department.company_id)
        visits = self._last_visits(patients)
        Ledger = self.env["clinic.visit.reminder"].sudo()
        before = Ledger.search([("visit_id", "in", visits.ids), ("kind", "=", KIND)])
        self.env["clinic.care.message"]._schedule(
            visits,
            KIND,
            self.channel,
            email_template=self._template_xml_id(self.mail_template_id),
            sms_template=self._template_xml_id(self.sms_template_id) if self.channel == "sms" else None,
            states=("done",),
            upcoming=False,
            max_age_days=365 * 100,
        )
        rows = Ledger.search([("visit_id", "in", visits.ids), ("kind", "=", KIND)])
        new_rows = rows - before
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Messages: %(new)s new (queued or not sent, and why), %(already)s already sent before, "
                "%(no_visit)s patients with no completed visit in the department",
                new=len(new_rows),
                already=len(before),
                no_visit=len(self.patient_ids) - len(visits),
            ),
            "res_model": "clinic.visit.reminder",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", rows.ids)],
            "target": "current",
        }
