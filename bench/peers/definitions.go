package main

import (
	"os"
	"path/filepath"
)

// pythonLibPython is the interpreter of the venv holding the Python library
// peer (Quix Streams), outside the repository.
func pythonLibPython() string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache/ksml/quixstreams-venv/bin/python")
}

// quixScript is the python_map workload in Quix Streams: the seed's CQRS
// mapper as a Python function applied to every value. Arguments: bootstrap
// servers, application id, input topic, output topic, state directory.
const quixScript = `import sys, time
from quixstreams import Application

bootstrap, app_id, src, dst, state = sys.argv[1:6]

def read_model(value):
` + "    # the seed's CQRS mapper, unchanged\n" + `    event_type = value.get("eventType")
    entity_id = value.get("entityId")
    data = value.get("data")
    read_model = {"id": entity_id, "timestamp": int(time.time() * 1000), "type": event_type}
    if event_type == "USER_CREATED":
        read_model["username"] = data.get("username")
        read_model["email"] = data.get("email")
    elif event_type == "USER_UPDATED":
        read_model["updatedFields"] = data.get("changedFields")
    return read_model

app = Application(broker_address=bootstrap, consumer_group=app_id, auto_offset_reset="earliest", state_dir=state)
inp = app.topic(src, key_deserializer="string", value_deserializer="json")
out = app.topic(dst, key_serializer="string", value_serializer="json")
sdf = app.dataframe(inp)
sdf = sdf.apply(read_model)
sdf = sdf.to_topic(out)
app.run()
`
