import logging
import re
import threading
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

REMOVED = "[anonymised]"
ANONYMISE_REASONS = [
    ("request", "The patient asked (right to erasure)"),
    ("retention", "Retention period over"),
    ("other", "Other"),
]


class ClinicPatient(models.Model):
    """Right to erasure: anonymise a patient. Identity and contact data go
    from the patient, their contact, their messages and the message ledger;
    free-text notes are removed; visits, scores, follow-up outcomes and
    amounts stay, de-identified, so that every statistic is unchanged. It
    cannot be undone, and it is logged (the clinic's audit log and Odoo's
    privacy log).

    The retention period (Settings) does the same from a daily scheduled
    action: patients with no visit for N years are first listed (the dry
    run, visible in *Patients → Due for anonymisation*), then anonymised
    once the notice has passed, unless kept."""

    # one concern per file: clinic_patient.py would pass the 600-line limit
    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    is_anonymised = fields.Boolean(string="Anonymised", readonly=True, copy=False, index=True)
    anonymised_date = fields.Datetime(readonly=True, copy=False)
    retention_hold = fields.Boolean(
        string="Keep (no anonymisation)",
        tracking=True,
        help="Never anonymise this patient when the retention period is over (e.g. a legal hold).",
    )
    anonymise_due_date = fields.Date(
        string="Anonymised on",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Listed for anonymisation by the retention period: anonymised on this date unless kept "
        "or seen again before.",
    )

    # ------------------------------------------------------------------
    # Anonymisation
    # ------------------------------------------------------------------

    def action_open_anonymise_wizard(self):
        self.ensure_one()
        self._check_privacy_manager()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Anonymise patient"),
            "res_model": "clinic.patient.anonymise",
            "view_mode": "form",
            "target": "new",
            "context": {"default_patient_id": self.id},
        }

    def _anonymise(self, reason="request", note=None):
        """Anonymise these patients: irreversible, logged. Returns what was
        done, per patient, as {table: rows changed}."""
        self._check_privacy_manager()
        done = {}
        for patient in self.sudo().with_context(active_test=False, tracking_disable=True, mail_notrack=True):
            if patient.is_anonymised:
                continue
            if patient.partner_id.user_ids:
                raise UserError(
                    self.env._(
                        "%(patient)s has a user account (portal or employee): remove it before anonymising.",
                        patient=patient.name,
                    )
                )
            done[patient.id] = patient._anonymise_one(reason, note)
        return done

    def _anonymise_identifiers(self):
        """The strings that identify the patient in free text: name, phone
        numbers (as stored and as typed), e-mail addresses."""
        self.ensure_one()
        partner = self.partner_id
        values = {partner.name, partner.email, partner.email_normalized, partner.phone, partner.mobile}
        for number in (partner.phone, partner.mobile):
            if number and number.startswith("+"):
                values.add(number[1:])
                digits = re.sub(r"\D", "", number)
                values.update({digits, digits[2:], digits[1:]})  # without the country code
        return sorted({v.strip() for v in values if v and len(v.strip()) >= 4}, key=len, reverse=True)

    def _anonymise_text(self, text, identifiers):
        if not text:
            return text
        for identifier in identifiers:
            text = re.sub(re.escape(identifier), REMOVED, text, flags=re.IGNORECASE)
        return text

    def _anonymise_one(self, reason, note):
        self.ensure_one()
        env = self.env
        partner = self.partner_id
        identifiers = self._anonymise_identifiers()
        original_name, original_email = partner.name or "-", partner.email_normalized or "-@-"
        label = env._("Anonymised patient %(id)s", id=self.id)
        counts = {}
        # the records about the patient
        visits = self.visit_ids
        tasks = env["clinic.followup.task"].search([("patient_id", "=", self.id)])
        complaints = env["clinic.complaint"].search(
            [
                "|",
                "|",
                ("patient_id", "=", self.id),
                ("patient_match_id", "=", self.id),
                "|",
                ("contact_email", "in", [i for i in identifiers if "@" in i] or [""]),
                ("contact_phone", "in", [i for i in identifiers if "@" not in i] or [""]),
            ]
        )
        surveys = env["clinic.survey.response"].search([("patient_id", "=", self.id)])
        events = visits.calendar_event_id | env["calendar.event"].search([("partner_ids", "in", partner.ids)])
        leads = env["crm.lead"].with_context(active_test=False).search([("partner_id", "=", partner.id)])
        documents = {
            "clinic.patient": self.ids,
            "clinic.visit": visits.ids,
            "clinic.followup.task": tasks.ids,
            "clinic.complaint": complaints.ids,
            "clinic.survey.response": surveys.ids,
            "res.partner": partner.ids,
            "calendar.event": events.ids,
            "crm.lead": leads.ids,
        }
        # 1. what is about to go: stop the messages still queued
        self._cancel_queued_messages("care")
        self._cancel_queued_messages("marketing")
        # 2. the clinical and free-text records: de-identified, figures kept
        visits.with_context(clinic_from_calendar=True).filtered(
            lambda v: v.state == "scheduled" and v.start > fields.Datetime.now()
        ).write({"state": "cancelled"})
        visits.write({"notes": False, "access_token": False})
        counts["clinic_visit"] = len(visits)
        for task in tasks:
            task.write(
                {
                    "name": self._anonymise_text(task.name, identifiers),
                    "notes": False,
                    "health_guidance": False,
                    "active": task.active and task.is_closed,
                }
            )
        tasks.recovery_score_ids.write({"note": False})
        counts["clinic_followup_task"] = len(tasks)
        for complaint in complaints:
            complaint.write(
                {
                    "name": self._anonymise_text(complaint.name, identifiers),
                    "contact_name": False,
                    "contact_phone": False,
                    "contact_email": False,
                    "patient_match_id": False,
                    "description": REMOVED,
                    "resolution": False,
                    "root_cause": self._anonymise_text(complaint.root_cause, identifiers),
                    "corrective_action": self._anonymise_text(complaint.corrective_action, identifiers),
                }
            )
        counts["clinic_complaint"] = len(complaints)
        surveys.write({"comment": False, "access_token": False})
        counts["clinic_survey_response"] = len(surveys)
        ledger = env["clinic.visit.reminder"].search(
            ["|", ("patient_id", "=", self.id), ("visit_id", "in", visits.ids)]
        )
        # the address, and any error text that may quote it (a bounce, an invalid number)
        for message in ledger.filtered("failure_reason"):
            message.failure_reason = self._anonymise_text(message.failure_reason, identifiers)
        ledger.write({"destination": False})
        counts["clinic_visit_reminder"] = len(ledger)
        self.recall_override_ids.write({"note": False})
        for event in events:
            event.with_context(clinic_from_visit=True).write(
                {
                    "name": self._anonymise_text(event.name, identifiers) or label,
                    "description": False,
                    "partner_ids": [fields.Command.unlink(partner.id)],
                }
            )
        counts["calendar_event"] = len(events)
        for lead in leads:
            lead.write(
                {
                    "name": self._anonymise_text(lead.name, identifiers) or label,
                    "contact_name": False,
                    "partner_name": False,
                    "email_from": False,
                    "phone": False,
                    "mobile": False,
                    "street": False,
                    "street2": False,
                    "city": False,
                    "zip": False,
                    "description": False,
                }
            )
        counts["crm_lead"] = len(leads)
        # 3. chatter, activities, attachments, queued messages of those records
        counts.update(self._anonymise_messages(documents, partner, identifiers))
        # 4. the patient and their contact
        self.write(
            {
                "name": label,
                "birthdate": False,
                "gender": False,
                "occupation": False,
                "insurance_provider": False,
                "insurance_number": False,
                "medical_allergies": False,
                "medical_hereditary_conditions": False,
                "medical_condition_ids": [fields.Command.clear()],
                "notes": False,
                "referred_by_id": False,
                "family_member_ids": [fields.Command.clear()],
                "preferred_channel": "none",
                "care_consent": False,
                "marketing_consent": False,
                "retention_hold": False,
                "anonymise_due_date": False,
                "is_anonymised": True,
                "anonymised_date": fields.Datetime.now(),
                "active": False,
            }
        )
        partner.bank_ids.unlink()
        partner.with_context(clinic_anonymise=True).write(
            {
                "name": label,
                "email": False,
                "phone": False,
                "mobile": False,
                "street": False,
                "street2": False,
                "zip": False,
                "city": False,
                "state_id": False,
                "website": False,
                "vat": False,
                "ref": False,
                "comment": False,
                "function": False,
                "title": False,
                "image_1920": False,
                "active": False,
            }
        )
        counts["res_partner"] = 1
        # 5. logged, here and in Odoo's privacy log (which masks what it keeps)
        details = {"reason": reason, "rows": counts}
        env["clinic.audit.log"].search([("patient_id", "=", self.id), ("details", "!=", False)]).write(
            {"details": False}
        )
        env["clinic.audit.log"]._log(
            "anonymisation",
            description=env._("Patient anonymised: %(reason)s.", reason=dict(ANONYMISE_REASONS)[reason])
            + (f" {note}" if note else ""),
            patient=self,
            details=details,
            count=sum(counts.values()),
        )
        if "privacy.log" in env:
            env["privacy.log"].create(
                {
                    "anonymized_name": original_name,
                    "anonymized_email": original_email,
                    "execution_details": env._("Patient Care: patient anonymised (%(reason)s).", reason=reason),
                    "records_description": "\n".join(f"{table}: {count}" for table, count in counts.items()),
                }
            )
        self.message_post(
            body=Markup("<p>%s</p>") % env._("This patient was anonymised. It cannot be undone."),
            subtype_xmlid="mail.mt_note",
        )
        return counts

    def _anonymise_messages(self, documents, partner, identifiers):
        """Scrub the chatter of ``documents`` ({model: ids}) and every message
        the patient wrote or received: bodies, subjects, senders, tracked old
        values, attachments; remove activities, followers and queued mail and
        SMS."""
        env = self.env
        counts = {}
        doc_domain = ["|"] * (len(documents) - 1)
        for model, ids in documents.items():
            doc_domain += ["&", ("model", "=", model), ("res_id", "in", ids or [0])]
        messages = env["mail.message"].search(
            ["|", "|", ("author_id", "=", partner.id), ("partner_ids", "in", partner.ids), *doc_domain]
        )
        messages.tracking_value_ids.unlink()
        messages.attachment_ids.unlink()
        env.flush_all()
        if messages:
            env.cr.execute(
                SQL(
                    """
                    UPDATE mail_message
                       SET body = %(body)s, subject = NULL, email_from = NULL, reply_to = NULL,
                           record_name = NULL,
                           author_id = CASE WHEN author_id = %(partner)s THEN NULL ELSE author_id END
                     WHERE id = ANY(%(ids)s)
                    """,
                    body=Markup("<p>%s</p>") % REMOVED,
                    partner=partner.id,
                    ids=messages.ids,
                )
            )
            messages.invalidate_recordset()
        counts["mail_message"] = len(messages)
        mails = env["mail.mail"].search(
            ["|", ("recipient_ids", "in", partner.ids), ("mail_message_id", "in", messages.ids)]
        )
        counts["mail_mail"] = len(mails)
        mails.unlink()
        numbers = [i for i in identifiers if "@" not in i]
        sms = env["sms.sms"].search(["|", ("partner_id", "=", partner.id), ("number", "in", numbers or [""])])
        counts["sms_sms"] = len(sms)
        sms.unlink()
        for model, ids in documents.items():
            activities = env["mail.activity"].search([("res_model", "=", model), ("res_id", "in", ids or [0])])
            activities.unlink()
            attachments = env["ir.attachment"].search([("res_model", "=", model), ("res_id", "in", ids or [0])])
            attachments.unlink()
        env["mail.followers"].search([("partner_id", "=", partner.id)]).unlink()
        env["mail.notification"].search([("res_partner_id", "=", partner.id)]).write({"failure_reason": False})
        # live notifications (chatter refreshes) can carry the names for a few minutes
        env.cr.execute(
            SQL(
                "DELETE FROM bus_bus WHERE %s",
                SQL(" OR ").join(SQL("message ILIKE %s", f"%{i}%") for i in identifiers)
                if identifiers
                else SQL("FALSE"),
            )
        )
        return counts

    # ------------------------------------------------------------------
    # Retention period: list, then anonymise
    # ------------------------------------------------------------------

    @api.model
    def _retention_candidates(self, company):
        """Patients of ``company`` with no visit (of any state) and no new
        record in the retention period, not kept, not anonymised."""
        years = company.clinic_anonymise_after_years
        if not years:
            return self.browse()
        limit = fields.Datetime.now() - relativedelta(years=years)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id FROM clinic_patient p
                 WHERE p.company_id = %(company)s
                   AND NOT COALESCE(p.is_anonymised, FALSE)
                   AND NOT COALESCE(p.retention_hold, FALSE)
                   AND p.create_date < %(limit)s
                   AND NOT EXISTS (SELECT 1 FROM clinic_visit v WHERE v.patient_id = p.id AND v.start >= %(limit)s)
                   AND NOT EXISTS (SELECT 1 FROM clinic_complaint c
                                    WHERE c.patient_id = p.id AND c.is_open)
                 ORDER BY p.id
                """,
                company=company.id,
                limit=limit,
            )
        )
        return self.with_context(active_test=False).browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _cron_retention(self, batch_size=200):
        """Daily: list the patients whose retention period is over (the dry
        run: each gets a date, ``clinic_anonymise_notice_days`` away), drop
        from the list those seen again or kept, and anonymise those whose
        date has come. Batched and committed per batch."""
        today = fields.Date.context_today(self)
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        done = 0
        Patient = self.sudo().with_context(active_test=False)
        for company in self.env["res.company"].sudo().search([]):  # pylint: disable=no-search-all  # a few companies
            candidates = Patient.with_company(company)._retention_candidates(company)
            listed = Patient.search([("company_id", "=", company.id), ("anonymise_due_date", "!=", False)])
            (listed - candidates).write({"anonymise_due_date": False})
            new = candidates.filtered(lambda p: not p.anonymise_due_date)
            if new:
                due = today + timedelta(days=company.clinic_anonymise_notice_days)
                new.write({"anonymise_due_date": due})
                self.env["clinic.audit.log"].sudo().with_company(company)._log(
                    "retention_listed",
                    description=self.env._(
                        "%(count)s patient(s) listed for anonymisation on %(date)s (retention period of %(years)s "
                        "years).",
                        count=len(new),
                        date=due,
                        years=company.clinic_anonymise_after_years,
                    ),
                    details={"patient_ids": new.ids, "due": due},
                    count=len(new),
                )
            due_now = (candidates & listed).filtered(lambda p: p.anonymise_due_date <= today)
            for start in range(0, len(due_now), batch_size):
                batch = due_now[start : start + batch_size]
                batch._anonymise("retention")
                done += len(batch)
                if auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit  # cron: a crash keeps the batches done
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        return done
