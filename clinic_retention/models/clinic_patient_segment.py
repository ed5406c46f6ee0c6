from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

# High-value patients: the top tenth of a clinic's patients by the revenue of
# their completed visits over the last 12 months (at least one patient per
# clinic that has any revenue; ties at the cut-off are all included).
HIGH_VALUE_SHARE = 0.10
HIGH_VALUE_MONTHS = 12
COMPLAINT_DAYS = 90

SEGMENTS = (
    "segment_lapsed",
    "segment_lost",
    "segment_recall_due",
    "segment_high_value",
    "segment_birthday_month",
    "segment_never_reviewed",
    "segment_complained",
)


class ClinicPatient(models.Model):
    """Segments managers recognise, as search fields on patients: filters in
    the patient list and conditions in a campaign's domain ("Segment: lost
    12+ months is set"). Each is one SQL sub-query, never a loop over the
    patients."""

    # one concern per file: clinic_patient.py would pass the 600-line limit
    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    segment_lapsed = fields.Boolean(
        string="Segment: lapsed 6-12 months",
        compute="_compute_segments",
        search="_search_segment_lapsed",
        help="Last completed visit between 6 and 12 months ago.",
    )
    segment_lost = fields.Boolean(
        string="Segment: lost 12+ months",
        compute="_compute_segments",
        search="_search_segment_lost",
        help="Last completed visit more than 12 months ago.",
    )
    segment_recall_due = fields.Boolean(
        string="Segment: due for recall, not booked",
        compute="_compute_segments",
        search="_search_segment_recall_due",
        help="An open recall follow-up whose due date has come, and no visit booked in the future.",
    )
    segment_high_value = fields.Boolean(
        string="Segment: high-value patient",
        compute="_compute_segments",
        search="_search_segment_high_value",
        help="Among the top 10% of the clinic's patients by the revenue of their completed visits "
        "over the last 12 months (at least one patient per clinic with revenue; ties included).",
    )
    segment_birthday_month = fields.Boolean(
        string="Segment: birthday this month",
        compute="_compute_segments",
        search="_search_segment_birthday_month",
    )
    segment_never_reviewed = fields.Boolean(
        string="Segment: never reviewed",
        compute="_compute_segments",
        search="_search_segment_never_reviewed",
        help="Never answered a satisfaction survey.",
    )
    segment_complained = fields.Boolean(
        string="Segment: complained in the last 90 days",
        compute="_compute_segments",
        search="_search_segment_complained",
        help="A complaint received in the last 90 days. Excluded from campaigns by default.",
    )

    def _compute_segments(self):
        """One query per segment for the whole batch."""
        real = self.filtered("id").with_context(active_test=False)
        for fname in SEGMENTS:
            members = set(real.search([("id", "in", real.ids), (fname, "=", True)]).ids) if real.ids else set()
            for patient in self:
                patient[fname] = patient.id in members

    # ------------------------------------------------------------------
    # Searches: a domain on the stored columns, or ids from one sub-query
    # ------------------------------------------------------------------

    @api.model
    def _segment_search(self, operator, value, members, others):
        """``members`` is the domain of the segment, ``others`` its
        complement; the operator and value say which one is searched."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(
                self.env._("Unsupported search on a segment: %(operator)s %(value)s", operator=operator, value=value)
            )
        return members if (operator == "=") == value else others

    @api.model
    def _segment_ids_search(self, operator, value, query, negate=False):
        """The segment is the patients listed by ``query`` (the others with ``negate``)."""
        listed, unlisted = [("id", "in", SQL("(%s)", query))], [("id", "not in", SQL("(%s)", query))]
        if negate:
            listed, unlisted = unlisted, listed
        return self._segment_search(operator, value, listed, unlisted)

    def _search_segment_lapsed(self, operator, value):
        now = fields.Datetime.now()
        recent, old = now - relativedelta(months=6), now - relativedelta(months=12)
        members = [("last_visit_date", "<", recent), ("last_visit_date", ">=", old)]
        others = [
            "|",
            "|",
            ("last_visit_date", "=", False),
            ("last_visit_date", ">=", recent),
            ("last_visit_date", "<", old),
        ]
        return self._segment_search(operator, value, members, others)

    def _search_segment_lost(self, operator, value):
        limit = fields.Datetime.now() - relativedelta(months=12)
        members = [("last_visit_date", "<", limit)]
        others = ["|", ("last_visit_date", "=", False), ("last_visit_date", ">=", limit)]
        return self._segment_search(operator, value, members, others)

    def _search_segment_recall_due(self, operator, value):
        today = fields.Date.context_today(self)
        query = SQL(
            """
            SELECT task.patient_id
              FROM clinic_followup_task task
             WHERE task.reason = 'recall'
               AND task.active
               AND NOT task.is_closed
               AND task.due_date <= %(today)s
               AND NOT EXISTS (
                    SELECT 1 FROM clinic_visit visit
                     WHERE visit.patient_id = task.patient_id
                       AND visit.state = 'scheduled'
                       AND visit.start >= %(now)s)
            """,
            today=today,
            now=fields.Datetime.now(),
        )
        self.env["clinic.followup.task"].flush_model(["reason", "active", "is_closed", "due_date", "patient_id"])
        self.env["clinic.visit"].flush_model(["patient_id", "state", "start"])
        return self._segment_ids_search(operator, value, query)

    def _search_segment_high_value(self, operator, value):
        since = fields.Datetime.now() - relativedelta(months=HIGH_VALUE_MONTHS)
        query = SQL(
            """
            SELECT ranked.patient_id
              FROM (
                SELECT revenue.patient_id,
                       RANK() OVER (PARTITION BY revenue.company_id ORDER BY revenue.total DESC) AS position,
                       COUNT(*) OVER (PARTITION BY revenue.company_id) AS patients
                  FROM (
                    SELECT visit.patient_id, visit.company_id, SUM(visit.amount) AS total
                      FROM clinic_visit visit
                     WHERE visit.state = 'done'
                       AND visit.start >= %(since)s
                  GROUP BY visit.patient_id, visit.company_id
                    HAVING SUM(visit.amount) > 0
                  ) revenue
              ) ranked
             WHERE ranked.position <= CEIL(ranked.patients * %(share)s)
            """,
            since=since,
            share=HIGH_VALUE_SHARE,
        )
        self.env["clinic.visit"].flush_model(["patient_id", "company_id", "state", "start", "amount"])
        return self._segment_ids_search(operator, value, query)

    def _search_segment_birthday_month(self, operator, value):
        month = fields.Date.context_today(self).month
        query = SQL(
            "SELECT patient.id FROM clinic_patient patient WHERE EXTRACT(MONTH FROM patient.birthdate) = %s",
            month,
        )
        self.flush_model(["birthdate"])
        return self._segment_ids_search(operator, value, query)

    def _search_segment_never_reviewed(self, operator, value):
        query = SQL("SELECT response.patient_id FROM clinic_survey_response response WHERE response.state = 'answered'")
        self.env["clinic.survey.response"].flush_model(["patient_id", "state"])
        # the sub-query lists the patients who did answer: the segment is the others
        return self._segment_ids_search(operator, value, query, negate=True)

    def _search_segment_complained(self, operator, value):
        since = fields.Datetime.now() - relativedelta(days=COMPLAINT_DAYS)
        query = SQL(
            """
            SELECT complaint.patient_id
              FROM clinic_complaint complaint
             WHERE complaint.patient_id IS NOT NULL
               AND complaint.received_date >= %s
            """,
            since,
        )
        self.env["clinic.complaint"].flush_model(["patient_id", "received_date"])
        return self._segment_ids_search(operator, value, query)
