// Starts Swagger UI on the generated document. Kept in a file because the CSP forbids inline scripts.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // "Try it out" calls go through the CSRF check like the app's own requests.
  requestInterceptor: (request) => {
    if (request.method && request.method.toUpperCase() !== "GET") {
      request.headers["X-Requested-With"] = "ImageTools";
    }
    return request;
  },
});
