"""Issue 13, after the update: every department gets its CRM team, whose
members are the department's former customer-service agents (read from
the former ``clinic_department_member_rel`` table, left in place), and the
need grade joins the fields predictive lead scoring learns from."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    members = {}
    cr.execute("SELECT to_regclass('clinic_department_member_rel') IS NOT NULL")
    if cr.fetchone()[0]:
        cr.execute("SELECT department_id, user_id FROM clinic_department_member_rel ORDER BY department_id, user_id")
        for department_id, user_id in cr.fetchall():
            members.setdefault(department_id, []).append(user_id)
    env["clinic.department"]._setup_crm_teams(members)
    env["crm.lead"]._clinic_setup_lead_scoring()
