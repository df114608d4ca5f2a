package types

import "testing"

func BenchmarkParseUserType(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseUserType("list(tuple(string, avro:SensorData))"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvertPrimitive(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(int64(42), Int); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvertStructToMapOfString(b *testing.B) {
	v := st("a", int64(1), "b", 2.5, "c", "x", "d", true, "e", int64(5))
	to := MapType{Value: String}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(v, to); err != nil {
			b.Fatal(err)
		}
	}
}
