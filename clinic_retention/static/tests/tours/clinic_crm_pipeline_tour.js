/** @odoo-module **/

import { registry } from "@web/core/registry";

const CARD = ".o_kanban_record:contains('Tour Prospect')";
const column = (title) => `.o_kanban_group:has(.o_column_title:contains('${title}'))`;

// A customer-service agent opens the department's pipeline, grades a
// prospect B, books the first visit, marks the visit done, and sees the
// opportunity won.
registry.category("web_tour.tours").add("clinic_crm_pipeline", {
    url: "/odoo/action-clinic_retention.crm_lead_action_clinic_pipeline",
    steps: () => [
        {
            content: "The prospect waits in To contact, not graded yet",
            trigger: `${column("To contact")} ${CARD}:not(:has(.o_clinic_grade:visible))`,
            run: "click",
        },
        {
            content: "Grade B: a clear need, will book soon (the definition is shown)",
            trigger: "div[name='clinic_grade_id'] .o_radio_item:contains('B —') input",
            run: "click",
        },
        {
            content: "The grade's definition is shown as help",
            trigger: "div[name='clinic_grade_description']:contains('Book within two weeks')",
        },
        {
            content: "Book the first visit",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_clinic_book_visit']:contains('Book first visit')",
            run: "click",
        },
        {
            content: "The booking opens for the new patient, in the department",
            trigger: ".modal .o_form_view div[name='department_id'] input:value(Tour Dental CRM)",
        },
        {
            content: "Save the booking",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The opportunity moved to Visit booked",
            trigger: "body:not(:has(.modal)) .o_statusbar_status button[aria-checked='true']:contains('Visit booked')",
        },
        {
            content: "Open the visit",
            trigger: "button[name='action_clinic_open_visit']",
            run: "click",
        },
        {
            content: "The patient came: mark the visit done",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_mark_done']",
            run: "click",
        },
        {
            content: "The visit is done",
            trigger: ".o_form_view .o_statusbar_status button[aria-checked='true']:contains('Done')",
        },
        {
            content: "Back to the opportunity",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Tour Prospect')",
            run: "click",
        },
        {
            content: "The opportunity is won",
            trigger: ".o_form_view .ribbon:contains('Won')",
        },
    ],
});
