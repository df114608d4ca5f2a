package ksml.peers;

import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

/** window_count: a count per key in tumbling one-minute windows (persistent, logged window store). */
public final class WindowCount {
  public static void main(String[] args) throws Exception {
    var p = Common.props(args);
    var b = new StreamsBuilder();
    b.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
        .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
        .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMinutes(1)))
        .count(Materialized.as("event_window_counts"))
        .toStream((wk, v) -> wk.key() + "@" + wk.window().start())
        .to(args[3], Produced.with(Serdes.String(), Serdes.Long()));
    Common.run(b.build(), p);
  }
}
