/** @odoo-module **/

import { registry } from "@web/core/registry";

// A Persian-speaking visitor fills in the public complaint form: the page is
// laid out right to left (dir="rtl" and Odoo's RTL stylesheet) before and
// after sending.
registry.category("web_tour.tours").add("clinic_complaint_form_fa", {
    url: "/clinic/complaint?lang=fa_IR",
    steps: () => [
        {
            content: "The form is in Persian, right to left",
            trigger: "html[dir='rtl'][lang='fa-IR'] .o_clinic_complaint_page h1:contains('چه مشکلی پیش آمد')",
        },
        {
            content: "Odoo's RTL stylesheet is loaded: the check box sits on the right",
            trigger: "html[dir='rtl'] .o_clinic_privacy_consent",
            run() {
                const style = getComputedStyle(document.querySelector(".o_clinic_privacy_consent"));
                if (style.direction !== "rtl" || !(parseFloat(style.paddingRight) > 0) || parseFloat(style.paddingLeft) !== 0) {
                    throw new Error(
                        `not laid out right to left: direction ${style.direction}, padding ${style.paddingLeft} / ${style.paddingRight}`
                    );
                }
            },
        },
        {
            content: "Name",
            trigger: "#contact_name",
            run: "edit مریم احمدی",
        },
        {
            content: "E-mail",
            trigger: "#contact_email",
            run: "edit maryam.tour@example.com",
        },
        {
            content: "What happened",
            trigger: "#description",
            run: "edit یک ساعت در اتاق انتظار ماندم و کسی به من چیزی نگفت.",
        },
        {
            content: "Consent",
            trigger: "#privacy_consent",
            run: "click",
        },
        {
            content: "Send",
            trigger: ".o_clinic_complaint_submit",
            run: "click",
        },
        {
            content: "Thank-you page, still right to left",
            trigger: "html[dir='rtl'] .o_clinic_complaint_done",
        },
    ],
});

// An agent whose language is Chinese opens the follow-up board: columns,
// card buttons and the menu are in Chinese.
registry.category("web_tour.tours").add("clinic_followup_board_zh", {
    url: "/odoo/action-clinic_retention.clinic_followup_task_action",
    steps: () => [
        {
            content: "The board's columns are in Chinese",
            trigger: ".o_kanban_group .o_column_title:contains('新建')",
        },
        {
            content: "In progress and Done columns too",
            trigger: ".o_kanban_renderer:has(.o_column_title:contains('进行中')):has(.o_column_title:contains('已完成'))",
        },
        {
            content: "The card's buttons are in Chinese",
            trigger: ".o_kanban_record:contains('Tour Zh Patient') button[name='action_take']:contains('领取')",
        },
        {
            content: "Reached / not reached / book a visit",
            trigger:
                ".o_kanban_record:contains('Tour Zh Patient'):has(button[name='action_reached']:contains('已联系上')):has(button[name='action_not_reached']:contains('未接通')):has(button[name='action_book_visit']:contains('预约就诊'))",
        },
        {
            content: "The breadcrumb names the board in Chinese",
            trigger: ".o_breadcrumb:contains('回访')",
        },
        {
            content: "No English label left on the card",
            trigger: ".o_kanban_record:contains('Tour Zh Patient')",
            run() {
                const card = document.querySelector(".o_kanban_record .o_clinic_task_buttons");
                const text = card ? card.innerText : "";
                for (const word of ["Take", "Reached", "retry", "Book visit"]) {
                    if (text.includes(word)) {
                        throw new Error(`English left on the card: ${word} in ${text}`);
                    }
                }
            },
        },
    ],
});

// The same board for a Persian-speaking agent: the web client runs right to
// left (o_rtl, RTL stylesheet) and the overdue card's red edge moves to the
// right (logical CSS properties).
registry.category("web_tour.tours").add("clinic_followup_board_fa", {
    url: "/odoo/action-clinic_retention.clinic_followup_task_action",
    steps: () => [
        {
            content: "The web client is right to left, the columns in Persian",
            trigger: "body.o_rtl .o_kanban_group .o_column_title:contains('جدید')",
        },
        {
            content: "The overdue card's edge is on the right",
            trigger: ".o_kanban_record:contains('Tour Fa Patient') .o_clinic_task_overdue",
            run() {
                const card = document.querySelector(".o_clinic_task_overdue");
                const style = getComputedStyle(card);
                if (style.direction !== "rtl" || style.borderRightWidth !== "3px" || style.borderLeftWidth !== "0px") {
                    throw new Error(
                        `overdue edge not on the right: ${style.direction}, ${style.borderLeftWidth} / ${style.borderRightWidth}`
                    );
                }
            },
        },
        {
            content: "The card's buttons are in Persian",
            trigger: ".o_kanban_record:contains('Tour Fa Patient') button[name='action_take']:contains('به عهده گرفتن')",
        },
    ],
});
