import pytz

from odoo import api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.tools import html2plaintext, is_html_empty


class ResCompany(models.Model):
    _inherit = "res.company"

    clinic_new_days = fields.Integer(
        string="Patients stay new for (days)",
        default=90,
        help="A patient whose first completed visit is more recent than this is 'new'.",
    )
    clinic_lapse_days = fields.Integer(
        string="Lapsed after (days)",
        default=180,
        help="A patient with no completed visit for this many days is 'lapsed' and surfaces for reactivation.",
    )
    clinic_active_days = fields.Integer(
        string="Active window (days)",
        default=365,
        help="A patient is active when their last completed visit is within "
        "this many days; past it they are 'lost'. Retention KPIs use the same "
        "definition.",
    )

    clinic_churn_exclude_natural = fields.Boolean(
        string="Leave natural attrition out of churn",
        default=True,
        help="Patients who left for a natural reason (deceased, moved away, treatment finished) "
        "count neither as retained nor as lost in the retention KPIs (PRR, churn).",
    )

    # Satisfaction and complaints
    clinic_complaint_threshold = fields.Integer(
        string="Low score opens a complaint at or below",
        default=2,
        help="A satisfaction score (1 to 5) at or below this opens a complaint by itself.",
    )
    clinic_survey_edit_days = fields.Integer(
        string="Patients may change their answer for (days)",
        default=7,
    )
    clinic_sla_low_hours = fields.Integer(string="SLA low (hours)", default=120)
    clinic_sla_medium_hours = fields.Integer(string="SLA medium (hours)", default=72)
    clinic_sla_high_hours = fields.Integer(string="SLA high (hours)", default=24)
    clinic_sla_critical_hours = fields.Integer(string="SLA critical (hours)", default=4)
    clinic_escalation_hours = fields.Integer(
        string="Second escalation after (hours)",
        default=24,
        help="Hours after the deadline before an open complaint goes to the general manager.",
    )
    clinic_complaints_manager_id = fields.Many2one(
        "res.users", string="Complaints manager", domain="[('share', '=', False)]"
    )
    clinic_general_manager_id = fields.Many2one("res.users", string="General manager", domain="[('share', '=', False)]")

    # Care messages: the clinic's local time, quiet hours, cap, retries
    clinic_tz = fields.Selection(
        _tz_get,
        string="Clinic time zone",
        default=lambda self: self._clinic_default_tz(),
        help="Visit times in reminders, e-mails, public pages and calendar invitations are shown in this "
        "zone (a department may have its own). Quiet hours and the daily cap count this zone's days.",
    )
    clinic_quiet_start = fields.Float(
        string="No SMS from",
        default=21.0,
        help="Local time from which no SMS goes out; messages due then wait for the end of the quiet hours.",
    )
    clinic_quiet_end = fields.Float(string="No SMS until", default=8.0)
    clinic_daily_cap = fields.Integer(
        string="Reminders per patient and day",
        default=1,
        help="At most this many reminders per patient, channel and local day (0: no limit). "
        "The next ones wait for the next day, if that is still before the visit.",
    )
    clinic_message_max_attempts = fields.Integer(
        string="Attempts per message",
        default=3,
        help="A message that fails for a passing reason (no SMS credit, mail server down...) is tried again "
        "this many times in all; then a follow-up task asks customer service to contact the patient.",
    )
    clinic_message_retry_minutes = fields.Integer(
        string="First retry after (minutes)",
        default=30,
        help="Delay before the second attempt; it doubles for each later attempt.",
    )
    # Personal data (issue 12)
    clinic_privacy_notice = fields.Html(
        string="Privacy notice",
        translate=True,
        sanitize=True,
        help="Shown with the consent checkbox of the public complaint form, in the visitor's language. "
        "Empty: a standard notice naming the clinic.",
    )
    clinic_anonymise_after_years = fields.Integer(
        string="Anonymise patients with no visit for (years)",
        default=0,
        help="0: never. Patients with no visit (of any kind) and no change for this many years are listed "
        "for anonymisation, then anonymised after the notice period unless kept.",
    )
    clinic_anonymise_notice_days = fields.Integer(
        string="Notice before anonymising (days)",
        default=30,
        help="How long a patient stays on the list of patients due for anonymisation before the "
        "scheduled action anonymises them: time to keep those who must be kept.",
    )

    _sql_constraints = [
        (
            "clinic_anonymise_check",
            "CHECK(clinic_anonymise_after_years >= 0 AND clinic_anonymise_notice_days >= 0)",
            "The retention period and the notice are counted in whole years and days.",
        ),
        (
            "clinic_complaint_threshold_check",
            "CHECK(clinic_complaint_threshold BETWEEN 0 AND 5)",
            "The complaint threshold is a score from 0 (never) to 5.",
        ),
        (
            "clinic_lifecycle_days_check",
            "CHECK(clinic_new_days > 0 AND clinic_lapse_days > 0 AND clinic_active_days > clinic_lapse_days)",
            "The active window must be longer than the lapse delay, and both positive.",
        ),
        (
            "clinic_quiet_hours_check",
            "CHECK(clinic_quiet_start >= 0 AND clinic_quiet_start < 24 "
            "AND clinic_quiet_end >= 0 AND clinic_quiet_end < 24)",
            "Quiet hours go from 00:00 to 23:59.",
        ),
        (
            "clinic_message_retry_check",
            "CHECK(clinic_daily_cap >= 0 AND clinic_message_max_attempts >= 1 AND clinic_message_retry_minutes >= 1)",
            "A message is tried at least once, retries wait at least a minute and the daily cap is not negative.",
        ),
    ]

    def _clinic_sla_hours(self, severity):
        self.ensure_one()
        return self[f"clinic_sla_{severity or 'medium'}_hours"] or 72

    def _clinic_privacy_notice(self, as_text=False):
        """The privacy notice of the public form, in the context's language:
        the clinic's own, else a standard one."""
        self.ensure_one()
        notice = self.clinic_privacy_notice
        if is_html_empty(notice):
            # plain text: shown escaped on the page, kept as is on the complaint
            return self.env._(
                "%(clinic)s uses your name, phone number and e-mail address only to handle your complaint "
                "and to answer you, and keeps them as long as the law on medical records requires. You may "
                "ask to see, correct or delete them, and withdraw this consent, by writing to us.",
                clinic=self.name,
            )
        return html2plaintext(notice) if as_text else notice

    @api.model
    def _clinic_default_tz(self, country=None):
        """The zone a clinic most likely works in: the user's own zone (the
        one installing the module or creating the company), else the main
        zone of the company's country. Empty when neither is known: the
        settings and the dashboard then ask for it."""
        user_tz = self.env.context.get("tz") or self.env.user.tz
        if user_tz in pytz.all_timezones_set and not self.env.user._is_superuser():
            return user_tz
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        if admin and admin.tz in pytz.all_timezones_set:
            return admin.tz
        country = country or self.env.company.country_id
        zones = pytz.country_timezones.get((country.code or "").lower(), []) if country else []
        return zones[0] if zones else False

    @api.model
    def _clinic_init_tz(self):
        """At install (and upgrade): give every company without a clinic time
        zone the most likely one (see ``_clinic_default_tz``)."""
        for company in self.sudo().search([("clinic_tz", "=", False)]):
            zone = company.partner_id.tz or self._clinic_default_tz(company.country_id)
            if zone:
                company.clinic_tz = zone
        return True
