from odoo import http
from odoo.http import request

ANSWERS = ("confirm", "cancel")
# The patient's preferred days and times ("I need another time"), as typed.
MAX_PREFERRED_LENGTH = 1000


class VisitConfirmationController(http.Controller):
    """The personal link in visit reminders: the patient confirms or cancels
    without logging in. Every route checks the visit's token (see
    ``clinic.public.link.mixin``) and touches only that visit; GET only
    shows, POST acts (link scanners in mail clients open links, they must
    not cancel visits). The link stops working once the visit starts, and
    when the visit is moved (a new link goes out with the new time)."""

    def _visit_from_link(self, visit_id, token):
        visit = request.env["clinic.visit"]._from_public_link(visit_id, token)
        return visit if visit and visit._is_link_usable() else None

    def _render_invalid(self):
        return request.render("clinic_retention.public_link_invalid", {}, status=404)

    def _render_visit(self, visit, token, **values):
        lang = visit.patient_id.lang
        if lang and request.env["res.lang"]._lang_get(lang):
            request.update_context(lang=lang)
        # the visit's texts (start_local_long) in the page's language
        visit = visit.with_context(lang=request.env.lang)
        return request.render(
            "clinic_retention.visit_confirmation_page",
            # the visit time in the clinic's zone, as in the reminder
            {"visit": visit, "token": token, "tz": visit.local_tz, "company": visit.company_id, **values},
        )

    @http.route("/clinic/visit/<int:visit_id>/<string:token>", type="http", auth="public", methods=["GET"])
    def visit_page(self, visit_id, token, **kwargs):
        visit = self._visit_from_link(visit_id, token)
        if not visit:
            return self._render_invalid()
        return self._render_visit(visit, token)

    @http.route(
        "/clinic/visit/<int:visit_id>/<string:token>/<string:answer>",
        type="http",
        auth="public",
        methods=["POST"],
    )
    def visit_answer(self, visit_id, token, answer, **kwargs):
        visit = self._visit_from_link(visit_id, token)
        if not visit or answer not in ANSWERS:
            return self._render_invalid()
        changed = visit._patient_confirm() if answer == "confirm" else visit._patient_cancel()
        # clicking again gives the same page and changes nothing
        return self._render_visit(visit, token, **({"done": answer} if changed else {}))

    @http.route(
        "/clinic/visit/<int:visit_id>/<string:token>/reschedule",
        type="http",
        auth="public",
        methods=["POST"],
    )
    def visit_reschedule(self, visit_id, token, preferred=None, **kwargs):
        """ "I need another time": the patient writes when they could come;
        the visit is cancelled and a rebooking task opens with their words."""
        visit = self._visit_from_link(visit_id, token)
        if not visit:
            return self._render_invalid()
        preferred = (preferred or "").strip()
        if visit.state == "scheduled" and not preferred:
            return self._render_visit(
                visit,
                token,
                reschedule_error=visit.with_context(lang=visit.patient_id.lang or request.env.lang).env._(
                    "Please tell us which days and times suit you."
                ),
            )
        changed = visit._patient_reschedule(preferred[:MAX_PREFERRED_LENGTH])
        return self._render_visit(visit, token, **({"done": "reschedule"} if changed else {}))
