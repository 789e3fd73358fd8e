// Prints the client's operation table as JSON, for the API's tests to check against the OpenAPI document.
package main

import (
	"encoding/json"
	"os"

	fentaweb "github.com/fentaweb/sdk-go"
)

func main() {
	if err := json.NewEncoder(os.Stdout).Encode(fentaweb.Operations); err != nil {
		os.Exit(1)
	}
}
