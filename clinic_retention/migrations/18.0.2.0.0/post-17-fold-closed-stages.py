"""18.0.2.0.0, issue 17 (the agent's board): the shipped Done and Unreachable
follow-up stages are folded on the board, so closed tasks stop piling up as
cards. The stage data is ``noupdate``: an upgrade would not fold them, so this
does it once for the two shipped stages (by XML id), when still unfolded.
Stages a clinic created itself are left as they are."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE clinic_followup_stage s
           SET fold = TRUE
          FROM ir_model_data d
         WHERE d.module = 'clinic_retention'
           AND d.model = 'clinic.followup.stage'
           AND d.name IN ('followup_stage_done', 'followup_stage_unreachable')
           AND d.res_id = s.id
           AND NOT COALESCE(s.fold, FALSE)
        """
    )
