"""The screenshots of docs/ (the follow-up board in Chinese, the complaint
form in Persian). Not part of the test run: refresh them with

    scripts/test.sh clinic_screenshots

(Chromium needs a Chinese font for the board: ``apt-get install
fonts-wqy-microhei``.)
"""

import base64
import json
from datetime import timedelta
from pathlib import Path

import werkzeug.urls

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from .test_i18n import install_languages

DOCS = Path(__file__).resolve().parents[2] / "docs"


@tagged("post_install", "-at_install", "-standard", "clinic_screenshots")
class TestI18nScreenshots(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.env.company.write({"name": "仁心口腔诊所", "country_id": cls.env.ref("base.cn").id})

    def _screenshot(self, url, ready_selector, name, login=None):
        browser = ChromeBrowser(self, headless=True, success_signal="test successful")
        try:
            self.authenticate(login, login, browser=browser)
            self.cr.flush()
            self.cr.clear()
            browser.navigate_to(werkzeug.urls.url_join(self.base_url(), url), wait_stop=False)
            self.assertTrue(browser._wait_ready(f"!!document.querySelector({json.dumps(ready_selector)})"))
            # let the fonts and images settle
            browser._wait_ready("new Promise((resolve) => setTimeout(() => resolve(true), 1500))")
            shot = browser._websocket_send("Page.captureScreenshot", with_future=True).result(timeout=30)
            DOCS.mkdir(exist_ok=True)
            (DOCS / name).write_bytes(base64.b64decode(shot["data"]))
        finally:
            browser.stop()
            self._wait_remaining_requests()

    def test_board_in_chinese_and_complaint_form_in_persian(self):
        agent = new_test_user(
            self.env,
            login="shot_agent_zh",
            password="shot_agent_zh",
            name="王丽",
            groups="clinic_retention.group_clinic_retention_user",
            lang="zh_CN",
            tz="Asia/Shanghai",
        )
        agent.tour_enabled = False
        department = self.env["clinic.department"].create({"name": "口腔科", "member_ids": [(6, 0, agent.ids)]})
        stages = {
            stage.kind: stage
            for stage in self.env["clinic.followup.stage"].search([("kind", "in", ["new", "in_progress"])])
        }
        today = fields.Date.today()
        for index, (name, mobile, reason, days) in enumerate(
            [
                ("张伟", "138 0013 8201", "recall", -3),
                ("李娜", "138 0013 8202", "recall", 1),
                ("刘洋", "138 0013 8203", "chronic", 4),
                ("陈静", "138 0013 8204", "recall", 0),
                ("杨帆", "138 0013 8205", "recall", 2),
            ]
        ):
            patient = self.env["clinic.patient"].create(
                {"name": name, "mobile": mobile, "country_id": self.env.ref("base.cn").id, "lang": "zh_CN"}
            )
            task = self.env["clinic.followup.task"].create(
                {
                    "name": f"{name} 复诊提醒",
                    "patient_id": patient.id,
                    "department_id": department.id,
                    "reason": reason,
                    "date_deadline": today + timedelta(days=days),
                    "user_id": False if index % 2 else agent.id,
                }
            )
            if index % 2 == 0 and "in_progress" in stages:
                task.stage_id = stages["in_progress"]
        self._screenshot(
            "/odoo/action-clinic_retention.clinic_followup_task_action",
            ".o_kanban_record",
            "followup_board_zh_CN.png",
            login="shot_agent_zh",
        )
        self._screenshot(
            "/clinic/complaint?lang=fa_IR", "html[dir='rtl'] .o_clinic_complaint_page", "complaint_form_fa.png"
        )
