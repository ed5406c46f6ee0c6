from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # looked up by address for each chunk of a patient mailing, to find the
    # patients who refused marketing behind the chunk's addresses
    # (mailing.mailing._clinic_opt_out_emails_among)
    email_normalized = fields.Char(index="btree_not_null")
