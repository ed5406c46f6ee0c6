from odoo import api, fields, models
from odoo.tools import SQL

# Traces of a message that reached the patient's inbox or phone.
DELIVERED = ("sent", "open", "reply")


class ClinicCampaignReport(models.Model):
    """What each campaign brought back, one row per UTM campaign with
    messages to patients.

    Attribution, last touch: a visit booked (created) within the company's
    window (30 days by default) after a patient received or clicked a
    campaign message is credited to the campaign of the latest such touch
    before the booking. A patient held out as control is "touched" by the
    mailing they were held out of, at its sending; their visits are credited
    to that campaign's control columns the same way, so both groups are
    measured alike. Cancelled visits are not counted; revenue is the amount
    of the attributed visits that were done.

    ROI = (revenue - cost) / cost, the cost being entered on the campaign."""

    _name = "clinic.campaign.report"
    _description = "Campaign Results"
    _auto = False
    _order = "campaign_id desc"
    _rec_name = "campaign_id"

    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    recipient_count = fields.Integer(string="Recipients", readonly=True)
    excluded_count = fields.Integer(string="Excluded", readonly=True, help="Left out: no consent, no usable channel...")
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    clicked_count = fields.Integer(string="Clicked", readonly=True)
    booked_count = fields.Integer(string="Visits booked", readonly=True)
    done_count = fields.Integer(string="Visits done", readonly=True)
    revenue = fields.Float(readonly=True, digits="Account")
    cost = fields.Float(readonly=True, digits="Account")
    roi = fields.Float(string="ROI", readonly=True, aggregator=None, digits=(16, 2), help="(revenue - cost) / cost")
    booked_rate = fields.Float(string="Booked per 100 recipients", readonly=True, aggregator=None, digits=(5, 1))
    control_count = fields.Integer(string="Control group", readonly=True)
    control_booked_count = fields.Integer(string="Control: visits booked", readonly=True)
    control_done_count = fields.Integer(string="Control: visits done", readonly=True)
    control_revenue = fields.Float(string="Control: revenue", readonly=True, digits="Account")
    control_booked_rate = fields.Float(string="Control: booked per 100", readonly=True, aggregator=None, digits=(5, 1))

    _depends = {
        "mailing.trace": [
            "model",
            "res_id",
            "mass_mailing_id",
            "trace_status",
            "sent_datetime",
            "links_click_datetime",
        ],
        "mailing.mailing": ["campaign_id"],
        "clinic.mailing.control": ["mailing_id", "campaign_id", "patient_id", "date"],
        "clinic.visit": ["patient_id", "state", "amount", "create_date"],
        "clinic.patient": ["company_id"],
        "utm.campaign": ["clinic_cost"],
        "res.company": ["clinic_campaign_window_days"],
    }

    @property
    def _table_query(self):
        return SQL(
            """
            WITH trace AS (
                SELECT t.id, t.res_id AS patient_id, m.campaign_id, t.trace_status,
                       t.sent_datetime, t.links_click_datetime
                  FROM mailing_trace t
                  JOIN mailing_mailing m ON m.id = t.mass_mailing_id
                 WHERE t.model = 'clinic.patient' AND m.campaign_id IS NOT NULL
            ), touch AS (
                SELECT patient_id, campaign_id, sent_datetime AS touched, FALSE AS is_control
                  FROM trace
                 WHERE sent_datetime IS NOT NULL AND trace_status NOT IN ('cancel', 'error', 'bounce')
                UNION ALL
                SELECT patient_id, campaign_id, links_click_datetime, FALSE
                  FROM trace
                 WHERE links_click_datetime IS NOT NULL
                UNION ALL
                SELECT patient_id, campaign_id, date, TRUE
                  FROM clinic_mailing_control
                 WHERE campaign_id IS NOT NULL
            ), attributed AS (
                SELECT DISTINCT ON (v.id) v.id, v.state, v.amount, touch.campaign_id, touch.is_control
                  FROM clinic_visit v
                  JOIN clinic_patient p ON p.id = v.patient_id
                  JOIN res_company c ON c.id = p.company_id
                  JOIN touch ON touch.patient_id = v.patient_id
                            AND v.create_date >= touch.touched
                            AND v.create_date < touch.touched + make_interval(days => c.clinic_campaign_window_days)
                 WHERE v.state != 'cancelled'
              ORDER BY v.id, touch.touched DESC, touch.is_control
            ), sent AS (
                SELECT campaign_id,
                       COUNT(*) FILTER (WHERE trace_status != 'cancel') AS recipient_count,
                       COUNT(*) FILTER (WHERE trace_status = 'cancel') AS excluded_count,
                       COUNT(*) FILTER (WHERE trace_status IN %(delivered)s) AS delivered_count,
                       COUNT(*) FILTER (WHERE links_click_datetime IS NOT NULL) AS clicked_count
                  FROM trace
              GROUP BY campaign_id
            ), control AS (
                SELECT campaign_id, COUNT(*) AS control_count
                  FROM clinic_mailing_control
                 WHERE campaign_id IS NOT NULL
              GROUP BY campaign_id
            ), visits AS (
                SELECT campaign_id,
                       COUNT(*) FILTER (WHERE NOT is_control) AS booked_count,
                       COUNT(*) FILTER (WHERE NOT is_control AND state = 'done') AS done_count,
                       COALESCE(SUM(amount) FILTER (WHERE NOT is_control AND state = 'done'), 0) AS revenue,
                       COUNT(*) FILTER (WHERE is_control) AS control_booked_count,
                       COUNT(*) FILTER (WHERE is_control AND state = 'done') AS control_done_count,
                       COALESCE(SUM(amount) FILTER (WHERE is_control AND state = 'done'), 0) AS control_revenue
                  FROM attributed
              GROUP BY campaign_id
            )
            SELECT campaign.id, campaign.id AS campaign_id,
                   COALESCE(sent.recipient_count, 0) AS recipient_count,
                   COALESCE(sent.excluded_count, 0) AS excluded_count,
                   COALESCE(sent.delivered_count, 0) AS delivered_count,
                   COALESCE(sent.clicked_count, 0) AS clicked_count,
                   COALESCE(visits.booked_count, 0) AS booked_count,
                   COALESCE(visits.done_count, 0) AS done_count,
                   COALESCE(visits.revenue, 0) AS revenue,
                   COALESCE(campaign.clinic_cost, 0) AS cost,
                   CASE WHEN campaign.clinic_cost > 0
                        THEN (COALESCE(visits.revenue, 0) - campaign.clinic_cost) / campaign.clinic_cost END AS roi,
                   CASE WHEN sent.recipient_count > 0
                        THEN 100.0 * COALESCE(visits.booked_count, 0) / sent.recipient_count END AS booked_rate,
                   COALESCE(control.control_count, 0) AS control_count,
                   COALESCE(visits.control_booked_count, 0) AS control_booked_count,
                   COALESCE(visits.control_done_count, 0) AS control_done_count,
                   COALESCE(visits.control_revenue, 0) AS control_revenue,
                   CASE WHEN control.control_count > 0
                        THEN 100.0 * COALESCE(visits.control_booked_count, 0) / control.control_count
                   END AS control_booked_rate
              FROM utm_campaign campaign
              LEFT JOIN sent ON sent.campaign_id = campaign.id
              LEFT JOIN control ON control.campaign_id = campaign.id
              LEFT JOIN visits ON visits.campaign_id = campaign.id
             WHERE sent.campaign_id IS NOT NULL OR control.campaign_id IS NOT NULL
            """,
            delivered=DELIVERED,
        )

    # ------------------------------------------------------------------
    # The campaigns of a period (Excel "Campaigns" sheet, dashboard tile)
    # ------------------------------------------------------------------

    @api.model
    def _period_campaigns(self, date_from, date_to):
        """The campaigns with a mailing sent between ``date_from`` and
        ``date_to`` (the clinic's local days), as the user may see them."""
        start, end = self.env["clinic.retention.kpi"]._bounds(date_from, date_to)
        mailings = self.env["mailing.mailing"].search(
            [("campaign_id", "!=", False), ("sent_date", ">=", start), ("sent_date", "<", end)]
        )
        return mailings.campaign_id

    @api.model
    def _period_rows(self, date_from, date_to):
        """The report's rows of the campaigns sent in the period."""
        campaigns = self._period_campaigns(date_from, date_to)
        return self.search([("campaign_id", "in", campaigns.ids)])

    @api.model
    def _period_roi(self, date_from, date_to):
        """ROI of the campaigns sent in the period that have a cost:
        (their revenue - their cost) / their cost; None without any cost."""
        rows = self._period_rows(date_from, date_to).filtered(lambda row: row.cost > 0)
        cost = sum(rows.mapped("cost"))
        if not cost:
            return None
        return (sum(rows.mapped("revenue")) - cost) / cost
