package ksml.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * python_map: the seed's CQRS mapValues (write model to read model) written natively in Java,
 * since Kafka Streams has no Python: parse the JSON value, build the read model, write JSON.
 */
public final class PythonMap {
  static final ObjectMapper JSON = new ObjectMapper();

  static String readModel(String value) {
    try {
      JsonNode v = JSON.readTree(value);
      String type = v.path("eventType").asText(null);
      JsonNode data = v.path("data");
      ObjectNode out = JSON.createObjectNode();
      out.set("id", v.get("entityId"));
      out.put("timestamp", System.currentTimeMillis());
      out.put("type", type);
      if ("USER_CREATED".equals(type)) {
        out.set("username", data.get("username"));
        out.set("email", data.get("email"));
      } else if ("USER_UPDATED".equals(type)) {
        out.set("updatedFields", data.get("changedFields"));
      }
      return JSON.writeValueAsString(out);
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  public static void main(String[] args) throws Exception {
    var p = Common.props(args);
    var b = new StreamsBuilder();
    b.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
        .mapValues(PythonMap::readModel)
        .to(args[3], Produced.with(Serdes.String(), Serdes.String()));
    Common.run(b.build(), p);
  }
}
