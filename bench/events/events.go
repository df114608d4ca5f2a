// Package events generates the benchmarks' input records: deterministic
// write-model events shaped like the seed's CQRS example, so every harness
// (bench/ and bench/peers/) feeds the same bytes to what it measures.
package events

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// eventTypes are the write-model events of the seed's CQRS example, in the
// proportions a user service might see them: the mapper takes a different
// branch for each of the first two and the plain path for the others.
var eventTypes = []string{"USER_CREATED", "USER_UPDATED", "USER_UPDATED", "USER_SUSPENDED"}

var regions = []string{"eu-west", "eu-central", "us-east", "ap-south"}

var fieldNames = [][]string{{"email"}, {"username"}, {"email", "username"}, {"phone"}}

// Event is one input record: the key is the entity id, the value a JSON
// object of ten fields (about 200 bytes) shaped like the seed's events.
type Event struct {
	Key   []byte
	Value []byte
}

// Make builds n deterministic events. The values are written by hand
// (not through encoding/json) so the byte layout is stable and the field
// order is the one a producer would choose.
func Make(n int) []Event {
	rng := rand.New(rand.NewPCG(42, 7))
	out := make([]Event, n)
	base := int64(1764000000000)
	for i := range out {
		user := rng.IntN(50000)
		entity := "user-" + strconv.Itoa(user)
		typ := eventTypes[rng.IntN(len(eventTypes))]
		var data string
		switch typ {
		case "USER_CREATED":
			data = fmt.Sprintf(`{"username":"user%05d","email":"user%05d@example.com"}`, user, user)
		case "USER_UPDATED":
			f := fieldNames[rng.IntN(len(fieldNames))]
			data = `{"changedFields":[`
			for j, name := range f {
				if j > 0 {
					data += ","
				}
				data += strconv.Quote(name)
			}
			data += `]}`
		default:
			data = `{"reason":"policy"}`
		}
		v := fmt.Sprintf(`{"eventId":"e%07d","eventType":%q,"entityId":%q,"entityType":"user","version":%d,`+
			`"timestamp":%d,"source":"users","traceId":"%08x","region":%q,"data":%s}`,
			i, typ, entity, 1+rng.IntN(20), base+int64(i)*7, rng.Uint32(), regions[rng.IntN(len(regions))], data)
		out[i] = Event{Key: []byte(entity), Value: []byte(v)}
	}
	return out
}
