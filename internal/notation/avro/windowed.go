package avro

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/ksml-dev/ksml/internal/types"
)

// Upstream writes a windowed key in a record notation as a record of a
// schema it generates: io.axual.ksml.data.Windowed<KeyType> with fields
// start and end (long millis), startTime and endTime (UTC instants as text)
// and key (the key type's schema), so `convertKey: into: avro:windowed(string)`
// works. windowedSchema generates that schema for Avro.

const windowedNamespace = "io.axual.ksml.data"

var windowedSchemas sync.Map // schema name -> *Schema

// windowedSchema returns the Avro record schema of windowed(key).
func (n *Notation) windowedSchema(w types.WindowedType) (*Schema, error) {
	keyName, keySchema, err := n.windowedKeySchema(w.Key)
	if err != nil {
		return nil, fmt.Errorf("avro windowed(%s): %w", w.Key, err)
	}
	name := "Windowed" + strings.ToUpper(keyName[:1]) + keyName[1:]
	if s, ok := windowedSchemas.Load(name + "\x00" + string(keySchema)); ok {
		return s.(*Schema), nil
	}
	field := func(name string, typ json.RawMessage, doc string) map[string]any {
		return map[string]any{"name": name, "type": typ, "doc": doc}
	}
	rec := map[string]any{
		"type": "record", "name": name, "namespace": windowedNamespace, "doc": "Windowed " + keyName,
		"fields": []any{
			field("start", json.RawMessage(`"long"`), "Start timestamp in milliseconds"),
			field("end", json.RawMessage(`"long"`), "End timestamp in milliseconds"),
			field("startTime", json.RawMessage(`"string"`), "Start time in UTC"),
			field("endTime", json.RawMessage(`"string"`), "End time in UTC"),
			field("key", keySchema, "Window key"),
		},
	}
	text, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	s, err := ParseSchema(string(text), "generated schema "+windowedNamespace+"."+name)
	if err != nil {
		return nil, err
	}
	v, _ := windowedSchemas.LoadOrStore(name+"\x00"+string(keySchema), s)
	return v.(*Schema), nil
}

// windowedKeySchema gives the name upstream uses for the key type and the
// key's Avro schema as JSON.
func (n *Notation) windowedKeySchema(t types.DataType) (string, json.RawMessage, error) {
	switch tt := t.(type) {
	case types.Primitive:
		switch tt.Kind {
		case types.KindBoolean:
			return "boolean", json.RawMessage(`"boolean"`), nil
		case types.KindByte, types.KindShort, types.KindInt:
			return tt.Kind.String(), json.RawMessage(`"int"`), nil
		case types.KindLong:
			return "long", json.RawMessage(`"long"`), nil
		case types.KindFloat:
			return "float", json.RawMessage(`"float"`), nil
		case types.KindDouble:
			return "double", json.RawMessage(`"double"`), nil
		case types.KindString:
			return "string", json.RawMessage(`"string"`), nil
		case types.KindBytes:
			return "bytes", json.RawMessage(`"bytes"`), nil
		}
	case types.StructType:
		if tt.SchemaName != "" {
			s, err := n.loader.Load(tt.SchemaName)
			if err != nil {
				return "", nil, err
			}
			if err := requireRecord(s, tt.SchemaName); err != nil {
				return "", nil, err
			}
			name := s.Name()
			if i := strings.LastIndexByte(name, '.'); i >= 0 {
				name = name[i+1:]
			}
			return name, json.RawMessage(s.Avro.String()), nil
		}
	}
	return "", nil, fmt.Errorf("the key type %s has no Avro schema", t)
}
