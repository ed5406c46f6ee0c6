from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.phone import to_international

PHONE_FIELDS = ("phone", "mobile")
REVIEW_FIELDS = {"phone": "phone_to_review", "mobile": "mobile_to_review"}


class ClinicPatient(models.Model):
    """Phones of patients: shown in international format, and imports that
    lose nothing.

    Numbers are stored in E.164 (``res_partner.py``) and refused with a clear
    error when typed in a form. An import (Odoo's import: ``load()`` with the
    ``import_file`` context) keeps every row instead: a number that cannot be
    read is kept as typed in "phone to review", the patient is flagged, and
    fixing the number (in the number itself or in the field to review)
    normalises it and clears the flag."""

    _inherit = "clinic.patient"

    phone_to_review = fields.Char(
        copy=False,
        tracking=True,
        help="A phone number imported as typed because it could not be read: correct it here or in Phone.",
    )
    mobile_to_review = fields.Char(
        copy=False,
        tracking=True,
        help="A mobile number imported as typed because it could not be read: correct it here or in Mobile.",
    )
    has_phone_to_review = fields.Boolean(
        string="Phone to review",
        compute="_compute_has_phone_to_review",
        store=True,
        index=True,
    )
    phone_international = fields.Char(string="Phone (international)", compute="_compute_phone_international")
    mobile_international = fields.Char(string="Mobile (international)", compute="_compute_phone_international")

    @api.depends("phone_to_review", "mobile_to_review")
    def _compute_has_phone_to_review(self):
        for patient in self:
            patient.has_phone_to_review = bool(patient.phone_to_review or patient.mobile_to_review)

    @api.depends("phone", "mobile")
    def _compute_phone_international(self):
        for patient in self:
            patient.phone_international = to_international(patient.phone) if patient.phone else False
            patient.mobile_international = to_international(patient.mobile) if patient.mobile else False

    # ------------------------------------------------------------------
    # CRUD: imports keep unreadable numbers aside; fixing one clears it
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        Country = self.env["res.country"]
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            partner = self.env["res.partner"].browse(vals.get("partner_id"))
            country = Country.browse(vals.get("country_id")) or partner.country_id or company.country_id
            self._clinic_review_phone_vals(vals, country)
        return super().create(vals_list)

    def write(self, vals):
        if not any(vals.get(field) for field in (*PHONE_FIELDS, *REVIEW_FIELDS.values())):
            return super().write(vals)
        # numbers are read against each patient's own country
        for patient in self:
            super(ClinicPatient, patient).write(patient._clinic_reviewed_vals(vals))
        return True

    def _clinic_reviewed_vals(self, vals):
        """``vals`` for this patient (or a new one when empty)."""
        vals = dict(vals)
        company = self.company_id or self.env.company
        country = (
            self.env["res.country"].browse(vals["country_id"])
            if vals.get("country_id")
            else self.country_id or company.country_id
        )
        self._clinic_review_phone_vals(vals, country)
        return vals

    @api.model
    def _clinic_review_phone_vals(self, vals, country):
        """In place, for each number of ``vals``:

        - a number to review that is corrected (written in the field to
          review) moves to its number, normalised; still unreadable, it is
          refused with the usual error unless this is an import;
        - a number written directly clears the one to review;
        - during an import, a number that cannot be read goes to the field
          to review, as typed, and the number is left empty.
        """
        Partner = self.env["res.partner"]
        importing = self.env.context.get("import_file")
        for fname, review_fname in REVIEW_FIELDS.items():
            typed = (vals.get(review_fname) or "").strip()
            if typed and not vals.get(fname):
                e164 = Partner._clinic_format_phone(typed, country)
                if e164:
                    vals[fname] = e164
                    vals[review_fname] = False
                elif not importing:
                    raise ValidationError(Partner._clinic_invalid_phone_message(typed, country))
                continue
            number = vals.get(fname)
            if not number:
                continue
            if importing and not Partner._clinic_format_phone(number, country):
                vals[review_fname] = number.strip() if isinstance(number, str) else number
                vals[fname] = False
            else:
                vals.setdefault(review_fname, False)
        return vals

    def action_discard_phone_to_review(self):
        """Drop the numbers to review (the patient gave no usable number)."""
        self.write({"phone_to_review": False, "mobile_to_review": False})
        return True
