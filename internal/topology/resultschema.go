package topology

import (
	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// A function's result is a plain value: a Python dict comes back as a
// struct without a schema. Upstream gives it the schema its declared
// resultType names (avro:SensorData), so the next function sees "@type" and
// "@schema" as it would for a record read from a topic, and a function can
// hand a record on under a different schema. schemaFunction does the same
// for structs at the places the resultType names a schema: the whole
// result, tuple members and list elements.

// StructSchemaResolver is implemented by serde providers that can load the
// schema a struct type names. Without it results keep no schema.
type StructSchemaResolver interface {
	StructSchema(t types.StructType) (s *types.StructSchema, ok bool, err error)
}

// StructSchema implements StructSchemaResolver through the notations.
func (n NotationSerdes) StructSchema(t types.StructType) (*types.StructSchema, bool, error) {
	return n.Registry.StructSchema(t)
}

// schemaPlan says where in a result structs get which schema.
type schemaPlan struct {
	schema *types.StructSchema // the value itself, when a struct
	elems  []*schemaPlan       // tuple members
	elem   *schemaPlan         // list elements
}

// planSchemas builds the plan for type t; nil when t names no schema the
// resolver knows. A schema that fails to load is left out: the serde of a
// sink or store of that type reports it.
func planSchemas(r StructSchemaResolver, t types.DataType) *schemaPlan {
	switch tt := t.(type) {
	case types.StructType:
		if s, ok, err := r.StructSchema(tt); ok && err == nil {
			return &schemaPlan{schema: s}
		}
	case types.TupleType:
		p := &schemaPlan{elems: make([]*schemaPlan, len(tt.Elems))}
		found := false
		for i, e := range tt.Elems {
			if p.elems[i] = planSchemas(r, e); p.elems[i] != nil {
				found = true
			}
		}
		if found {
			return p
		}
	case types.ListType:
		if e := planSchemas(r, tt.Elem); e != nil {
			return &schemaPlan{elem: e}
		}
	}
	return nil
}

// apply sets the planned schema on structs of v that have none. v is a
// fresh function result, so it is changed in place.
func (p *schemaPlan) apply(v any) {
	switch x := v.(type) {
	case *types.Struct:
		if p.schema != nil && x != nil && x.Schema == nil {
			x.Schema = p.schema
		}
	case types.Tuple:
		for i, e := range x {
			if i < len(p.elems) && p.elems[i] != nil {
				p.elems[i].apply(e)
			}
		}
	case []any:
		if p.elem != nil {
			for _, e := range x {
				p.elem.apply(e)
			}
		}
	}
}

type schemaFunction struct {
	f    Function
	plan *schemaPlan
}

func (s schemaFunction) Call(pc *streams.ProcessorContext, args ...any) (any, error) {
	v, err := s.f.Call(pc, args...)
	if err == nil && v != nil {
		s.plan.apply(v)
	}
	return v, err
}

// withResultSchemas wraps f when fd's resultType names schemas the serde
// provider can load; otherwise f is returned as is.
func (b *builder) withResultSchemas(f Function, fd *definition.FunctionDef) Function {
	r, ok := b.opts.Serdes.(StructSchemaResolver)
	if !ok || fd.ResultType.IsZero() {
		return f
	}
	u, err := types.ParseUserType(fd.ResultType.Text)
	if err != nil {
		return f
	}
	if plan := planSchemas(r, u.Type); plan != nil {
		return schemaFunction{f: f, plan: plan}
	}
	return f
}
