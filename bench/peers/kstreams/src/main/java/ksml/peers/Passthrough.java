package ksml.peers;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/** passthrough: the input stream straight to the output topic. */
public final class Passthrough {
  public static void main(String[] args) throws Exception {
    var p = Common.props(args);
    var b = new StreamsBuilder();
    b.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
        .to(args[3], Produced.with(Serdes.String(), Serdes.String()));
    Common.run(b.build(), p);
  }
}
