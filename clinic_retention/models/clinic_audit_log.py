import json

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, index_exists

AUDIT_EVENTS = [
    ("clinical_read", "Clinical data viewed"),
    ("clinical_change", "Clinical notes changed"),
    ("excel_export", "Excel export"),
    ("list_export", "List export"),
    ("patient_export", "Patient data export (right of access)"),
    ("anonymisation", "Patient anonymised (right to erasure)"),
    ("retention_listed", "Listed for anonymisation (retention period)"),
]


class ClinicAuditLog(models.Model):
    """Who did what with patient data, for the clinic to prove it: views of
    clinical data (once a day per user and record), changes of clinical
    notes, exports (Excel, lists, a patient's data) and data-subject requests
    (anonymisation). Read by managers; written only by the server, never
    changed or deleted by anyone (``write``/``unlink`` refuse users and
    managers alike). Holds no patient name: the patient is a link."""

    _name = "clinic.audit.log"
    _description = "Patient Data Audit Log"
    _order = "date desc, id desc"
    _rec_name = "event"

    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True, index=True)
    log_day = fields.Date(required=True, default=fields.Date.today, readonly=True)
    user_id = fields.Many2one("res.users", required=True, readonly=True, index=True, default=lambda self: self.env.user)
    company_id = fields.Many2one("res.company", readonly=True, index=True, default=lambda self: self.env.company)
    event = fields.Selection(AUDIT_EVENTS, required=True, readonly=True, index=True)
    patient_id = fields.Many2one(
        "clinic.patient",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The patient concerned, if one.",
    )
    res_model = fields.Char(string="Model", readonly=True)
    res_id = fields.Many2oneReference(string="Record", model_field="res_model", readonly=True)
    description = fields.Text(readonly=True)
    details = fields.Text(readonly=True, help="Filters, row counts, or the changed values (JSON).")
    record_count = fields.Integer(string="Records", readonly=True)

    def _auto_init(self):
        result = super()._auto_init()
        # one "viewed" line per user, record and day
        if not index_exists(self.env.cr, "clinic_audit_log_clinical_read_uniq"):
            self.env.cr.execute(
                "CREATE UNIQUE INDEX clinic_audit_log_clinical_read_uniq ON clinic_audit_log "
                "(user_id, res_model, res_id, log_day) WHERE event = 'clinical_read'"
            )
        return result

    def write(self, vals):
        if not self.env.su:
            raise AccessError(self.env._("The patient data audit log cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=True)
    def _unlink_except_user(self):
        if not self.env.su:
            raise AccessError(self.env._("The patient data audit log cannot be deleted."))

    @api.model
    def _log(self, event, description=None, patient=None, record=None, details=None, count=0):
        """Record one event, as the current user, in their current company."""
        record = record if record is not None else patient
        return (
            self.sudo()
            .with_context(tracking_disable=True)
            .create(
                {
                    "event": event,
                    "user_id": self.env.uid,
                    "company_id": (patient.company_id.id if patient else False) or self.env.company.id,
                    "patient_id": patient.id if patient else False,
                    "res_model": record._name if record else False,
                    "res_id": record.id if record else False,
                    "description": description or False,
                    "details": json.dumps(details, default=str, ensure_ascii=False) if details else False,
                    "record_count": count,
                }
            )
        )

    @api.model
    def _log_clinical_read(self, model, res_ids, patient_ids=None):
        """A user was shown the clinical data of ``res_ids`` of ``model``
        (patients, or visits with ``patient_ids``): one line per user, record
        and day, whatever the number of reads."""
        if not res_ids or self.env.su:
            return
        patient_ids = patient_ids or [None] * len(res_ids)
        self.env.flush_all()
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, %s, %s, 'clinical_read', now() at time zone 'UTC', "
                "(now() at time zone %s)::date, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')",
                self.env.uid,
                self.env.company.id,
                patient_id,
                model,
                res_id,
                0,
                self.env.user.tz or "UTC",
                self.env.uid,
                self.env.uid,
            )
            for res_id, patient_id in zip(res_ids, patient_ids, strict=True)
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO clinic_audit_log (user_id, company_id, patient_id, res_model, res_id,
                                              record_count, event, date, log_day, create_uid, write_uid,
                                              create_date, write_date)
                VALUES %s
                ON CONFLICT DO NOTHING
                """,
                values,
            )
        )
