'use strict';
window.ui = SwaggerUIBundle({url: '/openapi.yaml', dom_id: '#swagger', deepLinking: true});
