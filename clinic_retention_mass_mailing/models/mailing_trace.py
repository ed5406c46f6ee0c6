from odoo import api, fields, models
from odoo.tools.sql import create_index

PATIENT_MODEL = "clinic.patient"
OPT_OUT_TYPES = ("mail_optout", "sms_optout")
NO_NUMBER_TYPES = ("sms_number_missing", "sms_number_format")


class MailingTrace(models.Model):
    """A campaign message to a patient who was left out keeps its trace
    (cancelled, with the reason), so that the mailing's statistics say how
    many were excluded and why instead of dropping them silently."""

    _inherit = "mailing.trace"

    # looked up by address for each batch of a patient mailing (mailing.mailing._get_seen_list)
    email = fields.Char(index=True)
    clinic_exclusion = fields.Selection(
        [
            ("no_consent", "Excluded: no consent"),
            ("no_sms_number", "Excluded: no mobile number"),
        ],
        string="Patient excluded",
        index="btree_not_null",
        readonly=True,
    )

    def init(self):
        res = super().init()
        # what the sending of a patient campaign looks up for each chunk of
        # patients: their traces (mailing.mailing._clinic_not_done_yet) and
        # the contacts behind their addresses (_clinic_opt_out_emails_among)
        create_index(self.env.cr, "mailing_trace_clinic_res_id_index", self._table, ["res_id"])
        create_index(
            self.env.cr,
            "res_partner_clinic_email_normalized_index",
            "res_partner",
            ["email_normalized"],
            where="email_normalized IS NOT NULL",
        )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        cancelled = [
            vals
            for vals in vals_list
            if vals.get("model") == PATIENT_MODEL
            and vals.get("trace_status") == "cancel"
            and vals.get("failure_type") in OPT_OUT_TYPES + NO_NUMBER_TYPES
        ]
        if cancelled:
            refused = set(
                self.env[PATIENT_MODEL]
                .sudo()
                .with_context(active_test=False)
                .search([("id", "in", [vals["res_id"] for vals in cancelled]), ("marketing_consent", "=", False)])
                .ids
            )
            for vals in cancelled:
                if vals["res_id"] in refused:
                    vals["clinic_exclusion"] = "no_consent"
                    vals["failure_reason"] = self.env._("Excluded: the patient has not consented to marketing.")
                elif vals["failure_type"] in NO_NUMBER_TYPES:
                    vals["clinic_exclusion"] = "no_sms_number"
                    vals["failure_reason"] = self.env._(
                        "Excluded: no mobile number that can receive SMS (a landline is never texted)."
                    )
        return super().create(vals_list)
