// Prerender every page with adapter-static: index.html and reports.html.
export const prerender = true;
