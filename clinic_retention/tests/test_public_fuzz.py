import random
import re
import threading
from datetime import timedelta
from urllib.parse import quote

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from ..controllers import complaint_form
from ..models import clinic_complaint

SCRIPT = "<script>alert('fuzz')</script>"
# Hostile values: malformed numbers, tokens and languages, scripts, SQL,
# control and direction characters, NUL, very long strings, path tricks.
HOSTILE = [
    "",
    "0",
    "-1",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "' OR 1=1 --",
    "1; DROP TABLE clinic_complaint; --",
    '" onmouseover="alert(1)',
    SCRIPT,
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "{{ 7*7 }}",
    "${7*7}",
    "%00",
    "\x00\x01\x02\x1b[31m",
    "\u202eevil\u202c",
    "../../../../etc/passwd",
    "ru_RU;",
    "xx_XX",
    "漢字 фыва ی",
    "A" * 5000,
]


def hostile_strings(seed=12, count=40):
    """The table above, and more built from it at random (seeded: the same
    inputs on every run)."""
    rng = random.Random(seed)
    alphabet = "<>'\"&;%{}()[]\\/\x00\x1b\u202e" + "aZ09 漢ф"
    extra = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300))) for _ in range(count)]
    return HOSTILE + extra


@tagged("post_install", "-at_install")
class TestPublicRoutesFuzz(HttpCase):
    """Every public route of the addon, with hostile ids, tokens, languages,
    huge and binary bodies, scripts and SQL-looking strings: nothing changes
    in the database, nothing answers 500, nothing is shown unescaped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.cn")
        department = cls.env["clinic.department"].create({"name": "Fuzz Dental"})
        patient = cls.env["clinic.patient"].create({"name": "Fuzz Patient", "mobile": "13800138555"})
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=2)
        cls.visit = cls.env["clinic.visit"].create(
            {
                "patient_id": patient.id,
                "department_id": department.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
            }
        )
        cls.response = cls.env["clinic.survey.response"].create({"patient_id": patient.id})

    def _snapshot(self):
        """What a public route could change."""
        # tracking of the set-up's changes is written at the first request's "commit": write it now
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        visit, response = self.visit, self.response
        return {
            "complaints": self.env["clinic.complaint"].with_context(active_test=False).search_count([]),
            "visit": (visit.state, visit.confirmation_state, visit.start),
            "response": (response.state, response.score, response.comment),
            "messages": self.env["mail.message"].search_count([]),
            "attachments": self.env["ir.attachment"].search_count([]),
            "tasks": self.env["clinic.followup.task"].with_context(active_test=False).search_count([]),
            "partners": self.env["res.partner"].with_context(active_test=False).search_count([]),
        }

    def _csrf(self):
        page = self.url_open("/clinic/complaint")
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def _check(self, response, what):
        self.assertLess(response.status_code, 500, what)
        self.assertNotIn(SCRIPT, response.text, f"{what}: shown unescaped")
        self.assertNotIn("<img src=x onerror", response.text, f"{what}: shown unescaped")

    def test_every_public_route_is_fuzzed(self):
        """The fuzz below covers every public route of the addon (a new one
        must be added to it)."""
        routes = set()
        for rule in self.env["ir.http"].routing_map().iter_rules():
            routing = rule.endpoint.routing
            if routing.get("auth") in ("public", "none") and "clinic_retention" in rule.endpoint.__module__:
                routes.add(rule.rule)
        self.assertEqual(
            routes,
            {
                "/clinic/complaint",
                "/clinic/visit/<int:visit_id>/<string:token>",
                "/clinic/visit/<int:visit_id>/<string:token>/<string:answer>",
                "/clinic/visit/<int:visit_id>/<string:token>/reschedule",
                "/clinic/feedback/<int:response_id>/<string:token>",
            },
        )

    @mute_logger("odoo.http", "odoo.addons.http_routing.models.ir_http", "werkzeug")
    def test_hostile_links_change_nothing(self):
        before = self._snapshot()
        csrf = self._csrf()
        visit, response = self.visit, self.response
        for raw in hostile_strings():
            value = quote(raw, safe="")
            for url in (
                f"/clinic/visit/{visit.id}/{value}",
                f"/clinic/visit/{value}/{visit.access_token}",
                f"/clinic/feedback/{response.id}/{value}",
                f"/clinic/feedback/{value}/{response.access_token}",
                f"/clinic/complaint?lang={value}",
            ):
                self._check(self.url_open(url), url)
            for url in (
                f"/clinic/visit/{visit.id}/{value}/cancel",
                f"/clinic/visit/{visit.id}/{value}/reschedule",
                f"/clinic/visit/{value}/{visit.access_token}/reschedule",
                f"/clinic/visit/{visit.id}/{visit.access_token}/{value}",
                f"/clinic/feedback/{response.id}/{value}",
            ):
                self._check(self.url_open(url, data={"csrf_token": csrf, "score": "1", "comment": raw}), url)
        # the real tokens without a CSRF token, or with a forged one
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": SCRIPT}):
            self._check(self.url_open(f"/clinic/visit/{visit.id}/{visit.access_token}/cancel", data=data), "csrf")
            reschedule = f"/clinic/visit/{visit.id}/{visit.access_token}/reschedule"
            self._check(self.url_open(reschedule, data={**data, "preferred": SCRIPT}), "csrf")
            self._check(self.url_open(f"/clinic/feedback/{response.id}/{response.access_token}", data=data), "csrf")
        self.assertEqual(self._snapshot(), before)

    @mute_logger("odoo.http", "werkzeug")
    def test_hostile_complaints_store_nothing(self):
        before = self._snapshot()
        csrf = self._csrf()
        good = {
            "csrf_token": csrf,
            "contact_name": "Li Na",
            "contact_phone": "13800138000",
            "description": "The receptionist was rude on the phone.",
            "privacy_consent": "1",
        }
        for value in hostile_strings():
            for field in ("contact_name", "contact_phone", "contact_email", "department_id", "description", "lang"):
                # each value breaks a rule of the form (consent missing, or an invalid phone)
                data = dict(good, **{field: value})
                if field == "contact_phone":
                    data["contact_phone"] = f"{value}x"
                else:
                    del data["privacy_consent"]
                result = self.url_open("/clinic/complaint", data=data)
                self._check(result, f"{field}={value[:40]!r}")
                self.assertIn(result.status_code, (400, 413, 429), f"{field}={value[:40]!r}")
        # a huge body is refused before it is read; binary junk is an error, not a crash
        huge = dict(good, description="x" * (complaint_form.MAX_BODY_BYTES + 1))
        self.assertEqual(self.url_open("/clinic/complaint", data=huge).status_code, 413)
        junk = bytes(random.Random(1).getrandbits(8) for _ in range(4000))
        result = self.url_open(
            "/clinic/complaint", data=junk, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        self._check(result, "binary body")
        result = self.url_open(
            "/clinic/complaint",
            files={"description": ("x.bin", junk, "application/octet-stream")},
            data={"csrf_token": csrf},
        )
        self._check(result, "multipart binary")
        self.assertEqual(self._snapshot(), before)

    def test_a_script_in_a_valid_complaint_is_kept_as_text(self):
        result = self.url_open(
            "/clinic/complaint",
            data={
                "csrf_token": self._csrf(),
                "contact_name": f"Li {SCRIPT}\x1b[31m\u202e",
                "contact_email": "li.script@example.com",
                "description": f"{SCRIPT} and ' OR 1=1 -- but the waiting room was cold.",
                "privacy_consent": "1",
            },
        )
        self._check(result, "valid complaint")
        complaint = self.env["clinic.complaint"].search([("contact_email", "=", "li.script@example.com")])
        self.assertEqual(complaint.contact_name, f"Li {SCRIPT}[31m", "control and direction characters stripped")
        self.assertTrue(complaint.description.startswith(SCRIPT), "stored as plain text")
        self.assertNotIn("\x1b", complaint.name)


@tagged("post_install", "-at_install")
class TestPublicComplaintHardening(HttpCase):
    """Finding 12 and the public form of the issue: consent with the
    clinic's privacy notice, rate limits, unverified matches, no e-mail
    flood."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.cn")
        cls.department = cls.env["clinic.department"].create({"name": "Form Dental"})

    def _send(self, **values):
        page = self.url_open("/clinic/complaint")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        data = {
            "csrf_token": csrf,
            "contact_name": "Wang Fang",
            "contact_phone": "",
            "contact_email": "wang.fang@example.com",
            "description": "Nobody called me back about my results.",
            "privacy_consent": "1",
        }
        data.update(values)
        return self.url_open("/clinic/complaint", data={k: v for k, v in data.items() if v is not None})

    def _complaints(self):
        return self.env["clinic.complaint"].search([("channel", "=", "web_form")])

    def test_consent_and_privacy_notice(self):
        page = self.url_open("/clinic/complaint")
        self.assertIn('name="privacy_consent"', page.text)
        self.assertIn("uses your name, phone number and e-mail address only to handle your complaint", page.text)
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env.company.clinic_privacy_notice = "<p>We keep your data 5 years.</p>"
        self.env.company.update_field_translations(
            "clinic_privacy_notice", {"ru_RU": {"We keep your data 5 years.": "Мы храним ваши данные 5 лет."}}
        )
        self.assertIn("We keep your data 5 years.", self.url_open("/clinic/complaint?lang=en_US").text)
        self.assertIn("Мы храним ваши данные 5 лет.", self.url_open("/clinic/complaint?lang=ru_RU").text)
        before = self._complaints()
        result = self._send(privacy_consent=None)
        self.assertEqual(result.status_code, 400)
        self.assertEqual(self._complaints(), before, "no consent, nothing stored")
        self._send()
        complaint = self._complaints() - before
        self.assertTrue(complaint.privacy_consent_date)
        self.assertIn("We keep your data 5 years.", complaint.privacy_notice)

    def test_rate_limit_per_contact(self):
        for _attempt in range(complaint_form.CONTACT_LIMIT):
            self.assertEqual(self._send(contact_email="same.person@example.com").status_code, 200)
        self.assertEqual(self._send(contact_email="same.person@example.com").status_code, 429)
        self.assertEqual(self._send(contact_email="another.person@example.com").status_code, 200)

    def test_rate_limit_per_address(self):
        for attempt in range(complaint_form.ADDRESS_LIMIT):
            self.assertEqual(self._send(contact_email=f"p{attempt}@example.com").status_code, 200)
        self.assertEqual(self._send(contact_email="p9@example.com").status_code, 429)

    def test_body_size_limit(self):
        before = self._complaints()
        self.assertEqual(self._send(description="x" * (complaint_form.MAX_BODY_BYTES + 10)).status_code, 413)
        self.assertEqual(self._send(description="x" * 6000).status_code, 400, "too long for the field")
        self.assertEqual(self._complaints(), before)

    def test_no_email_flood(self):
        self.env.company.clinic_complaints_manager_id = self.env.ref("base.user_admin")
        self.patch(clinic_complaint, "PUBLIC_NOTIFY_PER_HOUR", 2)
        for attempt in range(3):
            self._send(contact_email=f"flood{attempt}@example.com")
        complaints = self._complaints().sorted("id")
        notified = [
            bool(
                self.env["mail.message"].search_count(
                    [
                        ("model", "=", "clinic.complaint"),
                        ("res_id", "=", c.id),
                        ("message_type", "=", "user_notification"),
                    ]
                )
            )
            for c in complaints[-3:]
        ]
        self.assertEqual(notified, [True, True, False], "past the cap, registered without an e-mail each")


@tagged("post_install", "-at_install")
class TestRateLimitKeys(TransactionCase):
    """Which address the limit counts, whatever headers a visitor sends."""

    def test_client_keys(self):
        Submission = self.env["clinic.public.submission"]
        # a visitor's own X-Forwarded-For is never read: their address counts
        self.assertEqual(Submission._client_key("93.184.216.34", forwarded=True), "93.184.216.34")
        # an IPv6 subscriber has a /64: rotating inside it gives no fresh quota
        self.assertEqual(Submission._client_key("2001:db8:1:2:aaaa::1"), Submission._client_key("2001:db8:1:2:bbbb::9"))
        self.assertEqual(Submission._client_key("::ffff:198.51.100.4"), "198.51.100.4")
        # behind a proxy without proxy_mode, every visitor has the proxy's
        # address: no per-address limit (it would close the form for all)
        with mute_logger("odoo.addons.clinic_retention.models.clinic_public_submission"):
            self.assertIsNone(Submission._client_key("10.0.0.2", forwarded=True, proxy_mode=False))
        self.assertEqual(Submission._client_key("10.0.0.2", forwarded=True, proxy_mode=True), "10.0.0.2")
        self.assertIsNone(Submission._client_key("not an address"))


@tagged("post_install", "-at_install")
class TestRateLimitConcurrency(TransactionCase):
    """Finding 12: parallel submissions cannot all read "under the limit".
    Two real transactions count on the same key: the second waits for the
    first, then is refused by PostgreSQL (Odoo retries the request, which
    then reads the new count)."""

    def _env(self, cr):
        cr.transaction = api.Transaction(self.registry)
        return api.Environment(cr, SUPERUSER_ID, {})

    def tearDown(self):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM clinic_public_submission WHERE kind = 'fuzz:race'")
        super().tearDown()

    def test_parallel_submissions_are_counted_once_each(self):
        results = {}
        with self.registry.cursor() as cr_a:
            results["a"] = self._env(cr_a)["clinic.public.submission"]._allow("fuzz", [("race", "198.51.100.7", 1, 60)])

            def submit_b():
                with self.registry.cursor() as cr_b:
                    env_b = self._env(cr_b)
                    cr_b.execute("SELECT 1")  # B's snapshot starts before A commits
                    try:
                        results["b"] = env_b["clinic.public.submission"]._allow(
                            "fuzz", [("race", "198.51.100.7", 1, 60)]
                        )
                    except psycopg2.errors.SerializationFailure:
                        cr_b.rollback()
                        results["b"] = "retried"
                        results["b_retry"] = self._env(cr_b)["clinic.public.submission"]._allow(
                            "fuzz", [("race", "198.51.100.7", 1, 60)]
                        )

            thread = threading.Thread(target=submit_b)
            with mute_logger("odoo.sql_db"):
                thread.start()
                thread.join(timeout=2)
                cr_a.commit()
                thread.join(timeout=60)
        self.assertTrue(results["a"])
        self.assertNotEqual(results["b"], True, "the second submission never passes on a stale count")
        self.assertIs(results.get("b_retry", results["b"]), False, "counted after the first: over the limit")
