package conformance

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/testdriver"
	"github.com/ksml-dev/ksml/internal/topology"
	"github.com/ksml-dev/ksml/internal/types"
)

// KSML runs scenarios through ksml: each on a freshly built topology on the
// in-memory test driver (as the test runner does), sharing one Python
// interpreter.
type KSML struct {
	interp *python.Interpreter
	serdes topology.NotationSerdes
	n      int
	mu     sync.Mutex
}

// NewKSML starts the embedded Python interpreter; the error says why it
// could not start.
func NewKSML() (*KSML, error) {
	in, err := python.Init(python.Options{})
	if err != nil {
		return nil, err
	}
	return &KSML{interp: in, serdes: topology.DefaultSerdes()}, nil
}

// Run runs one scenario and returns what ksml wrote to the output topic.
// A definition ksml cannot build, or a record it fails to process, is an
// error (the oracle would not fail on these scenarios).
func (k *KSML) Run(s *Scenario) ([]Output, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	src, keyType, valueType, err := s.KSML()
	if err != nil {
		return nil, err
	}
	k.n++
	ns := "conformance" + strconv.Itoa(k.n)
	def, err := definition.Parse(s.Name+".yaml", []byte(src), definition.Options{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("definition: %v\n%s", err, src)
	}
	res, err := topology.Build([]*definition.Definition{def}, topology.Options{
		ApplicationID: "conformance", Functions: topology.NewPythonFunctions(k.interp),
		Serdes: k.serdes, Stdout: &bytes.Buffer{},
	})
	if err != nil {
		return nil, fmt.Errorf("building: %v\n%s", err, src)
	}
	drv, err := testdriver.New(res.Topology, testdriver.Options{})
	if err != nil {
		return nil, err
	}
	defer drv.Close()
	in := k.mustSerde("string", true)
	inV := k.mustSerde("string", false)
	for i, r := range s.Records {
		kb, err := serialize(in, r.Topic, r.Key)
		if err != nil {
			return nil, err
		}
		vb, err := serialize(inV, r.Topic, r.Value)
		if err != nil {
			return nil, err
		}
		if err := drv.Pipe(r.Topic, kb, vb, r.TS, nil); err != nil {
			return nil, fmt.Errorf("record %d: %v", i, err)
		}
	}
	ks, err := k.serde(keyType, true)
	if err != nil {
		return nil, err
	}
	vs, err := k.serde(valueType, false)
	if err != nil {
		return nil, err
	}
	var outs []Output
	for _, r := range drv.Output("out") {
		o := Output{Topic: "out", TS: r.Timestamp, Headers: []Header{}}
		if o.Key, err = decode(ks, r.Key); err != nil {
			return nil, fmt.Errorf("output key: %v", err)
		}
		if o.Value, err = decode(vs, r.Value); err != nil {
			return nil, fmt.Errorf("output value: %v", err)
		}
		for _, h := range r.Headers {
			hv := string(h.Value)
			o.Headers = append(o.Headers, Header{Key: h.Key, Value: &hv})
		}
		outs = append(outs, o)
	}
	outs = append(outs, internalOutputs(drv, "conformance", ChangelogsCompared(s))...)
	return outs, nil
}

// internalOutputs returns the records of the application's internal topics
// as the oracle reports them, after the output: changelogs (when asked) as
// "changelog:<store>", repartition topics as "repartition", in that order
// of labels (then of topic names), key and value as hex.
func internalOutputs(drv *testdriver.Driver, appID string, changelogs bool) []Output {
	type topic struct{ label, name string }
	var topics []topic
	for _, t := range drv.Topics() {
		name, ok := strings.CutPrefix(t, appID+"-")
		switch {
		case !ok:
		case changelogs && strings.HasSuffix(name, "-changelog"):
			store := strings.TrimSuffix(name, "-changelog")
			if strings.HasSuffix(store, "-outer-shared-join-store") {
				store = "outer-shared" // named after the join, as Kafka Streams names it after its node
			}
			topics = append(topics, topic{"changelog:" + store, t})
		case strings.HasSuffix(name, "-repartition"):
			topics = append(topics, topic{"repartition", t})
		}
	}
	sort.Slice(topics, func(i, j int) bool {
		if topics[i].label != topics[j].label {
			return topics[i].label < topics[j].label
		}
		return topics[i].name < topics[j].name
	})
	var outs []Output
	for _, t := range topics {
		for _, r := range drv.Output(t.name) {
			o := Output{Topic: t.label, TS: r.Timestamp, Headers: []Header{}}
			if r.Key != nil {
				k := hex.EncodeToString(r.Key)
				o.Key = &k
			}
			if r.Value != nil {
				v := hex.EncodeToString(r.Value)
				o.Value = &v
			}
			for _, h := range r.Headers {
				hv := string(h.Value)
				o.Headers = append(o.Headers, Header{Key: h.Key, Value: &hv})
			}
			outs = append(outs, o)
		}
	}
	return outs
}

func (k *KSML) serde(typ string, isKey bool) (streams.Serde, error) {
	u, err := types.ParseUserType(typ)
	if err != nil {
		return nil, err
	}
	return k.serdes.Serde(u, isKey)
}

func (k *KSML) mustSerde(typ string, isKey bool) streams.Serde {
	s, err := k.serde(typ, isKey)
	if err != nil {
		panic(err) // string serdes always exist
	}
	return s
}

func serialize(s streams.Serde, topic string, v *string) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return s.Serialize(topic, nil, *v)
}

// decode deserializes b and formats it as the oracle does: windowed keys
// as "key@start/end", numbers in decimal.
func decode(s streams.Serde, b []byte) (*string, error) {
	if b == nil {
		return nil, nil
	}
	v, err := s.Deserialize("out", nil, b)
	if err != nil {
		return nil, err
	}
	var out string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		out = x
	case int64:
		out = strconv.FormatInt(x, 10)
	case types.Windowed:
		ks, ok := x.Key.(string)
		if !ok {
			return nil, fmt.Errorf("windowed key of type %T", x.Key)
		}
		out = fmt.Sprintf("%s@%d/%d", ks, x.Start, x.End)
	default:
		return nil, fmt.Errorf("unexpected output %T", v)
	}
	return &out, nil
}
