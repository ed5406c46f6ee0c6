"""A past campaign with results and a control group, relative to today:
"Autumn check-up", sent by e-mail 60 days ago to the demo patients with an
e-mail address, 20% of them held out; a third opened it, a few clicked and
booked, one of the control group booked too.

Called from ``demo/clinic_campaign_demo.xml`` through
``utm.campaign._clinic_demo_generate``. Running it twice creates nothing the
second time.
"""

import random
from datetime import timedelta

from odoo import fields
from odoo.tools import SQL

XMLID = "clinic_retention_mass_mailing.demo_campaign_autumn_checkup"


def generate(env):
    if env.ref(XMLID, raise_if_not_found=False):
        return
    rng = random.Random(14)
    now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
    sent = now - timedelta(days=60)
    patients = env["clinic.patient"].search([("email", "!=", False), ("company_id", "=", env.company.id)], order="id")
    if len(patients) < 10:
        return
    campaign = env["utm.campaign"].create({"title": "Autumn check-up", "clinic_cost": 120.0})
    env["ir.model.data"].create(
        {
            "module": "clinic_retention_mass_mailing",
            "name": XMLID.split(".")[1],
            "model": "utm.campaign",
            "res_id": campaign.id,
            "noupdate": True,
        }
    )
    mailing = env["mailing.mailing"].create(
        {
            "subject": "Time for your autumn check-up",
            "body_html": "<p>Autumn is a good time for a check-up: book yours online or call us.</p>",
            "mailing_model_id": env["ir.model"]._get("clinic.patient").id,
            "mailing_domain": repr([("segment_complained", "=", False)]),
            "campaign_id": campaign.id,
            "clinic_control_percent": 20,
            "state": "done",
            "sent_date": sent,
        }
    )
    shuffled = list(patients)
    rng.shuffle(shuffled)
    control_size = round(len(shuffled) * 0.2)
    control, recipients = shuffled[:control_size], shuffled[control_size:]
    env["clinic.mailing.control"].create(
        [{"mailing_id": mailing.id, "patient_id": patient.id, "date": sent} for patient in control]
    )
    trace_vals = []
    for index, patient in enumerate(recipients):
        consented = patient.marketing_consent or index % 5 != 0
        opened = consented and index % 3 == 0
        clicked = opened and index % 2 == 0
        trace_vals.append(
            {
                "mass_mailing_id": mailing.id,
                "model": "clinic.patient",
                "res_id": patient.id,
                "email": patient.email,
                "trace_type": "mail",
                "trace_status": ("open" if opened else "sent") if consented else "cancel",
                "failure_type": False if consented else "mail_optout",
                "sent_datetime": sent if consented else False,
                "open_datetime": sent + timedelta(hours=3 + index) if opened else False,
                "links_click_datetime": sent + timedelta(hours=4 + index) if clicked else False,
            }
        )
    env["mailing.trace"].create(trace_vals)
    # bookings: the clickers and a few readers within three weeks, one control patient too
    bookers = [vals["res_id"] for vals in trace_vals if vals["links_click_datetime"]]
    bookers += [vals["res_id"] for vals in trace_vals if vals["trace_status"] == "sent"][:3]
    bookers += [control[0].id]
    department = env["clinic.department"].search([("company_id", "=", env.company.id)], limit=1)
    for index, patient_id in enumerate(bookers):
        booked = sent + timedelta(days=2 + 2 * index, hours=1)
        start = booked + timedelta(days=7)
        visit = env["clinic.visit"].create(
            {
                "patient_id": patient_id,
                "department_id": department.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
                "state": "done" if start < now else "scheduled",
                "amount": rng.choice([180.0, 240.0, 320.0, 450.0]),
            }
        )
        visit.flush_recordset()
        env.cr.execute(SQL("UPDATE clinic_visit SET create_date = %s WHERE id = %s", booked, visit.id))
