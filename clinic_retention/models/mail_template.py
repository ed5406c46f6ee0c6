import re

from markupsafe import Markup

from odoo import fields, models

from ..tools.batch_create import with_defaults

# What mail.template.send_mail_batch renders of a template.
TEMPLATE_FIELDS = (
    "attachment_ids",
    "auto_delete",
    "body_html",
    "email_cc",
    "email_from",
    "email_to",
    "mail_server_id",
    "model",
    "partner_to",
    "reply_to",
    "report_template_ids",
    "res_id",
    "scheduled_date",
    "subject",
)
# A template body that only calls a QWeb view (see views/clinic_mail_templates.xml).
VIEW_CALL_BODY = re.compile(r'^\s*(?:<div>\s*)?<t\s+t-call="([\w.]+)"\s*/>\s*(?:</div>\s*)?$')


class MailTemplate(models.Model):
    """Batch queueing of template e-mails for scheduled care messages."""

    _inherit = "mail.template"

    def _clinic_send_mail_batch(self, res_ids):
        """``send_mail_batch(res_ids)``, rendered by the same core
        renderer (``_generate_template``: every field of the template, per
        language), queued for thousands of records at once:

        * a body that only calls a QWeb view is rendered from the view
          (``_render_template_qweb_view``: compiled once, not per e-mail);
        * the reply-to address and document name are looked up once for the
          batch, not once per e-mail;
        * the outgoing message keeps no second copy of the body (an outgoing
          e-mail is not shown in the chatter);
        * the defaults of the e-mails are looked up once for the batch, not
          once per e-mail (``tools.batch_create.with_defaults``).

        Templates with an e-mail layout go through ``send_mail_batch`` itself."""
        self.ensure_one()
        template = self.sudo()
        if template.email_layout_xmlid:
            return template.send_mail_batch(res_ids)
        records = self.env[template.model].browse(res_ids)
        view_call = VIEW_CALL_BODY.match(str(template.body_html or ""))
        render_fields = TEMPLATE_FIELDS if not view_call else tuple(f for f in TEMPLATE_FIELDS if f != "body_html")
        values_by_id = template._generate_template(res_ids, render_fields)
        if view_call:
            for lang_template, lang_ids in template._classify_per_lang(res_ids).values():
                match = VIEW_CALL_BODY.match(str(lang_template.body_html or ""))
                if match:
                    bodies = lang_template._render_template_postprocess(
                        template.model,
                        lang_template._render_template_qweb_view(match.group(1), template.model, lang_ids),
                    )
                    if str(lang_template.body_html).lstrip().startswith("<div>"):  # as the QWeb engine keeps it
                        bodies = {res_id: Markup("<div>%s</div>") % body for res_id, body in bodies.items()}
                else:
                    bodies = lang_template._render_field("body_html", lang_ids)
                for res_id, body in bodies.items():
                    values_by_id[res_id]["body_html"] = body
        records = records.sudo().with_prefetch(res_ids)
        reply_to = records._notify_get_reply_to()
        values_list, attachments_list = [], []
        for record in records:
            values = values_by_id[record.id]
            values["recipient_ids"] = [fields.Command.link(pid) for pid in (values.get("partner_ids") or [])]
            values["attachment_ids"] = [fields.Command.link(aid) for aid in (values.get("attachment_ids") or [])]
            attachments_list.append(values.pop("attachments", []))
            if "email_from" in values and not values.get("email_from"):
                values.pop("email_from")
            if not values.get("reply_to"):
                values["reply_to"] = reply_to.get(record.id)
            values["record_name"] = record.display_name
            values_list.append(values)
        MailSudo = self.env["mail.mail"].sudo()
        mails = MailSudo.create(with_defaults(MailSudo, values_list))
        for mail, attachments in zip(mails, attachments_list, strict=True):
            if attachments:  # reports, as send_mail_batch attaches them
                mail.with_context(default_type=None).write(
                    {
                        "attachment_ids": [
                            fields.Command.create(
                                {
                                    "name": name,
                                    "datas": datas,
                                    "type": "binary",
                                    "res_model": "mail.message",
                                    "res_id": mail.mail_message_id.id,
                                }
                            )
                            for name, datas in attachments
                        ]
                    }
                )
        return mails
