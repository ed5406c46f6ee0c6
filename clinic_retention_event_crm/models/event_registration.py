from odoo import api, fields, models
from odoo.addons.clinic_retention.models.clinic_patient import CHANNELS

# Registration field -> opportunity field, kept in step after the opportunity exists.
CLINIC_LEAD_FIELDS = {
    "clinic_grade_id": "clinic_grade_id",
    "clinic_chief_complaint": "clinic_chief_complaint",
    "clinic_service_id": "clinic_service_id",
    "clinic_channel": "clinic_channel",
    "clinic_care_consent": "clinic_care_consent",
    "clinic_marketing_consent": "clinic_marketing_consent",
}


class EventRegistration(models.Model):
    """At a free screening, the staff grade each attendee's need and note
    the chief complaint; event_crm's lead rules then make the attendee a
    graded prospect of the department (not a sales lead)."""

    _inherit = "event.registration"

    clinic_department_id = fields.Many2one(related="event_id.clinic_department_id", string="Screening department")
    clinic_grade_id = fields.Many2one(
        "clinic.need.grade",
        string="Need grade",
        help="From A (acute, ready to book) to E (no current need), as assessed at the screening.",
    )
    clinic_chief_complaint = fields.Text(string="Chief complaint")
    clinic_service_id = fields.Many2one(
        "clinic.service",
        string="Service / condition",
        domain="['|', ('department_id', '=', False), ('department_id', '=', clinic_department_id)]",
    )
    clinic_channel = fields.Selection(CHANNELS, string="Preferred channel", default="phone")
    clinic_care_consent = fields.Boolean(string="Consents to care messages")
    clinic_marketing_consent = fields.Boolean(string="Consents to marketing")

    def _get_lead_values(self, rule):
        values = super()._get_lead_values(rule)
        department = self.event_id.clinic_department_id
        if not department:
            return values
        registrations = self.sorted("id")
        values.update(
            {
                "type": "opportunity",
                "clinic_department_id": department.id,
                "team_id": department.team_id.id,
                "company_id": department.company_id.id,
                "clinic_kind": "prospect",
                "clinic_consent_source": "in_person",
                "source_id": values.get("source_id") or self.env.ref("clinic_retention.utm_source_free_screening").id,
            }
        )
        for fname, lead_fname in CLINIC_LEAD_FIELDS.items():
            value = registrations._find_first_notnull(fname)
            if value:
                values[lead_fname] = value
        # CRM's free-text "Referred By" gets the event's name: the referrer
        # stays empty, the screening is the source.
        return values

    def write(self, vals):
        result = super().write(vals)
        changed = CLINIC_LEAD_FIELDS.keys() & vals.keys()
        if changed and not self.env.context.get("event_lead_rule_skip"):
            self._clinic_update_leads(changed)
        return result

    def _clinic_update_leads(self, fnames):
        """Grading after the opportunity was created (the registration was
        confirmed first): the open opportunity follows."""
        for registration in self.sudo().filtered("clinic_department_id"):
            leads = registration.lead_ids.filtered(lambda lead: lead.clinic_is_care and lead.clinic_status == "open")
            if leads:
                leads.write(
                    {
                        CLINIC_LEAD_FIELDS[fname]: registration._convert_value(registration[fname], fname)
                        for fname in fnames
                    }
                )

    @api.model
    def _clinic_demo_attend(self, xmlids):
        """Demo: these registrations attended the screening (their opportunities are created)."""
        registrations = self.browse([self.env.ref(xmlid).id for xmlid in xmlids])
        registrations.filtered(lambda r: r.state != "done").write({"state": "done"})
        return True
