package xml

import (
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/types"
)

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := types.MarshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func serde(t *testing.T, schema string) notation.Serde {
	t.Helper()
	s, err := New("testdata").Serde(types.StructType{Notation: "xml", SchemaName: schema}, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sensorXML = `<?xml version="1.0" encoding="UTF-8"?>
<SensorData>
    <name>sensor001</name>
    <timestamp>1234567890</timestamp>
    <value>23.5</value>
    <type>temperature</type>
    <unit>celsius</unit>
    <color>red</color>
    <city>Amsterdam</city>
    <owner>alice</owner>
</SensorData>`

func TestSensorDataRoundTrip(t *testing.T) {
	s := serde(t, "SensorData")
	v, err := s.Deserialize("t", nil, []byte(sensorXML))
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != `{"name":"sensor001","timestamp":1234567890,"value":"23.5","type":"temperature","unit":"celsius","color":"red","city":"Amsterdam","owner":"alice"}` {
		t.Fatalf("got %s", got)
	}
	st := v.(*types.Struct)
	if st.Schema == nil || st.Schema.Notation != "xml" || st.Schema.Name != "SensorData" {
		t.Fatalf("schema %+v", st.Schema)
	}
	out, err := s.Serialize("t", nil, v)
	if err != nil {
		t.Fatal(err)
	}
	// Fields are written sorted, as upstream's structs hold them.
	want := `<?xml version='1.1' encoding='UTF-8'?><SensorData><city>Amsterdam</city><color>red</color><name>sensor001</name><owner>alice</owner><timestamp>1234567890</timestamp><type>temperature</type><unit>celsius</unit><value>23.5</value></SensorData>`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	again, err := s.Deserialize("t", nil, out)
	if err != nil || !types.Equal(again, v) {
		t.Fatalf("round trip: %v %v", again, err)
	}
}

func TestSchemalessMapping(t *testing.T) {
	s, err := New().Serde(types.StructType{}, false)
	if err != nil {
		t.Fatal(err)
	}
	in := `<root xmlns:ns="urn:ksml:test" id="7"><ns:child>value</ns:child><empty/><item>a</item><item>b</item>` +
		`<nested kind="x">text<leaf>1</leaf></nested><esc>test &amp; &lt;v&gt; "q"</esc></root>`
	v, err := s.Deserialize("t", nil, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != `{"id":"7","child":"value","empty":"","item":["a","b"],"nested":{"kind":"x","leaf":"1","":"text"},"esc":"test & <v> \"q\""}` {
		t.Fatalf("got %s", got)
	}
	out, err := s.Serialize("t", nil, v)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version='1.1' encoding='UTF-8'?><Struct><child>value</child><empty></empty><esc>test &amp; &lt;v> "q"</esc><id>7</id><item>a</item><item>b</item><nested>text<kind>x</kind><leaf>1</leaf></nested></Struct>`
	if string(out) != want {
		t.Fatalf("got %s", out)
	}
}

func TestNestedSchema(t *testing.T) {
	s := serde(t, "Nested")
	in := `<Nested><id>3</id><ok>true</ok><color>blue</color><where><lat>52.1</lat><lon>4</lon></where><tag>x</tag><raw>AQI=</raw></Nested>`
	v, err := s.Deserialize("t", nil, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != `{"id":3,"ok":true,"color":"blue","where":{"lat":52.1,"lon":4.0},"tag":["x"],"raw":"AQI="}` {
		t.Fatalf("got %s", got)
	}
	out, err := s.Serialize("t", nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<?xml version='1.1' encoding='UTF-8'?><Nested><color>blue</color><id>3</id><ok>true</ok><raw>AQI=</raw><tag>x</tag><where><lat>52.1</lat><lon>4.0</lon></where></Nested>`; string(out) != want {
		t.Fatalf("got %s", out)
	}
	_, err = s.Deserialize("t", nil, []byte(`<Nested><id>three</id></Nested>`))
	if err == nil || err.Error() != `xml:Nested: field Nested.id: "three" is not a valid int` {
		t.Fatalf("got %v", err)
	}
}

func TestNullsAndPrettyConversion(t *testing.T) {
	reg := notation.NewRegistry()
	reg.Register(NotationName, New("testdata"))
	xt := types.UserType{Notation: "xml", Type: types.StructType{Notation: "xml", SchemaName: "SensorData"}}
	str := types.UserType{Notation: "default", Type: types.Primitive{Kind: types.KindString}}
	st := types.NewStruct(3)
	st.Set("name", "s<1>")
	st.Set("timestamp", int64(5))
	st.Set("color", nil)
	text, err := reg.Convert(st, xt, str)
	if err != nil {
		t.Fatal(err)
	}
	want := "<?xml version='1.1' encoding='UTF-8'?>\n<Struct>\n  <color/>\n  <name>s&lt;1></name>\n  <timestamp>5</timestamp>\n</Struct>"
	if text != want {
		t.Fatalf("got %q\nwant %q", text, want)
	}
	back, err := reg.Convert(text, str, xt)
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, back); got != `{"name":"s<1>","timestamp":5,"color":""}` {
		t.Fatalf("got %s", got)
	}
}

func TestErrors(t *testing.T) {
	n := New("testdata")
	for name, want := range map[string]string{
		"Missing": `xml schema "Missing" not found (tried testdata/Missing.xsd)`,
		"Bad":     "testdata/Bad.xsd: invalid XML schema: the root element is <notschema>, not <xs:schema>",
		"Broken":  "testdata/Broken.xsd: invalid XML schema: XML syntax error",
		"Unknown": "testdata/Unknown.xsd: schema type not found: Nope",
		"Other":   "",
		"../etc":  `xml schema name "../etc" is not valid`,
	} {
		if want == "" {
			continue
		}
		_, err := n.Serde(types.StructType{Notation: "xml", SchemaName: name}, false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", name, err, want)
		}
	}
	if _, err := n.Serde(types.ListType{Elem: types.Any}, false); err == nil {
		t.Error("list serde accepted")
	}
	s, _ := n.Serde(types.StructType{}, false)
	for _, in := range []string{"<a>", "<a></b>", "text", "<a/><b/>", "<a>x</a>tail"} {
		if _, err := s.Deserialize("t", nil, []byte(in)); err == nil || !strings.HasPrefix(err.Error(), "could not parse XML") {
			t.Errorf("%q: got %v", in, err)
		}
	}
	bad := types.NewStruct(1)
	bad.Set("no spaces", "x")
	if _, err := s.Serialize("t", nil, bad); err == nil || !strings.Contains(err.Error(), `field named "no spaces"`) {
		t.Errorf("got %v", err)
	}
}

func FuzzDeserialize(f *testing.F) {
	for _, s := range []string{sensorXML, `<a b="1"><c>x</c><c>y</c></a>`, `<a><b><c/></b></a>`, "<a>&#0;</a>", "<?xml?>"} {
		f.Add([]byte(s))
	}
	schema, err := NewLoader("testdata").Load("Nested")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []*Serde{{}, {schema: schema}} {
			v, err := s.Deserialize("t", nil, b)
			if err != nil || v == nil {
				continue
			}
			if _, err := s.Serialize("t", nil, v); err != nil && !strings.Contains(err.Error(), "not an XML element name") {
				t.Fatalf("re-serializing %q: %v", b, err)
			}
		}
	})
}

func TestPythonMeta(t *testing.T) {
	s, err := NewLoader("testdata").Load("Nested")
	if err != nil {
		t.Fatal(err)
	}
	name, desc, ok := types.DescribeSchema(s.StructSchema())
	if !ok || name != "Nested" {
		t.Fatalf("got %q %v", name, ok)
	}
	want := `{"type":"struct","name":"Nested","fields":[` +
		`{"name":"id","required":true,"constant":false,"tag":-1,"type":"integer","order":"ASCENDING"},` +
		`{"name":"ok","required":true,"constant":false,"tag":-1,"type":"boolean","order":"ASCENDING"},` +
		`{"name":"color","required":true,"constant":false,"tag":-1,"type":{"type":"enum","name":"Color","symbols":[{"name":"red","tag":-1},{"name":"blue","tag":-1}]},"order":"ASCENDING"},` +
		`{"name":"where","required":true,"constant":false,"tag":-1,"type":{"type":"struct","name":"Location","fields":[` +
		`{"name":"lat","required":true,"constant":false,"tag":-1,"type":"double","order":"ASCENDING"},` +
		`{"name":"lon","required":true,"constant":false,"tag":-1,"type":"double","order":"ASCENDING"}],"additionalFieldsAllowed":false},"order":"ASCENDING"},` +
		`{"name":"tag","required":true,"constant":false,"tag":-1,"type":{"type":"list","items":"string"},"order":"ASCENDING"},` +
		`{"name":"raw","required":false,"constant":false,"tag":-1,"type":"bytes","order":"ASCENDING"}],"additionalFieldsAllowed":false}`
	if got := js(t, desc); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSchemaFieldsWritten(t *testing.T) {
	s := serde(t, "SensorData")
	st := types.NewStruct(3)
	st.Set("name", "n")
	st.Set("extra", "dropped")
	st.Set("city", "c")
	out, err := s.Serialize("t", nil, st)
	if err != nil {
		t.Fatal(err)
	}
	// Required fields always (null when absent), optional ones when present,
	// fields the schema lacks not at all.
	want := `<?xml version='1.1' encoding='UTF-8'?><SensorData><city>c</city><name>n</name><timestamp/><type/><unit/><value/></SensorData>`
	if string(out) != want {
		t.Fatalf("got %s", out)
	}
}
