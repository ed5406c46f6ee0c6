from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .clinic_patient import CONSENT_SOURCES

CONSENT_KINDS = [("care", "Care messages"), ("marketing", "Marketing")]


class ClinicPatientConsent(models.Model):
    """The history of a patient's consents: every change, given or
    withdrawn, with its source (how the patient said it) and who recorded
    it. Written by the server when a consent changes, never edited."""

    _name = "clinic.patient.consent"
    _description = "Patient Consent Record"
    _order = "date desc, id desc"
    _rec_name = "kind"

    patient_id = fields.Many2one("clinic.patient", required=True, index=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="patient_id.company_id", store=True, index=True)
    kind = fields.Selection(CONSENT_KINDS, required=True, readonly=True)
    given = fields.Boolean(readonly=True, help="Given (checked) or withdrawn.")
    source = fields.Selection(CONSENT_SOURCES, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Recorded by", readonly=True, default=lambda self: self.env.user)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(self.env._("A consent record cannot be changed: record the new consent instead."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Called by clinic.patient's create and write
    # ------------------------------------------------------------------

    @api.model
    def _check_patient_vals(self, patients, vals):
        """Consents are dated by the server and staff say how each was given
        or withdrawn: the date cannot be written, and a change needs its
        source in the same save (an import is its own source)."""
        now = fields.Datetime.now()
        labels = {"care": self.env._("care messages"), "marketing": self.env._("marketing")}
        for kind, label in labels.items():
            if f"{kind}_consent_date" in vals and not self.env.su:
                raise AccessError(
                    self.env._("The date of a consent is recorded automatically when the consent changes.")
                )
            if f"{kind}_consent" not in vals:
                continue
            new = bool(vals[f"{kind}_consent"])
            if not patients and not new:
                continue  # registered without this consent: nothing to record
            if patients and all(patient[f"{kind}_consent"] == new for patient in patients):
                continue  # saved again unchanged
            vals[f"{kind}_consent_date"] = now
            if self.env.su:
                continue
            if not vals.get(f"{kind}_consent_source") and self.env.context.get("import_file"):
                vals[f"{kind}_consent_source"] = "import"
            if not vals.get(f"{kind}_consent_source"):
                raise ValidationError(
                    self.env._(
                        "Say how the patient gave or withdrew their consent to %(kind)s "
                        "(in person, paper form, phone call...): choose its source.",
                        kind=label,
                    )
                )

    @api.model
    def _record_changes(self, patients, vals_list):
        """One history line per consent that changed; a withdrawn care
        consent cancels the care messages still waiting to be sent, a
        withdrawn marketing consent the campaign messages."""
        lines = []
        withdrawn = {"care": patients.browse(), "marketing": patients.browse()}
        for patient, vals in zip(patients, vals_list, strict=True):
            for kind in ("care", "marketing"):
                if f"{kind}_consent_date" not in vals:
                    continue  # no change
                given = patient[f"{kind}_consent"]
                lines.append(
                    {
                        "patient_id": patient.id,
                        "kind": kind,
                        "given": given,
                        "source": patient[f"{kind}_consent_source"],
                        "date": vals[f"{kind}_consent_date"],
                    }
                )
                if not given:
                    withdrawn[kind] |= patient
        if lines:
            self.sudo().create(lines)
        withdrawn["care"]._cancel_queued_messages("care")
        withdrawn["marketing"]._cancel_queued_messages("marketing")
        return lines
