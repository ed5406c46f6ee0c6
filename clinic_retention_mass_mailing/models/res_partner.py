from odoo import api, models
from odoo.osv import expression

# set by the composer for each batch it renders (see wizard/mail_compose_message.py)
BATCH_KEY = "clinic_mailing_batch_ids"


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _clinic_mailing_recipients(self, model, mailing):
        """While a mailing is sent, the opt-out list is asked for again at
        each batch of 50: the recipients whose consent matters are then the
        batch's and those sharing one of its addresses (an address is opted
        out when any recipient behind it refused), not the whole mailing's
        recipients every time, which made sending quadratic."""
        batch_ids = self.env.context.get(BATCH_KEY)
        if batch_ids is None:
            return super()._clinic_mailing_recipients(model, mailing)
        batch = model.sudo().browse(batch_ids)
        emails = [email for email in batch.mapped("email_normalized") if email]
        if not emails:
            return batch
        domain = expression.AND([mailing._get_recipients_domain(), [("email_normalized", "in", emails)]])
        return batch | model.search(domain).sudo()
