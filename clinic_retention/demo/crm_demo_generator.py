"""CRM demo data: prospects of every grade, stage and source over the last
five months, treatment plans at every step, referrals, and reactivation
opportunities, so that the pipeline and the conversion, treatment and
referral reports show real shapes.

Called from ``demo/clinic_crm_demo.xml`` through
``crm.lead._clinic_demo_generate``. Running it twice creates nothing the
second time. Deterministic (a seeded random generator), relative to today.
"""

import random
from datetime import datetime, time, timedelta

from odoo import fields

from .demo_generator import _mobile_number

XMLID = "clinic_retention.demo_crm_lead_"

# (contact, country, department, grade, source, chief complaint, recorded days ago, outcome, referrer)
# outcome: new, reached, booked (upcoming visit), reinvite (no-show), won (visit done), lost:<reason xmlid>
PROSPECTS = [
    ("陈晓燕", "CN", "dental", "A", "referral", "右下后牙剧痛三天，夜间加重", 9, "booked", "patient"),
    ("王建国", "CN", "dental", "B", "free_screening", "体检发现两颗龋齿", 24, "won", None),
    ("刘敏", "CN", "dental", "C", "website", "想做牙齿矫正，担心费用", 35, "reached", None),
    ("赵丽", "CN", "dental", "D", "social", "牙齿发黄，想咨询美白", 48, "lost:crm_lost_reason_not_now", None),
    ("孙浩", "CN", "dental", "B", "free_screening", "牙龈出血", 61, "won", None),
    ("周婷", "CN", "dental", "E", "free_screening", "陪孩子来筛查，自己暂无不适", 70, "new", None),
    ("吴强", "CN", "dental", "A", "phone_in", "智齿发炎，脸肿", 3, "new", None),
    ("郑洁", "CN", "dental", "C", "referral", "缺牙两年，考虑种植", 95, "lost:crm.lost_reason_1", "practice"),
    ("Мария Васильева", "RU", "dental", "B", "website", "Скол переднего зуба", 14, "reinvite", None),
    ("Дмитрий Орлов", "RU", "dental", "A", "walk_in", "Острая боль, выпала пломба", 40, "won", None),
    ("Екатерина Белова", "RU", "dental", "D", "social", "Хочу профессиональную чистку", 120, "won", None),
    ("Никита Соколов", "RU", "cardiology", "B", "phone_in", "Давление 160/100 по утрам", 18, "booked", None),
    ("Ольга Миронова", "RU", "cardiology", "A", "referral", "Боль в груди при нагрузке", 30, "won", "doctor"),
    ("Виктор Зайцев", "RU", "cardiology", "C", "website", "Перебои в сердце, боится обследования", 55, "reached", None),
    ("مینا رستمی", "IR", "cardiology", "B", "free_screening", "فشار خون بالا در غربالگری", 22, "won", None),
    (
        "بهرام صالحی",
        "IR",
        "cardiology",
        "D",
        "free_screening",
        "سابقه خانوادگی بیماری قلبی",
        80,
        "lost:crm_lost_reason_no_longer_needed",
        None,
    ),
    ("ندا جلالی", "IR", "cardiology", "E", "social", "سوال درباره چکاپ سالانه", 100, "new", None),
    ("سعید مرادی", "IR", "physiotherapy", "A", "referral", "درد شدید کمر پس از بلند کردن بار", 6, "reached", "doctor"),
    ("فرزانه کریمی", "IR", "physiotherapy", "B", "walk_in", "درد زانو هنگام بالا رفتن از پله", 27, "won", None),
    ("آرش نادری", "IR", "physiotherapy", "C", "website", "درد گردن، کار پشت کامپیوتر", 44, "reinvite", None),
    ("Hannah Becker", "DE", "physiotherapy", "B", "referral", "Rehab after knee surgery", 12, "booked", "patient"),
    (
        "Tom Wilson",
        "GB",
        "physiotherapy",
        "C",
        "phone_in",
        "Shoulder stiffness for months",
        66,
        "lost:crm_lost_reason_went_elsewhere",
        None,
    ),
    (
        "Laura Rossi",
        "IT",
        "physiotherapy",
        "D",
        "social",
        "Posture check before marathon training",
        90,
        "reached",
        None,
    ),
    ("Ahmed Hassan", "AE", "general", "A", "walk_in", "High fever and cough for four days", 2, "won", None),
    ("Julia Nowak", "PL", "general", "B", "website", "Tired all the time, wants blood tests", 20, "won", None),
    ("Marco Silva", "PT", "general", "C", "free_screening", "Borderline blood sugar at screening", 38, "reached", None),
    (
        "Emily Clark",
        "US",
        "general",
        "D",
        "referral",
        "Travel vaccinations",
        52,
        "lost:crm_lost_reason_moved_away",
        "patient",
    ),
    ("Yuki Sato", "JP", "general", "E", "social", "Asked about a general check-up", 75, "new", None),
    ("Lena Svensson", "SE", "general", "B", "phone_in", "Persistent headaches", 110, "won", None),
    (
        "Omar Farouk",
        "MA",
        "general",
        "C",
        "website",
        "Type 2 diabetes, wants a second opinion",
        130,
        "lost:crm_lost_reason_not_now",
        None,
    ),
]

SOURCES = {
    "referral": "utm_source_referral",
    "free_screening": "utm_source_free_screening",
    "website": "utm_source_website",
    "phone_in": "utm_source_phone_in",
    "walk_in": "utm_source_walk_in",
    "social": "utm_source_social",
}

DEPARTMENTS = {
    "dental": ("department_dental", "user_cs_olga", "service_dental_checkup"),
    "cardiology": ("department_cardiology", "user_cs_olga", "service_cardiac_checkup"),
    "physiotherapy": ("department_physiotherapy", "user_cs_reza", "service_physio_session"),
    "general": ("department_general", "user_cs_reza", "service_consultation"),
}

# (patient index in the demo, department, [(service, price)], urgency, proposed days ago, outcome)
PLANS = [
    (0, "dental", [("service_root_canal", 420), ("service_tooth_extraction", 150)], "urgent", 4, "proposed"),
    (4, "dental", [("service_root_canal", 460)], "soon", 12, "accepted"),
    (8, "dental", [("service_scaling", 90), ("service_dental_checkup", 60)], "elective", 40, "proposed"),
    (12, "dental", [("service_root_canal", 420)], "soon", 25, "booked"),
    (16, "dental", [("service_tooth_extraction", 150)], "urgent", 60, "done"),
    (20, "dental", [("service_root_canal", 480), ("service_scaling", 90)], "soon", 75, "declined"),
    (1, "cardiology", [("service_cardiac_checkup", 140), ("service_ecg", 70)], "soon", 18, "accepted"),
    (5, "cardiology", [("service_ecg", 70)], "urgent", 50, "done"),
    (2, "physiotherapy", [("service_post_surgery_rehab", 75)] * 6, "soon", 9, "booked"),
    (6, "physiotherapy", [("service_physio_session", 55)] * 8, "elective", 33, "declined"),
    (10, "physiotherapy", [("service_back_pain", 55)] * 4, "soon", 70, "proposed"),
    (3, "general", [("service_diabetes", 65), ("service_consultation", 50)], "soon", 15, "proposed"),
]


def _at(day, hour):
    return datetime.combine(day, time(hour, 0))


def generate(env):
    if env.ref(XMLID + "01", raise_if_not_found=False):
        return
    rng = random.Random(20261125)
    ref = env.ref
    now = fields.Datetime.now()
    today = fields.Date.context_today(env["crm.lead"])
    countries = {c.code: c for c in env["res.country"].search([])}
    Lead = env["crm.lead"].sudo().with_context(mail_create_nolog=True, mail_activity_quick_update=True)
    referrers = {
        "patient": ref("clinic_retention.demo_patient_01").partner_id,
        "practice": ref("clinic_retention.demo_partner_green_valley"),
        "doctor": ref("clinic_retention.demo_partner_dr_petrova"),
    }

    leads = Lead.browse()
    for index, (name, country, dept_key, grade, source, complaint, days_ago, outcome, referrer) in enumerate(
        PROSPECTS, start=1
    ):
        department_xmlid, agent_xmlid, service_xmlid = DEPARTMENTS[dept_key]
        department = ref("clinic_retention." + department_xmlid)
        recorded = _at(today - timedelta(days=days_ago), 9 + index % 8)
        lead = Lead.create(
            {
                "name": f"{name} — {complaint}",
                "type": "opportunity",
                "contact_name": name,
                "phone": _mobile_number(rng, country),
                "email_from": f"prospect.{index:02d}@example.com" if index % 3 else False,
                "country_id": countries[country].id,
                "clinic_department_id": department.id,
                "clinic_grade_id": ref(f"clinic_retention.need_grade_{grade.lower()}").id,
                "clinic_chief_complaint": complaint,
                "clinic_service_id": ref("clinic_retention." + service_xmlid).id,
                "clinic_referrer_id": referrers[referrer].id if referrer else False,
                "clinic_care_consent": index % 5 != 0,
                "clinic_consent_source": "phone",
                "clinic_channel": rng.choice(["phone", "sms", "messaging"]),
                "source_id": ref("clinic_retention." + SOURCES[source]).id,
                "medium_id": ref(
                    "utm.utm_medium_phone" if source in ("phone_in", "referral") else "utm.utm_medium_website"
                ).id,
                "campaign_id": ref("clinic_retention.demo_utm_campaign_screening").id
                if source == "free_screening"
                else False,
                "user_id": ref("clinic_retention." + agent_xmlid).id,
                "clinic_prospect_date": recorded,
            }
        )
        _play(env, lead, outcome, recorded, today, now, rng)
        leads |= lead
    env["ir.model.data"]._update_xmlids(
        [
            {"xml_id": f"{XMLID}{index:02d}", "record": lead, "noupdate": True}
            for index, lead in enumerate(leads, start=1)
        ]
    )
    _treatment_plans(env, rng, today)
    # Lapsed dental patients: reactivation opportunities from the demo rule
    rule = ref("clinic_retention.demo_recall_rule_dental_reactivation")
    more = True
    while more:
        _created, more = env["clinic.recall.rule"].sudo()._run_batch(rules=rule)


def _play(env, lead, outcome, recorded, today, now, rng):
    """Move ``lead`` through the pipeline as staff would have, then date the
    steps as they happened (``recorded`` is when the need was recorded)."""
    Visit = env["clinic.visit"].sudo()
    reached = recorded + timedelta(hours=rng.randint(2, 70))
    booked = reached + timedelta(hours=rng.randint(1, 30))
    dates = {}
    if outcome == "new":
        return
    if outcome.startswith("lost:"):
        lead._clinic_move_to("reached")
        reason = outcome[5:]
        lead.action_set_lost(lost_reason_id=env.ref(reason if "." in reason else "clinic_retention." + reason).id)
        lead.write({"clinic_reached_date": reached})
        return
    if outcome == "reached":
        lead._clinic_move_to("reached")
        lead.write({"clinic_reached_date": min(reached, now)})
        return
    patient = lead._clinic_ensure_patient()
    visit_start = _at((booked + timedelta(days=rng.randint(2, 9))).date(), 9 + rng.randint(0, 8))
    if outcome == "booked":
        visit_start = _at(today + timedelta(days=rng.randint(1, 10)), 9 + rng.randint(0, 8))
        booked = min(booked, now)
    visit = Visit.create(
        {
            "patient_id": patient.id,
            "department_id": lead.clinic_department_id.id,
            "service_id": lead.clinic_service_id.id,
            "start": visit_start,
            "stop": visit_start + timedelta(minutes=30),
            "lead_id": lead.id,
        }
    )
    if outcome == "won":
        visit.write({"state": "done", "amount": rng.choice([60, 90, 140, 150, 200])})
    elif outcome == "reinvite":
        visit.write({"state": "no_show"})
    dates.update(clinic_reached_date=min(reached, now), clinic_booked_date=min(booked, now))
    lead.write(dates)


def _treatment_plans(env, rng, today):
    ref = env.ref
    Plan = env["clinic.treatment.plan"].sudo().with_context(mail_create_nolog=True, mail_activity_quick_update=True)
    Visit = env["clinic.visit"].sudo()
    for patient_index, dept_key, lines, urgency, days_ago, outcome in PLANS:
        department_xmlid, agent_xmlid, _service = DEPARTMENTS[dept_key]
        department = ref("clinic_retention." + department_xmlid)
        patient = ref(f"clinic_retention.demo_patient_{patient_index + 1:02d}")
        consultation = Visit.search(
            [("patient_id", "=", patient.id), ("state", "=", "done")], order="start desc", limit=1
        )
        services = [ref("clinic_retention." + xmlid) for xmlid, _price in lines]
        plan = Plan.create(
            {
                "name": " + ".join(dict.fromkeys(service.name for service in services)),
                "patient_id": patient.id,
                "department_id": department.id,
                "visit_id": consultation.id if consultation.department_id == department else False,
                "doctor_id": consultation.doctor_id.id,
                "user_id": ref("clinic_retention." + agent_xmlid).id,
                "urgency": urgency,
                "line_ids": [
                    (0, 0, {"service_id": service.id, "amount": price * rng.uniform(0.95, 1.1)})
                    for service, (_xmlid, price) in zip(services, lines, strict=True)
                ],
            }
        )
        plan.write({"proposed_date": today - timedelta(days=days_ago)})
        if outcome in ("accepted", "booked", "done"):
            plan.action_accept()
        if outcome in ("booked", "done"):
            start = (
                _at(today + timedelta(days=rng.randint(2, 12)), 10)
                if outcome == "booked"
                else _at(today - timedelta(days=days_ago - 7), 10)
            )
            visit = Visit.create(
                {
                    "patient_id": patient.id,
                    "department_id": department.id,
                    "service_id": services[0].id,
                    "start": start,
                    "stop": start + timedelta(minutes=60),
                    "treatment_plan_id": plan.id,
                }
            )
            if outcome == "done":
                visit.write({"state": "done", "amount": plan.amount_total})
        elif outcome == "declined":
            plan.lead_id.action_set_lost(
                lost_reason_id=ref(
                    "crm.lost_reason_1" if plan.amount_total > 300 else "clinic_retention.crm_lost_reason_not_now"
                ).id
            )
