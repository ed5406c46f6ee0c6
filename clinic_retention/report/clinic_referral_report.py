from odoo import api, fields, models, tools
from odoo.tools import SQL

REFERRAL_STATES = [
    ("none", "Referred"),
    ("booked", "Visit booked"),
    ("first_visit", "First visit done"),
    ("in_treatment", "In treatment"),
]

REFERRER_KINDS = [
    ("patient", "Patient"),
    ("organisation", "Organisation"),
    ("contact", "Doctor or other person"),
]


class ClinicReferralReport(models.Model):
    """Referrals: one row per person someone recommended the clinic to,
    a patient whose "Referred by" is set, or a prospect (opportunity with a
    referrer) not yet a patient. The status moves none → visit booked →
    first visit done → in treatment (a second completed visit, or a
    treatment plan accepted, booked or done); a referral is converted when
    the first visit is done, once, whatever follows.

    Ids are derived from the source row, stable from one query to the next:
    2 × patient id for patients, 2 × opportunity id + 1 for prospects."""

    _name = "clinic.referral.report"
    _description = "Referral Analysis"
    _auto = False
    _order = "referral_date desc, id desc"
    _rec_name = "referred_name"

    referrer_id = fields.Many2one("res.partner", readonly=True)
    referrer_kind = fields.Selection(REFERRER_KINDS, readonly=True)
    referred_name = fields.Char(string="Referred person", readonly=True)
    patient_id = fields.Many2one("clinic.patient", string="Referred patient", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    department_id = fields.Many2one("clinic.department", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    referral_date = fields.Datetime(string="Referred on", readonly=True)
    first_visit_date = fields.Datetime(string="First visit", readonly=True)
    state = fields.Selection(REFERRAL_STATES, string="Status", readonly=True)
    referral_count = fields.Integer(string="Referrals", readonly=True)
    converted_count = fields.Integer(string="Converted", readonly=True)
    converted_pct = fields.Float(string="% converted", readonly=True, aggregator="avg", digits=(5, 1))
    days_to_first_visit = fields.Float(string="Days to first visit", readonly=True, aggregator="avg", digits=(6, 1))
    revenue = fields.Float(string="Revenue of the referred", readonly=True)
    visit_count = fields.Integer(string="Visits done", readonly=True)

    _depends = {
        "clinic.patient": ["referred_by_id", "company_id", "partner_id"],
        "clinic.visit": ["patient_id", "state", "start", "amount", "department_id"],
        "crm.lead": ["clinic_referrer_id", "clinic_patient_id", "clinic_department_id", "clinic_prospect_date"],
        "clinic.treatment.plan": ["patient_id", "state"],
    }

    @api.model
    def _query(self):
        return SQL(
            """
            WITH patient_visits AS (
                SELECT v.patient_id,
                       MIN(v.start) FILTER (WHERE v.state = 'done') AS first_visit,
                       COUNT(*) FILTER (WHERE v.state = 'done') AS done_count,
                       SUM(COALESCE(v.amount, 0)) FILTER (WHERE v.state = 'done') AS revenue,
                       BOOL_OR(v.state = 'scheduled') AS has_booking,
                       (ARRAY_AGG(v.department_id ORDER BY v.state = 'done' DESC, v.start))[1] AS department_id
                  FROM clinic_visit v
                  JOIN clinic_patient p ON p.id = v.patient_id AND p.referred_by_id IS NOT NULL
              GROUP BY v.patient_id
            ), referral_leads AS (
                SELECT DISTINCT ON (l.clinic_patient_id)
                       l.clinic_patient_id AS patient_id, l.id, l.clinic_department_id, l.source_id,
                       COALESCE(l.clinic_prospect_date, l.create_date) AS date
                  FROM crm_lead l
                 WHERE l.clinic_patient_id IS NOT NULL AND l.clinic_referrer_id IS NOT NULL
              ORDER BY l.clinic_patient_id, COALESCE(l.clinic_prospect_date, l.create_date), l.id
            )
            SELECT p.id * 2 AS id,
                   p.referred_by_id AS referrer_id,
                   %(referrer_kind)s AS referrer_kind,
                   partner.name AS referred_name,
                   p.id AS patient_id,
                   rl.id AS lead_id,
                   COALESCE(rl.clinic_department_id, pv.department_id) AS department_id,
                   p.company_id AS company_id,
                   rl.source_id AS source_id,
                   COALESCE(rl.date, p.create_date) AS referral_date,
                   pv.first_visit AS first_visit_date,
                   CASE WHEN pv.done_count > 1
                          OR EXISTS (SELECT 1 FROM clinic_treatment_plan tp
                                      WHERE tp.patient_id = p.id AND tp.state IN ('accepted', 'booked', 'done'))
                             AND pv.first_visit IS NOT NULL THEN 'in_treatment'
                        WHEN pv.first_visit IS NOT NULL THEN 'first_visit'
                        WHEN pv.has_booking THEN 'booked'
                        ELSE 'none' END AS state,
                   1 AS referral_count,
                   (pv.first_visit IS NOT NULL)::int AS converted_count,
                   CASE WHEN pv.first_visit IS NOT NULL THEN 100.0 ELSE 0.0 END AS converted_pct,
                   CASE WHEN pv.first_visit IS NOT NULL
                        THEN GREATEST(EXTRACT(EPOCH FROM (pv.first_visit - COALESCE(rl.date, p.create_date)))
                                      / 86400.0, 0)
                   END AS days_to_first_visit,
                   COALESCE(pv.revenue, 0) AS revenue,
                   COALESCE(pv.done_count, 0) AS visit_count
              FROM clinic_patient p
              JOIN res_partner partner ON partner.id = p.partner_id
              JOIN res_partner referrer ON referrer.id = p.referred_by_id
         LEFT JOIN patient_visits pv ON pv.patient_id = p.id
         LEFT JOIN referral_leads rl ON rl.patient_id = p.id
             WHERE p.referred_by_id IS NOT NULL
         UNION ALL
            SELECT l.id * 2 + 1 AS id,
                   l.clinic_referrer_id AS referrer_id,
                   %(referrer_kind)s AS referrer_kind,
                   COALESCE(NULLIF(l.contact_name, ''), l.partner_name, l.name) AS referred_name,
                   NULL AS patient_id,
                   l.id AS lead_id,
                   l.clinic_department_id AS department_id,
                   l.company_id AS company_id,
                   l.source_id AS source_id,
                   COALESCE(l.clinic_prospect_date, l.create_date) AS referral_date,
                   NULL AS first_visit_date,
                   'none' AS state,
                   1 AS referral_count,
                   0 AS converted_count,
                   0.0 AS converted_pct,
                   NULL AS days_to_first_visit,
                   0 AS revenue,
                   0 AS visit_count
              FROM crm_lead l
              JOIN res_partner referrer ON referrer.id = l.clinic_referrer_id
             WHERE l.clinic_referrer_id IS NOT NULL AND l.clinic_patient_id IS NULL
            """,
            referrer_kind=SQL(
                """CASE WHEN EXISTS (SELECT 1 FROM clinic_patient rp WHERE rp.partner_id = referrer.id) THEN 'patient'
                        WHEN referrer.is_company THEN 'organisation'
                        ELSE 'contact' END"""
            ),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))

    # ------------------------------------------------------------------
    # Figures for the Excel export and the dashboard
    # ------------------------------------------------------------------

    @api.model
    def _figures(self, date_from, date_to, department_ids=None, top=10):
        """Referrals made in [date_from, date_to] in the departments the user
        may see: totals, conversion to a first visit, revenue of the referred
        patients, and the ``top`` referrers (most referrals first)."""
        start, end = self.env["clinic.retention.kpi"]._bounds(date_from, date_to)
        departments = self.env["clinic.retention.kpi"]._visible_departments(department_ids)
        domain = [("referral_date", ">=", start), ("referral_date", "<", end)]
        if not department_ids and self.env.user.has_group("clinic_retention.group_clinic_retention_manager"):
            # the whole clinic, with the referred patients who have no visit (nor department) yet
            domain += ["|", ("department_id", "in", departments.ids), ("department_id", "=", False)]
        else:
            domain.append(("department_id", "in", departments.ids))
        [(count, converted, revenue)] = self._read_group(
            domain, [], ["referral_count:sum", "converted_count:sum", "revenue:sum"]
        )
        referrers = (
            self._read_group(
                domain,
                ["referrer_id"],
                ["referral_count:sum", "converted_count:sum", "revenue:sum"],
                order="referral_count:sum desc, converted_count:sum desc, referrer_id",
                limit=top,
            )
            if top
            else []
        )
        by_department = self._read_group(
            domain, ["department_id"], ["referral_count:sum", "converted_count:sum", "revenue:sum"]
        )

        def line(key, n, conv, rev):
            n, conv = n or 0, conv or 0
            rate = conv / n if n else 0.0
            return {"key": key, "referrals": n, "converted": conv, "rate": rate, "revenue": rev or 0.0}

        return {
            **line(False, count, converted, revenue),
            "top_referrers": [line(*group) for group in referrers],
            "by_department": [line(*group) for group in by_department],
        }

    # ------------------------------------------------------------------
    # Thanking the referrer (optional automation rule)
    # ------------------------------------------------------------------

    @api.model
    def _send_referral_thanks(self, visits):
        """The first completed visit of a referred patient: thank the
        referrer by email, once (the visit ledger keeps it once per visit).
        A referrer who is a patient needs their consent to care messages.
        The message never names the referred person (their visit is
        medical information)."""
        visits = visits.sudo().filtered(lambda v: v.state == "done" and v.patient_id.referred_by_id)
        if not visits:
            return self.env["clinic.visit.reminder"]
        first_visits = self.env["clinic.visit"].sudo()
        for visit in visits:
            earlier = (
                self.env["clinic.visit"]
                .sudo()
                .search_count(
                    [
                        ("patient_id", "=", visit.patient_id.id),
                        ("state", "=", "done"),
                        ("id", "!=", visit.id),
                        ("start", "<=", visit.start),
                    ],
                    limit=1,
                )
            )
            if not earlier:
                first_visits |= visit
        Ledger = self.env["clinic.visit.reminder"].sudo()
        blacklisted = set(
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "in", first_visits.patient_id.referred_by_id.mapped("email_normalized"))])
            .mapped("email")
        )
        rows = []
        for visit in first_visits:
            referrer = visit.patient_id.referred_by_id
            referrer_patient = referrer.with_context(active_test=False).patient_ids[:1]
            reason = False
            if referrer_patient and not referrer_patient.care_consent:
                reason = "no_consent"
            elif not referrer.email_normalized:
                reason = "no_email"
            elif referrer.email_normalized in blacklisted:
                reason = "blacklisted"
            rows.append(
                {
                    "visit_id": visit.id,
                    "patient_id": visit.patient_id.id,
                    "company_id": visit.company_id.id,
                    "kind": "referral_thanks",
                    "channel": "email",
                    "visit_start": visit.start,
                    "sent_date": fields.Datetime.now(),
                    "state": "skipped" if reason else "sent",
                    "skip_reason": reason,
                    "automation_id": self.env.context.get("clinic_automation_id") or False,
                    "destination": referrer.email_normalized or False,
                }
            )
        claimed = Ledger._claim(rows)
        template = self.env.ref("clinic_retention.mail_template_referral_thanks").sudo()
        for row in claimed.filtered(lambda r: r.state == "sent"):
            template.send_mail(row.visit_id.id)
        return claimed
