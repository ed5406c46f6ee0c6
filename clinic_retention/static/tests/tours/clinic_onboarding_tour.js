/** @odoo-module **/

import { registry } from "@web/core/registry";

// A manager of a new clinic opens the setup checklist, activates the shipped
// recall rules for a department in one click, runs the check-up rule and
// gets the first recall task; back on the checklist the step is done.
registry.category("web_tour.tours").add("clinic_onboarding_checklist", {
    url: "/odoo/action-clinic_retention.onboarding_onboarding_step_action_clinic",
    steps: () => [
        {
            content: "Recall rules are not set up yet",
            trigger: ".o_kanban_record:contains('Recall rules') .o_clinic_step_todo",
        },
        {
            content: "Activate recall rules",
            trigger: ".o_kanban_record:contains('Recall rules') button.o_clinic_step_button",
            run: "click",
        },
        {
            content: "Choose the department",
            trigger: ".modal .o_field_widget[name='department_id'] input",
            run: "edit Onboarding Dental",
        },
        {
            trigger: ".ui-autocomplete .dropdown-item:contains('Onboarding Dental')",
            run: "click",
        },
        {
            content: "The shipped templates are offered",
            trigger: ".modal .o_field_widget[name='template_ids'] label:contains('Dental check-up every 6 months')",
        },
        {
            content: "Activate them",
            trigger: ".modal footer button[name='action_activate']",
            run: "click",
        },
        {
            content: "Open the check-up rule of the department",
            trigger: ".o_list_view .o_data_row:contains('Dental check-up every 6 months') .o_data_cell[name='name']",
            run: "click",
        },
        {
            content: "Run it now",
            trigger: ".o_form_view .o_form_statusbar button[name='action_run_now']",
            run: "click",
        },
        {
            content: "The first recall task is open",
            trigger: ".o_notification:contains('1 follow-up task(s) opened')",
        },
        {
            content: "Back to the checklist",
            trigger: ".o_breadcrumb .breadcrumb-item:first a",
            run: "click",
        },
        {
            content: "The recall step is done",
            trigger: ".o_kanban_record:contains('Recall rules') .o_clinic_step_done",
        },
    ],
});
