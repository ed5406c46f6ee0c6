import pytz

from odoo import http
from odoo.http import request
from odoo.tools.translate import LazyTranslate

from ..tools.locale_dates import format_patient_date

_lt = LazyTranslate(__name__)

ASPECTS = (
    ("waiting_score", _lt("Waiting time")),
    ("doctor_score", _lt("Doctor")),
    ("staff_score", _lt("Staff")),
    ("cleanliness_score", _lt("Cleanliness")),
)


def _local(value, tz):
    """The clinic-local datetime of the naive UTC ``value`` (False stays False)."""
    return value and pytz.utc.localize(value).astimezone(pytz.timezone(tz))


class SatisfactionFeedbackController(http.Controller):
    """The personal satisfaction survey sent after a visit: no login, the
    link's token is checked with consteq and only that response is read or
    written. The patient may change their answer until the link expires."""

    def _response_from_link(self, response_id, token):
        response = request.env["clinic.survey.response"]._from_public_link(response_id, token)
        if not response or not response._is_link_usable():
            return None
        return response

    def _render_invalid(self):
        return request.render("clinic_retention.public_link_invalid", {}, status=404)

    def _render_form(self, response, token, values=None, status=200, **extra):
        lang = response.patient_id.lang
        if lang and request.env["res.lang"]._lang_get(lang):
            request.update_context(lang=lang)
        if values is None:
            values = {name: response[name] or "" for name in ("score", *dict(ASPECTS))}
            values["comment"] = response.comment or ""
        # dates in the clinic's zone, as in the messages
        tz = response.visit_id.local_tz or response.company_id.clinic_tz or "UTC"
        env = request.env
        return request.render(
            "clinic_retention.satisfaction_survey_page",
            {
                "response": response,
                "token": token,
                "values": values,
                "aspects": ASPECTS,
                "company": response.company_id,
                "tz": tz,
                "visit_date": format_patient_date(env, _local(response.visit_id.start, tz)),
                "expiry_date": format_patient_date(env, _local(response.expiry_date, tz)),
                **extra,
            },
            status=status,
        )

    @http.route("/clinic/feedback/<int:response_id>/<string:token>", type="http", auth="public", methods=["GET"])
    def feedback_page(self, response_id, token, **kwargs):
        response = self._response_from_link(response_id, token)
        if not response:
            return self._render_invalid()
        return self._render_form(response, token)

    @http.route(
        "/clinic/feedback/<int:response_id>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
    )
    def feedback_submit(self, response_id, token, **post):
        response = self._response_from_link(response_id, token)
        if not response:
            return self._render_invalid()
        cleaned, error = response._clean_answer(post)
        if error:
            typed = {name: post.get(name, "") for name in ("score", *dict(ASPECTS), "comment")}
            return self._render_form(response, token, values=typed, status=400, error=error)
        response._submit(cleaned)
        return self._render_form(response, token, saved=True)
