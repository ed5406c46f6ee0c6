/** @odoo-module **/

import { registry } from "@web/core/registry";

const CARD = ".o_kanban_record:contains('Tour Overdue Patient')";
const column = (title) => `.o_kanban_group:has(.o_column_title:contains('${title}'))`;

// A customer-service agent takes an overdue follow-up, fails to reach the
// patient once, then reaches them and records a satisfaction score.
registry.category("web_tour.tours").add("clinic_followup_kanban", {
    url: "/odoo/action-clinic_retention.clinic_followup_task_action",
    steps: () => [
        {
            content: "The overdue task waits in New, marked overdue, with a click-to-call number",
            trigger: `${column("New")} ${CARD} .o_clinic_task_overdue a[href='tel:+8613800138000']`,
        },
        {
            content: "Take it",
            trigger: `${column("New")} ${CARD} button[name='action_take']`,
            run: "click",
        },
        {
            content: "Not reached: retry later",
            trigger: `${column("In progress")} ${CARD} button[name='action_not_reached']`,
            run: "click",
        },
        {
            content: "One attempt logged, no longer overdue",
            trigger: `${column("In progress")} ${CARD}:not(:has(.o_clinic_task_overdue)) .o_clinic_attempts:contains('1 / 3')`,
        },
        {
            content: "Reached on the second try",
            trigger: `${column("In progress")} ${CARD} button[name='action_reached']`,
            run: "click",
        },
        {
            content: "Satisfied: 4 stars",
            trigger: ".modal div[name='satisfaction'] .o_priority_star:eq(3)",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The task lands in Done, folded: it leaves the board of open tasks",
            trigger: `body:not(:has(.modal)) .o_kanban_group.o_column_folded .o_column_title:contains('Done')`,
        },
        {
            content: "No card of the closed task left",
            trigger: `body:not(:has(.modal)) .o_kanban_renderer:not(:has(${CARD}))`,
        },
    ],
});
