from odoo import fields, http
from odoo.http import request
from odoo.tools import consteq

ANSWERS = ("confirm", "cancel")


class VisitConfirmationController(http.Controller):
    """The personal link in visit reminders: the patient confirms or cancels
    without logging in. Every route checks the visit's token with consteq
    and touches only that visit; GET only shows, POST acts (link scanners
    in mail clients open links, they must not cancel visits)."""

    def _visit_from_link(self, visit_id, token):
        visit = request.env["clinic.visit"].sudo().browse(visit_id).exists()
        if not token or not token.isascii():  # consteq compares ASCII only (a 500 otherwise)
            return None
        if not visit or not visit.access_token or not consteq(visit.access_token, token):
            return None
        return visit

    def _link_alive(self, visit):
        """Until the visit starts, for a scheduled visit or one the patient cancelled."""
        return visit._is_link_usable() or (
            visit.confirmation_state == "cancelled" and visit.start > fields.Datetime.now()
        )

    def _render_invalid(self):
        return request.render("clinic_retention.public_link_invalid", {}, status=404)

    def _render_visit(self, visit, token, **values):
        lang = visit.patient_id.lang
        if lang and request.env["res.lang"]._lang_get(lang):
            request.update_context(lang=lang)
        tz = visit.patient_id.tz or visit.company_id.partner_id.tz or "UTC"
        return request.render(
            "clinic_retention.visit_confirmation_page",
            {"visit": visit, "token": token, "tz": tz, "company": visit.company_id, **values},
        )

    @http.route("/clinic/visit/<int:visit_id>/<string:token>", type="http", auth="public", methods=["GET"])
    def visit_page(self, visit_id, token, **kwargs):
        visit = self._visit_from_link(visit_id, token)
        if not visit:
            return self._render_invalid()
        if not self._link_alive(visit):
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
        if not visit or answer not in ANSWERS or not self._link_alive(visit):
            return self._render_invalid()
        if visit.state != "scheduled":
            # cancelled already: clicking again gives the same page, changes nothing
            return self._render_visit(visit, token)
        if answer == "confirm":
            visit._patient_confirm()
        else:
            visit._patient_cancel()
        return self._render_visit(visit, token, done=answer)
