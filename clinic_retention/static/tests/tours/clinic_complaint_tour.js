/** @odoo-module **/

import { registry } from "@web/core/registry";

// A manager opens the complaint a low satisfaction score opened, records
// why it happened and what changes, resolves it and closes it.
registry.category("web_tour.tours").add("clinic_complaint_close", {
    url: "/odoo/action-clinic_retention.clinic_complaint_action",
    steps: () => [
        {
            content: "Open the complaint opened by the low score",
            trigger: ".o_kanban_record:contains('Tour Unhappy Patient')",
            run: "click",
        },
        {
            content: "It came from the satisfaction survey",
            trigger: ".o_form_view div[name='response_id'] a, .o_form_view div[name='response_id'] span",
        },
        {
            content: "Investigate",
            trigger: ".o_form_view button[name='action_investigate']",
            run: "click",
        },
        {
            content: "Go to the investigation",
            trigger: ".o_notebook a.nav-link:contains('Investigation and resolution')",
            run: "click",
        },
        {
            content: "Root cause",
            trigger: "div[name='root_cause'] textarea",
            run: "edit The doctor ran an hour late and nobody told the waiting patients.",
        },
        {
            content: "Corrective action",
            trigger: "div[name='corrective_action'] textarea",
            run: "edit The front desk now calls waiting patients when a doctor runs late.",
        },
        {
            content: "Resolve",
            trigger: ".o_form_view button[name='action_resolve']",
            run: "click",
        },
        {
            content: "Close",
            trigger: ".o_form_view button[name='action_close']",
            run: "click",
        },
        {
            content: "The complaint is closed",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Closed')",
        },
    ],
});
