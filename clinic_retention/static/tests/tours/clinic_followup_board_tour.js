/** @odoo-module **/

import { registry } from "@web/core/registry";

const card = (name) => `.o_kanban_record:contains('${name}')`;
const column = (title) => `.o_kanban_group:has(.o_column_title:contains('${title}'))`;

// An agent's day on the board: the closed columns are folded, the open
// tasks come most urgent first; one patient asks to be called back later,
// another complains during the call and is then recorded as reached.
registry.category("web_tour.tours").add("clinic_followup_board_agent", {
    url: "/odoo/action-clinic_retention.clinic_followup_task_action",
    steps: () => [
        {
            content: "Done and Unreachable are folded; the closed task is not on the open board",
            trigger: `.o_kanban_group.o_column_folded .o_column_title:contains('Done')`,
        },
        {
            content: "Unreachable is folded too",
            trigger: `.o_kanban_group.o_column_folded .o_column_title:contains('Unreachable')`,
        },
        {
            content: "The overdue task comes first in New",
            trigger: `${column("New")} .o_kanban_record:first:contains('Board Complaint Patient')`,
        },
        {
            content: "The closed task is filtered out",
            trigger: `.o_kanban_renderer:not(:has(${card("Board Closed Patient")}))`,
        },
        {
            content: "The first patient asks to be called back",
            trigger: `${card("Board Callback Patient")} button[name='action_call_back']`,
            run: "click",
        },
        {
            content: "Note what the patient said",
            trigger: ".modal div[name='note'] textarea",
            run: "edit Back from holiday next week",
        },
        {
            content: "Call back then",
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The task waits in progress with its call-back time",
            trigger: `body:not(:has(.modal)) ${column("In progress")} ${card("Board Callback Patient")} .o_clinic_callback`,
        },
        {
            content: "The second patient complains during the call",
            trigger: `${card("Board Complaint Patient")} button[name='action_new_complaint']`,
            run: "click",
        },
        {
            content: "The complaint form knows the patient",
            trigger: ".modal div[name='patient_id'] input:value('Board Complaint Patient')",
        },
        {
            content: "Write what the patient said",
            trigger: ".modal div[name='description'] textarea",
            run: "edit The nurse did not explain the treatment.",
        },
        {
            content: "Save the complaint",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Back on the board, record the call as reached",
            trigger: `body:not(:has(.modal)) ${card("Board Complaint Patient")} button[name='action_reached']`,
            run: "click",
        },
        {
            content: "Save and close the task",
            trigger: ".modal button[name='action_confirm']:visible",
            run: "click",
        },
        {
            content: "The task leaves the open board",
            trigger: `body:not(:has(.modal)) .o_kanban_renderer:not(:has(${card("Board Complaint Patient")}))`,
        },
    ],
});
