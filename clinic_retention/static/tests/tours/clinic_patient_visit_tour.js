/** @odoo-module **/

import { registry } from "@web/core/registry";

// A customer-service agent opens a patient, adds a visit in the Visits tab and saves.
registry.category("web_tour.tours").add("clinic_patient_add_visit", {
    url: "/odoo/action-clinic_retention.clinic_patient_action",
    steps: () => [
        {
            content: "Open the patient",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour Patient')",
            run: "click",
        },
        {
            content: "The number typed loosely was stored in E.164",
            trigger: ".o_field_widget[name='mobile'] input:value(+8613800138000)",
        },
        {
            content: "Go to the visits",
            trigger: ".o_notebook .nav-link[name='visits']",
            run: "click",
        },
        {
            content: "Add a visit",
            trigger: "div[name='visit_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "Choose the department",
            trigger: "div[name='visit_ids'] .o_selected_row div[name='department_id'] input",
            run: "edit Tour Dental",
        },
        {
            trigger: ".o-autocomplete--dropdown-menu li a:contains('Tour Dental')",
            run: "click",
        },
        {
            content: "Choose the service",
            trigger: "div[name='visit_ids'] .o_selected_row div[name='service_id'] input",
            run: "edit Tour check-up",
        },
        {
            trigger: ".o-autocomplete--dropdown-menu li a:contains('Tour check-up')",
            run: "click",
        },
        {
            content: "Save the patient",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the visit is listed",
            trigger: ".o_form_saved div[name='visit_ids'] .o_data_row:contains('Tour check-up')",
        },
    ],
});
