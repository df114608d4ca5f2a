package topology

import (
	"encoding/hex"
	"reflect"
	"testing"
)

// The values an outer join holds back use Kafka Streams' layout of its outer
// join store (a ListSerializer list of LeftOrRightValue entries); the oracle
// compares the changelog bytes, these are the cases by hand.
func TestHeldValuesLayout(t *testing.T) {
	b, err := heldAppend(nil, true, []byte("c6"))
	if err != nil || hex.EncodeToString(b) != "010000000100000003016336" {
		t.Fatalf("first left value: %x, %v", b, err)
	}
	if b, err = heldAppend(b, false, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err = heldAppend(b, false, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "01"+"00000003"+"00000003016336"+"000000020078"+"ffffffff"; got != want {
		t.Errorf("three values: %s, want %s", got, want)
	}
	vals, err := heldValues(b)
	if want := [][]byte{[]byte("c6"), []byte("x"), nil}; err != nil || !reflect.DeepEqual(vals, want) {
		t.Errorf("heldValues = %q, %v; want %q", vals, err, want)
	}
	if vals, err := heldValues(nil); err != nil || vals != nil {
		t.Errorf("heldValues(nil) = %q, %v", vals, err)
	}
	for _, bad := range []string{"00", "02000000010000000100", "0100000002000000020078", "010000000100000000", "01000000010000000500", "0100000001000000020078ff"} {
		b, _ := hex.DecodeString(bad)
		if vals, err := heldValues(b); err == nil {
			t.Errorf("heldValues(%s) = %q, want an error", bad, vals)
		}
		if _, err := heldAppend(b, true, []byte("v")); err == nil {
			t.Errorf("heldAppend(%s) succeeded on a malformed entry", bad)
		}
	}
}
