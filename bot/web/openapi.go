package web

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 description of the JSON API, served at
// /api/v1/openapi.json and checked against real requests and answers by
// the API's tests.
//
//go:embed openapi.json
var OpenAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(OpenAPI)
}
