package definition

// Signature is what a function type gets and returns: the built-in
// parameters (user parameters follow them), the expression used when the
// function has none, and the result type used when none is declared.
type Signature struct {
	Params            []string
	DefaultExpression string // "" : no default (the function returns None)
	DefaultResultType string // "" : none
	// ResultRequired: upstream rejects the function without resultType.
	// ksml accepts it and treats the result as the unknown type, so that
	// definitions written against upstream's documentation still run.
	ResultRequired bool
	// NoResult: the function returns nothing; a resultType is an error.
	NoResult bool
}

var (
	kvParams = []string{"key", "value"}

	signatures = map[FunctionType]Signature{
		FuncPredicate:                         {Params: kvParams, DefaultExpression: "True", DefaultResultType: "boolean"},
		FuncForEach:                           {Params: kvParams, NoResult: true},
		FuncKeyTransformer:                    {Params: kvParams, DefaultExpression: "key", ResultRequired: true},
		FuncValueTransformer:                  {Params: kvParams, DefaultExpression: "value", ResultRequired: true},
		FuncKeyValueTransformer:               {Params: kvParams, DefaultExpression: "(key,value)", ResultRequired: true},
		FuncKeyValueToKeyValueListTransformer: {Params: kvParams, DefaultExpression: "[(key,value)]", ResultRequired: true},
		FuncKeyValueToValueListTransformer:    {Params: kvParams, DefaultExpression: "[value]", ResultRequired: true},
		FuncKeyValueMapper:                    {Params: kvParams, ResultRequired: true},
		FuncKeyValuePrinter:                   {Params: kvParams, DefaultResultType: "string"},
		FuncMetadataTransformer:               {Params: []string{"key", "value", "metadata"}, DefaultExpression: "metadata", DefaultResultType: "struct"},
		FuncInitializer:                       {ResultRequired: true},
		FuncAggregator:                        {Params: []string{"key", "value", "aggregatedValue"}, DefaultExpression: "aggregatedValue", ResultRequired: true},
		FuncMerger:                            {Params: []string{"key", "value1", "value2"}, ResultRequired: true},
		FuncReducer:                           {Params: []string{"value1", "value2"}, ResultRequired: true},
		FuncValueJoiner:                       {Params: []string{"key", "value1", "value2"}, ResultRequired: true},
		FuncForeignKeyExtractor:               {Params: []string{"value"}, ResultRequired: true},
		FuncStreamPartitioner:                 {Params: []string{"topic", "key", "value", "numPartitions"}, DefaultResultType: "union(int, [int])"},
		FuncTimestampExtractor:                {Params: []string{"record", "previousTimestamp"}, DefaultResultType: "long"},
		FuncTopicNameExtractor:                {Params: []string{"key", "value", "recordContext"}, DefaultResultType: "string"},
		FuncGenerator:                         {DefaultResultType: "union((?, ?), [(?, ?)])"},
		FuncGeneric:                           {},
	}
)

// Signature returns the built-in parameters and defaults of t.
func (t FunctionType) Signature() Signature { return signatures[t] }

// AllParams returns the Python parameters of f: the built-in ones of its
// type, then the user parameters not already among them.
func (f *FunctionDef) AllParams() []string {
	sig := f.Type.Signature()
	out := append([]string(nil), sig.Params...)
	for _, p := range f.Parameters {
		if !contains(out, p.Name) {
			out = append(out, p.Name)
		}
	}
	return out
}
