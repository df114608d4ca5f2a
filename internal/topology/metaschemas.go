package topology

import "github.com/ksml-dev/ksml/internal/types"

// Upstream hands record metadata (transformMetadata), the record context
// (topicNameExtractor) and the consumed record (timestampExtractor) to Python as structs of fixed KSML schemas, so they
// carry "@type" and "@schema" like any schema-backed struct; definitions
// rely on it (upstream's examples/00-example-dump-messages.yaml deletes both
// keys). These are those schemas, with their KSML descriptions as Native,
// which the Python bridge hands on as "@schema".

const ksmlDataNamespace = "io.axual.ksml.data"

func schemaField(name, doc string, typ any) *types.Struct {
	f := types.NewStruct(7)
	f.Set("name", name)
	f.Set("doc", doc)
	f.Set("required", true)
	f.Set("constant", false)
	f.Set("tag", int64(-1))
	f.Set("type", typ)
	f.Set("order", "ASCENDING")
	return f
}

func structDescription(name, doc string, fields ...any) *types.Struct {
	d := types.NewStruct(6)
	d.Set("type", "struct")
	d.Set("namespace", ksmlDataNamespace)
	d.Set("name", name)
	d.Set("doc", doc)
	d.Set("fields", fields)
	d.Set("additionalFieldsAllowed", false)
	return d
}

func headersDescription() *types.Struct {
	l := types.NewStruct(2)
	l.Set("type", "list")
	l.Set("items", structDescription("Header", "Kafka Header",
		schemaField("key", "Header key", "string"),
		schemaField("value", "Header value", "any")))
	return l
}

var (
	recordMetadataSchema = &types.StructSchema{
		Name: ksmlDataNamespace + ".RecordMetadata", Namespace: ksmlDataNamespace,
		Native: structDescription("RecordMetadata", "Kafka RecordMetadata",
			schemaField("timestamp", "Message timestamp", "long"),
			schemaField("headers", "Message headers", headersDescription())),
	}
	recordContextSchema = &types.StructSchema{
		Name: ksmlDataNamespace + ".RecordContext", Namespace: ksmlDataNamespace,
		Native: structDescription("RecordContext", "Kafka RecordContext",
			schemaField("offset", "Message offset", "long"),
			schemaField("timestamp", "Message timestamp", "long"),
			schemaField("topic", "Message topic", "string"),
			schemaField("partition", "Message partition", "integer"),
			schemaField("headers", "Message headers", headersDescription())),
	}
	consumerRecordSchema = &types.StructSchema{
		Name: ksmlDataNamespace + ".ConsumerRecord", Namespace: ksmlDataNamespace,
		Native: structDescription("ConsumerRecord", "Kafka ConsumerRecord",
			schemaField("timestamp", "Record timestamp", "long"),
			schemaField("timestampType", "Record timestamp type", "string"),
			schemaField("key", "Record key", "any"),
			schemaField("value", "Record value", "any"),
			schemaField("topic", "Record topic", "string"),
			schemaField("partition", "Record partition", "integer"),
			schemaField("offset", "Record offset", "long")),
	}
)
