// Package workload holds the KSML definitions of the benchmark workloads,
// shared by bench (ksml against its own limits) and bench/peers (ksml
// against other systems), so both measure the same pipelines.
package workload

import (
	"fmt"
	"strings"
)

// CQRSMapper is the seed's CQRS mapValues code (acceptance/seed/definitions/
// cqrs.yaml), the Python of the python_map workload.
const CQRSMapper = `# Transform write model to read model
event_type = value.get("eventType")
entity_id = value.get("entityId")
data = value.get("data")

read_model = {
  "id": entity_id,
  "timestamp": int(time.time() * 1000),
  "type": event_type
}

# Add specific fields based on event type
if event_type == "USER_CREATED":
    read_model["username"] = data.get("username")
    read_model["email"] = data.get("email")
elif event_type == "USER_UPDATED":
    read_model["updatedFields"] = data.get("changedFields")

return read_model
`

// CQRSMapperFunction is CQRSMapper as a Python function of value named
// name, for a peer that calls a function on every record.
func CQRSMapperFunction(name string) string {
	return "def " + name + "(value):\n" + indent(CQRSMapper, "    ")
}

func indent(s, pad string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// KSML is the KSML definition of workload w (passthrough, python_map,
// filter_map, count, window_count) reading JSON from topic in and writing
// to topic out; an unknown workload is an error.
func KSML(w, in, out string) (string, error) {
	streams := func(outKey, outValue string) string {
		return fmt.Sprintf("streams:\n  events:\n    topic: %s\n    keyType: string\n    valueType: json\n  results:\n    topic: %s\n    keyType: %s\n    valueType: %s\n",
			in, out, outKey, outValue)
	}
	switch w {
	case "passthrough":
		return streams("string", "json") + "pipelines:\n  passthrough:\n    from: events\n    to: results\n", nil
	case "python_map":
		return streams("string", "json") + "pipelines:\n  cqrs:\n    from: events\n    via:\n      - type: mapValues\n        mapper:\n          resultType: json\n          code: |\n" +
			indent(CQRSMapper, "            ") + "    to: results\n", nil
	case "filter_map":
		return streams("string", "json") + `pipelines:
  filter_map:
    from: events
    via:
      - type: filter
        if:
          expression: value.get("eventType") != "USER_SUSPENDED"
      - type: mapValues
        mapper:
          resultType: json
          expression: '{"id": value.get("entityId"), "type": value.get("eventType"), "region": value.get("region")}'
    to: results
`, nil
	case "count":
		return streams("string", "long") + `stores:
  event_counts:
    type: keyValue
    keyType: string
    valueType: long
    persistent: true
    logging: true
pipelines:
  count_per_key:
    from: events
    via:
      - type: groupByKey
      - type: count
        store: event_counts
      - type: toStream
    to: results
`, nil
	case "window_count":
		return streams("windowed(string)", "long") + `stores:
  event_window_counts:
    type: window
    keyType: string
    valueType: long
    windowSize: 1m
    retention: 1h
    persistent: true
    logging: true
pipelines:
  window_count:
    from: events
    via:
      - type: groupByKey
      - type: windowByTime
        windowType: tumbling
        duration: 1m
      - type: count
        store: event_window_counts
      - type: toStream
    to: results
`, nil
	}
	return "", fmt.Errorf("unknown workload %q", w)
}
