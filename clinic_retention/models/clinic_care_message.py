import logging
import threading
import time as time_module
import uuid
from collections import Counter
from datetime import datetime, time, timedelta

import psycopg2
import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.clinic_time import clinic_tz
from ..tools.phone import can_receive_sms
from .clinic_visit_reminder import LIVE_STATES, PATIENT_KINDS, REMINDER_KINDS

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
# A scheduled run sends batches for about this many seconds, then reports its
# progress: Odoo runs it again at once while work remains (up to 10 times per
# cron worker turn), so a turn stays well within the workers' time limits.
DEFAULT_TIME_BUDGET = 5
# The care-message scheduled actions: several, so that several cron workers
# send at once (each takes its own batches); duplicate one to use more.
DISPATCH_CRONS = ("clinic_retention.ir_cron_care_message_dispatch", "clinic_retention.ir_cron_care_message_dispatch_2")
# A deferred message looks at most this many days ahead for room under the cap.
CAP_LOOKAHEAD_DAYS = 7
TRANSIENT_DB_ERRORS = (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected)


def _float_to_time(hours):
    minutes = round(hours * 60)
    return time(min(minutes // 60, 23), minutes % 60)


def _error_text(error):
    """The error and what caused it (core's renderer wraps the real cause)."""
    parts = [str(error)]
    if error.__cause__ and str(error.__cause__) not in parts[0]:
        parts.append(f"{type(error.__cause__).__name__}: {error.__cause__}")
    return "\n".join(parts)


class ClinicCareMessage(models.AbstractModel):
    """The care-message service: decides which message goes to which patient,
    when and how (``_schedule``), then renders and queues them in batches
    with core's renderers and queues (``_dispatch_due``). The ledger
    (``clinic.visit.reminder``) records every decision and follows each
    message to its delivery.

    Policy, in order: archived patients get nothing; a message that became
    due too close to the visit (late booking) is skipped; care consent,
    "do not contact", blacklists; SMS only to numbers that can get them, the
    e-mail version otherwise; SMS wait for the end of the quiet hours; at
    most ``clinic_daily_cap`` reminders per patient, channel and local day,
    the next ones waiting for the next day; a reminder that could only
    leave after the visit started is not sent (with its reason).
    """

    _name = "clinic.care.message"
    _description = "Care message service"

    # ------------------------------------------------------------------
    # The patient's local time
    # ------------------------------------------------------------------

    @api.model
    def _tz(self, name):
        try:
            return pytz.timezone(name or "UTC")
        except pytz.UnknownTimeZoneError:
            return pytz.utc

    @api.model
    def _local_date(self, when, tz):
        return pytz.utc.localize(when).astimezone(tz).date()

    @api.model
    def _at_local(self, day, hours, tz):
        """UTC (naive) of ``hours`` o'clock on the local ``day`` in ``tz``."""
        local = tz.localize(datetime.combine(day, _float_to_time(hours)), is_dst=False)
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _after_quiet_hours(self, when, tz, company):
        """``when``, or the end of the quiet hours if it falls in them."""
        start, end = company.clinic_quiet_start, company.clinic_quiet_end
        if start == end:
            return when
        local = pytz.utc.localize(when).astimezone(tz)
        hour = local.hour + local.minute / 60 + local.second / 3600
        quiet = (hour >= start or hour < end) if start > end else (start <= hour < end)
        if not quiet:
            return when
        day = local.date() + timedelta(days=1) if start > end and hour >= start else local.date()
        return self._at_local(day, end, tz)

    @api.model
    def _next_allowed_time(self, message, when, channel=None):
        """The first time from ``when`` a message about ``message``'s visit
        may leave by ``channel`` (quiet hours hold SMS only)."""
        visit = message.visit_id if message._name == "clinic.visit.reminder" else message
        channel = channel or message.channel
        if channel != "sms":
            return when
        if not visit:  # a message about the patient (birthday): the clinic's zone
            company = message.company_id or message.patient_id.company_id
            return self._after_quiet_hours(when, self._tz(clinic_tz(company)), company)
        return self._after_quiet_hours(when, self._tz(visit.local_tz), visit.company_id)

    # ------------------------------------------------------------------
    # Scheduling: who gets what, when (called by the automation rules)
    # ------------------------------------------------------------------

    @api.model
    def _schedule(
        self,
        visits,
        kind,
        channel,
        email_template=None,
        sms_template=None,
        states=("scheduled",),
        upcoming=True,
        max_age_days=3,
    ):
        """Queue the ``kind`` message about ``visits`` by ``channel``
        ("email" or "sms"), once per visit, kind, channel and visit time:
        every decision is a ledger row, queued (maybe for later) or not sent
        and why. ``upcoming`` messages (reminders) are only about visits
        that have not started; the others (thank-you) only about visits of
        the last ``max_age_days`` days, so importing history sends nothing.

        :return: the ledger rows this call wrote (rows written before by
            another run, or another worker, are left alone).
        """
        Ledger = self.env["clinic.visit.reminder"].sudo()
        if kind not in dict(Ledger._fields["kind"].selection):
            raise UserError(self.env._("Unknown kind of care message: %(kind)s", kind=kind))
        now = fields.Datetime.now()
        oldest = now - timedelta(days=max_age_days)
        visits = visits.sudo().filtered(
            lambda v: v.state in states and (v.start > now if upcoming else v.start >= oldest)
        )
        visits -= self._already_decided(visits, kind, channel)
        if not visits:
            return Ledger
        mail_template = self.env.ref(email_template) if email_template else self.env["mail.template"]
        sms_template_rec = self.env.ref(sms_template) if sms_template else self.env["sms.template"]
        policy = self._policy_context(visits, channel)
        automation_id = self.env.context.get("precise_automation_id") or False
        too_late = self.env.context.get("clinic_too_late")
        rows = []
        for visit in visits:
            patient = visit.patient_id
            row_channel, destination, reason = channel, False, False
            when = now
            if not patient.active:
                reason = "inactive"
            elif too_late:
                reason = "too_late"
            elif not patient.care_consent:
                reason = "no_consent"
            elif patient.preferred_channel == "none":
                reason = "do_not_contact"
            elif channel == "sms":
                number = policy["sms_numbers"][patient]
                if not number:
                    if mail_template:
                        row_channel = "email"
                    else:
                        reason = "no_number"
                elif number in policy["blacklisted_numbers"]:
                    reason = "blacklisted"
                else:
                    destination = number
            if row_channel == "email" and not reason:
                if not patient.email_normalized:
                    reason = "no_email"
                elif patient.email_normalized in policy["blacklisted_emails"]:
                    reason = "blacklisted"
                else:
                    destination = patient.email_normalized
            tz = self._tz(visit.local_tz)
            deferred = False
            if not reason:
                when, reason, deferred = self._send_time(visit, kind, row_channel, now, tz, policy["counts"])
            rows.append(
                {
                    "visit_id": visit.id,
                    "patient_id": patient.id,
                    "company_id": visit.company_id.id,
                    "department_id": visit.department_id.id,
                    "kind": kind,
                    "channel": row_channel,
                    "visit_start": visit.start,
                    "state": "skipped" if reason else "queued",
                    "skip_reason": reason,
                    "deferred_reason": deferred if not reason else False,
                    "automation_id": automation_id,
                    "destination": destination,
                    "scheduled_date": when,
                    "local_date": self._local_date(when, tz),
                    "mail_template_id": mail_template.id if row_channel == "email" else False,
                    "sms_template_id": sms_template_rec.id if row_channel == "sms" else False,
                }
            )
        claimed = Ledger._claim(rows)
        queued = claimed.filtered(lambda m: m.state == "queued")
        if queued:
            self._trigger_dispatch(set(queued.mapped("scheduled_date")))
        return claimed

    @api.model
    def _already_decided(self, visits, kind, channel):
        """The visits that already have this message for their current time
        (rules look back over their last run, and a visit changed since then
        is seen again): one query instead of the whole policy for each."""
        if not visits:
            return visits
        self.env["clinic.visit.reminder"].flush_model(["visit_id", "kind", "channel", "visit_start"])
        self.env.cr.execute(
            SQL(
                """SELECT visit_id, visit_start FROM clinic_visit_reminder
                    WHERE visit_id = ANY(%s) AND kind = %s AND channel = %s""",
                visits.ids,
                kind,
                channel,
            )
        )
        decided = set(self.env.cr.fetchall())
        return visits.filtered(lambda visit: (visit.id, visit.start) in decided)

    @api.model
    def _policy_context(self, visits, channel):
        """What the policy needs for a batch, read in a few queries:
        blacklists, SMS-capable numbers, and the reminders each patient
        already has per channel and local day (for the cap)."""
        patients = visits.patient_id
        emails = {p.email_normalized for p in patients if p.email_normalized}
        blacklisted_emails = (
            set(self.env["mail.blacklist"].sudo().search([("email", "in", list(emails))]).mapped("email"))
            if emails
            else set()
        )
        sms_numbers = {}
        if channel == "sms":
            for patient in patients:
                sms_numbers[patient] = next(
                    (n for n in (patient.mobile, patient.phone) if n and can_receive_sms(n)), False
                )
        numbers = {n for n in sms_numbers.values() if n}
        blacklisted_numbers = set()
        if numbers:
            # numbers are stored in E.164 on both sides: no per-number formatting (phone.blacklist's search does it)
            self.env["phone.blacklist"].flush_model(["number", "active"])
            self.env.cr.execute(
                SQL("SELECT number FROM phone_blacklist WHERE active AND number = ANY(%s)", list(numbers))
            )
            blacklisted_numbers = {number for (number,) in self.env.cr.fetchall()}
        today = fields.Date.context_today(self)
        counts = Counter()
        for patient, msg_channel, day, count in (
            self.env["clinic.visit.reminder"]
            .sudo()
            ._read_group(
                [
                    ("patient_id", "in", patients.ids),
                    ("kind", "in", list(REMINDER_KINDS)),
                    ("state", "in", list(LIVE_STATES)),
                    ("local_date", ">=", today - timedelta(days=1)),
                    ("local_date", "<=", today + timedelta(days=CAP_LOOKAHEAD_DAYS + 1)),
                ],
                ["patient_id", "channel", "local_date:day"],
                ["__count"],
            )
        ):
            counts[(patient.id, msg_channel, fields.Date.to_date(day))] += count
        return {
            "blacklisted_emails": blacklisted_emails,
            "sms_numbers": sms_numbers,
            "blacklisted_numbers": blacklisted_numbers,
            "counts": counts,
        }

    @api.model
    def _send_time(self, visit, kind, channel, now, tz, counts):
        """(when the message may leave, why it will not, why it waits) for
        one visit: quiet hours for SMS, then the daily cap on the patient's
        local day; a reminder that could only leave once the visit started
        is not sent. ``counts`` is updated with the message."""
        company = visit.company_id
        when = self._after_quiet_hours(now, tz, company) if channel == "sms" else now
        deferred = "quiet_hours" if when > now else False
        cap = company.clinic_daily_cap
        key = None
        if kind in REMINDER_KINDS and cap:
            for _attempt in range(CAP_LOOKAHEAD_DAYS + 1):
                key = (visit.patient_id.id, channel, self._local_date(when, tz))
                if counts[key] < cap:
                    break
                deferred = "daily_cap"
                quiet_end = company.clinic_quiet_end if company.clinic_quiet_start != company.clinic_quiet_end else 0
                when = max(when, self._at_local(key[2] + timedelta(days=1), quiet_end, tz))
            else:
                return when, "daily_cap", deferred
        if kind in REMINDER_KINDS and when >= visit.start:
            return when, deferred or "quiet_hours", deferred
        if key:
            counts[key] += 1
        return when, False, deferred

    @api.model
    def _trigger_dispatch(self, times):
        """Wake the care-message scheduled actions at ``times`` (now, or when
        deferred messages may leave)."""
        now = fields.Datetime.now()
        slots = {max(when, now).replace(second=0, microsecond=0) for when in times}
        Trigger = self.env["ir.cron.trigger"].sudo()
        for xmlid in DISPATCH_CRONS:
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if not cron or not slots:
                continue
            existing = set(
                Trigger.search([("cron_id", "=", cron.id), ("call_at", "in", list(slots))]).mapped("call_at")
            )
            if slots - existing:
                cron.sudo()._trigger(sorted(slots - existing))

    # ------------------------------------------------------------------
    # Dispatch: render and queue the messages due, in batches
    # ------------------------------------------------------------------

    @api.model
    def _dispatch_due(self, batch_size=None, automatic=False, time_budget=None, report_progress=True):
        """Send the messages due now (queued, or failed and due for another
        attempt), ``batch_size`` at a time. Each batch is locked with
        ``SKIP LOCKED`` (other workers take the next ones), sent in its own
        savepoint and, when ``automatic`` (a cron), committed: a worker
        killed mid-batch loses nothing (its batch rolls back and is taken
        again) and sends nothing twice. A cron stops after ``time_budget``
        seconds and reports what remains (Odoo runs it again at once)."""
        Ledger = self.env["clinic.visit.reminder"].sudo()
        get_param = self.env["ir.config_parameter"].sudo().get_param
        batch_size = batch_size or int(get_param("clinic_retention.message_batch_size") or 0) or DEFAULT_BATCH_SIZE
        if time_budget is None:
            time_budget = float(get_param("clinic_retention.dispatch_seconds") or 0) or DEFAULT_TIME_BUDGET
        testing = getattr(threading.current_thread(), "testing", False)
        started = time_module.monotonic()
        done, seen = 0, set()
        while not automatic or time_module.monotonic() - started < time_budget:
            messages = Ledger._lock_due(batch_size)
            if not messages or set(messages.ids) <= seen:
                break
            seen.update(messages.ids)
            self._dispatch_batch(messages)
            done += len(messages)
            if automatic and not testing:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # cron: one batch at a time
                self.env.invalidate_all()
            else:
                self.env.flush_all()
        if done:
            for xmlid in ("mail.ir_cron_mail_scheduler_action", "sms.ir_cron_sms_scheduler_action"):
                queue = self.env.ref(xmlid, raise_if_not_found=False)
                if queue and queue.active:
                    queue.sudo()._trigger()
        if automatic and report_progress:
            self.env["ir.cron"]._notify_progress(done=done, remaining=Ledger._count_due())
        return done

    @api.model
    def _dispatch_batch(self, messages):
        """Render and queue one locked batch. A group that fails is sent
        again message by message: only the bad ones are marked failed, with
        the error; the others go out."""
        messages = self._still_to_send(messages.with_prefetch(messages.ids))
        groups = messages.grouped(lambda m: (m.channel, m.kind, m.mail_template_id, m.sms_template_id))
        for group in groups.values():
            try:
                with self.env.cr.savepoint():
                    self._send_group(group)
                continue
            except TRANSIENT_DB_ERRORS:
                raise
            except Exception:
                _logger.info("Care messages: a batch of %s failed, sending one by one", len(group), exc_info=True)
            for message in group:
                try:
                    with self.env.cr.savepoint():
                        self._send_group(message)
                except TRANSIENT_DB_ERRORS:
                    raise
                except Exception as error:  # any fault of one message must not stop the others
                    _logger.warning("Care message %s failed: %s", message.id, error)
                    self._mark_attempt(message)
                    message._register_failure("render", _error_text(error))

    @api.model
    def _still_to_send(self, messages):
        """Messages whose visit changed, or whose patient left or withdrew,
        since they were queued are not sent. Returns those still to send."""
        now = fields.Datetime.now()
        verdicts = {}
        for message in messages:
            visit, patient = message.visit_id, message.patient_id
            verdict = False
            if message.kind in PATIENT_KINDS or not visit:
                pass  # about the patient (birthday), or sent from a follow-up: no visit to change
            elif message.kind in REMINDER_KINDS and (
                visit.state != "scheduled" or visit.start != message.visit_start or visit.start <= now
            ):
                verdict = ("cancelled", "visit_changed")
            elif message.kind not in REMINDER_KINDS and visit.state != "done":
                verdict = ("cancelled", "visit_changed")
            consent_missing = not verdict and self._consent_missing(patient, message.kind)
            if verdict:
                pass
            elif not patient.active:
                verdict = ("skipped", "inactive")
            elif consent_missing:
                verdict = ("skipped", consent_missing)
            elif patient.preferred_channel == "none":
                verdict = ("skipped", "do_not_contact")
            if verdict:
                verdicts.setdefault(verdict, messages.browse())
                verdicts[verdict] |= message
        stopped = messages.browse()
        for (state, reason), stopped_messages in verdicts.items():
            stopped_messages.write({"state": state, "skip_reason": reason, "next_attempt_date": False})
            stopped |= stopped_messages
        return messages - stopped

    @api.model
    def _consent_missing(self, patient, kind):
        """Why ``patient`` may not get a ``kind`` message for lack of consent
        (a skip reason), or False. Care messages need the care consent; a
        greeting about the patient (birthday) is marketing and needs the
        marketing consent instead."""
        if kind in PATIENT_KINDS:
            return "no_marketing_consent" if not patient.marketing_consent else False
        return "no_consent" if not patient.care_consent else False

    @api.model
    def _rendered_ids(self, messages):
        """{message id: id of the record its template renders}: the visit,
        the follow-up task for messages an agent sent from one, or the patient
        for a message about the patient (birthday)."""
        return {
            message.id: (
                message.patient_id if message.kind in PATIENT_KINDS else message.task_id or message.visit_id
            ).id
            for message in messages
        }

    @api.model
    def _send_group(self, messages):
        """Render and queue ``messages``: one channel, kind and template."""
        self._retire_previous(messages)
        if messages[0].kind == "satisfaction":
            self._ensure_surveys(messages.visit_id)
        if messages[0].channel == "email":
            self._send_emails(messages)
        else:
            self._send_sms(messages)

    @api.model
    def _retire_previous(self, messages):
        """Before another attempt, the failed e-mail or SMS of the previous
        one is withdrawn, so that nobody can send it again by hand as well."""
        retried = messages.filtered(lambda m: m.state == "failed")
        old_mails = retried.mail_mail_id.filtered(lambda mail: mail.state == "exception")
        old_mails.write({"state": "cancel"})
        old_sms = retried.sms_id.filtered(lambda sms: sms.state in ("error", "outgoing"))
        old_sms.write({"state": "canceled", "to_delete": True})

    @api.model
    def _ensure_surveys(self, visits):
        Response = self.env["clinic.survey.response"].sudo()
        have_survey = set(Response.search([("visit_id", "in", visits.ids), ("source", "=", "survey")]).visit_id.ids)
        Response.create([{"visit_id": visit.id} for visit in visits if visit.id not in have_survey])

    @api.model
    def _send_emails(self, messages):
        """E-mails from the message's template, with everything the template
        sets: recipients, CC, attachments and reports, mail server, scheduled
        date, sender, reply-to, language (see ``mail.template._clinic_send_mail_batch``)."""
        template = messages[0].mail_template_id.sudo()
        if not template:
            raise UserError(self.env._("The email template of this message was deleted."))
        res_ids = self._rendered_ids(messages)
        mails = template._clinic_send_mail_batch(list(dict.fromkeys(res_ids.values())))
        by_record = {mail.res_id: mail for mail in mails}
        self._mark_attempt(
            messages,
            {
                message.id: {
                    "mail_mail_id": by_record[res_ids[message.id]].id,
                    "message_id": by_record[res_ids[message.id]].message_id,
                }
                for message in messages
            },
        )

    @api.model
    def _send_sms(self, messages):
        """Bodies rendered by core's renderer in each patient's language (as
        the SMS composer's mass mode does), queued as ``sms.sms`` with an
        ``sms.tracker`` each, so that the provider's answers and delivery
        reports come back to the ledger."""
        template = messages[0].sms_template_id.sudo()
        if not template:
            raise UserError(self.env._("The SMS template of this message was deleted."))
        res_ids = self._rendered_ids(messages)
        bodies = template._render_field("body", list(dict.fromkeys(res_ids.values())), compute_lang=True)
        values, trackers, links = [], [], {}
        for message in messages:
            sms_uuid = uuid.uuid4().hex
            values.append(
                {
                    "number": message.destination,
                    "partner_id": message.patient_id.partner_id.id,
                    "body": bodies[res_ids[message.id]],
                    "state": "outgoing",
                    "uuid": sms_uuid,
                }
            )
            trackers.append({"sms_uuid": sms_uuid, "clinic_message_id": message.id})
            links[message.id] = {"sms_uuid": sms_uuid}
        sms_records = self.env["sms.sms"].sudo().create(values)
        self.env["sms.tracker"].sudo().create(trackers)
        for sms_record, message in zip(sms_records, messages, strict=True):
            links[message.id]["sms_id"] = sms_record.id
        self._mark_attempt(messages, links)

    @api.model
    def _mark_attempt(self, messages, links=None):
        """One more attempt for ``messages``; with ``links`` ({id: {column:
        value}}: the mail or SMS produced), they are handed to the queue. One
        UPDATE for the batch, however large."""
        links = links or {}
        columns = ("mail_mail_id", "message_id", "sms_id", "sms_uuid")
        rows = SQL(", ").join(
            SQL("%s", (message.id, *(links.get(message.id, {}).get(column) for column in columns)))
            for message in messages
        )
        handed = SQL("now() at time zone 'UTC'") if links else SQL("NULL")
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
            UPDATE clinic_visit_reminder AS m
               SET attempt_count = COALESCE(m.attempt_count, 0) + 1,
                   handover_date = %(handed)s,
                   state = CASE WHEN %(handed_out)s THEN 'queued' ELSE m.state END,
                   next_attempt_date = NULL,
                   mail_mail_id = v.mail_mail_id::int,
                   message_id = v.message_id,
                   sms_id = v.sms_id::int,
                   sms_uuid = v.sms_uuid,
                   write_date = now() at time zone 'UTC',
                   write_uid = %(uid)s
              FROM (VALUES %(rows)s) AS v(id, mail_mail_id, message_id, sms_id, sms_uuid)
             WHERE m.id = v.id
            """,
                handed=handed,
                handed_out=bool(links),
                uid=self.env.uid,
                rows=rows,
            )
        )
        messages.invalidate_recordset()
        return messages
