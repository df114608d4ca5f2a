package csv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/types"
)

func sensorSerde(t *testing.T) notation.Serde {
	t.Helper()
	s, err := New("testdata").Serde(types.StructType{Notation: "csv", SchemaName: "SensorData"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := types.MarshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStructRoundTrip(t *testing.T) {
	s := sensorSerde(t)
	in := `"sensor001","1234567890","23.5","temperature","celsius","red","Amsterdam","alice"`
	v, err := s.Deserialize("t", nil, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*types.Struct)
	if got := strings.Join(st.Keys(), ","); got != "name,timestamp,value,type,unit,color,city,owner" {
		t.Fatalf("fields %s", got)
	}
	if c, _ := st.Get("city"); c != "Amsterdam" {
		t.Fatalf("city %v", c)
	}
	if st.Schema == nil || st.Schema.Notation != "csv" || st.Schema.Name != "SensorData" {
		t.Fatalf("schema %+v", st.Schema)
	}
	out, err := s.Serialize("t", nil, st)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("got %s", out)
	}
}

func TestShortLongAndUnquotedLines(t *testing.T) {
	s := sensorSerde(t)
	v, err := s.Deserialize("t", nil, []byte("# header comment\n\nsensor1,5,x,a,b,c,d,e,extra\nsecond,line\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != `{"name":"sensor1","timestamp":"5","value":"x","type":"a","unit":"b","color":"c","city":"d","owner":"e"}` {
		t.Fatalf("got %s", got)
	}
	v, err = s.Deserialize("t", nil, []byte(`"Alice",""`))
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != `{"name":"Alice","timestamp":"","value":"","type":"","unit":"","color":"","city":"","owner":""}` {
		t.Fatalf("got %s", got)
	}
}

func TestWriteOrderAndMissingFields(t *testing.T) {
	s := sensorSerde(t)
	st := types.NewStruct(3)
	st.Set("owner", "alice")
	st.Set("name", "sensor001")
	st.Set("value", int64(42))
	out, err := s.Serialize("t", nil, st)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `"sensor001","","42","","","","","alice"` {
		t.Fatalf("got %s", out)
	}
}

func TestListQuotesAndControlCharacters(t *testing.T) {
	s, err := New("testdata").Serde(types.ListType{Elem: types.Any}, false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Serialize("t", nil, []any{`say "hi"`, "line1\nline2", "a, b"})
	if err != nil {
		t.Fatal(err)
	}
	want := "\"say \"\"hi\"\"\",\"line1\nline2\",\"a, b\""
	if string(out) != want {
		t.Fatalf("got %q want %q", out, want)
	}
	v, err := s.Deserialize("t", nil, out)
	if err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	if len(l) != 3 || l[0] != `say "hi"` || l[1] != "line1\nline2" || l[2] != "a, b" {
		t.Fatalf("got %#v", l)
	}
}

func TestSchemalessStructSortedFields(t *testing.T) {
	s, _ := New().Serde(types.StructType{}, false)
	st := types.NewStruct(2)
	st.Set("@meta", "m")
	st.Set("b", "2")
	st.Set("a", true)
	out, err := s.Serialize("t", nil, st)
	if err != nil || string(out) != `"true","2","m"` {
		t.Fatalf("got %s, %v", out, err)
	}
}

func TestNilAndEmpty(t *testing.T) {
	s := sensorSerde(t)
	if b, err := s.Serialize("t", nil, nil); b != nil || err != nil {
		t.Fatalf("got %v %v", b, err)
	}
	if v, err := s.Deserialize("t", nil, nil); v != nil || err != nil {
		t.Fatalf("got %v %v", v, err)
	}
	if _, err := s.Serialize("t", nil, "text"); err == nil || !strings.Contains(err.Error(), "structs and lists only") {
		t.Fatalf("got %v", err)
	}
}

func TestSchemaErrors(t *testing.T) {
	n := New("testdata")
	for name, want := range map[string]string{
		"Missing":   `csv schema "Missing" not found (tried testdata/Missing.csv)`,
		"Empty":     "testdata/Empty.csv: invalid CSV schema: no header line of field names",
		"NoName":    "testdata/NoName.csv: invalid CSV schema: field 2 has no name",
		"../secret": `csv schema name "../secret" is not valid`,
	} {
		_, err := n.Serde(types.StructType{Notation: "csv", SchemaName: name}, false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", name, err, want)
		}
	}
	if _, err := n.Serde(types.Primitive{Kind: types.KindString}, false); err == nil {
		t.Error("string serde accepted")
	}
}

func TestDottedSchemaName(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Reading.csv"), []byte("\"a\",\"b c\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewLoader(dir).Load("io.axual.Reading")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Fields, "|") != "a|b c" {
		t.Fatalf("got %v", s.Fields)
	}
}

func TestConvertValue(t *testing.T) {
	reg := notation.NewRegistry()
	reg.Register(NotationName, New("testdata"))
	csvType := types.UserType{Notation: "csv", Type: types.StructType{Notation: "csv", SchemaName: "SensorData"}}
	str := types.UserType{Notation: "default", Type: types.Primitive{Kind: types.KindString}}
	v, err := reg.Convert("s1,1,2,t,u,c,Utrecht,o", str, csvType)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := v.(*types.Struct).Get("city"); c != "Utrecht" {
		t.Fatalf("got %v", types.Format(v))
	}
	back, err := reg.Convert(v, csvType, str)
	if err != nil {
		t.Fatal(err)
	}
	if back != `"s1","1","2","t","u","c","Utrecht","o"` {
		t.Fatalf("got %v", back)
	}
	// csv into json: the struct passes as a struct and json writes it.
	js := types.UserType{Notation: "json", Type: types.MustParseDataType("json")}
	j, err := reg.Convert(v, csvType, js)
	if err != nil {
		t.Fatal(err)
	}
	b, err := types.MarshalJSON(j)
	if err != nil || string(b) != `{"name":"s1","timestamp":"1","value":"2","type":"t","unit":"u","color":"c","city":"Utrecht","owner":"o"}` {
		t.Fatalf("got %s %v", b, err)
	}
}

func TestConvertStructIntoCSV(t *testing.T) {
	reg := notation.NewRegistry()
	reg.Register(NotationName, New("testdata"))
	csvType := types.UserType{Notation: "csv", Type: types.StructType{Notation: "csv", SchemaName: "SensorData"}}
	js := types.UserType{Notation: "json", Type: types.MustParseDataType("json")}
	in, err := types.DecodeJSON([]byte(`{"owner":"o","timestamp":5,"value":2.5,"extra":true,"name":"n"}`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := reg.Convert(in, js, csvType)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := types.MarshalJSON(v)
	if string(b) != `{"name":"n","timestamp":"5","value":"2.5","type":"","unit":"","color":"","city":"","owner":"o"}` {
		t.Fatalf("got %s", b)
	}
	if v.(*types.Struct).Schema.Name != "SensorData" {
		t.Fatalf("schema %+v", v.(*types.Struct).Schema)
	}
}

func FuzzDeserialize(f *testing.F) {
	for _, s := range []string{`"a","b"`, "a,b\nc", `"unterminated`, "# only\n", "\x00\"\"\"", `a"b,c`} {
		f.Add([]byte(s))
	}
	schema := &Schema{Name: "S", Fields: []string{"a", "b"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []*Serde{{}, {schema: schema}} {
			v, err := s.Deserialize("t", nil, b)
			if err != nil {
				continue
			}
			out, err := s.Serialize("t", nil, v)
			if err != nil {
				t.Fatalf("re-serializing %#v: %v", v, err)
			}
			again, err := s.Deserialize("t", nil, out)
			if err != nil || !types.Equal(again, v) {
				if len(out) > 0 { // an empty list writes nothing
					t.Fatalf("round trip of %q: %v -> %q -> %v (%v)", b, v, out, again, err)
				}
			}
		}
	})
}

func TestPythonMeta(t *testing.T) {
	s, err := NewLoader("testdata").Load("SensorData")
	if err != nil {
		t.Fatal(err)
	}
	name, desc, ok := types.DescribeSchema(s.StructSchema())
	if !ok || name != "SensorData" {
		t.Fatalf("got %q %v", name, ok)
	}
	b, _ := types.MarshalJSON(desc)
	want := `{"type":"struct","name":"SensorData","doc":"CSV schema","fields":[{"name":"name","doc":"name","required":true,"constant":false,"tag":-1,"type":"string","defaultValue":"","order":"ASCENDING"}`
	if !strings.HasPrefix(string(b), want) || !strings.HasSuffix(string(b), `"order":"ASCENDING"}],"additionalFieldsAllowed":false}`) {
		t.Fatalf("got %s", b)
	}
}

func TestNumbersAsUpstreamPrintsThem(t *testing.T) {
	s, _ := New().Serde(types.ListType{Elem: types.Any}, false)
	out, err := s.Serialize("t", nil, []any{1e7, 23.5, 2.0, 0.0001, int64(-3), nil})
	if err != nil || string(out) != `"1.0E7","23.5","2.0","1.0E-4","-3","null"` {
		t.Fatalf("got %s %v", out, err)
	}
}
