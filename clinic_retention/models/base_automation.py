import logging
import math
import threading
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.addons.base_automation.models.base_automation import DATE_RANGE_FUNCTION
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
DEFAULT_BATCH_SIZE = 1000
# Errors that say "try the whole transaction again", not "this record is bad".
TRANSIENT_DB_ERRORS = (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected)


def _ceil_to_slot(when):
    minutes = math.ceil((when.minute * 60 + when.second + when.microsecond / 1e6) / (SLOT_MINUTES * 60))
    return when.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes * SLOT_MINUTES)


class BaseAutomation(models.Model):
    """Time-based automation rules that are on time, cheap at scale and
    fault-tolerant ("precise" rules). This extension knows nothing of the
    records it runs on; any model can have precise rules.

    Stock time-based rules run from one cron every few hours, search every
    record matching their domain, filter them in Python and run their actions
    record by record. A precise rule instead:

    * is run at its records' due time by its own scheduled action: creating
      a record, or changing its date or a field of the rule's domain,
      schedules that action (``ir.cron._trigger``) for the 5-minute slot the
      record is due in, and every run schedules the next due record;
    * scans only the records due since its last run (a range on the date
      field, served by an index), never all history, not even on its first
      run; plus the records created or changed since then that became due
      at once (booked after the due time, e.g. a reminder "the day before"
      for a visit booked 20 hours ahead), unless fewer than "minimum lead"
      hours remain before their date: those go to the model's
      ``_precise_automation_too_late(rule)`` hook, when it has one;
    * runs its actions once per batch of records, each batch in a savepoint,
      committing per batch when run by its cron. A batch that fails is run
      again record by record, so one bad record stops nothing: the others,
      the other rules and the stock rules all run, and ``last_run`` advances;
    * after the pass, calls ``_precise_automation_after_pass(rules)`` on the
      models it ran on, when they have it (e.g. to send what was queued).

    It stays a base.automation record: administrators see, edit, disable
    and copy it under Automation Rules. Its actions must be idempotent,
    since a record can be seen by two runs.
    """

    _inherit = "base.automation"

    is_precise = fields.Boolean(
        string="Precise timing",
        help="Run at the records' due time, looking only at the records due since the last run, in batches "
        "that cannot stop each other. The actions must be safe to run twice on a record.",
    )
    precise_min_lead_hours = fields.Float(
        string="Minimum lead (hours)",
        help="A record created or moved after its due time is handled at once, unless its date is fewer "
        "than this many hours away (it is then too late, e.g. a reminder for a visit booked an hour ahead).",
    )

    @api.model
    def _search(self, domain, *args, **kwargs):
        # While the stock scheduler runs, it must not see the precise rules:
        # they have their own scheduled action (_cron_precise_check).
        if self.env.context.get("precise_skip"):
            domain = expression.AND([domain, [("is_precise", "=", False)]])
        return super()._search(domain, *args, **kwargs)

    def _check(self, automatic=False, use_new_cursor=False):
        return super(BaseAutomation, self.with_context(precise_skip=True))._check(
            automatic=automatic, use_new_cursor=use_new_cursor
        )

    def write(self, vals):
        result = super().write(vals)
        if {"is_precise", "trg_date_id", "filter_domain"} & vals.keys():
            self._update_registry()
        return result

    # ------------------------------------------------------------------
    # Precise rules
    # ------------------------------------------------------------------

    def _precise_delay(self):
        self.ensure_one()
        return DATE_RANGE_FUNCTION[self.trg_date_range_type](self.trg_date_range or 0)

    def _precise_domain(self):
        self.ensure_one()
        return safe_eval(self.filter_domain, self._get_eval_context()) if self.filter_domain else []

    @api.model
    def _precise_rules(self, model_name=None):
        domain = [("trigger", "=", "on_time"), ("is_precise", "=", True), ("trg_date_id", "!=", False)]
        if model_name:
            domain.append(("model_name", "=", model_name))
        return self.sudo().with_context(active_test=True, precise_skip=False).search(domain)

    @api.model
    def _precise_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param("base_automation.precise_batch_size")
        return int(value or 0) or DEFAULT_BATCH_SIZE

    @api.model
    def _cron_precise_check(self):
        """Scheduled action of the precise rules."""
        automatic = not getattr(threading.current_thread(), "testing", False)
        return self._precise_check(automatic=automatic)

    @api.model
    def _precise_check(self, automatic=False):
        """Run every precise rule on the records due since its last run.
        ``automatic``: commit after each batch (the cron; not in tests)."""
        models_run = {}
        for automation in self._precise_rules():
            now = fields.Datetime.now()
            try:
                if automatic:
                    automation._precise_run(now, automatic=True)
                else:
                    with self.env.cr.savepoint():
                        automation._precise_run(now, automatic=False)
            except TRANSIENT_DB_ERRORS:
                raise
            except Exception:
                if automatic:
                    self.env.cr.rollback()
                _logger.exception("Precise automation rule `%s` (%s) failed", automation.name, automation.id)
            # last_run always advances: a broken rule does not replay its window forever
            automation.write({"last_run": now})
            automation._precise_schedule_next(now)
            models_run.setdefault(automation.model_name, self.browse())
            models_run[automation.model_name] |= automation
            if automatic:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # cron: keep each rule's work
        for model_name, automations in models_run.items():
            hook = getattr(self.env[model_name], "_precise_automation_after_pass", None)
            if hook:
                try:
                    hook(automations, automatic=automatic)
                except TRANSIENT_DB_ERRORS:
                    raise
                except Exception:
                    if automatic:
                        self.env.cr.rollback()
                    _logger.exception("After-pass hook of %s failed", model_name)
        return True

    def _precise_due_records(self, now):
        """(records due now, records too late), in due order."""
        self.ensure_one()
        field = self.trg_date_id.name
        delay = self._precise_delay()
        lower = self.last_run - CATCH_UP if self.last_run else now - FIRST_RUN_CATCH_UP
        Model = self.env[self.model_name].sudo()
        domain = self._precise_domain()
        order = f"{field}, id"
        due = Model.search(
            expression.AND([domain, [(field, ">", lower - delay), (field, "<=", now - delay)]]), order=order
        )
        too_late = Model.browse()
        if now - delay > now:
            # Created or moved since the last run, already past their due time, date still to come.
            late = Model.search(
                expression.AND([domain, [(field, ">", now), (field, "<=", now - delay), ("write_date", ">=", lower)]]),
                order=order,
            )
            late -= due
            min_lead = timedelta(hours=self.precise_min_lead_hours or 0)
            too_late = late.filtered(lambda record: record[field] - now < min_lead)
            due |= late - too_late
        _logger.info("Precise automation rule `%s`: %s record(s) due, %s too late", self.name, len(due), len(too_late))
        return due, too_late

    def _precise_run(self, now, automatic=False):
        self.ensure_one()
        due, too_late = self._precise_due_records(now)
        Model = due.browse()
        too_late_hook = getattr(Model, "_precise_automation_too_late", None)
        batch_size = self._precise_batch_size()
        work = [(ids, False) for ids in split_every(batch_size, due.ids)]
        if too_late and too_late_hook:
            work += [(ids, True) for ids in split_every(batch_size, too_late.ids)]
        for batch_ids, is_too_late in work:
            self._precise_run_batch(Model.browse(batch_ids), is_too_late)
            if automatic:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # cron: one batch at a time
            self.env.flush_all()
            self.env.invalidate_all()  # constant memory however many records are due

    def _precise_run_batch(self, records, is_too_late=False):
        """Run the rule on a batch in a savepoint; if it fails, run it record
        by record, so that only the bad records are left out (and logged)."""

        def run(recs):
            if is_too_late:
                recs._precise_automation_too_late(self)
            else:
                self._precise_run_actions(recs)

        try:
            with self.env.cr.savepoint():
                run(records)
            return
        except TRANSIENT_DB_ERRORS:
            raise
        except Exception:
            _logger.warning(
                "Precise automation rule `%s`: a batch of %s failed, running it record by record",
                self.name,
                len(records),
                exc_info=True,
            )
        for record in records:
            try:
                with self.env.cr.savepoint():
                    run(record)
            except TRANSIENT_DB_ERRORS:
                raise
            except Exception:
                _logger.exception("Precise automation rule `%s` failed on %s", self.name, record)

    def _precise_run_actions(self, records):
        """Run the rule's server actions once on the whole batch."""
        self.ensure_one()
        if "date_automation_last" in records._fields:
            records.date_automation_last = fields.Datetime.now()
        for action in self.sudo().action_server_ids:
            action.with_context(
                records.env.context,  # e.g. what a model's hook tells its actions
                active_model=records._name,
                active_ids=records.ids,
                active_id=records[:1].id,
                precise_automation_id=self.id,
            ).run()

    # ------------------------------------------------------------------
    # Scheduling: run when records become due
    # ------------------------------------------------------------------

    def _precise_schedule_next(self, now):
        """Schedule the precise cron for the next record this rule will be due on."""
        self.ensure_one()
        field = self.trg_date_id.name
        delay = self._precise_delay()
        upcoming = (
            self.env[self.model_name]
            .sudo()
            .search(
                expression.AND([self._precise_domain(), [(field, ">", now - delay)]]), order=f"{field}, id", limit=1
            )
        )
        if upcoming:
            self._precise_trigger_at({_ceil_to_slot(upcoming[field] + delay)})

    @api.model
    def _precise_schedule(self, records):
        """``records`` were created or changed: make sure the precise cron
        runs when the rules become due on them (at once if already due)."""
        if not records:
            return
        now = fields.Datetime.now()
        slots = set()
        for automation in self._precise_rules(records._name):
            field = automation.trg_date_id.name
            delay = automation._precise_delay()
            for value in records.mapped(field):
                if not value:
                    continue
                due = fields.Datetime.to_datetime(value) + delay
                if due > now:
                    slots.add(_ceil_to_slot(due))
                elif value > now:
                    slots.add(now)  # already due (a late booking): at once
        self._precise_trigger_at(slots)

    @api.model
    def _precise_trigger_at(self, slots):
        cron = self.env.ref("clinic_retention.ir_cron_precise_automation", raise_if_not_found=False)
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

    def _register_hook(self):
        """Patch ``create``/``write`` of the models that have precise rules so
        that new or moved records schedule the precise cron (core patches
        models for its own triggers the same way, and removes both patches
        in ``_unregister_hook``)."""
        result = super()._register_hook()

        def make_create():
            @api.model_create_multi
            def create(self, vals_list, **kw):
                records = create.origin(self, vals_list, **kw)
                self.env["base.automation"].sudo()._precise_schedule(records)
                return records

            return create

        def make_write(watched):
            def write(self, vals, **kw):
                result = write.origin(self, vals, **kw)
                if watched & vals.keys():
                    self.env["base.automation"].sudo()._precise_schedule(self)
                return result

            return write

        watched_by_model = {}
        for automation in self._precise_rules():
            watched = watched_by_model.setdefault(automation.model_name, set())
            watched.add(automation.trg_date_id.name)
            try:
                leaves = [leaf for leaf in automation._precise_domain() if isinstance(leaf, (list, tuple))]
            except Exception:  # a broken domain only stops that rule (see _precise_check)
                leaves = []
            watched.update(str(leaf[0]).split(".")[0] for leaf in leaves)
        for model_name, watched in watched_by_model.items():
            if model_name not in self.env:
                continue
            ModelClass = self.env.registry[model_name]
            for name, method in (("create", make_create()), ("write", make_write(frozenset(watched)))):
                method.origin = getattr(ModelClass, name)
                setattr(ModelClass, name, method)
        return result
