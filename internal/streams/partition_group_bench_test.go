package streams

import "testing"

// BenchmarkTaskQueued measures the partition group's cost per record:
// "direct" processes each record with Process, "queued" appends fetched
// batches of 500 to the task's queues and takes them with ProcessNext, as
// the engine does.
func BenchmarkTaskQueued(b *testing.B) {
	recs := make([]RawRecord, 500)
	for i := range recs {
		recs[i] = RawRecord{Topic: "a", Offset: int64(i), Timestamp: int64(i), Key: []byte("k"), Value: []byte("v")}
	}
	for _, mode := range []string{"direct", "queued"} {
		b.Run(mode, func(b *testing.B) {
			task, _ := groupTask(b, DefaultGroupConfig(), "a")
			task.SetFetchedLag("a", 0)
			b.ReportAllocs()
			for i := 0; i < b.N; {
				for j := range recs {
					if mode == "direct" {
						if err := task.Process(&recs[j]); err != nil {
							b.Fatal(err)
						}
					} else if _, err := task.AddRecord(&recs[j]); err != nil {
						b.Fatal(err)
					}
				}
				if mode == "queued" {
					for {
						_, ok, err := task.ProcessNext(0)
						if err != nil {
							b.Fatal(err)
						}
						if !ok {
							break
						}
					}
				}
				i += len(recs)
			}
		})
	}
}
