package main

import (
	"encoding/json"
	"testing"
)

// TestSchemaCommand checks that `ksml schema` prints the definition schema
// and `ksml schema --runner` the runner-configuration schema.
func TestSchemaCommand(t *testing.T) {
	for args, want := range map[string]string{
		"":         "https://ksml.dev/schemas/ksml-definition.json",
		"--runner": "https://ksml.dev/schemas/ksml-runner.json",
	} {
		cli := []string{"schema"}
		if args != "" {
			cli = append(cli, args)
		}
		out, err := runCLI(t, cli...)
		if err != nil {
			t.Fatalf("ksml %v: %v", cli, err)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("ksml %v: not JSON: %v", cli, err)
		}
		if doc["$id"] != want {
			t.Errorf("ksml %v: $id = %v, want %s", cli, doc["$id"], want)
		}
	}
}
