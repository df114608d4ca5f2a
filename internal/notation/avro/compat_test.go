package avro

import (
	"strings"
	"testing"
)

// The evolution cases of upstream's compatibility suite, checked with Avro
// schema resolution: backward = the new schema reads old data, forward = the
// old schema reads new data.
func TestCheckCompatible(t *testing.T) {
	rec := func(fields string) *Schema {
		s, err := ParseSchema(`{"type":"record","name":"Event","namespace":"ns","fields":[`+fields+`]}`, "test")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const (
		name     = `{"name":"name","type":"string"}`
		optLoc   = `{"name":"location","type":["null","string"],"default":null}`
		reqLoc   = `{"name":"location","type":"string"}`
		optStat  = `{"name":"status","type":["null","string"],"default":null}`
		reqStat  = `{"name":"status","type":"string"}`
		intN     = `{"name":"n","type":"int"}`
		longN    = `{"name":"n","type":"long"}`
		strN     = `{"name":"n","type":"string"}`
		enumAB   = `{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}`
		enumABC  = `{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"],"default":"A"}}`
		enumA    = `{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}`
		enumBA   = `{"name":"e","type":{"type":"enum","name":"E","symbols":["B","A"]}}`
		nested1  = `{"name":"in","type":{"type":"record","name":"In","fields":[{"name":"x","type":"int"}]}}`
		nested2  = `{"name":"in","type":{"type":"record","name":"In","fields":[{"name":"x","type":"int"},{"name":"y","type":["null","string"],"default":null}]}}`
		nestedSt = `{"name":"in","type":{"type":"record","name":"In","fields":[{"name":"x","type":"string"}]}}`
		dflt1    = `{"name":"d","type":"string","default":"a"}`
		dflt2    = `{"name":"d","type":"string","default":"b"}`
	)
	cases := []struct {
		name              string
		v1, v2            string
		backward, forward string // "" = compatible, else part of the error
	}{
		{"add optional field", name, name + "," + optLoc, "", ""},
		{"add required field", name, name + "," + reqLoc, "field location: reader field is missing in the writer schema and has no default", ""},
		{"optional to required", name + "," + optStat, name + "," + reqStat, "field status: writer union branch null: reader type string cannot read writer type null", ""},
		{"int to long", intN, longN, "", "field n: reader type int cannot read writer type long"},
		{"string to int", strN, intN, "field n: reader type int cannot read writer type string", "field n: reader type string cannot read writer type int"},
		{"change default", dflt1, dflt2, "", ""},
		{"add enum value with default", enumAB, enumABC, "", "enum symbol C is not in reader enum ns.E"},
		{"remove enum value", enumAB, enumA, "enum symbol B is not in reader enum ns.E", ""},
		{"reorder enum values", enumAB, enumBA, "", ""},
		{"add optional nested field", nested1, nested2, "", ""},
		{"change nested field type", nested1, nestedSt, "field in: field x: reader type string cannot read writer type int", "field in: field x: reader type int cannot read writer type string"},
		{"reorder fields", name + "," + intN, intN + "," + name, "", ""},
	}
	for _, c := range cases {
		v1, v2 := rec(c.v1), rec(c.v2)
		for _, dir := range []struct {
			what           string
			reader, writer *Schema
			want           string
		}{{"backward", v2, v1, c.backward}, {"forward", v1, v2, c.forward}} {
			err := CheckCompatible(dir.reader, dir.writer)
			switch {
			case dir.want == "" && err != nil:
				t.Errorf("%s %s: unexpected error %v", c.name, dir.what, err)
			case dir.want != "" && (err == nil || !strings.Contains(err.Error(), dir.want)):
				t.Errorf("%s %s: err = %v, want containing %q", c.name, dir.what, err, dir.want)
			}
		}
	}
}
