"""Issue 13, before the update: departments become CRM teams.

When an agent belongs to several departments (the former
``clinic_department_member_rel`` table), switch on CRM's "multiple teams"
option now, so that putting them in each department's team (data files,
then ``post-13-crm-teams.py``) does not archive their other memberships.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute("SELECT to_regclass('clinic_department_member_rel') IS NOT NULL")
    if not cr.fetchone()[0]:
        return
    cr.execute(
        """
        SELECT 1 FROM clinic_department_member_rel
      GROUP BY user_id HAVING COUNT(DISTINCT department_id) > 1
         LIMIT 1
        """
    )
    if not cr.fetchone():
        return
    cr.execute(
        """
        INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date)
             VALUES ('sales_team.membership_multi', 'True', 1, 1,
                     now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
        ON CONFLICT (key) DO UPDATE SET value = 'True'
        """
    )
