/** @odoo-module **/

import { registry } from "@web/core/registry";

// A manager opens the dashboard, drills into the lost patients of this
// period, comes back and downloads the Excel export.
registry.category("web_tour.tours").add("clinic_dashboard_export", {
    url: "/odoo/action-clinic_retention.clinic_retention_dashboard_action",
    steps: () => [
        {
            content: "This period's lost patients",
            trigger: ".o_clinic_dashboard_current button.o_clinic_kpi_patients_lost",
            run: "click",
        },
        {
            content: "The list behind the number",
            trigger: ".o_list_view .o_data_row:contains('Tour Lost Patient')",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item:first a, .o_breadcrumb .o_back_button",
            run: "click",
        },
        {
            content: "Open the Excel export",
            trigger: ".o_clinic_dashboard .o_form_statusbar button[name='action_export']",
            run: "click",
        },
        {
            content: "Export",
            trigger: ".modal footer button[name='action_export']",
            run: "click",
        },
        {
            content: "The workbook is downloaded, nothing failed",
            trigger: ".modal .o_clinic_export_form:not(:has(.o_error_dialog))",
        },
    ],
});
