import threading
import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

PATIENT_MODEL = "clinic.patient"
MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


class MailingMailing(models.Model):
    """Campaigns to patients: only Patient Care managers prepare and send
    them; the patients without marketing consent or a usable channel are
    left out and counted; a share of the patients may be held out as a
    control group."""

    _inherit = "mailing.mailing"

    clinic_is_patient_mailing = fields.Boolean(compute="_compute_clinic_is_patient_mailing")
    clinic_control_percent = fields.Integer(
        string="Keep as control (%)",
        default=0,
        help="This share of the patients the mailing would reach, picked at random, do not get it. "
        "Their visits are measured the same way: the difference is what the campaign brought.",
    )
    clinic_control_ids = fields.One2many("clinic.mailing.control", "mailing_id", string="Control group")
    clinic_control_count = fields.Integer(compute="_compute_clinic_statistics", string="Control group size")
    clinic_excluded_no_consent_count = fields.Integer(
        compute="_compute_clinic_statistics", string="Excluded: no consent"
    )
    clinic_excluded_no_number_count = fields.Integer(
        compute="_compute_clinic_statistics", string="Excluded: no mobile number"
    )

    _sql_constraints = [
        (
            "clinic_control_percent_range",
            "CHECK(clinic_control_percent >= 0 AND clinic_control_percent < 100)",
            "The control group is a share of the recipients, from 0 to 99%.",
        ),
    ]

    @api.depends("mailing_model_real")
    def _compute_clinic_is_patient_mailing(self):
        for mailing in self:
            mailing.clinic_is_patient_mailing = mailing.mailing_model_real == PATIENT_MODEL

    def _compute_clinic_statistics(self):
        Trace = self.env["mailing.trace"].sudo()
        exclusions = {
            (mailing.id, reason): count
            for mailing, reason, count in Trace._read_group(
                [("mass_mailing_id", "in", self.ids), ("clinic_exclusion", "!=", False)],
                ["mass_mailing_id", "clinic_exclusion"],
                ["__count"],
            )
        }
        controls = dict(
            self.env["clinic.mailing.control"]
            .sudo()
            ._read_group([("mailing_id", "in", self.ids)], ["mailing_id"], ["__count"])
        )
        for mailing in self:
            mailing.clinic_excluded_no_consent_count = exclusions.get((mailing.id, "no_consent"), 0)
            mailing.clinic_excluded_no_number_count = exclusions.get((mailing.id, "no_sms_number"), 0)
            mailing.clinic_control_count = controls.get(mailing._origin, 0)

    # ------------------------------------------------------------------
    # Only Patient Care managers write to patients in bulk
    # ------------------------------------------------------------------

    def _clinic_check_manager(self):
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        if any(mailing.mailing_model_real == PATIENT_MODEL for mailing in self):
            raise AccessError(self.env._("Only Patient Care managers prepare and send campaigns to patients."))

    @api.model_create_multi
    def create(self, vals_list):
        mailings = super().create(vals_list)
        mailings._clinic_check_manager()
        return mailings

    def write(self, vals):
        self._clinic_check_manager()
        result = super().write(vals)
        if "mailing_model_id" in vals:
            self._clinic_check_manager()
        return result

    def action_send_mail(self, res_ids=None):
        self._clinic_check_manager()
        return super().action_send_mail(res_ids=res_ids)

    # ------------------------------------------------------------------
    # Sending an e-mail campaign to patients, a chunk at a time
    # ------------------------------------------------------------------

    # patients read, filtered and rendered per chunk (one composer each)
    _clinic_stream_chunk = 1000

    def _clinic_streams(self):
        """E-mail campaigns to patients are sent a chunk of patients at a
        time; A/B tests (a random share of the whole segment) and SMS keep
        Odoo's sending."""
        self.ensure_one()
        return self.mailing_model_real == PATIENT_MODEL and self.mailing_type == "mail" and not self.ab_testing_enabled

    @api.model
    def _process_mass_mailing_queue(self):
        """The scheduled action: queued e-mail campaigns to patients are sent
        here, a chunk at a time (``_clinic_send_streamed``), before Odoo's
        own loop sends the other mailings (which would first list every
        remaining recipient of each mailing)."""
        due = self.search(
            [
                ("state", "in", ("in_queue", "sending")),
                "|",
                ("schedule_date", "<", fields.Datetime.now()),
                ("schedule_date", "=", False),
            ]
        )
        for mailing in due.filtered(lambda m: m._clinic_streams()):
            context_user = mailing.user_id or mailing.write_uid or self.env.user
            mailing = mailing.with_context(**self.env["res.users"].with_user(context_user).context_get())
            mailing._clinic_send_streamed()
        return super()._process_mass_mailing_queue()

    def _action_send_mail(self, res_ids=None):
        streamed = self.browse() if res_ids else self.filtered(lambda m: m._clinic_streams())
        for mailing in streamed:
            context_user = mailing.user_id or mailing.write_uid or self.env.user
            mailing = mailing.with_context(**self.env["res.users"].with_user(context_user).context_get())
            if not mailing._clinic_send_streamed():
                raise UserError(self.env._("There are no recipients selected."))
        others = self - streamed
        return super(MailingMailing, others)._action_send_mail(res_ids=res_ids) if others else True

    def _clinic_send_streamed(self):
        """Send this e-mail campaign to its patients without ever holding the
        whole segment in Odoo: the mailing's domain is evaluated once, as
        Odoo's sending does, but into a database cursor read a chunk of
        patients at a time (``_clinic_stream_chunk``); each chunk is
        filtered (already mailed, control group, no marketing consent) and
        rendered by its own composer, batch by batch as Odoo does, each
        batch committed. Memory stays that of one chunk whatever the
        segment's size, and an interrupted sending resumes where it stopped
        (the patients with a trace are skipped). Returns how many patients
        were handled (sent, cancelled or left out with their trace)."""
        self.ensure_one()
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        first_sending = not self.sent_date
        if self.state != "sending":
            self.state = "sending"
        self._clinic_draw_control_group()
        send_now = self._clinic_send_now()
        recipients = self._clinic_open_recipients()
        handled = 0
        try:
            while res_ids := self._clinic_next_chunk(recipients):
                res_ids = self._clinic_not_done_yet(res_ids)
                handled += len(res_ids)
                res_ids = self._clinic_leave_out_no_consent(res_ids)
                if res_ids:
                    self._clinic_send_chunk(res_ids, auto_commit, send_now)
                if handled and auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit  # as Odoo's sending: a crash keeps the chunks done
                self.env.invalidate_all()
        except Exception:
            if auto_commit:
                # the cursor outlives the commits made so far: roll back (as
                # the scheduled action would next) to be able to close it
                self.env.cr.rollback()
                self._clinic_close_recipients(recipients)
            raise
        self._clinic_close_recipients(recipients)
        self.write({"state": "done", "sent_date": fields.Datetime.now(), "kpi_mail_required": first_sending})
        return handled

    def _clinic_send_now(self):
        """Whether the e-mails are sent at once rather than through the mail
        queue: as Odoo decides for the whole mailing (its composer sends at
        once up to ``mail.mail.force.send.limit`` recipients, 100 by
        default), not for each chunk - a last chunk of a few patients must
        not be sent at once when the others are queued."""
        limit = int(self.env["ir.config_parameter"].sudo().get_param("mail.mail.force.send.limit", 100))
        return self.env[PATIENT_MODEL].search_count(self._get_recipients_domain(), limit=limit + 1) <= limit

    def _clinic_open_recipients(self):
        """Evaluate the mailing's domain on patients once, in id order, into
        a server-side cursor that survives the sending's commits (``WITH
        HOLD``); returns its name, for ``_clinic_next_chunk``."""
        name = f"clinic_mailing_{self.id}_{uuid.uuid4().hex[:12]}"
        query = self.env[PATIENT_MODEL]._search(self._get_recipients_domain(), order="id")
        # the cursor is read to its end: plan it for the whole result, as the
        # same search is planned (PostgreSQL plans cursors for their first
        # tenth by default, which turned a 1 s search into minutes)
        self.env.cr.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        self.env.execute_query(
            SQL("DECLARE %s NO SCROLL CURSOR WITH HOLD FOR %s", SQL.identifier(name), query.select())
        )
        return name

    def _clinic_next_chunk(self, recipients):
        """The next chunk of the mailing's recipients (ids), empty at the end."""
        rows = self.env.execute_query(
            SQL("FETCH FORWARD %s FROM %s", self._clinic_stream_chunk, SQL.identifier(recipients))
        )
        return [res_id for (res_id,) in rows]

    def _clinic_close_recipients(self, recipients):
        """Close the recipients' cursor, if it is still open (a rollback
        before the first commit has closed it)."""
        self.env.cr.execute(SQL("SELECT 1 FROM pg_cursors WHERE name = %s", recipients))
        if self.env.cr.fetchone():
            self.env.cr.execute(SQL("CLOSE %s", SQL.identifier(recipients)))

    def _clinic_not_done_yet(self, res_ids):
        """The patients of a chunk this mailing has not dealt with yet: no
        trace (sent, cancelled or excluded) and not in its control group."""
        rows = self.env.execute_query(
            SQL(
                """
                WITH chunk_trace AS MATERIALIZED (
                    SELECT res_id, model, mass_mailing_id FROM mailing_trace WHERE res_id = ANY(%(ids)s)
                )
                SELECT res_id FROM chunk_trace
                 WHERE mass_mailing_id = %(mailing)s AND model = %(model)s
                 UNION
                SELECT patient_id FROM clinic_mailing_control
                 WHERE mailing_id = %(mailing)s AND patient_id = ANY(%(ids)s)
                """,
                mailing=self.id,
                model=PATIENT_MODEL,
                ids=res_ids,
            )
        )
        done = {res_id for (res_id,) in rows}
        return [res_id for res_id in res_ids if res_id not in done]

    def _clinic_send_chunk(self, res_ids, auto_commit, send_now):
        """Render and queue the e-mails of one chunk: the composer mass_mailing
        builds in ``_action_send_mail`` (same values), on these patients
        only, sending at once or not as for the whole mailing."""
        composer_values = {
            "auto_delete": not self.keep_archives,
            "auto_delete_keep_log": self.reply_to_mode == "update",
            "author_id": self.env.user.partner_id.id,
            "attachment_ids": [(4, attachment.id) for attachment in self.attachment_ids],
            "body": self._prepend_preview(self.body_html, self.preview),
            "composition_mode": "mass_mail",
            "email_from": self.email_from,
            "mail_server_id": self.mail_server_id.id,
            "mailing_list_ids": [(4, mailing_list.id) for mailing_list in self.contact_list_ids],
            "mass_mailing_id": self.id,
            "model": self.mailing_model_real,
            "record_name": False,
            "reply_to_force_new": self.reply_to_mode == "new",
            "subject": self.subject,
            "template_id": False,
            "force_send": send_now,
        }
        if self.reply_to_mode == "new":
            composer_values["reply_to"] = self.reply_to
        composer = (
            self.env["mail.compose.message"]
            .with_context(
                active_ids=res_ids,
                default_composition_mode="mass_mail",
                clinic_chunk_ids=res_ids,
                **self._get_mass_mailing_context(),
            )
            .create(composer_values)
        )
        try:
            composer._action_send_mail(auto_commit=auto_commit)
        finally:
            composer._clinic_forget_opt_out()

    def _clinic_opt_out_emails_among(self, res_ids):
        """The addresses of these patients that must not get this campaign:
        another recipient of the mailing behind the same address refused
        marketing (the patients of the chunk who refused are already left
        out). One query on the chunk's addresses; the mailing's domain is
        only checked on the few patients found."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT other.id
                  FROM clinic_patient mine
                  JOIN res_partner mine_partner ON mine_partner.id = mine.partner_id
                  JOIN res_partner other_partner ON other_partner.email_normalized = mine_partner.email_normalized
                  JOIN clinic_patient other ON other.partner_id = other_partner.id
                 WHERE mine.id = ANY(%s) AND other.marketing_consent IS NOT TRUE
                """,
                res_ids,
            )
        )
        if not rows:
            return set()
        Patient = self.env[PATIENT_MODEL]
        refusing = Patient.search(self._get_recipients_domain() + [("id", "in", [pid for (pid,) in rows])])
        return {email for email in refusing.sudo().mapped("partner_id.email_normalized") if email}

    def action_send_sms(self, res_ids=None):
        self._clinic_check_manager()
        return super().action_send_sms(res_ids=res_ids)

    def action_test(self):
        self._clinic_check_manager()
        return super().action_test()

    def _get_seen_list(self):
        """The addresses the mailing already reached; while a batch of a
        patient mailing is rendered, only those among the batch's own
        (``clinic_seen_among``, see ``mail.compose.message._get_done_emails``):
        the same answer for the batch, found through the traces' e-mail
        index instead of reading every trace of the mailing again."""
        among = self.env.context.get("clinic_seen_among")
        if among is None or self.mailing_model_real != PATIENT_MODEL:
            return super()._get_seen_list()
        self.ensure_one()
        if not among:
            return set()
        if self.ab_testing_enabled:
            same_mailing = SQL("s.campaign_id = %s", self.campaign_id.id)
        else:
            same_mailing = SQL("s.mass_mailing_id = %s AND s.model = %s", self.id, PATIENT_MODEL)
        # the traces of these addresses first (the e-mail index), whatever
        # the planner's statistics say of the mailing's growing traces
        rows = self.env.execute_query(
            SQL(
                """
                WITH s AS MATERIALIZED (
                    SELECT email, res_id, model, mass_mailing_id, campaign_id
                      FROM mailing_trace
                     WHERE email = ANY(%s)
                )
                SELECT DISTINCT s.email
                  FROM s
                  JOIN clinic_patient t ON t.id = s.res_id
                 WHERE %s
                """,
                list(among),
                same_mailing,
            )
        )
        return {email for (email,) in rows}

    # ------------------------------------------------------------------
    # Control group
    # ------------------------------------------------------------------

    def _clinic_draw_control_group(self, among=None):
        """Draw the control group, once, at the mailing's first sending: the
        share ``clinic_control_percent`` of the patients it would reach now
        (its domain, or ``among`` these ids; marketing consent; not mailed
        yet), at random, in the database - the segment is never listed."""
        self.ensure_one()
        Control = self.env["clinic.mailing.control"].sudo()
        if not self.clinic_control_percent or Control.search_count([("mailing_id", "=", self.id)], limit=1):
            return
        domain = [("id", "in", list(among))] if among is not None else self._get_recipients_domain()
        eligible = self.env[PATIENT_MODEL]._search(domain + [("marketing_consent", "=", True)])
        not_mailed = SQL(
            """
            NOT EXISTS (SELECT 1 FROM mailing_trace trace
                         WHERE trace.mass_mailing_id = %s AND trace.model = %s AND trace.res_id = eligible.id)
            """,
            self.id,
            PATIENT_MODEL,
        )
        (count,) = self.env.execute_query(
            SQL("SELECT COUNT(*) FROM (%s) eligible WHERE %s", eligible.select(), not_mailed)
        )[0]
        size = round(count * self.clinic_control_percent / 100.0)
        if not size:
            return
        Control.flush_model()
        now = fields.Datetime.now()
        self.env.execute_query(
            SQL(
                """
                INSERT INTO clinic_mailing_control
                       (mailing_id, campaign_id, patient_id, company_id, date,
                        create_uid, create_date, write_uid, write_date)
                SELECT %(mailing)s, %(campaign)s, patient.id, patient.company_id, %(now)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM clinic_patient patient
                 WHERE patient.id IN (SELECT eligible.id FROM (%(eligible)s) eligible
                                       WHERE %(not_mailed)s ORDER BY random() LIMIT %(size)s)
                """,
                mailing=self.id,
                campaign=self.campaign_id.id or None,
                now=now,
                uid=self.env.uid,
                eligible=eligible.select(),
                not_mailed=not_mailed,
                size=size,
            )
        )
        Control.invalidate_model()
        self.invalidate_recordset(["clinic_control_ids", "clinic_control_count"])

    def _get_remaining_recipients(self):
        res_ids = super()._get_remaining_recipients()
        if self.mailing_model_real != PATIENT_MODEL:
            return res_ids
        if self.mailing_type == "mail":
            res_ids = self._clinic_leave_out_no_consent(res_ids)
        if not self.clinic_control_percent:
            return res_ids
        held_out = self._clinic_hold_out(res_ids)
        return [res_id for res_id in res_ids if res_id not in held_out]

    def _clinic_leave_out_no_consent(self, res_ids):
        """E-mail campaigns: the patients without marketing consent are left
        out before anything is rendered for them, with their cancelled trace
        ("Excluded: no consent") created in one go, instead of an e-mail
        rendered and queued only to be cancelled (a tenth more work when a
        tenth refused). The composer still cancels any it is given (a
        sending to chosen records). Their traces carry no address, so that
        they do not lengthen the list of addresses already mailed that
        mass_mailing scans for every recipient."""
        self.ensure_one()
        refused = (
            self.env[PATIENT_MODEL]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "in", res_ids), ("marketing_consent", "=", False)])
            .ids
        )
        if not refused:
            return res_ids
        self.env["mailing.trace"].sudo().create(
            [
                {
                    "model": PATIENT_MODEL,
                    "res_id": res_id,
                    "mass_mailing_id": self.id,
                    "trace_type": "mail",
                    "trace_status": "cancel",
                    "failure_type": "mail_optout",
                }
                for res_id in refused
            ]
        )
        refused = set(refused)
        return [res_id for res_id in res_ids if res_id not in refused]

    def _clinic_hold_out(self, res_ids):
        """The patients held out of this mailing (ids) when it is sent to
        these recipients (Odoo's sending: SMS, A/B tests): drawn once, among
        them, and kept for the next sendings."""
        self.ensure_one()
        self._clinic_draw_control_group(among=res_ids)
        return set(self.env["clinic.mailing.control"].sudo().search([("mailing_id", "=", self.id)]).patient_id.ids)

    def action_view_clinic_control(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Control group"),
            "res_model": "clinic.mailing.control",
            "view_mode": "list",
            "domain": [("mailing_id", "=", self.id)],
        }

    def action_view_clinic_excluded(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Patients left out"),
            "res_model": "mailing.trace",
            "view_mode": "list,form",
            "domain": [("mass_mailing_id", "=", self.id), ("clinic_exclusion", "!=", False)],
            "context": {"search_default_group_by_clinic_exclusion": 1, "create": False},
        }
