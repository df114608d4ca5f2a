package main

import (
	"os"
	"path/filepath"

	"github.com/ksml-dev/ksml/bench/workload"
)

// pythonLibPython is the interpreter of the venv holding the Python library
// peer (Quix Streams), outside the repository.
func pythonLibPython() string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache/ksml/quixstreams-venv/bin/python")
}

// quixScript is the python_map workload in Quix Streams: the seed's CQRS
// mapper (workload.CQRSMapper) as a Python function applied to every value.
// Arguments: bootstrap servers, application id, input topic, output topic,
// state directory.
var quixScript = `import sys, time
from quixstreams import Application

bootstrap, app_id, src, dst, state = sys.argv[1:6]

` + workload.CQRSMapperFunction("read_model") + `
app = Application(broker_address=bootstrap, consumer_group=app_id, auto_offset_reset="earliest", state_dir=state)
inp = app.topic(src, key_deserializer="string", value_deserializer="json")
out = app.topic(dst, key_serializer="string", value_serializer="json")
sdf = app.dataframe(inp)
sdf = sdf.apply(read_model)
sdf = sdf.to_topic(out)
app.run()
`
