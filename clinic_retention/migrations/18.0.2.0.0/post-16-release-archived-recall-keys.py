"""18.0.2.0.0, issue 16 (security review #17): an archived recall task that
was not closed no longer stands for the patient's recall. In 18.0.1.0.0 it
kept its recall key, so the engine never recalled that patient by that rule
again. Free those keys now (the engine does the same at every run, rule by
rule), so the next run opens the recalls that archiving had suppressed.
Only the key changes (suffixed ``:archived:<id>``); the tasks stay archived."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE clinic_followup_task
           SET recall_key = recall_key || ':archived:' || id
         WHERE NOT active AND NOT is_closed AND rule_id IS NOT NULL
           AND recall_key IS NOT NULL AND recall_key NOT LIKE '%:archived:%'
        """
    )
