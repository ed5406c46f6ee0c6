import io
import json
import zipfile

import pytz
import xlsxwriter

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext

from ..tools.clinic_time import clinic_tz
from .clinic_visit_reminder import PATIENT_KINDS

# Models whose records are about a patient: their chatter, attachments,
# activities and queued messages belong to the patient's data.
CLINIC_MODELS = (
    "clinic.patient",
    "clinic.visit",
    "clinic.followup.task",
    "clinic.complaint",
    "clinic.survey.response",
)
MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


def check_care_consent(patients, post_kwargs):
    """Refuse a message to a patient who did not consent to care messages:
    an SMS posted on their record, or a message (not an internal note) sent
    to their contact (``post_kwargs``: the arguments of ``message_post``).
    Internal notes, and messages to staff, always pass."""
    message_type = post_kwargs.get("message_type", "notification")
    subtype_xmlid, subtype_id = post_kwargs.get("subtype_xmlid"), post_kwargs.get("subtype_id")
    partner_ids = post_kwargs.get("partner_ids")
    env = patients.env
    note = env.ref("mail.mt_note", raise_if_not_found=False)
    is_note = subtype_xmlid == "mail.mt_note" or (note and subtype_id == note.id)
    if message_type not in ("comment", "sms") or is_note:
        return
    without = patients.sudo().filtered(lambda p: not p.care_consent)
    if message_type != "sms":
        without = without.filtered(lambda p: p.partner_id.id in (partner_ids or []))
    if without:
        raise UserError(
            env._(
                "%(patient)s has not consented to care messages: record their consent (and how they gave it) "
                "on the patient before writing to them, or log an internal note instead.",
                patient=without[0].name,
            )
        )


# What the export holds, section by section: (key, model, fields).
PATIENT_FIELDS = [
    "name",
    "birthdate",
    "gender",
    "occupation",
    "insurance_provider",
    "insurance_number",
    "mobile",
    "phone",
    "email",
    "street",
    "street2",
    "zip",
    "city",
    "state_id",
    "country_id",
    "lang",
    "preferred_channel",
    "doctor_id",
    "company_id",
    "referral_source",
    "referred_by_id",
    "family_member_ids",
    "lifecycle_state",
    "first_visit_date",
    "last_visit_date",
    "allergies",
    "chronic_condition_ids",
    "hereditary_conditions",
    "notes",
    "care_consent",
    "care_consent_source",
    "care_consent_date",
    "marketing_consent",
    "marketing_consent_source",
    "marketing_consent_date",
    "active",
    "create_date",
]
SECTIONS = [
    ("consents", "clinic.patient.consent", ["date", "kind", "given", "source", "user_id"]),
    (
        "visits",
        "clinic.visit",
        [
            "start",
            "stop",
            "department_id",
            "service_id",
            "doctor_id",
            "state",
            "confirmation_state",
            "confirmation_date",
            "amount",
            "notes",
        ],
    ),
    (
        "messages_sent",
        "clinic.visit.reminder",
        ["sent_date", "visit_id", "kind", "channel", "state", "skip_reason", "destination"],
    ),
    ("messages", "mail.message", ["date", "message_type", "model", "subject", "body"]),
    ("emails", "mail.mail", ["date", "subject", "body_html", "email_to", "state"]),
    (
        "follow_ups",
        "clinic.followup.task",
        [
            "open_date",
            "name",
            "department_id",
            "reason",
            "state",
            "outcome",
            "channel",
            "attempt_count",
            "date_deadline",
            "closed_date",
            "satisfaction_score",
            "recovery_score",
            "health_guidance",
            "notes",
        ],
    ),
    ("recovery_scores", "clinic.followup.recovery.score", ["task_id", "name", "score", "note"]),
    (
        "surveys",
        "clinic.survey.response",
        [
            "visit_id",
            "source",
            "state",
            "sent_date",
            "submitted_date",
            "score",
            "waiting_score",
            "doctor_score",
            "staff_score",
            "cleanliness_score",
            "comment",
        ],
    ),
    (
        "complaints",
        "clinic.complaint",
        [
            "reference",
            "received_date",
            "name",
            "department_id",
            "category_id",
            "severity",
            "channel",
            "state",
            "description",
            "resolution",
            "resolution_satisfaction",
            "closed_date",
        ],
    ),
    ("recall_overrides", "clinic.recall.override", ["rule_id", "interval_number", "interval_unit", "note"]),
]


class ClinicPatient(models.Model):
    """The patient's rights: consent withdrawal stops queued messages, and
    the export of everything the addon holds about a patient (right of
    access). Anonymisation is in ``clinic_patient_anonymise.py``."""

    # one concern per file: clinic_patient.py would pass the 600-line limit
    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Consent withdrawn: the messages still waiting are not sent
    # ------------------------------------------------------------------

    def _cancel_queued_messages(self, kind):
        """Cancel the e-mails and SMS still queued for these patients: care
        messages (reminders, thank-you, surveys) when the care consent is
        withdrawn, campaign messages (mass mailing) for the marketing one."""
        if not self:
            return 0
        partners = self.sudo().partner_id
        Mail = self.env["mail.mail"].sudo()
        Sms = self.env["sms.sms"].sudo()
        mail_domain = [("state", "=", "outgoing"), ("recipient_ids", "in", partners.ids)]
        sms_domain = [("state", "=", "outgoing"), ("partner_id", "in", partners.ids)]
        if kind == "marketing":
            # campaigns exist only with the Email / SMS Marketing apps
            mails = Mail.search(mail_domain + [("mailing_id", "!=", False)]) if "mailing_id" in Mail._fields else Mail
            sms = Sms.search(sms_domain + [("mailing_id", "!=", False)]) if "mailing_id" in Sms._fields else Sms
        else:
            mail_domain.append(("model", "in", CLINIC_MODELS))
            sms_domain += ["|", ("mail_message_id", "=", False), ("mail_message_id.model", "in", CLINIC_MODELS)]
            if "mailing_id" in Sms._fields:
                sms_domain.append(("mailing_id", "=", False))
            mails, sms = Mail.search(mail_domain), Sms.search(sms_domain)
        mails.write({"state": "cancel", "failure_reason": self.env._("The patient withdrew their consent.")})
        sms.write({"state": "canceled", "failure_type": "sms_optout"})
        count = len(mails) + len(sms)
        if kind == "care":
            # the ledger says what became of each care message: not sent, for want of consent
            ledger = (
                self.env["clinic.visit.reminder"]
                .sudo()
                .search(
                    [
                        "|",
                        "|",
                        ("mail_mail_id", "in", mails.ids),
                        ("sms_id", "in", sms.ids),
                        "&",
                        "&",
                        ("patient_id", "in", self.ids),
                        ("kind", "not in", PATIENT_KINDS),
                        "|",
                        ("state", "=", "queued"),
                        "&",
                        ("state", "=", "failed"),
                        ("next_attempt_date", "!=", False),
                    ]
                )
            )
            ledger.write({"state": "cancelled", "skip_reason": "no_consent", "next_attempt_date": False})
            count += len(ledger.filtered(lambda m: not m.mail_mail_id and not m.sms_id))
        else:
            # greetings (birthday) still waiting in the ledger are not sent either
            greetings = (
                self.env["clinic.visit.reminder"]
                .sudo()
                .search(
                    [
                        ("patient_id", "in", self.ids),
                        ("kind", "in", PATIENT_KINDS),
                        ("state", "in", ("queued", "failed")),
                    ]
                )
                .filtered(lambda m: m.state == "queued" or m.next_attempt_date)
            )
            greetings.mail_mail_id.filtered(lambda mail: mail.state == "outgoing").write({"state": "cancel"})
            greetings.sms_id.filtered(lambda one: one.state == "outgoing").write({"state": "canceled"})
            greetings.write({"state": "cancelled", "skip_reason": "no_marketing_consent", "next_attempt_date": False})
            count += len(greetings)
        if count:
            for patient in self:
                patient.sudo().message_post(
                    body=self.env._("Consent withdrawn: %(count)s queued message(s) cancelled.", count=count),
                    subtype_xmlid="mail.mt_note",
                )
        return count

    def message_post(self, **kwargs):
        check_care_consent(self, kwargs)
        return super().message_post(**kwargs)

    def _mailing_get_opt_out_list(self, mailing):
        """E-mail campaigns (Email Marketing) reach only patients who
        consented to marketing."""
        return self.env["res.partner"]._clinic_marketing_opt_out_emails(patient_ids=mailing._get_recipients())

    def _mailing_get_opt_out_list_sms(self, mailing):
        """SMS campaigns too: the patients without marketing consent."""
        patients = self.sudo().browse(mailing._get_recipients())
        return patients.filtered(lambda p: not p.marketing_consent).ids

    # ------------------------------------------------------------------
    # Right of access: everything the addon holds about the patient
    # ------------------------------------------------------------------

    def _check_privacy_manager(self):
        if not (self.env.su or self.env.user.has_group(MANAGER_GROUP)):
            raise AccessError(self.env._("Only Patient Care managers export or anonymise a patient's data."))
        self.check_access("read")

    def action_export_personal_data(self):
        """Download the patient's data (one .zip: JSON and a readable .xlsx)."""
        self.ensure_one()
        self._check_privacy_manager()
        return {
            "type": "ir.actions.act_url",
            "url": f"/clinic_retention/patient/{self.id}/data",
            "target": "download",
        }

    def _personal_records(self):
        """The records about this patient, by section (as the superuser:
        archived ones included; the caller checked the user's right)."""
        self.ensure_one()
        patient = self.sudo().with_context(active_test=False)
        env = patient.env
        visits = patient.visit_ids
        tasks = env["clinic.followup.task"].search([("patient_id", "=", patient.id)])
        complaints = env["clinic.complaint"].search([("patient_id", "=", patient.id)])
        surveys = env["clinic.survey.response"].search([("patient_id", "=", patient.id)])
        # messages exchanged with the patient: written to them, or by them
        message_domain = [
            ("message_type", "!=", "notification"),
            "|",
            ("author_id", "=", patient.partner_id.id),
            ("partner_ids", "in", patient.partner_id.ids),
        ]
        messages = env["mail.message"].search(message_domain)
        # e-mails still in the queue (reminders are deleted once sent: the ledger keeps the fact)
        emails = env["mail.mail"].search([("recipient_ids", "in", patient.partner_id.ids)])
        return {
            "emails": emails,
            "consents": patient.consent_ids,
            "visits": visits,
            "messages_sent": env["clinic.visit.reminder"].search(
                ["|", ("patient_id", "=", patient.id), ("visit_id", "in", visits.ids)]
            ),
            "messages": messages,
            "follow_ups": tasks,
            "recovery_scores": tasks.recovery_score_ids,
            "surveys": surveys,
            "complaints": complaints,
            "recall_overrides": patient.recall_override_ids,
        }

    def _export_value(self, record, fname, tz):
        field = record._fields[fname]
        value = record[fname]
        if field.type == "many2one":
            return value.display_name or None
        if field.type in ("many2many", "one2many"):
            return [r.display_name for r in value]
        if field.type == "selection":
            return dict(field._description_selection(record.env)).get(value) if value else None
        if field.type == "html":
            return html2plaintext(value).strip() if value else None
        if field.type == "datetime":
            return pytz.utc.localize(value).astimezone(tz).isoformat() if value else None
        if field.type == "date":
            return value.isoformat() if value else None
        if field.type == "boolean":
            return bool(value)
        return value if value not in (False, "") or field.type in ("integer", "float", "monetary") else None

    def _personal_data(self):
        """The patient's data as a JSON-ready dict, and the field labels."""
        self.ensure_one()
        patient = self.sudo().with_context(active_test=False)
        tz = pytz.timezone(clinic_tz(patient.company_id))
        labels = {}

        def label(model, fname):
            return self.env[model]._fields[fname]._description_string(self.env)

        data = {
            "generated_at": pytz.utc.localize(fields.Datetime.now()).astimezone(tz).isoformat(),
            "generated_by": self.env.user.name,
            "clinic": patient.company_id.name,
            "time_zone": tz.zone,
            "patient": {fname: self._export_value(patient, fname, tz) for fname in PATIENT_FIELDS},
        }
        labels["patient"] = {fname: label("clinic.patient", fname) for fname in PATIENT_FIELDS}
        records = patient._personal_records()
        for key, model, fnames in SECTIONS:
            data[key] = [
                {"id": record.id, **{fname: self._export_value(record, fname, tz) for fname in fnames}}
                for record in records[key]
            ]
            labels[key] = {fname: label(model, fname) for fname in fnames}
        return data, labels

    def _personal_data_xlsx(self, data, labels):
        """A readable workbook of ``data``: the patient's card, then one
        sheet per section. Every value is written as text or a number, never
        as a formula."""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"strings_to_formulas": False, "strings_to_urls": False})
        bold = workbook.add_format({"bold": True})
        header = workbook.add_format({"bold": True, "bg_color": "#168080", "font_color": "#FFFFFF"})
        titles = {
            "patient": self.env._("Patient"),
            "consents": self.env._("Consents"),
            "visits": self.env._("Visits"),
            "messages_sent": self.env._("Messages sent"),
            "messages": self.env._("Messages"),
            "emails": self.env._("E-mails queued"),
            "follow_ups": self.env._("Follow-ups"),
            "recovery_scores": self.env._("Recovery scores"),
            "surveys": self.env._("Satisfaction surveys"),
            "complaints": self.env._("Complaints"),
            "recall_overrides": self.env._("Recall intervals"),
        }

        def write(sheet, row, col, value, cell_format=None):
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            if isinstance(value, bool):
                value = self.env._("Yes") if value else self.env._("No")
            if isinstance(value, int | float):
                sheet.write_number(row, col, value, cell_format)
            elif value not in (None, ""):
                sheet.write_string(row, col, str(value), cell_format)

        sheet = workbook.add_worksheet(titles["patient"])
        sheet.set_column(0, 0, 32)
        sheet.set_column(1, 1, 60)
        write(sheet, 0, 0, data["clinic"], bold)
        write(sheet, 0, 1, data["generated_at"])
        for row, (fname, value) in enumerate(data["patient"].items(), start=2):
            write(sheet, row, 0, labels["patient"][fname], bold)
            write(sheet, row, 1, value)
        for key, _model, fnames in SECTIONS:
            sheet = workbook.add_worksheet(titles[key])
            sheet.set_column(0, len(fnames) - 1, 20)
            for col, fname in enumerate(fnames):
                write(sheet, 0, col, labels[key][fname], header)
            for row, line in enumerate(data[key], start=1):
                for col, fname in enumerate(fnames):
                    write(sheet, row, col, line[fname])
        workbook.close()
        return output.getvalue()

    def _export_personal_data(self):
        """``(filename, zip content)``: the patient's data as JSON (complete,
        machine-readable) and as a workbook (readable), logged."""
        self.ensure_one()
        self._check_privacy_manager()
        if self.sudo().is_anonymised:
            raise UserError(self.env._("This patient was anonymised: there is no personal data left to export."))
        data, labels = self._personal_data()
        stamp = fields.Date.context_today(self).isoformat()
        base = f"patient-{self.id}-{stamp}"
        output = io.BytesIO()
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{base}.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
            archive.writestr(f"{base}.xlsx", self._personal_data_xlsx(data, labels))
        counts = {key: len(data[key]) for key, _model, _fields in SECTIONS}
        self.env["clinic.audit.log"]._log(
            "patient_export",
            description=self.env._("Export of the patient's data (right of access)."),
            patient=self,
            details=counts,
            count=sum(counts.values()),
        )
        return f"{base}.zip", output.getvalue()
