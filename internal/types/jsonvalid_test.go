package types

import (
	"reflect"
	"strings"
	"testing"
)

// benchJSONRecord is shaped like the benchmark harness's write events.
var benchJSONRecord = []byte(`{"eventId":"e0000123","eventType":"USER_CREATED","entityId":"user-4321","entityType":"user","version":7,"timestamp":1764000000861,"source":"users","traceId":"9f3a0c21","region":"eu-west","data":{"username":"user04321","email":"user04321@example.com"}}`)

// validateJSONCases covers each branch of the fast path, valid and not.
var validateJSONCases = []string{
	`{}`, `[]`, ` { } `, "\t[ ]\r\n", `{"a":1}`, `{ "a" : [ 1 , 2 ] , "b" : { } }`, `[1,true,false,null,"x",{"y":[]}]`,
	`"a\u00e9\n\"\\\/\b\f\r\t"`, `"\ud83d\ude00"`, `"\ud800"`, `"\uDC00x"`, `"\u00zz"`, `"\u12"`, `"\x"`, `"\`, `"abc`,
	"\"caf\xc3\xa9\"", "\"\xef\xbf\xbd\"", "\"\xff\"", "\"\xed\xa0\x80\"", "\"\xc3\"", "\"a\x01\"", "\"\x7f\"",
	`0`, `-0`, `-`, `-a`, `01`, `-01`, `[01]`, `1.`, `1.5`, `1.e3`, `1e`, `1e+`, `1E-7`, `-0.5e+3`, `123456789012345678901234567890`,
	`true`, `tru`, `false`, `fals`, `null`, `nul`, `nulll`, `truex`,
	``, ` `, `{`, `[`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `[1,]`, `[,1]`, `[1 2]`,
	`{} {}`, `1 2`, `}`, `]`, `x`, `"a" x`,
	strings.Repeat("[", validJSONMaxDepth+1) + strings.Repeat("]", validJSONMaxDepth+1),
	strings.Repeat("[", validJSONMaxDepth+2) + strings.Repeat("]", validJSONMaxDepth+2),
	strings.Repeat(`{"a":`, 2000) + `1` + strings.Repeat("}", 2000),
	strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2),
	string(benchJSONRecord),
}

// TestValidateJSONMatchesExact: ValidateJSON gives the exact validator's
// verdict, first byte and error (offset and message) on every case, and the
// fast path alone accepts every valid case it is not too deep for.
func TestValidateJSONMatchesExact(t *testing.T) {
	for _, s := range validateJSONCases {
		checkValidateJSON(t, []byte(s))
	}
	// Spot checks that the exact validator's error offsets come through.
	for s, want := range map[string]string{
		`{"a":1,}`:   "invalid JSON at offset 7: expected '\"' to start a field name, found '}'",
		"\"\xff\"":   "invalid JSON at offset 1: invalid UTF-8 in string",
		`[1 2]`:      "invalid JSON at offset 3: expected ',' or ']' in array, found '2'",
		`01`:         "invalid JSON at offset 0: leading zero in number",
		`{"a":tru}`:  "invalid JSON at offset 5: invalid literal, expected true",
		`{"a":1} {}`: "invalid JSON at offset 8: unexpected '{' after the JSON value",
	} {
		_, err := ValidateJSON([]byte(s))
		if err == nil || err.Error() != want {
			t.Errorf("ValidateJSON(%q) = %v, want %s", s, err, want)
		}
	}
}

func checkValidateJSON(t *testing.T, b []byte) {
	t.Helper()
	fastFirst, fastOK := validJSON(b)
	wantFirst, wantErr := validateJSONExact(b)
	if fastOK && (wantErr != nil || fastFirst != wantFirst) {
		t.Fatalf("fast path accepted %q with first byte %q; exact validator: %q, %v", b, fastFirst, wantFirst, wantErr)
	}
	if !fastOK && wantErr == nil && len(b) <= validJSONMaxDepth {
		t.Fatalf("fast path rejected valid %q", b) // too shallow to exceed the depth bound
	}
	gotFirst, gotErr := ValidateJSON(b)
	if gotFirst != wantFirst || !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("ValidateJSON(%q) = %q, %v; exact validator %q, %v", b, gotFirst, gotErr, wantFirst, wantErr)
	}
}

// FuzzValidateJSONFast differentially tests the fast path against the exact
// validator: it never accepts what the exact one rejects, it accepts what the
// exact one accepts (unless too deep), and ValidateJSON's answer, error
// included, is the exact validator's.
func FuzzValidateJSONFast(f *testing.F) {
	for _, s := range validateJSONCases {
		if len(s) < 4096 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkValidateJSON(t, b) })
}

func BenchmarkValidateJSON(b *testing.B) {
	b.SetBytes(int64(len(benchJSONRecord)))
	for b.Loop() {
		if _, err := ValidateJSON(benchJSONRecord); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateJSONExact(b *testing.B) {
	b.SetBytes(int64(len(benchJSONRecord)))
	for b.Loop() {
		if _, err := validateJSONExact(benchJSONRecord); err != nil {
			b.Fatal(err)
		}
	}
}
