from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL

# Private context keys of ``_create_batch`` (never set them elsewhere):
# the batch's company consistency was checked at once, and the rows carry
# the defaults worked out once for the batch.
BATCH_COMPANY_CHECKED = "clinic_followup_task_batch_company_checked"
BATCH_DEFAULTS_GIVEN = "clinic_followup_task_batch_defaults_given"


class ClinicFollowupTask(models.Model):
    """Creating many tasks at once (the recall engine opens thousands a
    night) as create() does, with two checks it makes record by record made
    once for the whole batch: the company consistency of the related
    records (one query) and the default values (one ``default_get`` per set
    of given fields). The tasks stay regular ORM records: access check,
    computed fields, constraints, chatter."""

    _inherit = "clinic.followup.task"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _create_batch(self, vals_list):
        """``create(vals_list)``, with the company check made once for the
        batch when it can be (see ``_batch_companies_consistent``). When it
        cannot, or a related record belongs to another company, the rows
        go through create() as they are: Odoo's own check refuses the batch
        with its usual error."""
        if len(vals_list) < 2 or not self._batch_companies_consistent(vals_list):
            return self.create(vals_list)
        tasks = self.with_context(**{BATCH_COMPANY_CHECKED: True}).create(vals_list)
        return tasks.with_env(self.env)  # the key must not follow the records

    @api.model
    def _batch_companies_consistent(self, vals_list):
        """Whether every company-checked relation given in ``vals_list``
        belongs to the task's company (its department's) or to none, as
        ``_check_company`` would find record by record: one query for the
        batch, with each related model's ``_check_company_domain``. False
        (check record by record) for anything this does not cover."""
        checked = [field for field in self._fields.values() if field.relational and field.check_company]
        if any(field.type != "many2one" or field.company_dependent or field.compute for field in checked):
            return False
        if not all(vals.get("department_id") for vals in vals_list):
            return False
        # a company-checked field left out of the values must not get a value from a default
        given = {field.name for field in checked if any(field.name in vals for vals in vals_list)}
        if self.default_get([field.name for field in checked if field.name not in given]):
            return False
        departments = self.env["clinic.department"].sudo().browse({vals["department_id"] for vals in vals_list})
        company_of = {department.id: department.company_id for department in departments}
        wanted = defaultdict(set)  # (field name, company) -> ids
        for vals in vals_list:
            company = company_of[vals["department_id"]]
            if vals.get("company_id", company.id) != company.id:
                return False  # recomputed from the department at the flush, after the check
            for name in given:
                if not isinstance(vals.get(name) or 0, int):
                    return False  # a record or a command, not an id
                if vals.get(name):
                    wanted[name, company].add(vals[name])
        if not wanted:
            return True
        counts = []
        for (name, company), ids in wanted.items():
            Comodel = self.env[self._fields[name].comodel_name].sudo().with_context(active_test=False)
            query = Comodel._search([("id", "in", list(ids))] + Comodel._check_company_domain(company))
            counts.append(SQL("(%s)", query.select(SQL("COUNT(*)"))))
        [found] = self.env.execute_query(SQL("SELECT %s", SQL(", ").join(counts)))
        return list(found) == [len(ids) for ids in wanted.values()]

    @api.model
    def _new_task_computed_values(self, department, stage):
        """The stored computed fields of a new task of ``department`` in
        ``stage``, with no outcome and no recovery score yet. Given in the
        create values, they are inserted with the row: the flush still
        computes them (and would correct a wrong one) but finds them equal,
        so it does not update every new row again."""
        return {
            "company_id": department.company_id.id,
            "state": stage.kind,
            "is_closed": stage.is_closed,
            "is_success": False,
            "recovery_score": 0.0,
        }

    def _check_company(self, fnames=None):
        # create() of a batch whose companies ``_create_batch`` checked at once
        if fnames is None and self.env.context.get(BATCH_COMPANY_CHECKED):
            return
        super()._check_company(fnames)

    def _prepare_create_values(self, vals_list):
        """In a batch (``_create_batch``), the rows that give the same fields
        get the same defaults (from the context and ``ir.default``): ask
        ``default_get`` once per set of fields, not once per row. Only when
        no missing field has a default of its own (which may differ per
        record): the recall engine gives every such field."""
        if not self.env.context.get(BATCH_COMPANY_CHECKED) or self._inherits:
            return super()._prepare_create_values(vals_list)
        shared = {}
        for vals in vals_list:
            names = frozenset(vals)
            if names not in shared:
                missing = [name for name in self._fields if name not in names]
                if any(self._fields[name].default or self._fields[name].type == "properties" for name in missing):
                    return super()._prepare_create_values(vals_list)
                defaults = self.default_get(missing)
                if any(self._fields[name].type in ("one2many", "many2many") for name in defaults):
                    return super()._prepare_create_values(vals_list)
                shared[names] = defaults
        completed = [dict(shared[frozenset(vals)], **vals) for vals in vals_list]
        given = self.with_context(**{BATCH_DEFAULTS_GIVEN: True})
        return super(ClinicFollowupTask, given)._prepare_create_values(completed)

    def _add_missing_default_values(self, values):
        if self.env.context.get(BATCH_DEFAULTS_GIVEN):
            return values  # completed by _prepare_create_values above
        return super()._add_missing_default_values(values)
