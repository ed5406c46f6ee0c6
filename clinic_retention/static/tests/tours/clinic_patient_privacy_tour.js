/** @odoo-module **/

import { registry } from "@web/core/registry";

// A manager downloads a patient's data (right of access), then anonymises
// the patient (right to erasure).
registry.category("web_tour.tours").add("clinic_patient_privacy", {
    steps: () => [
        {
            content: "The patient's form",
            trigger: ".o_form_view .o_field_widget[name='name'] input:value(Tour Forget Me)",
        },
        {
            content: "Export the patient's data",
            trigger: ".o_form_view .o_form_statusbar button[name='action_export_personal_data']",
            run: "click",
        },
        {
            content: "Anonymise the patient",
            trigger: ".o_form_view .o_form_statusbar button[name='action_open_anonymise_wizard']",
            run: "click",
        },
        {
            content: "Say which request it answers",
            trigger: ".modal .o_field_widget[name='note'] input",
            run: "edit Request by letter, ref. T-1",
        },
        {
            content: "Confirm that it cannot be undone",
            trigger: ".modal .o_field_widget[name='confirm'] input",
            run: "click",
        },
        {
            content: "Anonymise",
            trigger: ".modal footer button[name='action_anonymise']",
            run: "click",
        },
        {
            content: "The patient is anonymised",
            trigger: ".o_form_view .o_clinic_anonymised",
        },
    ],
});
