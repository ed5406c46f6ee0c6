from markupsafe import Markup

from odoo import models
from odoo.tools import html2plaintext

from .clinic_patient_privacy import check_care_consent


class ClinicVisit(models.Model):
    """Patient data on visits: the audit of a visit's clinical notes (who
    saw them, once a day per user and visit, and every change, old and new
    text, in the patient data audit log, for managers; the visit's chatter
    says that they changed, not what they say: Odoo cannot track HTML
    fields), and the care consent for messages written from a visit."""

    _inherit = "clinic.visit"

    def write(self, vals):
        if "notes" not in vals:
            return super().write(vals)
        before = {visit.id: html2plaintext(visit.sudo().notes or "").strip() for visit in self}
        result = super().write(vals)
        Log = self.env["clinic.audit.log"]
        for visit in self:
            after = html2plaintext(visit.sudo().notes or "").strip()
            if after == before[visit.id]:
                continue
            Log._log(
                "clinical_change",
                description=self.env._("Clinical notes of a visit changed."),
                patient=visit.patient_id,
                record=visit,
                details={"field": "notes", "old": before[visit.id], "new": after},
            )
            visit.message_post(
                body=Markup("<p>%s</p>") % self.env._("Clinical notes updated (see the patient data audit log)."),
                subtype_xmlid="mail.mt_note",
            )
        return result

    def message_post(self, **kwargs):
        # care messages need care consent (reminders check it in their own pass)
        check_care_consent(self.patient_id, kwargs)
        return super().message_post(**kwargs)

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load=load)
        if not self.env.su and "notes" in fnames and result:
            visits = self.browse([vals["id"] for vals in result])
            self.env["clinic.audit.log"]._log_clinical_read(
                self._name, visits.ids, patient_ids=[visit.patient_id.id for visit in visits.sudo()]
            )
        return result

    def web_read(self, specification):
        return super().web_read(specification)

    # Opening a visit logs who saw its clinical notes: not a read-only transaction.
    web_read._readonly = False
