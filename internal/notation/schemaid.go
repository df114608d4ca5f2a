package notation

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

// SchemaIDFraming says where a registry-backed serde carries the schema id
// of a record: in the payload, after a zero magic byte (Confluent's wire
// format and Apicurio's default, 4 or 8 bytes big-endian), or, in Apicurio's
// headers mode, in a record header as Apicurio's serdes write it
// (apicurio.key|value.contentId or .globalId, an 8-byte big-endian long).
// The zero value is Confluent's 4-byte payload framing.
type SchemaIDFraming struct {
	// IDBytes is the width of a payload id: 4 (0 means 4) or 8.
	IDBytes int
	// Headers is apicurio.registry.headers.enabled.
	Headers bool
	// GlobalID names the id a global id (apicurio.registry.use-id
	// globalId) rather than a content id; it picks the header name.
	GlobalID bool
}

// ApicurioFraming reads the Apicurio serde properties that decide the
// framing: apicurio.registry.headers.enabled (default false),
// apicurio.registry.use-id (contentId, the default, or globalId) and
// apicurio.registry.id-handler (Default4ByteIdHandler, the default KSML pins,
// or the 8-byte handler). A value it cannot honour is an error naming it.
func ApicurioFraming(props map[string]any) (SchemaIDFraming, error) {
	f := SchemaIDFraming{IDBytes: 4}
	var err error
	if f.Headers, err = schemaregistry.BoolProp(props, "apicurio.registry.headers.enabled", false); err != nil {
		return f, err
	}
	switch v := propString(props, "apicurio.registry.use-id", "contentId"); v {
	case "contentId":
	case "globalId":
		f.GlobalID = true
	default:
		return f, fmt.Errorf("apicurio.registry.use-id %q must be contentId or globalId", v)
	}
	switch h := propString(props, "apicurio.registry.id-handler", ""); {
	case h == "" || strings.HasSuffix(h, "Default4ByteIdHandler"):
	case strings.HasSuffix(h, "8ByteIdHandler") || strings.HasSuffix(h, ".DefaultIdHandler"):
		f.IDBytes = 8
	default:
		return f, fmt.Errorf("apicurio.registry.id-handler %q is not supported (use io.apicurio.registry.serde.Default4ByteIdHandler)", h)
	}
	return f, nil
}

// ApicurioSetup resolves the registry and framing of an Apicurio notation
// of config c: c.SchemaRegistry when set, else the registry that
// apicurio.registry.url among the properties names (nil without one: the
// notation then writes bare payloads), framed as ApicurioFraming says.
// Errors name the notation.
func ApicurioSetup(c Config) (schemaregistry.Registry, SchemaIDFraming, error) {
	reg := c.SchemaRegistry
	if reg == nil {
		var err error
		if reg, err = schemaregistry.ApicurioFromProperties(c.Properties); err != nil {
			return nil, SchemaIDFraming{}, fmt.Errorf("notation %s: %w", c.Name, err)
		}
	}
	framing, err := ApicurioFraming(c.Properties)
	if err != nil {
		return nil, SchemaIDFraming{}, fmt.Errorf("notation %s: %w", c.Name, err)
	}
	return reg, framing, nil
}

func propString(props map[string]any, key, def string) string {
	if v, ok := props[key]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return def
}

// HeaderName is the header that carries the id of a key or value in the
// headers mode.
func (f SchemaIDFraming) HeaderName(isKey bool) string {
	side, id := "value", "contentId"
	if isKey {
		side = "key"
	}
	if f.GlobalID {
		id = "globalId"
	}
	return "apicurio." + side + "." + id
}

func (f SchemaIDFraming) idBytes() int {
	if f.IDBytes == 8 {
		return 8
	}
	return 4
}

// Write records id for a record: in the headers mode, when the record can
// carry headers (headers not nil), it appends the id header to *headers and
// returns dst unchanged; otherwise it appends the magic byte and the id to
// dst, as Apicurio's serializer does when it is given no headers.
func (f SchemaIDFraming) Write(dst []byte, headers *[]Header, isKey bool, id int) []byte {
	if f.Headers && headers != nil {
		*headers = append(*headers, Header{Key: f.HeaderName(isKey), Value: binary.BigEndian.AppendUint64(nil, uint64(id))})
		return dst
	}
	dst = append(dst, 0)
	if f.idBytes() == 8 {
		return binary.BigEndian.AppendUint64(dst, uint64(id))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(id))
}

// Read returns the schema id of a record and the body after its framing. In
// the headers mode the last id header wins (Kafka headers may repeat a name,
// and Apicurio reads the last); a record without one falls back to the
// payload framing, as Apicurio's deserializer does. Truncated frames, a
// wrong magic byte and a malformed id header are errors naming what was
// found; vendor names the wire format in them.
func (f SchemaIDFraming) Read(headers []Header, data []byte, isKey bool, vendor string) (int, []byte, error) {
	if f.Headers {
		name := f.HeaderName(isKey)
		for i := len(headers) - 1; i >= 0; i-- {
			if headers[i].Key != name {
				continue
			}
			v := headers[i].Value
			if len(v) != 8 {
				return 0, nil, fmt.Errorf("header %s has %d bytes, want 8", name, len(v))
			}
			id := binary.BigEndian.Uint64(v)
			if id > 1<<53 {
				return 0, nil, fmt.Errorf("header %s: schema id %d out of range", name, id)
			}
			return int(id), data, nil
		}
		if len(data) == 0 || data[0] != 0 {
			return 0, nil, fmt.Errorf("record has no %s header (apicurio.registry.headers.enabled is true) and its payload has no schema id frame", name)
		}
	}
	size := 1 + f.idBytes()
	if len(data) < size {
		return 0, nil, fmt.Errorf("payload of %d bytes is shorter than the %d-byte schema id header", len(data), size)
	}
	if data[0] != 0 {
		return 0, nil, fmt.Errorf("unknown magic byte %d (not %s wire format)", data[0], vendor)
	}
	var id uint64
	if f.idBytes() == 8 {
		id = binary.BigEndian.Uint64(data[1:9])
	} else {
		id = uint64(binary.BigEndian.Uint32(data[1:5]))
	}
	if id > 1<<53 {
		return 0, nil, fmt.Errorf("schema id %d out of range", id)
	}
	return int(id), data[size:], nil
}
