package definition

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ksml-dev/ksml/internal/types"
)

// schemaExt maps schema-taking notations to the extension of their schema
// files.
var schemaExt = map[string]string{
	"avro": ".avsc", "confluent_avro": ".avsc", "apicurio_avro": ".avsc",
	"jsonschema": ".json", "confluent_jsonschema": ".json", "apicurio_jsonschema": ".json",
	"protobuf": ".proto", "confluent_protobuf": ".proto", "apicurio_protobuf": ".proto",
	"csv": ".csv", "xml": ".xsd",
}

// schemaNotations are the seed types that take a keySchema/valueSchema.
var schemaNotations = map[string]bool{}

func init() {
	for n := range schemaExt {
		schemaNotations[n] = true
	}
}

// checkType parses a type string and checks that the schemas it names can
// be found in the schema directories.
func (p *parser) checkType(t TypeRef, field string) {
	if strings.TrimSpace(t.Text) == "" {
		return
	}
	ut, err := types.ParseUserType(t.Text)
	if err != nil {
		pos := t.Pos
		var pe *types.ParseError
		msg := err.Error()
		if errors.As(err, &pe) {
			msg = pe.Msg
			if !strings.Contains(t.Text, "\n") {
				pos.Col += pe.Offset
			}
		}
		p.d.Add(pos, "invalid %s %q: %s", field, t.Text, msg)
		return
	}
	p.checkSchemas(ut.Notation, ut.Type, t, 0)
}

func (p *parser) checkSchemas(notation string, dt types.DataType, t TypeRef, depth int) {
	if depth > 64 || dt == nil {
		return
	}
	switch x := dt.(type) {
	case types.StructType:
		if x.SchemaName == "" {
			return
		}
		n := x.Notation
		if n == "" {
			n = notation
		}
		ext, ok := schemaExt[n]
		if !ok {
			return
		}
		if _, found := p.findSchema(x.SchemaName, ext); !found {
			p.d.Add(t.Pos, "schema %q (%s) not found: looked for %s in %s", x.SchemaName, n,
				strings.Join(schemaCandidates(x.SchemaName, ext), ", "), p.schemaDirsText())
		}
	case types.ListType:
		p.checkSchemas(notation, x.Elem, t, depth+1)
	case types.MapType:
		p.checkSchemas(notation, x.Value, t, depth+1)
	case types.WindowedType:
		p.checkSchemas(notation, x.Key, t, depth+1)
	case types.TupleType:
		for _, e := range x.Elems {
			p.checkSchemas(notation, e, t, depth+1)
		}
	case types.UnionType:
		for _, e := range x.Members {
			p.checkSchemas(notation, e, t, depth+1)
		}
	}
}

// schemaCandidates lists the file names tried for a schema: a fully
// qualified a.b.C tries a.b.C, b.C and C.
func schemaCandidates(name, ext string) []string {
	var out []string
	parts := strings.Split(name, ".")
	for i := range parts {
		out = append(out, strings.Join(parts[i:], ".")+ext)
	}
	return out
}

// FindSchema returns the path of the schema file for name (with extension
// ext, e.g. ".avsc") in dirs, searched in order.
func FindSchema(dirs []string, name, ext string) (string, bool) {
	for _, dir := range dirs {
		for _, c := range schemaCandidates(name, ext) {
			path := filepath.Join(dir, c)
			if st, err := os.Stat(path); err == nil && !st.IsDir() {
				return path, true
			}
		}
	}
	return "", false
}

func (p *parser) findSchema(name, ext string) (string, bool) {
	return FindSchema(p.schemaDirs(), name, ext)
}

func (p *parser) schemaDirs() []string {
	if len(p.opts.SchemaDirs) > 0 {
		return p.opts.SchemaDirs
	}
	return []string{filepath.Dir(p.file)}
}

func (p *parser) schemaDirsText() string {
	return strings.Join(p.schemaDirs(), ", ")
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseISODuration reads the ISO-8601 durations Java's Duration.parse
// accepts for days, hours, minutes and seconds (e.g. PT1H, P1DT30M).
func parseISODuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, &durationError{s}
	}
	var d time.Duration
	units := []time.Duration{24 * time.Hour, time.Hour, time.Minute}
	for i, u := range units {
		if m[i+1] != "" {
			v, err := strconv.ParseInt(m[i+1], 10, 64)
			if err != nil {
				return 0, &durationError{s}
			}
			d += time.Duration(v) * u
		}
	}
	if m[4] != "" {
		f, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			return 0, &durationError{s}
		}
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}

// ---- Python ----

// checkAllCode compiles every piece of Python in the definition with the
// configured checker and reports syntax errors at their YAML position.
func (p *parser) checkAllCode() {
	if p.opts.Code == nil {
		return
	}
	for _, f := range p.def.AllFunctions() {
		p.checkCode(f, f.GlobalCode, GlobalCode)
		p.checkCode(f, f.Code, FunctionBody)
		p.checkCode(f, f.Expression, Expression)
	}
}

func (p *parser) checkCode(f *FunctionDef, c *Code, kind CodeKind) {
	if c == nil || strings.TrimSpace(c.Text) == "" {
		return
	}
	e := p.opts.Code.CheckSyntax(c.Text, kind)
	if e == nil {
		return
	}
	pos := c.Pos
	line := e.Line
	if line < 1 {
		line = 1
	}
	pos.Line += line - 1
	col := e.Col
	if col < 1 {
		col = 1
	}
	if line == 1 {
		pos.Col += col - 1
	} else {
		pos.Col = c.Pos.Col + col - 1
	}
	p.d.Add(pos, "Python syntax error in %s of function %q: %s", kind, f.Name, e.Msg)
}
