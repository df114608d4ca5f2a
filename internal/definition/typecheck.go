package definition

import (
	"github.com/ksml-dev/ksml/internal/types"
)

// Type checks along a pipeline. They only fire where both sides are known:
// a missing or unparsable type is never reported twice.

// parsed returns the data type of t, or nil when t is empty or invalid.
func parsed(t TypeRef) types.DataType {
	if t.IsZero() {
		return nil
	}
	ut, err := types.ParseUserType(t.Text)
	if err != nil {
		return nil
	}
	if _, isAny := ut.Type.(types.AnyType); isAny {
		return nil
	}
	return ut.Type
}

// resultShape names what an operation needs its function to return.
type resultShape int

const (
	shapeAny resultShape = iota
	shapeBoolean
	shapeKeyValue     // (K, V)
	shapeKeyValueList // [(K, V)]
	shapeList         // [V]
	shapeString
	shapeLong
	shapeMessages // (K, V) or [(K, V)]
)

var shapeText = map[resultShape]string{
	shapeBoolean: "boolean", shapeKeyValue: "a (key, value) tuple", shapeKeyValueList: "a list of (key, value) tuples",
	shapeList: "a list", shapeString: "a string", shapeLong: "a long",
	shapeMessages: "a (key, value) tuple or a list of them",
}

// expectedShape is what a function slot of type want must return.
func expectedShape(want FunctionType) resultShape {
	switch want {
	case FuncPredicate:
		return shapeBoolean
	case FuncKeyValueTransformer:
		return shapeKeyValue
	case FuncKeyValueToKeyValueListTransformer:
		return shapeKeyValueList
	case FuncKeyValueToValueListTransformer:
		return shapeList
	case FuncKeyValuePrinter, FuncTopicNameExtractor:
		return shapeString
	case FuncTimestampExtractor:
		return shapeLong
	case FuncGenerator:
		return shapeMessages
	}
	return shapeAny
}

// checkResultShape reports a declared result type that cannot be what the
// slot needs.
func (p *parser) checkResultShape(ref *FunctionRef, field string, want FunctionType) {
	if ref == nil || ref.Def == nil {
		return
	}
	shape := expectedShape(want)
	if shape == shapeAny {
		return
	}
	dt := parsed(ref.Def.ResultType)
	if dt == nil || fitsShape(dt, shape) {
		return
	}
	p.d.Add(ref.Def.ResultType.Pos, "%s must return %s, but function %q declares resultType %q",
		field, shapeText[shape], ref.Def.Name, ref.Def.ResultType.Text)
}

func fitsShape(dt types.DataType, shape resultShape) bool {
	switch x := dt.(type) {
	case types.UnionType:
		for _, m := range x.Members {
			if fitsShape(m, shape) {
				return true
			}
		}
		return false
	case types.NotationType:
		return true // a notation's default type may hold anything the slot needs
	}
	switch shape {
	case shapeBoolean:
		return isPrimitive(dt, types.KindBoolean)
	case shapeString:
		return isPrimitive(dt, types.KindString)
	case shapeLong:
		p, ok := dt.(types.Primitive)
		return ok && p.Kind.IsInteger()
	case shapeKeyValue:
		t, ok := dt.(types.TupleType)
		return ok && len(t.Elems) == 2
	case shapeKeyValueList:
		l, ok := dt.(types.ListType)
		if !ok {
			return false
		}
		if l.Elem == nil {
			return true
		}
		return fitsShape(l.Elem, shapeKeyValue) || isAnyType(l.Elem)
	case shapeList:
		_, ok := dt.(types.ListType)
		return ok
	case shapeMessages:
		return fitsShape(dt, shapeKeyValue) || fitsShape(dt, shapeKeyValueList)
	}
	return true
}

func isPrimitive(dt types.DataType, k types.Kind) bool {
	p, ok := dt.(types.Primitive)
	return ok && p.Kind == k
}

func isAnyType(dt types.DataType) bool {
	_, ok := dt.(types.AnyType)
	return ok
}

// checkAssignable reports writing records of type have into a topic
// declared with type want (no implicit conversion at to:).
func (p *parser) checkAssignable(pos Pos, what string, want, have TypeRef, topic string) {
	w, h := parsed(want), parsed(have)
	if w == nil || h == nil {
		return
	}
	// Upstream's windowed type is a struct (start, end, key, ...), so
	// struct-holding notations such as json accept it.
	if _, windowed := h.(types.WindowedType); windowed && !w.IsAssignableFrom(h) {
		h = types.StructType{}
	}
	if !w.IsAssignableFrom(h) {
		p.d.Add(pos, "%s type %q of %q cannot hold the pipeline's %s type %q; convert it first (convertKey/convertValue)",
			what, want.Text, topic, what, have.Text)
	}
}

// checkJoinStore applies the Kafka Streams rules for the window stores of a
// stream-stream join: duplicates retained, window size twice the time
// difference, retention that plus the grace period.
func (p *parser) checkJoinStore(ref *StoreRef, field string, op *Operation, key TypeRef) {
	if ref == nil || ref.Def == nil || ref.Def.Type != StoreWindow {
		return
	}
	s := ref.Def
	if !s.RetainDuplicates {
		p.d.Add(ref.Pos, "%s of a stream-stream %s must set retainDuplicates: true", field, op.Keyword)
	}
	if op.TimeDifference > 0 {
		if s.WindowSize != 0 && s.WindowSize != 2*op.TimeDifference {
			p.d.Add(ref.Pos, "%s windowSize (%v) must be twice the join's timeDifference (%v)", field, s.WindowSize, 2*op.TimeDifference)
		}
		if want := 2*op.TimeDifference + op.Grace; s.Retention != 0 && s.Retention != want {
			p.d.Add(ref.Pos, "%s retention (%v) must be twice the timeDifference plus the grace period (%v)", field, s.Retention, want)
		}
	}
	p.checkStoreKey(ref, key)
}

// checkStoreKey reports a store whose declared key type cannot hold the
// stream's keys.
func (p *parser) checkStoreKey(ref *StoreRef, key TypeRef) {
	if ref == nil || ref.Def == nil {
		return
	}
	w, h := parsed(ref.Def.KeyType), parsed(key)
	if w == nil || h == nil || w.IsAssignableFrom(h) {
		return
	}
	p.d.Add(ref.Pos, "state store %q has key type %q, which cannot hold the stream's key type %q", ref.Def.Name, ref.Def.KeyType.Text, key.Text)
}

func isNotation(dt types.DataType) bool {
	_, ok := dt.(types.NotationType)
	return ok
}
