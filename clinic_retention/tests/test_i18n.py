"""Every patient-facing text in Chinese, Persian and Russian: the .po files,
the messages (e-mail and SMS templates), the public pages (right to left in
Persian), dates in the patient's language and calendar, and two tours."""

import contextlib
import importlib.util
import io
import json
import re
import shutil
import tarfile
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import polib
from lxml import html

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools.translate import PoFileReader

from ..tools.locale_dates import format_jalali, format_patient_date, format_patient_datetime, gregorian_to_jalali

I18N = Path(__file__).resolve().parent.parent / "i18n"
SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "scripts"
# installed language code -> its .po file
LANGS = {"zh_CN": "zh_CN", "fa_IR": "fa", "ru_RU": "ru"}
# the letters each language is written in (a translated text contains some)
SCRIPTS = {"zh_CN": r"[\u4e00-\u9fff]", "fa_IR": r"[\u0600-\u06ff]", "ru_RU": r"[а-яё]"}
# 11:00 in Shanghai
VISIT_START = datetime(2026, 12, 23, 3, 0)
LONG_WHEN = {
    "zh_CN": "2026年12月23日 11:00",
    "ru_RU": "23 декабря 2026 г., 11:00",
    "fa_IR": "2 دی 1405 (23 دسامبر 2026)، ساعت 11:00",
}


def install_languages(env):
    """Chinese, Persian and Russian active, with our translations loaded."""
    for code in LANGS:
        env["res.lang"]._activate_lang(code)
    env["ir.module.module"].search([("name", "=", "clinic_retention")])._update_translations(
        filter_lang=list(LANGS), overwrite=True
    )


def translation(lang, msgid):
    """The committed translation of ``msgid`` in ``lang`` (installed code)."""
    po = polib.pofile(str(I18N / f"{LANGS[lang]}.po"))
    entry = po.find(msgid)
    return entry.msgstr if entry else None


class EnglishLeftMixin:
    def assertNoEnglish(self, text, words, names=(), msg=""):
        """None of the English ``words`` in ``text`` (case-insensitive, as
        whole words), once the ``names`` and the links are taken out."""
        for name in names:
            text = text.replace(name, " ")
        text = re.sub(r"https?://\S+", " ", text)
        for word in words:
            self.assertNotRegex(text, rf"(?i)(?<![a-z]){re.escape(word)}(?![a-z])", f"{msg}: {word!r} left in {text!r}")


@tagged("post_install", "-at_install")
class TestLocaleDates(TransactionCase):
    """Dates in the patient's language, no seconds, Jalali in Persian."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in LANGS:
            cls.env["res.lang"]._activate_lang(code)

    def test_jalali_known_dates(self):
        known = {
            date(2026, 3, 21): (1405, 1, 1),  # Nowruz 1405
            date(2026, 3, 20): (1404, 12, 29),  # last day of 1404 (not a leap year)
            date(2025, 3, 21): (1404, 1, 1),
            date(2024, 3, 20): (1403, 1, 1),
            date(2025, 3, 20): (1403, 12, 30),  # 1403 is a leap year: Esfand has 30 days
            date(1979, 2, 11): (1357, 11, 22),  # 22 Bahman 1357
            date(2000, 1, 1): (1378, 10, 11),
            date(2026, 9, 22): (1405, 6, 31),  # the last 31-day month
            date(2026, 9, 23): (1405, 7, 1),
            date(2026, 12, 23): (1405, 10, 2),
        }
        for day, expected in known.items():
            self.assertEqual(gregorian_to_jalali(day), expected, day)
        self.assertEqual(format_jalali(date(2026, 3, 21)), "1 فروردین 1405")
        self.assertEqual(format_jalali(date(2026, 12, 23)), "2 دی 1405")

    def test_jalali_runs_day_by_day(self):
        """Over ten years, each day is the next Jalali day: months of 31 days
        (1-6), 30 (7-11), 29 or 30 (12), the year turning at Nowruz."""
        day, previous = date(2020, 1, 1), gregorian_to_jalali(date(2020, 1, 1))
        for _i in range(3653):
            day += timedelta(days=1)
            current = gregorian_to_jalali(day)
            year, month, mday = previous
            last = 31 if month <= 6 else 30
            if month == 12:  # Esfand: 29 days, 30 in a leap year
                if current[0] == year:
                    self.assertLessEqual(mday + 1, 30, day)
                    expected = (year, 12, mday + 1)
                else:
                    self.assertIn(mday, (29, 30), day)
                    expected = (year + 1, 1, 1)
            elif mday < last:
                expected = (year, month, mday + 1)
            else:
                expected = (year, month + 1, 1)
            self.assertEqual(current, expected, day)
            previous = current

    def test_long_and_medium_formats(self):
        for lang, expected in LONG_WHEN.items():
            self.assertEqual(format_patient_datetime(self.env, VISIT_START, "Asia/Shanghai", lang), expected)
        self.assertEqual(
            format_patient_datetime(self.env, VISIT_START, "Asia/Shanghai", "ru_RU", length="medium"),
            "23 дек. 2026 г., 11:00",
        )
        self.assertEqual(
            format_patient_datetime(self.env, VISIT_START, "Europe/Moscow", "en_US"), "December 23, 2026 at 6:00 AM"
        )
        self.assertEqual(format_patient_date(self.env, date(2026, 3, 21), "fa_IR"), "1 فروردین 1405 (21 مارس 2026)")
        self.assertEqual(format_patient_date(self.env, date(2026, 3, 21), "zh_CN"), "2026年3月21日")
        # the environment's language by default
        self.assertEqual(
            format_patient_datetime(self.env(context={"lang": "zh_CN"}), VISIT_START, "Asia/Shanghai"),
            LONG_WHEN["zh_CN"],
        )

    def test_visit_times_in_the_patients_language(self):
        self.env.company.clinic_tz = "Asia/Shanghai"
        department = self.env["clinic.department"].create({"name": "Dental i18n"})
        patient = self.env["clinic.patient"].create({"name": "Lang Patient"})
        visit = self.env["clinic.visit"].create(
            {
                "patient_id": patient.id,
                "department_id": department.id,
                "start": VISIT_START,
                "stop": VISIT_START + timedelta(minutes=30),
            }
        )
        for lang, expected in LONG_WHEN.items():
            in_lang = visit.with_context(lang=lang)
            self.assertEqual(in_lang.start_local_long, expected, lang)
            self.assertNotRegex(in_lang.start_local_short, r"\d:\d\d:\d\d", "no seconds")
            self.assertEqual(in_lang.start_local_time, "11:00")
        self.assertEqual(visit.with_context(lang="zh_CN").start_local_short, "2026年12月23日 11:00")

    def test_writing_direction(self):
        department = self.env["clinic.department"].create({"name": "Dental i18n"})
        patient = self.env["clinic.patient"].create({"name": "Dir Patient", "lang": "fa_IR"})
        visit = self.env["clinic.visit"].create(
            {
                "patient_id": patient.id,
                "department_id": department.id,
                "start": VISIT_START,
                "stop": VISIT_START + timedelta(minutes=30),
            }
        )
        self.assertEqual(visit.patient_text_dir, "rtl")
        patient.lang = "ru_RU"
        self.assertEqual(visit.patient_text_dir, "ltr")


@tagged("post_install", "-at_install")
class TestPoFiles(TransactionCase):
    """The committed .po files parse (polib and Odoo's own reader), carry
    their language and leave nothing untranslated or fuzzy."""

    def test_po_files_parse_and_are_complete(self):
        pot = polib.pofile(str(I18N / "clinic_retention.pot"))
        self.assertGreater(len(pot), 1000)
        for name in LANGS.values():
            path = I18N / f"{name}.po"
            po = polib.pofile(str(path))
            self.assertEqual(po.metadata.get("Language"), name)
            self.assertFalse(po.untranslated_entries(), f"{name}: untranslated")
            self.assertFalse(po.fuzzy_entries(), f"{name}: fuzzy")
            self.assertFalse(po.obsolete_entries(), f"{name}: obsolete entries left")
            self.assertEqual({e.msgid for e in pot} - {e.msgid for e in po}, set(), f"{name}: msgids of the .pot")
            with open(path, "rb") as source:
                rows = list(PoFileReader(source))
            self.assertTrue(rows, name)
            self.assertTrue(all(row["value"] for row in rows), f"{name}: Odoo reads an empty translation")
        self.assertEqual(translation("zh_CN", "Status"), "状态")
        self.assertEqual(translation("fa_IR", "Status"), "وضعیت")
        self.assertEqual(translation("ru_RU", "Status"), "Статус")

    def test_status_labels_are_not_the_address_state(self):
        """Our status fields say "Status"; "State" is only the address's."""
        for model in ("clinic.visit", "clinic.visit.reminder", "clinic.treatment.plan", "clinic.survey.response"):
            self.assertEqual(self.env[model]._fields["state"].string, "Status", model)
        pot = polib.pofile(str(I18N / "clinic_retention.pot"))
        state = pot.find("State")
        self.assertTrue(all("state_id" in where or "view_form" in where for where, _line in state.occurrences))
        self.assertEqual(translation("ru_RU", "State"), "Область")


@tagged("post_install", "-at_install")
class TestTranslatedMessages(EnglishLeftMixin, TransactionCase):
    """Each mail and SMS template rendered for a Chinese, a Persian and a
    Russian patient: no English left but names, the visit time in their
    language, Persian e-mails right to left."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.env.company.write({"name": "Hygieia", "clinic_tz": "Asia/Shanghai", "email": "care@hygieia.example.com"})
        cls.department = cls.env["clinic.department"].create({"name": "Odonto"})
        cls.doctor = new_test_user(cls.env, login="i18n_doctor", name="Ivanov")
        cls.visits = {}
        for lang in LANGS:
            referrer = cls.env["res.partner"].create({"name": f"Referrer {lang}", "lang": lang})
            patient = cls.env["clinic.patient"].create(
                {"name": f"Patient {lang}", "lang": lang, "care_consent": True, "referred_by_id": referrer.id}
            )
            visit = cls.env["clinic.visit"].create(
                {
                    "patient_id": patient.id,
                    "department_id": cls.department.id,
                    "doctor_id": cls.doctor.id,
                    "start": VISIT_START,
                    "stop": VISIT_START + timedelta(minutes=30),
                }
            )
            cls.env["clinic.survey.response"].create({"visit_id": visit.id})
            cls.visits[lang] = visit

    def _names(self, visit):
        return [visit.patient_id.name, visit.patient_id.referred_by_id.name, "Hygieia", "Odonto", "Ivanov"]

    def _render(self, xmlid, field, visit):
        template = self.env.ref(f"clinic_retention.{xmlid}")
        return template._render_field(field, visit.ids, compute_lang=True)[visit.id]

    def test_emails(self):
        emails = {
            "mail_template_visit_reminder": (
                ["Dear", "reminder", "When", "Department", "Doctor", "Please", "Confirm", "cancel", "See you", "visit"],
                "Confirm or cancel my visit",
            ),
            "mail_template_visit_thank_you": (
                ["Dear", "Thank you", "department", "Would you", "Rate", "worries", "Best regards", "visit"],
                "Rate my visit",
            ),
            "mail_template_referral_thanks": (
                ["Dear", "Someone", "recommended", "Thank you", "Best regards"],
                "Best regards,",
            ),
        }
        for lang, visit in self.visits.items():
            for xmlid, (english, key) in emails.items():
                body = str(self._render(xmlid, "body_html", visit))
                subject = self._render(xmlid, "subject", visit)
                text = html.fromstring(body).text_content()
                where = f"{xmlid} in {lang}"
                self.assertNoEnglish(text, english, self._names(visit), where)
                self.assertNoEnglish(subject, ["Reminder", "Thank you", "visit", "recommending"], ["Hygieia"], where)
                self.assertRegex(subject, SCRIPTS[lang], where)
                if key != "Best regards,":
                    self.assertIn(translation(lang, key), text, where)
                if xmlid == "mail_template_visit_reminder":
                    self.assertIn(LONG_WHEN[lang], text, where)
                    self.assertIn(f'dir="{"rtl" if lang == "fa_IR" else "ltr"}"', body, where)
                if xmlid == "mail_template_visit_thank_you":
                    self.assertIn(f'dir="{"rtl" if lang == "fa_IR" else "ltr"}"', body, where)

    def test_sms(self):
        sms = {
            "sms_template_visit_reminder": ["reminder", "visit", "Confirm", "cancel"],
            "sms_template_visit_reminder_soon": ["see you", "Cannot come"],
            "sms_template_satisfaction": ["thank you", "visit", "How did it go", "minute"],
        }
        for lang, visit in self.visits.items():
            for xmlid, english in sms.items():
                body = self._render(xmlid, "body", visit)
                where = f"{xmlid} in {lang}"
                self.assertNoEnglish(body, english, self._names(visit), where)
                self.assertRegex(re.sub(r"https?://\S+", "", body), SCRIPTS[lang], where)
                if xmlid == "sms_template_visit_reminder":
                    self.assertIn(visit.with_context(lang=lang).start_local_short, body, where)
                    self.assertNotRegex(body, r"\d:\d\d:\d\d", "no seconds")


# Latin words a translated message may keep: abbreviations and brand terms
ALLOWED_LATIN = {"sms", "prr", "roi", "ltv", "odoo"}


@tagged("post_install", "-at_install")
class TestEveryTemplateTranslated(TransactionCase):
    """Every mail and SMS template the module ships (found by its XML id, so
    a new one cannot be skipped) rendered for a Chinese, a Persian and a
    Russian patient: not the English text, no English word of it left but
    names, links and abbreviations; e-mails right to left in Persian."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.env.company.write(
            {
                "name": "Hygieia",
                "clinic_tz": "Asia/Shanghai",
                "email": "care@hygieia.example.com",
                "phone": "+86 21 5555 0100",
            }
        )
        cls.department = cls.env["clinic.department"].create({"name": "Odonto"})
        cls.doctor = new_test_user(cls.env, login="i18n_all_doctor", name="Ivanov")
        cls.records = {}
        for lang in LANGS:
            referrer = cls.env["res.partner"].create({"name": f"Referrer {lang}", "lang": lang})
            patient = cls.env["clinic.patient"].create(
                {"name": f"Patient {lang}", "lang": lang, "care_consent": True, "referred_by_id": referrer.id}
            )
            patient.birthday_offer_code = f"GIFT{lang[:2].upper()}"
            visit = cls.env["clinic.visit"].create(
                {
                    "patient_id": patient.id,
                    "department_id": cls.department.id,
                    "doctor_id": cls.doctor.id,
                    "start": VISIT_START,
                    "stop": VISIT_START + timedelta(minutes=30),
                }
            )
            cls.env["clinic.survey.response"].create({"visit_id": visit.id})
            task = cls.env["clinic.followup.task"].create(
                {"name": "Recall", "patient_id": patient.id, "department_id": cls.department.id, "user_id": False}
            )
            cls.records[lang] = {"clinic.visit": visit, "clinic.followup.task": task, "clinic.patient": patient}

    def _templates(self):
        data = self.env["ir.model.data"].search(
            [("module", "=", "clinic_retention"), ("model", "in", ("mail.template", "sms.template"))]
        )
        return [self.env[d.model].browse(d.res_id) for d in data.sorted("name")]

    def _record(self, lang, template):
        record = self.records[lang].get(template.model)
        self.assertTrue(
            record,
            f"{template.name}: no test record for model {template.model}; "
            "add one to TestEveryTemplateTranslated so this template is checked",
        )
        return record

    def _names(self, record):
        patient = record if record._name == "clinic.patient" else record.patient_id
        return [
            patient.name,
            patient.referred_by_id.name,
            patient.birthday_offer_code,
            "Hygieia",
            "Odonto",
            "Ivanov",
            "care@hygieia.example.com",
        ]

    def _english_words(self, text, names):
        for name in names:
            text = text.replace(name, " ")
        text = re.sub(r"https?://\S+|\S+@\S+", " ", text)
        return {word.lower() for word in re.findall(r"[A-Za-z]{3,}", text)} - ALLOWED_LATIN

    def _texts(self, template, record, **kwargs):
        """{part: rendered text}, the text content of e-mail bodies."""
        rendered = {}
        fields_ = ("subject", "body_html") if template._name == "mail.template" else ("body",)
        for fname in fields_:
            value = template._render_field(fname, record.ids, **kwargs)[record.id]
            rendered[fname] = str(value)
        return rendered

    def test_every_template_in_every_language(self):
        templates = self._templates()
        self.assertGreaterEqual(len(templates), 16, "the shipped templates are found by XML id")
        for template in templates:
            for lang in LANGS:
                record = self._record(lang, template)
                names = self._names(record)
                english = self._texts(template, record, set_lang="en_US")
                translated = self._texts(template, record, compute_lang=True)
                for part, text in translated.items():
                    where = f"{template.name} ({part}) in {lang}"
                    self.assertNotEqual(text, english[part], f"{where}: not translated")
                    plain = html.fromstring(text).text_content() if part == "body_html" else text
                    plain_en = html.fromstring(english[part]).text_content() if part == "body_html" else english[part]
                    words = self._english_words(plain_en, names)
                    left = words & self._english_words(plain, names)
                    self.assertFalse(left, f"{where}: English left {sorted(left)} in {plain!r}")
                    self.assertRegex(re.sub(r"https?://\S+", "", plain), SCRIPTS[lang], where)
                    if part == "body_html":
                        direction = "rtl" if lang == "fa_IR" else "ltr"
                        self.assertIn(f'dir="{direction}"', text, f"{where}: the body is not laid out {direction}")


@tagged("post_install", "-at_install")
class TestTranslatedPublicPages(EnglishLeftMixin, HttpCase):
    """Each public page in the three languages: translated, no English left
    but names, Persian right to left with Odoo's RTL stylesheet."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.env.company.write({"name": "Hygieia", "clinic_tz": "Asia/Shanghai", "country_id": cls.env.ref("base.cn")})
        cls.department = cls.env["clinic.department"].create({"name": "Odonto"})

    def _visit(self, lang, start, state="scheduled"):
        patient = self.env["clinic.patient"].create({"name": f"Page {lang}", "lang": lang, "care_consent": True})
        return self.env["clinic.visit"].create(
            {
                "patient_id": patient.id,
                "department_id": self.department.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
                "state": state,
            }
        )

    def _main_text(self, page):
        tree = html.fromstring(page.text)
        for node in tree.xpath("//script|//style"):
            node.drop_tree()
        return " ".join(tree.xpath("//main")[0].text_content().split())

    def _check_page(self, page, lang, english, names=(), where=""):
        self.assertIn(f'lang="{lang.replace("_", "-")}"', page.text[:500], where)
        rtl = lang == "fa_IR"
        self.assertIn(f'dir="{"rtl" if rtl else "ltr"}"', page.text[:500], where)
        css = re.findall(r'<link[^>]+href="([^"]+\.css)"', page.text)
        self.assertTrue(css, where)
        self.assertEqual(any(".rtl." in href for href in css), rtl, f"{where}: RTL stylesheet {css}")
        text = self._main_text(page)
        self.assertNoEnglish(text, english, ["Hygieia", "Odonto", *names], where)
        self.assertRegex(text, SCRIPTS[lang], where)
        return text

    def test_visit_page(self):
        start = (fields.Datetime.now() + timedelta(days=2)).replace(hour=3, minute=0, second=0, microsecond=0)
        for lang in LANGS:
            visit = self._visit(lang, start)
            url = f"/clinic/visit/{visit.id}/{visit.access_token}"
            text = self._check_page(
                self.url_open(url),
                lang,
                ["Your visit", "When", "Department", "Where", "I will come", "cancel"],
                [visit.patient_id.name],
                f"visit page in {lang}",
            )
            self.assertIn(visit.with_context(lang=lang).start_local_long, text)
            self.assertIn(translation(lang, "I will come"), text)

    def test_survey_page(self):
        start = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=3)
        for lang in LANGS:
            visit = self._visit(lang, start, state="done")
            response = self.env["clinic.survey.response"].search([("visit_id", "=", visit.id)]) or self.env[
                "clinic.survey.response"
            ].create({"visit_id": visit.id})
            page = self.url_open(f"/clinic/feedback/{response.id}/{response.access_token}")
            text = self._check_page(
                page,
                lang,
                ["How was your visit", "Overall", "Tell us more", "optional", "Send", "Waiting time", "Doctor"],
                where=f"survey page in {lang}",
            )
            self.assertIn(translation(lang, "How was your visit?"), text)

    def test_complaint_page_and_thank_you(self):
        # ("Email" is what Odoo's own Russian says too)
        english = ["Tell us what went wrong", "Your name", "Phone", "What happened", "I agree", "Send"]
        for lang in LANGS:
            page = self.url_open(f"/clinic/complaint?lang={lang}")
            text = self._check_page(page, lang, english, where=f"complaint form in {lang}")
            self.assertIn(translation(lang, "Tell us what went wrong"), text)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            data = {
                "csrf_token": csrf,
                "lang": lang,
                "contact_name": "Visitor",
                "contact_email": f"visitor.{lang.lower()}@example.com",
                "description": "…",
                "privacy_consent": "1",
            }
            refused = self.url_open("/clinic/complaint", data=data)
            self.assertEqual(refused.status_code, 400)
            text = self._check_page(refused, lang, english + ["Please describe"], where=f"error in {lang}")
            self.assertIn(translation(lang, "Please describe what happened (a few words at least)."), text)
            done = self.url_open("/clinic/complaint", data=dict(data, description="12345 67890 …"))
            self.assertEqual(done.status_code, 200)
            text = self._check_page(done, lang, ["Thank you", "complaint", "manager"], where=f"thank-you in {lang}")
            self.assertIn("o_clinic_complaint_done", done.text)

    def test_invalid_link_page(self):
        """A broken link says so in the browser's language (no patient is known)."""
        for lang in LANGS:
            self.opener.cookies.clear()
            page = self.url_open("/clinic/visit/0/nope", headers={"Accept-Language": lang.replace("_", "-")})
            self.assertEqual(page.status_code, 404)
            self.assertIn("o_clinic_link_invalid", page.text)
            text = self._check_page(page, lang, ["This link is not valid", "expired", "contact"], where=lang)
            self.assertIn(translation(lang, "This link is not valid"), text)


@tagged("post_install", "-at_install")
class TestTranslatedTours(HttpCase):
    """A Persian visitor sends the complaint form laid out right to left; a
    Chinese agent works on a board in Chinese."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.env.company.country_id = cls.env.ref("base.cn")

    def _warm_up(self, url, login=None):
        """Render the page and build its asset bundles (right to left ones
        included) before the browser asks: a first build takes long on a
        busy machine, and Chrome's idle spare connections then time out."""
        if login:
            self.authenticate(login, login + "_pw")
        page = self.url_open(url, timeout=120)
        self.assertEqual(page.status_code, 200)
        for asset in re.findall(r'(?:href|src)="(/web/assets/[^"]+)"', page.text):
            self.url_open(asset, timeout=120)
        if login:
            self.logout(keep_db=True)

    def test_persian_complaint_form_tour(self):
        self._warm_up("/clinic/complaint?lang=fa_IR")
        self.start_tour("/clinic/complaint?lang=fa_IR", "clinic_complaint_form_fa")
        complaint = self.env["clinic.complaint"].search([("contact_email", "=", "maryam.tour@example.com")])
        self.assertEqual(len(complaint), 1)
        self.assertIn("اتاق انتظار", complaint.description)

    def test_chinese_followup_board_tour(self):
        agent = new_test_user(
            self.env,
            login="tour_agent_zh",
            password="tour_agent_zh_pw",
            name="Tour Agent Zh",
            groups="clinic_retention.group_clinic_retention_user",
            lang="zh_CN",
            tz="Asia/Shanghai",
        )
        agent.tour_enabled = False
        department = self.env["clinic.department"].create({"name": "Tour Zh Dental", "member_ids": [(6, 0, agent.ids)]})
        patient = self.env["clinic.patient"].create(
            {"name": "Tour Zh Patient", "mobile": "138 0013 8111", "country_id": self.env.ref("base.cn").id}
        )
        self.env["clinic.followup.task"].create(
            {
                "name": "Tour Zh recall",
                "patient_id": patient.id,
                "department_id": department.id,
                "reason": "recall",
                "date_deadline": fields.Date.today() + timedelta(days=2),
                "user_id": False,
            }
        )
        self._warm_up("/odoo/action-clinic_retention.clinic_followup_task_action", login="tour_agent_zh")
        self.start_tour(
            "/odoo/action-clinic_retention.clinic_followup_task_action",
            "clinic_followup_board_zh",
            login="tour_agent_zh",
        )

    def test_persian_followup_board_tour(self):
        """Backend views hold right to left: the board for a Persian agent."""
        agent = new_test_user(
            self.env,
            login="tour_agent_fa",
            password="tour_agent_fa_pw",
            name="Tour Agent Fa",
            groups="clinic_retention.group_clinic_retention_user",
            lang="fa_IR",
            tz="Asia/Tehran",
        )
        agent.tour_enabled = False
        department = self.env["clinic.department"].create({"name": "Tour Fa Dental", "member_ids": [(6, 0, agent.ids)]})
        patient = self.env["clinic.patient"].create(
            {"name": "Tour Fa Patient", "mobile": "138 0013 8112", "country_id": self.env.ref("base.cn").id}
        )
        task = self.env["clinic.followup.task"].create(
            {
                "name": "Tour Fa recall",
                "patient_id": patient.id,
                "department_id": department.id,
                "reason": "recall",
                "date_deadline": fields.Date.today() - timedelta(days=3),
                "user_id": False,
            }
        )
        self.assertTrue(task.is_overdue)
        self._warm_up("/odoo/action-clinic_retention.clinic_followup_task_action", login="tour_agent_fa")
        self.start_tour(
            "/odoo/action-clinic_retention.clinic_followup_task_action",
            "clinic_followup_board_fa",
            login="tour_agent_fa",
        )


POT_HEADER = """# Translation of Odoo Server.
msgid ""
msgstr ""
"Project-Id-Version: Odoo Server 18.0\\n"
"POT-Creation-Date: {date}\\n"
"PO-Revision-Date: {date}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: \\n"
{language}
"""


def _po_text(entries, date="2026-11-26 01:00+0000", language=None):
    """A .po/.pot text: ``entries`` are (msgid, msgstr, flags) tuples."""
    text = POT_HEADER.format(date=date, language=f'"Language: {language}\\n"' if language else "")
    for msgid, msgstr, flags in entries:
        text += "\n#. module: demo_addon\n"
        if flags:
            text += f"#, {flags}\n"
        text += f"msgid {json.dumps(msgid, ensure_ascii=False)}\nmsgstr {json.dumps(msgstr, ensure_ascii=False)}\n"
    return text


@tagged("post_install", "-at_install")
class TestI18nCheckScript(TransactionCase):
    """scripts/i18n_check.py (run by scripts/i18n_check.sh) finds what it
    promises: a stale .pot, untranslated and fuzzy entries, changed
    placeholders, a .po that does not parse; --update merges."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        spec = importlib.util.spec_from_file_location("clinic_i18n_check", SCRIPTS_DIR / "i18n_check.py")
        cls.check = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cls.check)

    def setUp(self):
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="clinic_i18n_"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_placeholders(self):
        same = [
            ("Hello %s", "你好 %s"),
            ("%(name)s is due on %(date)s", "%(date)s 到期：%(name)s"),
            ("{{ object.name }}: see you", "{{object.name}}：再见"),
            ('<i class="fa fa-phone" title="Call"/> Call', '<i class="fa fa-phone" title="致电"/> 致电'),
            ('<span t-out="visit.start"/> at', 'в <span t-out="visit.start"/>'),
            ("Value {name}", "Значение {name}"),
            ("85 % of patients", "85 % пациентов"),
            ("{{ (' Your code: ' + o.code) if o.code else '' }}", "{{ (' Ваш код: ' + o.code) if o.code else '' }}"),
        ]
        for msgid, msgstr in same:
            self.assertEqual(self.check.placeholders(msgid), self.check.placeholders(msgstr), msgid)
        different = [
            ("Hello %s", "你好"),
            ("%(x).1f days", "%(x).2f 天"),
            ("{{ object.name }}: see you", "再见"),
            ('<span t-out="visit.start"/>', '<span t-esc="visit.start"/>'),
            ('<a href="/x">link</a>', '<a href="/y">链接</a>'),
            ("<strong>When:</strong>", "<b>时间：</b>"),
            ("Value {name}", "Значение {имя}"),
            ("{{ (' Your code: ' + o.code) if o.code else '' }}", "{{ ' Ваш код: ' + o.code }}"),
        ]
        for msgid, msgstr in different:
            self.assertNotEqual(self.check.placeholders(msgid), self.check.placeholders(msgstr), msgid)

    def test_po_problems_are_counted_and_named(self):
        pot = [
            (msgid, "", "") for msgid in ("Hello %s", "<strong>When:</strong>", "Dear {{ object.name }}", "Plain", "Ok")
        ]
        po_path = self.tmp / "zh_CN.po"
        po_path.write_text(
            _po_text(
                [
                    ("Hello %s", "你好", ""),
                    ("<strong>When:</strong>", "<b>时间：</b>", ""),
                    ("Dear {{ object.name }}", "尊敬的 {{ object.name }}", "fuzzy"),
                    ("Ok", "好", ""),
                ],
                language="zh_CN",
            ),
            encoding="utf-8",
        )
        reference = polib.pofile(_po_text(pot))
        summary, problems = self.check.check_po("demo_addon", "zh_CN", list(reference), po_path)
        self.assertEqual(summary, "demo_addon zh_CN: 1 translated, 1 untranslated, 1 fuzzy, 2 placeholder mismatches")
        text = "\n".join(problems)
        for fragment in ("untranslated: 'Plain'", "fuzzy: 'Dear", "placeholders differ in 'Hello %s'", "<strong>"):
            self.assertIn(fragment, text)

    def test_unparsable_po(self):
        po_path = self.tmp / "ru.po"
        po_path.write_text(_po_text([("Hello %s", "Привет", "")], language="ru") + 'msgid "x"\n', encoding="utf-8")
        summary, problems = self.check.check_po("demo_addon", "ru", [], po_path)
        self.assertIn("does not parse", summary)
        self.assertTrue(problems)

    def _export(self, entries):
        path = self.tmp / "export.tgz"
        data = _po_text(entries, date="2026-11-27 09:00+0000").encode()
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo("demo_addon/i18n/demo_addon.pot")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return str(path)

    def test_stale_pot_then_update(self):
        i18n = self.tmp / "repo" / "demo_addon" / "i18n"
        i18n.mkdir(parents=True)
        (i18n / "demo_addon.pot").write_text(_po_text([("Hello", "", "")]), encoding="utf-8")
        for lang, text in (("zh_CN", "你好"), ("fa", "سلام"), ("ru", "Привет")):
            (i18n / f"{lang}.po").write_text(_po_text([("Hello", text, "")], language=lang), encoding="utf-8")
        repo = str(self.tmp / "repo")
        with contextlib.redirect_stdout(io.StringIO()) as out:
            # only the dates differ: up to date
            self.assertEqual(self.check.main([self._export([("Hello", "", "")]), repo, "demo_addon"]), 0)
            # a new string in the code: stale .pot and untranslated everywhere
            export = self._export([("Hello", "", ""), ("Goodbye", "", "")])
            self.assertEqual(self.check.main([export, repo, "demo_addon"]), 1)
        self.assertIn("new msgid not in the committed .pot: 'Goodbye'", out.getvalue())
        self.assertIn("scripts/i18n_check.sh --update", out.getvalue())
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(self.check.main([export, repo, "demo_addon", "--update"]), 1, "still to translate")
        self.assertIn("demo_addon ru: 1 translated, 1 untranslated", out.getvalue())
        self.assertIn('msgid "Goodbye"', (i18n / "demo_addon.pot").read_text(encoding="utf-8"))
        merged = polib.pofile(str(i18n / "ru.po"))
        self.assertEqual(merged.find("Hello").msgstr, "Привет", "translations kept")
        self.assertEqual(merged.find("Goodbye").msgstr, "", "new entries left to the translators")
