from odoo import fields, models


class ClinicMailingControl(models.Model):
    """A patient held out of a campaign mailing as its control group: chosen
    at random among the patients the mailing would have reached, never sent
    the message, and measured the same way (visits booked in the window
    after ``date``), so that the campaign's effect can be told from the
    visits that would have happened anyway."""

    _name = "clinic.mailing.control"
    _description = "Campaign Control Group Member"
    _order = "date desc, id desc"
    _rec_name = "patient_id"

    mailing_id = fields.Many2one("mailing.mailing", required=True, index=True, ondelete="cascade", readonly=True)
    campaign_id = fields.Many2one(related="mailing_id.campaign_id", store=True, index=True)
    patient_id = fields.Many2one("clinic.patient", required=True, index=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="patient_id.company_id", store=True, index=True)
    date = fields.Datetime(
        string="Held out on",
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        help="When the mailing went to the others: the start of this patient's attribution window.",
    )

    _sql_constraints = [
        ("mailing_patient_uniq", "unique(mailing_id, patient_id)", "This patient is already in the control group."),
    ]
