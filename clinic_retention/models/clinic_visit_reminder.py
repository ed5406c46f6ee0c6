from odoo import api, fields, models
from odoo.tools import SQL

REMINDER_CHANNELS = [("email", "Email"), ("sms", "SMS")]

REMINDER_STATES = [("sent", "Sent"), ("skipped", "Not sent")]

SKIP_REASONS = [
    ("no_consent", "No consent to care messages"),
    ("do_not_contact", "Patient asked not to be contacted"),
    ("blacklisted", "Number or email blacklisted (opted out)"),
    ("no_email", "No email address"),
    ("no_number", "No number that can receive SMS"),
    ("daily_cap", "Already reminded today on this channel"),
]


class ClinicVisitReminder(models.Model):
    """The ledger of care messages about a visit: one row per visit, kind of
    message, channel and visit time. Its unique key is what makes every
    reminder go out exactly once, however often or late the rules run; a
    visit moved to another time is a new key, so its reminder is re-armed."""

    _name = "clinic.visit.reminder"
    _description = "Visit Reminder"
    _order = "sent_date desc, id desc"
    _check_company_auto = True

    visit_id = fields.Many2one("clinic.visit", required=True, index=True, ondelete="cascade", check_company=True)
    patient_id = fields.Many2one(related="visit_id.patient_id", store=True, index=True)
    company_id = fields.Many2one(related="visit_id.company_id", store=True, index=True)
    kind = fields.Char(required=True, help="Which message: day_before, two_hours, thank_you...")
    channel = fields.Selection(REMINDER_CHANNELS, required=True)
    visit_start = fields.Datetime(required=True, help="The visit time the message was about.")
    sent_date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    state = fields.Selection(REMINDER_STATES, required=True, default="sent")
    skip_reason = fields.Selection(SKIP_REASONS)
    automation_id = fields.Many2one("base.automation", string="Automation rule", ondelete="set null")
    destination = fields.Char(help="The email address or number it went to.")

    _sql_constraints = [
        (
            "visit_kind_channel_start_uniq",
            "unique(visit_id, kind, channel, visit_start)",
            "This message was already sent for this visit.",
        ),
    ]

    @api.model
    def _claim(self, rows):
        """Write ``rows`` to the ledger, skipping those whose key is already
        there (``INSERT ... ON CONFLICT DO NOTHING``): only the rows returned
        may be acted upon. Two runs at once cannot both claim a row."""
        if not rows:
            return self.browse()
        self.env.flush_all()
        columns = [
            "visit_id",
            "patient_id",
            "company_id",
            "kind",
            "channel",
            "visit_start",
            "sent_date",
            "state",
            "skip_reason",
            "automation_id",
            "destination",
        ]
        uid = self.env.uid
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')",
                SQL(", ").join(SQL("%s", row[column] or None) for column in columns),
                uid,
                uid,
            )
            for row in rows
        )
        self.env.cr.execute(
            SQL(
                """
            INSERT INTO clinic_visit_reminder (%s, create_uid, write_uid, create_date, write_date)
            VALUES %s
            ON CONFLICT (visit_id, kind, channel, visit_start) DO NOTHING
            RETURNING id
            """,
                SQL(", ").join(SQL.identifier(column) for column in columns),
                values,
            )
        )
        claimed = self.browse([row[0] for row in self.env.cr.fetchall()])
        self.invalidate_model()
        self.env["clinic.visit"].invalidate_model(["reminder_ids"])
        return claimed
