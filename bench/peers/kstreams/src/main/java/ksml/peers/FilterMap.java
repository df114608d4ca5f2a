package ksml.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * filter_map: drop USER_SUSPENDED events, map the rest to {"id", "type", "region"}, write them.
 */
public final class FilterMap {
  static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode parse(String v) {
    try {
      return JSON.readTree(v);
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  public static void main(String[] args) throws Exception {
    var p = Common.props(args);
    var b = new StreamsBuilder();
    b.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
        .mapValues(FilterMap::parse)
        .filter((k, v) -> !"USER_SUSPENDED".equals(v.path("eventType").asText()))
        .mapValues(v -> {
          var out = JSON.createObjectNode();
          out.set("id", v.get("entityId"));
          out.set("type", v.get("eventType"));
          out.set("region", v.get("region"));
          return out.toString();
        })
        .to(args[3], Produced.with(Serdes.String(), Serdes.String()));
    Common.run(b.build(), p);
  }
}
