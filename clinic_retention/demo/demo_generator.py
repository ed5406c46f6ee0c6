"""Realistic, deterministic demo data: 61 patients from China, Iran, Russia
and elsewhere, with 18 months of visits in every state, relative to today.

Called from ``demo/clinic_demo.xml`` through ``clinic.patient._demo_generate``.
Running it twice creates nothing the second time.
"""

import random
from datetime import datetime, time, timedelta

import phonenumbers

from odoo import fields

XMLID_PREFIX = "clinic_retention.demo_patient_"

# (name, gender, country code, language)
PATIENTS = [
    ("王芳", "female", "CN", "zh_CN"),
    ("李娜", "female", "CN", "zh_CN"),
    ("张伟", "male", "CN", "zh_CN"),
    ("刘洋", "male", "CN", "zh_CN"),
    ("陈静", "female", "CN", "zh_CN"),
    ("杨磊", "male", "CN", "zh_CN"),
    ("黄敏", "female", "CN", "zh_CN"),
    ("赵强", "male", "CN", "zh_CN"),
    ("周杰", "male", "CN", "zh_CN"),
    ("吴霞", "female", "CN", "zh_CN"),
    ("徐明", "male", "CN", "zh_CN"),
    ("孙丽", "female", "CN", "zh_CN"),
    ("马超", "male", "CN", "zh_CN"),
    ("朱婷", "female", "CN", "zh_CN"),
    ("胡军", "male", "CN", "zh_CN"),
    ("مریم احمدی", "female", "IR", "fa_IR"),
    ("علی رضایی", "male", "IR", "fa_IR"),
    ("زهرا محمدی", "female", "IR", "fa_IR"),
    ("حسین کریمی", "male", "IR", "fa_IR"),
    ("فاطمه حسینی", "female", "IR", "fa_IR"),
    ("محمد جعفری", "male", "IR", "fa_IR"),
    ("سارا موسوی", "female", "IR", "fa_IR"),
    ("رضا نوری", "male", "IR", "fa_IR"),
    ("نرگس صادقی", "female", "IR", "fa_IR"),
    ("امیر رحیمی", "male", "IR", "fa_IR"),
    ("لیلا کاظمی", "female", "IR", "fa_IR"),
    ("مهدی قاسمی", "male", "IR", "fa_IR"),
    ("شیرین تهرانی", "female", "IR", "fa_IR"),
    ("کامران بهرامی", "male", "IR", "fa_IR"),
    ("پریسا عباسی", "female", "IR", "fa_IR"),
    ("Анна Иванова", "female", "RU", "ru_RU"),
    ("Дмитрий Смирнов", "male", "RU", "ru_RU"),
    ("Елена Кузнецова", "female", "RU", "ru_RU"),
    ("Сергей Попов", "male", "RU", "ru_RU"),
    ("Ольга Соколова", "female", "RU", "ru_RU"),
    ("Андрей Лебедев", "male", "RU", "ru_RU"),
    ("Наталья Козлова", "female", "RU", "ru_RU"),
    ("Игорь Новиков", "male", "RU", "ru_RU"),
    ("Татьяна Морозова", "female", "RU", "ru_RU"),
    ("Михаил Волков", "male", "RU", "ru_RU"),
    ("Ирина Павлова", "female", "RU", "ru_RU"),
    ("Алексей Фёдоров", "male", "RU", "ru_RU"),
    ("Светлана Орлова", "female", "RU", "ru_RU"),
    ("Павел Егоров", "male", "RU", "ru_RU"),
    ("Юлия Никитина", "female", "RU", "ru_RU"),
    ("Emma Schneider", "female", "DE", "en_US"),
    ("Lucas Martin", "male", "FR", "en_US"),
    ("James Walker", "male", "GB", "en_US"),
    ("Olivia Johnson", "female", "US", "en_US"),
    ("Mehmet Yılmaz", "male", "TR", "en_US"),
    ("Aisha Al-Mansouri", "female", "AE", "en_US"),
    ("Priya Sharma", "female", "IN", "en_US"),
    ("Carlos García", "male", "ES", "en_US"),
    ("Sofia Rossi", "female", "IT", "en_US"),
    ("Kenji Tanaka", "male", "JP", "en_US"),
    ("Fatima Benali", "female", "MA", "en_US"),
    ("Noah Williams", "male", "US", "en_US"),
    ("Anna Kowalska", "female", "PL", "en_US"),
    ("Lars Nilsson", "male", "SE", "en_US"),
    ("Chloé Dubois", "female", "FR", "en_US"),
    # registered a second time at the front desk, in pinyin: a duplicate to review
    ("Wang Fang", "female", "CN", "zh_CN"),
]

ROMANIZED = {
    "王芳": "wang.fang",
    "李娜": "li.na",
    "张伟": "zhang.wei",
    "刘洋": "liu.yang",
    "陈静": "chen.jing",
    "杨磊": "yang.lei",
    "黄敏": "huang.min",
    "赵强": "zhao.qiang",
    "周杰": "zhou.jie",
    "吴霞": "wu.xia",
    "徐明": "xu.ming",
    "孙丽": "sun.li",
    "马超": "ma.chao",
    "朱婷": "zhu.ting",
    "胡军": "hu.jun",
    "مریم احمدی": "maryam.ahmadi",
    "علی رضایی": "ali.rezaei",
    "زهرا محمدی": "zahra.mohammadi",
    "حسین کریمی": "hossein.karimi",
    "فاطمه حسینی": "fatemeh.hosseini",
    "محمد جعفری": "mohammad.jafari",
    "سارا موسوی": "sara.mousavi",
    "رضا نوری": "reza.nouri",
    "نرگس صادقی": "narges.sadeghi",
    "امیر رحیمی": "amir.rahimi",
    "لیلا کاظمی": "leila.kazemi",
    "مهدی قاسمی": "mehdi.ghasemi",
    "شیرین تهرانی": "shirin.tehrani",
    "کامران بهرامی": "kamran.bahrami",
    "پریسا عباسی": "parisa.abbasi",
    "Анна Иванова": "anna.ivanova",
    "Дмитрий Смирнов": "dmitry.smirnov",
    "Елена Кузнецова": "elena.kuznetsova",
    "Сергей Попов": "sergey.popov",
    "Ольга Соколова": "olga.sokolova",
    "Андрей Лебедев": "andrey.lebedev",
    "Наталья Козлова": "natalya.kozlova",
    "Игорь Новиков": "igor.novikov",
    "Татьяна Морозова": "tatyana.morozova",
    "Михаил Волков": "mikhail.volkov",
    "Ирина Павлова": "irina.pavlova",
    "Алексей Фёдоров": "alexey.fedorov",
    "Светлана Орлова": "svetlana.orlova",
    "Павел Егоров": "pavel.egorov",
    "Юлия Никитина": "yulia.nikitina",
}

CITIES = {
    "CN": ["Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Chengdu"],
    "IR": ["Tehran", "Isfahan", "Shiraz", "Mashhad", "Tabriz"],
    "RU": ["Moscow", "Saint Petersburg", "Kazan", "Novosibirsk", "Yekaterinburg"],
}

OCCUPATIONS = [
    "Teacher",
    "Engineer",
    "Accountant",
    "Nurse",
    "Driver",
    "Retired",
    "Student",
    "Shop owner",
    "Software developer",
    "Civil servant",
    "Chef",
    "Architect",
]

# Department xmlid -> (doctor xmlid, [(service xmlid, base price)])
DEPARTMENTS = {
    "department_dental": (
        "user_doctor_li",
        [
            ("service_dental_checkup", 60),
            ("service_scaling", 90),
            ("service_tooth_extraction", 150),
            ("service_root_canal", 420),
        ],
    ),
    "department_cardiology": (
        "user_doctor_hosseini",
        [("service_hypertension", 80), ("service_cardiac_checkup", 140), ("service_ecg", 70)],
    ),
    "department_physiotherapy": (
        "user_doctor_smirnov",
        [
            ("service_physio_session", 55),
            ("service_post_surgery_rehab", 75),
            ("service_back_pain", 55),
        ],
    ),
    "department_general": (
        "user_doctor_collins",
        [("service_consultation", 50), ("service_diabetes", 65), ("service_vaccination", 35)],
    ),
}


def _mobile_number(rng, country):
    """A valid mobile number of ``country`` in E.164."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    for _attempt in range(200):
        keep = max(3, len(national) - 8)
        digits = national[:keep] + "".join(str(rng.randint(0, 9)) for _i in range(len(national) - keep))
        number = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _email(name, index):
    ascii_name = "".join(c for c in name.lower().replace(" ", ".") if c.isascii() and (c.isalnum() or c == "."))
    return f"{ascii_name or 'patient'}.{index:02d}@example.com"


def _slot(rng, day):
    """A visit slot on ``day`` between 08:00 and 17:30 (UTC, naive)."""
    return datetime.combine(day, time(8, 0)) + timedelta(minutes=30 * rng.randint(0, 19))


def generate(env):
    if env.ref(XMLID_PREFIX + "01", raise_if_not_found=False):
        return
    rng = random.Random(20261122)
    ref = env.ref
    for lang in ("zh_CN", "fa_IR", "ru_RU"):
        env["res.lang"]._activate_lang(lang)
    countries = {c.code: c for c in env["res.country"].search([])}
    today = fields.Date.context_today(env["clinic.patient"])
    now = fields.Datetime.now()

    patient_vals = []
    for index, (name, gender, country, lang) in enumerate(PATIENTS, start=1):
        birth = today.replace(year=today.year - rng.randint(4, 86)) - timedelta(days=rng.randint(0, 364))
        care = rng.random() < 0.85
        marketing = care and rng.random() < 0.45
        vals = {
            "name": name,
            "gender": gender,
            "country_id": countries[country].id,
            "city": rng.choice(CITIES.get(country, ["—"])) if country in CITIES else False,
            "lang": lang,
            "mobile": _mobile_number(rng, country),
            "email": _email(name, index) if rng.random() < 0.8 else False,
            "birthdate": birth,
            "occupation": rng.choice(OCCUPATIONS),
            "insurance_provider": rng.choice(["Ping An", "Iran Insurance", "SOGAZ", "Allianz", False]),
            "insurance_number": f"INS-{country}-{rng.randint(100000, 999999)}",
            "preferred_channel": rng.choice(["phone", "sms", "sms", "email", "messaging"]),
            "care_consent": care,
            "care_consent_source": care and rng.choice(["in_person", "paper_form", "web"]),
            "marketing_consent": marketing,
            "marketing_consent_source": marketing and "paper_form",
            "referral_source": rng.choice(["walk_in", "web", "doctor", "insurer", "social", False]),
        }
        if rng.random() < 0.15:
            vals["allergies"] = rng.choice(["Penicillin", "Latex", "Ibuprofen", "Pollen, dust mites"])
        patient_vals.append(vals)
    # The same person registered twice (same mobile), and a couple sharing an
    # email: both flagged as possible duplicates, neither merged.
    patient_vals[60]["mobile"] = patient_vals[0]["mobile"]
    patient_vals[60]["birthdate"] = patient_vals[0]["birthdate"]
    patient_vals[59]["email"] = patient_vals[46]["email"] = "lucas.chloe.family@example.com"
    # Birthdays this month (the "birthday this month" segment and the
    # birthday greeting have someone to show), spread over the month.
    for offset, index in enumerate((3, 11, 22, 36, 50, 57)):
        birth = patient_vals[index]["birthdate"]
        patient_vals[index]["birthdate"] = birth.replace(month=today.month, day=1 + (today.day + 5 * offset) % 28)

    Patient = env["clinic.patient"].sudo().with_context(tracking_disable=True, mail_create_nolog=True)
    patients = Patient.create(patient_vals)
    env["ir.model.data"]._update_xmlids(
        [
            {"xml_id": f"{XMLID_PREFIX}{index:02d}", "record": patient, "noupdate": True}
            for index, patient in enumerate(patients, start=1)
        ]
    )

    # Chronic conditions and care relationships
    hypertension = ref("clinic_retention.service_hypertension")
    diabetes = ref("clinic_retention.service_diabetes")
    for index, patient in enumerate(patients):
        doctor_xmlid = DEPARTMENTS[list(DEPARTMENTS)[index % len(DEPARTMENTS)]][0]
        patient.doctor_id = ref("clinic_retention." + doctor_xmlid)
    for patient in patients[2::7]:
        patient.chronic_condition_ids = [(4, hypertension.id)]
    for patient in patients[4::9]:
        patient.chronic_condition_ids = [(4, diabetes.id)]
    patients[0].family_member_ids = [(4, patients[1].id), (4, patients[6].id)]
    patients[15].family_member_ids = [(4, patients[20].id)]
    patients[30].family_member_ids = [(4, patients[34].id)]
    for referred, referrer in ((3, 0), (5, 0), (18, 15), (33, 30), (40, 30), (52, 48)):
        patients[referred].write({"referred_by_id": patients[referrer].partner_id.id, "referral_source": "patient"})

    # Visits: every patient gets a profile that shapes 18 months of history.
    departments = {xmlid: ref("clinic_retention." + xmlid) for xmlid in DEPARTMENTS}
    visit_vals = []
    for index, patient in enumerate(patients):
        home_xmlid = list(DEPARTMENTS)[index % len(DEPARTMENTS)]
        profile = rng.choices(["regular", "lapsed", "lost", "new", "chronic"], weights=[40, 20, 15, 10, 15])[0]
        if patient.chronic_condition_ids:
            profile = "chronic"
        if profile == "regular":
            start_ago, end_ago, gap = 540, rng.randint(5, 80), (60, 120)
        elif profile == "lapsed":
            start_ago, end_ago, gap = 540, rng.randint(190, 330), (45, 110)
        elif profile == "lost":
            start_ago, end_ago, gap = 545, rng.randint(380, 520), (30, 90)
        elif profile == "new":
            start_ago = end_ago = rng.randint(3, 55)
            gap = (30, 30)
        else:
            start_ago, end_ago, gap = 540, rng.randint(3, 25), (25, 35)
        days_ago = start_ago
        while days_ago >= end_ago:
            visit_vals.append(
                _visit_vals(rng, ref, departments, home_xmlid, patient, today - timedelta(days=days_ago), now)
            )
            days_ago -= rng.randint(*gap)
        if days_ago < end_ago and end_ago != start_ago and rng.random() < 0.3:
            visit_vals.append(
                _visit_vals(rng, ref, departments, home_xmlid, patient, today - timedelta(days=end_ago), now)
            )
        # Upcoming visits, a handful of them tomorrow (for reminders).
        if profile in ("regular", "chronic", "new") and rng.random() < 0.6:
            ahead = 1 if index % 6 == 0 else rng.randint(2, 30)
            visit_vals.append(
                _visit_vals(rng, ref, departments, home_xmlid, patient, today + timedelta(days=ahead), now)
            )
        # Some patients also visit a second department.
        if rng.random() < 0.25:
            other = rng.choice([x for x in DEPARTMENTS if x != home_xmlid])
            visit_vals.append(
                _visit_vals(rng, ref, departments, other, patient, today - timedelta(days=rng.randint(20, 500)), now)
            )
    env["clinic.visit"].sudo().with_context(tracking_disable=True, mail_create_nolog=True).create(visit_vals)

    # Appointments booked in the Calendar for a patient and a department are visits too.
    organizer = ref("clinic_retention.user_doctor_li")
    for offset, patient in ((2, patients[7]), (3, patients[22]), (5, patients[37])):
        start = _slot(rng, today + timedelta(days=offset))
        env["calendar.event"].sudo().with_context(no_mail_to_attendees=True, mail_create_nolog=True).create(
            {
                "name": f"{patient.name} — dental check-up",
                "start": start,
                "stop": start + timedelta(minutes=30),
                "user_id": organizer.id,
                "partner_ids": [(6, 0, [organizer.partner_id.id])],
                "clinic_patient_id": patient.id,
                "clinic_department_id": departments["department_dental"].id,
                "clinic_service_id": ref("clinic_retention.service_dental_checkup").id,
            }
        )


def _visit_vals(rng, ref, departments, department_xmlid, patient, day, now):
    doctor_xmlid, services = DEPARTMENTS[department_xmlid]
    service_xmlid, price = rng.choice(services)
    if department_xmlid == "department_cardiology" and patient.chronic_condition_ids:
        service_xmlid, price = "service_hypertension", 80
    start = _slot(rng, day)
    if start > now:
        state = "scheduled"
    else:
        state = rng.choices(["done", "no_show", "cancelled"], weights=[82, 10, 8])[0]
    return {
        "patient_id": patient.id,
        "department_id": departments[department_xmlid].id,
        "doctor_id": ref("clinic_retention." + doctor_xmlid).id,
        "service_id": ref("clinic_retention." + service_xmlid).id,
        "start": start,
        "stop": start + timedelta(minutes=rng.choice([20, 30, 45, 60])),
        "state": state,
        "amount": round(price * rng.uniform(0.85, 1.3), 0) if state == "done" else 0.0,
    }


def work_followups(env):
    """Run the demo recall rules and show tasks at every stage of the board."""
    Task = env["clinic.followup.task"].sudo()
    if Task.search_count([("rule_id", "!=", False)], limit=1):
        return
    rules = env["clinic.recall.rule"].sudo().search([])
    more = True
    while more:
        _created, more = rules._run_batch(rules=rules)
    rng = random.Random(7)
    tasks = Task.search([("is_closed", "=", False)], order="id")
    for index, task in enumerate(tasks):
        if index % 5 == 0:
            task.with_user(task.user_id or env.user).action_take()
        elif index % 5 == 1:
            task.action_not_reached()
        elif index % 5 == 2 and task.reason != "reactivation":
            wizard = env["clinic.followup.task.reached"].create(
                {"task_id": task.id, "satisfaction": str(rng.choice([3, 4, 4, 5, 5, 2]))}
            )
            for line in wizard.recovery_line_ids:
                line.score = str(rng.randint(3, 5))
            wizard.action_confirm()


def satisfaction(env):
    """Survey answers for the visits of the last two months (low scores open
    complaints by themselves), and a few complaints received otherwise."""
    Response = env["clinic.survey.response"].sudo()
    if Response.search_count([("source", "=", "survey"), ("state", "=", "answered")], limit=1):
        return
    rng = random.Random(11)
    now = fields.Datetime.now()
    visits = (
        env["clinic.visit"]
        .sudo()
        .search([("state", "=", "done"), ("start", ">=", now - timedelta(days=60))], order="start")
    )
    comments = [
        False,
        False,
        "Very kind doctor, thank you.",
        "Clean and on time.",
        "Спасибо, всё хорошо.",
        "医生很耐心，谢谢。",
        "خیلی ممنون، عالی بود.",
    ]
    low_comments = [
        "I waited almost two hours and nobody told me why.",
        "Администратор была груба по телефону.",
        "收费和报价不一样。",
    ]
    # visits marked done in the last days already have their survey
    have_survey = Response.search([("visit_id", "in", visits.ids), ("source", "=", "survey")])
    responses = have_survey | Response.create([{"visit_id": visit.id} for visit in visits - have_survey.visit_id])
    for response in responses:
        sent = response.visit_id.start + timedelta(hours=3)
        draw = rng.random()
        if draw < 0.35:
            response.write({"sent_date": sent, "expiry_date": sent + timedelta(days=30)})
            continue
        score = rng.choice([5, 5, 5, 4, 4, 4, 4, 3, 3]) if draw > 0.45 else rng.choice([1, 2, 3])
        answer = {
            "score": score,
            "waiting_score": max(1, min(5, score + rng.choice([-1, 0, 0, 1]))),
            "doctor_score": max(1, min(5, score + rng.choice([0, 0, 1]))),
            "comment": rng.choice(low_comments) if score <= 2 else rng.choice(comments),
        }
        response._submit(answer)
        answered = sent + timedelta(hours=rng.randint(1, 40))
        response.write(
            {
                "sent_date": sent,
                "submitted_date": answered,
                "last_update_date": answered,
                "expiry_date": answered + timedelta(days=7),
            }
        )
        if response.complaint_id:
            response.complaint_id.write({"received_date": answered})
    complaints = responses.complaint_id.sorted("id")
    for index, complaint in enumerate(complaints):
        if index % 3 == 1:
            complaint.action_investigate()
        elif index % 3 == 2:
            complaint.write(
                {
                    "root_cause": "Two doctors were off sick; the schedule was not adjusted.",
                    "corrective_action": "The front desk calls waiting patients when a doctor runs late.",
                    "resolution": "Apologised by phone; next visit offered at a time of the patient's choice.",
                    "resolution_satisfaction": 4,
                }
            )
            complaint.action_resolve()
    env["clinic.complaint"].sudo()._cron_escalate()
