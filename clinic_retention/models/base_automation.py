import logging
import math
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.base_automation.models.base_automation import DATE_RANGE_FUNCTION, TIME_TRIGGERS
from odoo.osv import expression
from odoo.tools import split_every
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

# A precise rule's run looks back this far before its last run, to catch
# records whose due time fell while the previous run was going on.
CATCH_UP = timedelta(minutes=15)
# On its very first run a precise rule does not replay all history.
FIRST_RUN_CATCH_UP = timedelta(days=1)
# Runs are scheduled on slots of this many minutes (at most this late).
SLOT_MINUTES = 5
BATCH_SIZE = 1000


def _ceil_to_slot(when):
    minutes = math.ceil((when.minute * 60 + when.second + when.microsecond / 1e6) / (SLOT_MINUTES * 60))
    return when.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes * SLOT_MINUTES)


class BaseAutomation(models.Model):
    """Time-based automation rules that are on time and cheap at scale.

    Stock time-based rules run from one cron every few hours, search every
    record matching their domain, filter them in Python and run their actions
    record by record. A rule marked *precise* instead:

    * is run at its records' due time: creating or moving a record schedules
      the check cron (``ir.cron._trigger``) for the 5-minute slot it is due
      in, and every run schedules the next due record;
    * scans only the records due since its last run (a date range on the
      trigger field, served by an index), never all history, not even on
      its first run;
    * runs its server actions once per batch of records, committing per
      batch when run by the cron.

    It stays a base.automation record: administrators see, edit, disable
    and copy it under Automation Rules. Its actions must be idempotent
    (ours write a ledger), since a record can be seen by two runs.
    """

    _inherit = "base.automation"

    clinic_precise = fields.Boolean(
        string="Precise timing",
        help="Run at the records' due time and look only at records due since the last run, "
        "in batches (Patient Care). The actions must be safe to run twice on a record.",
    )

    @api.model
    def _search(self, domain, *args, **kwargs):
        # While the stock scheduler runs, it must not see the precise rules:
        # this module runs them itself (see _check).
        if self.env.context.get("clinic_skip_precise") and ("trigger", "in", TIME_TRIGGERS) in domain:
            domain = expression.AND([domain, [("clinic_precise", "=", False)]])
        return super()._search(domain, *args, **kwargs)

    def _check(self, automatic=False, use_new_cursor=False):
        result = super(BaseAutomation, self.with_context(clinic_skip_precise=True))._check(
            automatic=automatic, use_new_cursor=use_new_cursor
        )
        self._clinic_check_precise(automatic=automatic)
        return result

    # ------------------------------------------------------------------
    # Precise rules
    # ------------------------------------------------------------------

    def _clinic_delay(self):
        self.ensure_one()
        return DATE_RANGE_FUNCTION[self.trg_date_range_type](self.trg_date_range or 0)

    @api.model
    def _clinic_precise_rules(self, model_name=None):
        domain = [("trigger", "=", "on_time"), ("clinic_precise", "=", True), ("trg_date_id", "!=", False)]
        if model_name:
            domain.append(("model_name", "=", model_name))
        return self.sudo().with_context(active_test=True).search(domain)

    def _clinic_due_domain(self, lower, upper):
        """Records of this rule whose due time (trigger date + delay) is in
        ``(lower, upper]``."""
        self.ensure_one()
        field = self.trg_date_id.name
        delay = self._clinic_delay()
        domain = safe_eval(self.filter_domain, self._get_eval_context()) if self.filter_domain else []
        return expression.AND([domain, [(field, ">", lower - delay), (field, "<=", upper - delay)]])

    @api.model
    def _clinic_check_precise(self, automatic=False):
        for automation in self._clinic_precise_rules():
            now = fields.Datetime.now()
            lower = automation.last_run - CATCH_UP if automation.last_run else now - FIRST_RUN_CATCH_UP
            Model = self.env[automation.model_name].sudo()
            records = Model.search(
                automation._clinic_due_domain(lower, now), order=f"{automation.trg_date_id.name}, id"
            )
            _logger.info("Precise automation rule `%s`: %s record(s) due", automation.name, len(records))
            for batch_ids in split_every(BATCH_SIZE, records.ids):
                automation._clinic_run_actions(Model.browse(batch_ids))
                if automatic:
                    self.env.cr.commit()  # pylint: disable=invalid-commit  # cron: one batch at a time: a crash keeps what was done
                self.env.flush_all()
                self.env.invalidate_all()  # constant memory however many records are due
            automation.write({"last_run": now})
            automation._clinic_schedule_next(now)
            if automatic:
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _clinic_run_actions(self, records):
        """Run the rule's server actions once on the whole batch."""
        self.ensure_one()
        if "date_automation_last" in records._fields:
            records.date_automation_last = fields.Datetime.now()
        for action in self.sudo().action_server_ids:
            action.with_context(
                active_model=records._name,
                active_ids=records.ids,
                active_id=records[:1].id,
                clinic_automation_id=self.id,
            ).run()

    def _clinic_schedule_next(self, now):
        """Schedule the check cron for the next record this rule will be due on."""
        self.ensure_one()
        field = self.trg_date_id.name
        delay = self._clinic_delay()
        domain = safe_eval(self.filter_domain, self._get_eval_context()) if self.filter_domain else []
        upcoming = (
            self.env[self.model_name]
            .sudo()
            .search(expression.AND([domain, [(field, ">", now - delay)]]), order=f"{field}, id", limit=1)
        )
        if upcoming:
            self._clinic_trigger_at({_ceil_to_slot(upcoming[field] + delay)})

    @api.model
    def _clinic_schedule_checks(self, records):
        """``records`` were created or moved: make sure the check cron runs
        when the precise rules become due on them."""
        if not records:
            return
        now = fields.Datetime.now()
        slots = set()
        for automation in self._clinic_precise_rules(records._name):
            field = automation.trg_date_id.name
            delay = automation._clinic_delay()
            for value in records.mapped(field):
                if value and value + delay > now:
                    slots.add(_ceil_to_slot(fields.Datetime.to_datetime(value) + delay))
        self._clinic_trigger_at(slots)

    @api.model
    def _clinic_trigger_at(self, slots):
        cron = self.env.ref("base_automation.ir_cron_data_base_automation_check", raise_if_not_found=False)
        if not cron or not slots:
            return
        cron = cron.sudo()
        existing = set(
            self.env["ir.cron.trigger"]
            .sudo()
            .search([("cron_id", "=", cron.id), ("call_at", "in", list(slots))])
            .mapped("call_at")
        )
        missing = sorted(slots - existing)
        if missing:
            cron._trigger(missing)
