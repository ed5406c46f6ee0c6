from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools import locale_dates
from ..tools.phone import InvalidPhoneNumber, example_number, to_e164

PHONE_FIELDS = ("phone", "mobile")
# The example of the former invalid-number message (its translations are
# reused, with the country's own example, until the new text is translated).
LEGACY_EXAMPLE = "+86 138 0013 8000"


class ResPartner(models.Model):
    _inherit = "res.partner"

    patient_ids = fields.One2many(
        "clinic.patient",
        "partner_id",
        string="Patient records",
        groups="clinic_retention.group_clinic_retention_user",
    )
    # Being a patient is health data: only Patient Care users may know it
    # (or search on it); other employees see an ordinary contact.
    is_patient = fields.Boolean(
        compute="_compute_is_patient",
        store=True,
        compute_sudo=True,
        groups="clinic_retention.group_clinic_retention_user",
    )

    # The one source of the writing direction of messages to a person (and,
    # through clinic.patient's delegation, to a patient): the e-mail
    # templates set it on their body wrapper.
    clinic_text_dir = fields.Char(
        compute="_compute_clinic_text_dir",
        string="Writing direction",
        help="rtl when the contact's language is written right to left (Persian): e-mails are laid out so.",
    )

    @api.depends("patient_ids")
    def _compute_is_patient(self):
        for partner in self:
            partner.is_patient = bool(partner.with_context(active_test=False).patient_ids)

    @api.depends("lang")
    def _compute_clinic_text_dir(self):
        for partner in self:
            rtl = partner.lang and locale_dates.is_rtl(self.env, partner.lang)
            partner.clinic_text_dir = "rtl" if rtl else "ltr"

    def write(self, vals):
        """A patient's numbers are always stored in E.164, whichever app
        (Patients, Contacts, CRM) edits them."""
        if not PHONE_FIELDS & vals.keys() and "country_id" not in vals:
            return super().write(vals)
        patients = self.filtered("is_patient")
        others = self - patients
        result = super(ResPartner, others).write(vals) if others else True
        for partner in patients:
            partner_vals = dict(vals)
            country = (
                self.env["res.country"].browse(vals["country_id"]) if vals.get("country_id") else partner.country_id
            )
            if "country_id" in vals:
                # re-read numbers already stored against the new country
                for fname in PHONE_FIELDS:
                    partner_vals.setdefault(fname, partner[fname])
            self._clinic_normalize_phone_vals(partner_vals, country or self._clinic_default_country(partner))
            super(ResPartner, partner).write(partner_vals)
        return result

    @api.model
    def _clinic_default_country(self, partner=None):
        company = (partner and partner.company_id) or self.env.company
        return company.country_id

    @api.model
    def _clinic_format_phone(self, number, country):
        """E.164 form of ``number`` read against ``country``, or False."""
        try:
            return to_e164(number, country.code if country else None)
        except InvalidPhoneNumber:
            return False

    @api.model
    def _clinic_invalid_phone_message(self, number, country):
        """The error for a number that is not valid in ``country``, with an
        example number of that country (of the company's when none)."""
        example = example_number((country or self.env.company.country_id).code) or "+44 7400 123456"
        message = self._clinic_invalid_phone_text(number, country, example)
        if self.env.lang and self.env.lang != "en_US":
            english = self.with_context(lang="en_US")
            if message == english._clinic_invalid_phone_text(number, country, example):
                # Not translated yet: the former text's translation, with the
                # country's example in place of the fixed one.
                legacy = self._clinic_invalid_phone_legacy_text(number, country)
                if legacy != english._clinic_invalid_phone_legacy_text(number, country):
                    head, found, tail = legacy.rpartition(LEGACY_EXAMPLE)
                    message = f"{head}{example}{tail}" if found else legacy
        return message

    @api.model
    def _clinic_invalid_phone_text(self, number, country, example):
        if country:
            return self.env._(
                'The phone number "%(number)s" is not a valid number in %(country)s. '
                "Check the digits, or write it with its country code, e.g. %(example)s.",
                number=number,
                country=country.name,
                example=example,
            )
        return self.env._(
            'The phone number "%(number)s" is not valid. Write it with its country '
            "code, e.g. %(example)s, or set the patient's country.",
            number=number,
            example=example,
        )

    @api.model
    def _clinic_invalid_phone_legacy_text(self, number, country):
        if country:
            return self.env._(
                'The phone number "%(number)s" is not a valid number in %(country)s. '
                "Check the digits, or write it with its country code, e.g. +86 138 0013 8000.",
                number=number,
                country=country.name,
            )
        return self.env._(
            'The phone number "%(number)s" is not valid. Write it with its country '
            "code, e.g. +86 138 0013 8000, or set the patient's country.",
            number=number,
        )

    @api.model
    def _clinic_normalize_phone_vals(self, vals, country):
        """Rewrite ``vals['phone']`` and ``vals['mobile']`` in E.164 in place.

        :raise ValidationError: naming the number, when one is not valid.
        """
        for fname in PHONE_FIELDS:
            number = vals.get(fname)
            if not number:
                continue
            e164 = self._clinic_format_phone(number, country)
            if not e164:
                raise ValidationError(self._clinic_invalid_phone_message(number, country))
            vals[fname] = e164
        return vals

    def action_open_patient(self):
        self.ensure_one()
        patient = self.with_context(active_test=False).patient_ids[:1]
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.patient",
            "res_id": patient.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # Campaigns (Email / SMS Marketing, when installed) respect the
    # marketing consent of patients
    # ------------------------------------------------------------------

    @api.model
    def _clinic_marketing_opt_out_emails(self, partner_ids=None, patient_ids=None):
        """The e-mail addresses of the contacts ``partner_ids`` (or of the
        patients ``patient_ids``) who are patients without marketing
        consent (a contact who is the patient of several clinics needs the
        consent of each, archived patients included). One query, no record
        loaded: a campaign may have 100,000 recipients."""
        self.env["clinic.patient"].flush_model(["partner_id", "marketing_consent"])
        self.flush_model(["email_normalized"])
        if patient_ids is not None:
            partners = SQL("SELECT partner_id FROM clinic_patient WHERE id = ANY(%s)", list(patient_ids))
        else:
            partners = SQL("SELECT unnest(%s::int[])", list(partner_ids or []))
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT partner.email_normalized
                  FROM clinic_patient patient
                  JOIN res_partner partner ON partner.id = patient.partner_id
                 WHERE patient.partner_id IN (%s)
                   AND patient.marketing_consent IS NOT TRUE
                   AND partner.email_normalized IS NOT NULL
                """,
                partners,
            )
        )
        return {email for (email,) in rows}

    def _mailing_get_opt_out_list(self, mailing):
        opt_out = set()
        parent = getattr(super(), "_mailing_get_opt_out_list", None)
        if parent:
            opt_out = set(parent(mailing))
        return opt_out | self._clinic_marketing_opt_out_emails(partner_ids=mailing._get_recipients())

    def _mailing_get_opt_out_list_sms(self, mailing):
        opt_out = []
        parent = getattr(super(), "_mailing_get_opt_out_list_sms", None)
        if parent:
            opt_out = list(parent(mailing))
        recipients = self.sudo().browse(mailing._get_recipients())
        refused = (
            self.env["clinic.patient"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "in", recipients.ids), ("marketing_consent", "=", False)])
        )
        return opt_out + [pid for pid in refused.partner_id.ids if pid not in opt_out]
