/* SPDX-License-Identifier: MIT */
/*
 * assets.S — the dashboard page and the OpenAPI document, built into the
 * binary as they are in the source tree, so wq-serve needs no data files.
 */
	.section .rodata
	.global wqs_dashboard_html, wqs_dashboard_html_end
wqs_dashboard_html:
	.incbin "serve/dashboard.html"
wqs_dashboard_html_end:
	.byte 0

	.global wqs_openapi_json, wqs_openapi_json_end
wqs_openapi_json:
	.incbin "serve/openapi.json"
wqs_openapi_json_end:
	.byte 0

	.section .note.GNU-stack,"",@progbits
