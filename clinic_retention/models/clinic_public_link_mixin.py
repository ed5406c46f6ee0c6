import uuid

from odoo import api, fields, models
from odoo.tools import consteq


class ClinicPublicLinkMixin(models.AbstractModel):
    """A personal link sent to a patient (confirm a visit, answer a survey):
    ``<clinic's base URL><path>/<id>/<token>``, opened without login.

    * The token is an unguessable UUID, compared with ``consteq``; a wrong id
      and a wrong token look the same.
    * Only the system can read it (``groups``) and the URL is computed only
      in superuser mode, i.e. when a message is rendered by the care-message
      service: staff cannot read a patient's link and answer in their name,
      not even through a template they write themselves.
    * The token opens that page only: it is not a portal token, so it gives
      no access to the record's chatter or attachments.
    """

    _name = "clinic.public.link.mixin"
    _description = "Personal link for patients"
    # Route of the public page; the link is f"{base}{_public_link_path}/{id}/{token}".
    _public_link_path = None

    access_token = fields.Char(
        "Security token",
        copy=False,
        readonly=True,
        index="btree_not_null",
        groups="base.group_system",
        default=lambda self: str(uuid.uuid4()),
    )

    def _public_link_urls(self):
        """{record id: URL}, computed only in superuser mode; the base URL is
        looked up once per clinic (thousands of links go out in a batch)."""
        if not self.env.su:
            return dict.fromkeys(self.ids, False)
        base_urls = {}
        urls = {}
        for record in self:
            company = record.company_id
            if company not in base_urls:
                base_urls[company] = record.get_base_url()
            urls[record.id] = (
                f"{base_urls[company]}{self._public_link_path}/{record.id}/{record.access_token}"
                if record.id and record.access_token
                else False
            )
        return urls

    @api.model
    def _from_public_link(self, record_id, token):
        """The record (in sudo) whose link this is, or an empty recordset.
        (``consteq`` compares ASCII only: any other token is simply wrong.)"""
        record = self.sudo().browse(record_id).exists()
        if not record or not token or not isinstance(token, str) or not token.isascii() or not record.access_token:
            return self.sudo().browse()
        if not consteq(record.access_token, token):
            return self.sudo().browse()
        return record

    def _rotate_access_token(self):
        """Links sent before stop working (e.g. the visit was moved)."""
        for record in self.sudo():
            record.access_token = str(uuid.uuid4())
