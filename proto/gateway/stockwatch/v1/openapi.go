package stockwatchv1

import _ "embed" // for OpenAPI

// OpenAPI is the OpenAPI 2.0 document of the REST/JSON API, generated with
// the gateway from the same HTTP rules (scripts/protogen.sh).
//
//go:embed stockwatch.swagger.json
var OpenAPI []byte
