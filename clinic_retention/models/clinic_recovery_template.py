from odoo import fields, models


class ClinicRecoveryTemplate(models.Model):
    """What to ask, per condition or procedure, to score a patient's
    recovery during a follow-up (e.g. after a tooth extraction: pain,
    bleeding, swelling, eating normally)."""

    _name = "clinic.recovery.template"
    _description = "Recovery Template"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    service_id = fields.Many2one(
        "clinic.service",
        string="Service / condition",
        index=True,
        check_company=True,
        help="Follow-ups about this service or condition use this template.",
    )
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    criterion_ids = fields.One2many("clinic.recovery.criterion", "template_id", string="Criteria", copy=True)

    def _by_service(self, services):
        """{service id: template} for ``services`` (the first active template each)."""
        templates = self.search([("service_id", "in", services.ids)]) if services else self.browse()
        result = {}
        for template in templates:
            result.setdefault(template.service_id.id, template)
        return result
