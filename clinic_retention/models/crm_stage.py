from odoo import api, fields, models
from odoo.exceptions import ValidationError

# What a Patient Care stage means to the automation: a booking moves an
# opportunity to "booked", a no-show to "reinvite"; the won stage (is_won)
# is reached when the visit is done.
CLINIC_STEPS = [
    ("new", "To contact"),
    ("reached", "Reached / invited"),
    ("booked", "Visit booked"),
    ("reinvite", "To re-invite"),
]


class CrmStage(models.Model):
    """CRM stages, split into two pipelines: the sales pipeline Odoo ships
    and the Patient Care pipeline the departments' teams work (prospects,
    reactivations, treatment plans). Each pipeline shows only its stages."""

    _inherit = "crm.stage"

    clinic_pipeline = fields.Boolean(
        string="Patient Care stage",
        index=True,
        help="Used by the departments' pipelines (prospects, reactivations, treatment plans) "
        "instead of the sales pipelines.",
    )
    clinic_step = fields.Selection(
        CLINIC_STEPS,
        string="Patient Care step",
        help="What this stage means to Patient Care: opportunities are moved to the first stage "
        "of the step when a visit is booked (Visit booked), missed (To re-invite), and so on.",
    )

    @api.constrains("clinic_step", "clinic_pipeline", "is_won")
    def _check_clinic_step(self):
        for stage in self:
            if stage.clinic_step and (not stage.clinic_pipeline or stage.is_won):
                raise ValidationError(
                    self.env._(
                        "The stage “%(stage)s” has a Patient Care step: it must be a Patient Care stage "
                        "and not a won stage.",
                        stage=stage.name,
                    )
                )

    @api.model
    def _clinic_stage(self, step, team=None):
        """The first Patient Care stage of ``step`` ("won" for the won
        stage) usable by ``team``: its own stages first, then shared ones."""
        domain = [("clinic_pipeline", "=", True)]
        domain.append(("is_won", "=", True) if step == "won" else ("clinic_step", "=", step))
        team_domain = [("team_id", "=", False)]
        if team:
            team_domain = ["|", ("team_id", "=", False), ("team_id", "=", team.id)]
        stages = self.sudo().search(domain + team_domain, order="sequence, id")
        return (stages.filtered(lambda s: s.team_id) or stages)[:1]
