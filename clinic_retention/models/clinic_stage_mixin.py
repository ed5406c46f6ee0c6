from odoo import api, models
from odoo.exceptions import UserError


class ClinicStageMixin(models.AbstractModel):
    """Kanban stages that carry a *kind* the code relies on (a follow-up
    "Done", a complaint "Resolved"): find the stage of a kind, show every
    stage as a column, move records to a kind. Shared by follow-up tasks and
    complaints; ``_stage_model`` names the stage model. When the stage model
    has ``department_ids``, a department's own stages come first, then the
    shared ones (stages with no department)."""

    _name = "clinic.stage.mixin"
    _description = "Stages with a kind"
    _stage_model = None

    def _stages_per_department(self):
        return "department_ids" in self.env[self._stage_model]._fields

    @api.model
    def _stage_of_kind(self, kind, department=None):
        """The first stage of ``kind`` (for ``department`` when stages are per department)."""
        Stage = self.env[self._stage_model].sudo()
        if not self._stages_per_department():
            return Stage.search([("kind", "=", kind)], limit=1)
        if department:
            stage = Stage.search([("kind", "=", kind), ("department_ids", "in", department.ids)], limit=1)
            if stage:
                return stage
        return Stage.search([("kind", "=", kind), ("department_ids", "=", False)], limit=1)

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        """Every column, empty or not (of the board's department, if any)."""
        search_domain = []
        if self._stages_per_department():
            search_domain = [("department_ids", "=", False)]
            department_id = self.env.context.get("default_department_id")
            if department_id:
                search_domain = ["|", ("department_ids", "in", [department_id])] + search_domain
            search_domain = ["|", ("id", "in", stages.ids)] + search_domain
        stages_sudo = stages.sudo()
        return stages_sudo.search(search_domain, order=stages._order).with_env(stages.env)  # pylint: disable=no-search-all  # a board's columns

    def _move_to(self, kind, **vals):
        """Move the records to the stage of ``kind`` of their department,
        writing ``vals`` too (one write per department)."""
        for department, records in self.grouped("department_id").items():
            stage = self._stage_of_kind(kind, department)
            if not stage:
                raise UserError(self.env._("No stage of kind %(kind)s is configured.", kind=kind))
            records.write(dict(vals, stage_id=stage.id))
        return True
