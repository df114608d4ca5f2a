package ksml.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Runs conformance scenarios in Kafka Streams' TopologyTestDriver.
 *
 * <p>Reads one scenario per line (JSON) on stdin and writes one result per line on stdout:
 * {"name", "outputs": [{"topic","key","value","ts","headers"}]} or {"name","error"}. The
 * scenario format and the meaning of each family's parameters are described in
 * conformance/README.md; the Go harness expresses the same scenario as a KSML definition.
 *
 * <p>Where TopologyTestDriver's frozen wall clock would hide Kafka Streams' functional
 * behaviour, the wall-clock throttle is switched off: the outer/left stream-stream join emits
 * non-joined records on every record (emit interval 0) instead of at most once a second.
 */
public final class Oracle {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OUT = "out";

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      JsonNode sc = JSON.readTree(line);
      ObjectNode res = JSON.createObjectNode();
      res.put("name", sc.path("name").asText());
      try {
        res.set("outputs", run(sc));
      } catch (Exception e) {
        StringBuilder msg = new StringBuilder();
        for (Throwable c = e; c != null; c = c.getCause()) msg.append(c).append("; ");
        res.put("error", msg.toString());
      }
      out.write(JSON.writeValueAsString(res));
      out.write('\n');
      out.flush();
    }
  }

  static ArrayNode run(JsonNode sc) {
    JsonNode p = sc.path("params");
    StreamsBuilder b = new StreamsBuilder();
    switch (sc.path("family").asText()) {
      case "aggregate" -> aggregate(b, p);
      case "join" -> join(b, p);
      case "fkjoin" -> fkJoin(b, p);
      case "cogroup" -> cogroup(b, p);
      case "repartition" -> repartition(b, p);
      case "totable" -> b.stream("a", Consumed.with(Serdes.String(), Serdes.String()))
          .toTable(mat("a_table")).toStream().to(OUT, Produced.with(Serdes.String(), Serdes.String()));
      default -> throw new IllegalArgumentException("unknown family " + sc.path("family").asText());
    }
    Topology topo = b.build();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "oracle");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
    // Counts are formatted as strings by mapValues, which gives no serde: every value here is a string.
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    // In-memory stores: the scenarios are small, and RocksDB costs a native library load per driver.
    props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, p.path("caching").asBoolean(false) ? 10 * 1024 * 1024 : 0);
    // TopologyTestDriver's wall clock is frozen: emit non-joined outer-join records at once.
    props.put("__emit.interval.ms.kstreams.outer.join.spurious.results.fix__", 0L);
    ArrayNode outputs = JSON.createArrayNode();
    try (TopologyTestDriver drv = new TopologyTestDriver(topo, props, Instant.ofEpochMilli(0))) {
      TestOutputTopic<String, String> outTopic = drv.createOutputTopic(OUT, new StringDeserializer(), new StringDeserializer());
      java.util.Map<String, TestInputTopic<String, String>> inputs = new java.util.HashMap<>();
      for (JsonNode r : sc.path("records")) {
        String topic = r.path("topic").asText();
        TestInputTopic<String, String> t = inputs.computeIfAbsent(topic,
            n -> drv.createInputTopic(n, new StringSerializer(), new StringSerializer()));
        t.pipeInput(new TestRecord<>(text(r.get("key")), text(r.get("value")), Instant.ofEpochMilli(r.path("ts").asLong())));
        for (TestRecord<String, String> o : outTopic.readRecordsToList()) {
          ObjectNode rec = outputs.addObject();
          rec.put("topic", OUT);
          rec.put("key", o.key());
          rec.put("value", o.value());
          rec.put("ts", o.timestamp());
          ArrayNode hs = rec.putArray("headers");
          for (Header h : o.headers()) {
            ObjectNode hn = hs.addObject();
            hn.put("key", h.key());
            hn.put("value", h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
          }
        }
      }
      // The internal topics, after the output: every record as bytes (hex),
      // per topic in label order (then name order). The Go side keeps them
      // for the scenarios whose internal topics it compares
      // (InternalTopicsCompared).
      java.util.List<String[]> internal = new java.util.ArrayList<>();
      for (String name : drv.producedTopicNames()) {
        if (name.endsWith("-changelog")) internal.add(new String[] {changelogLabel(name), name});
        if (name.endsWith("-repartition")) internal.add(new String[] {"repartition", name});
      }
      internal.sort(java.util.Comparator.<String[], String>comparing(e -> e[0]).thenComparing(e -> e[1]));
      for (String[] e : internal) {
        TestOutputTopic<byte[], byte[]> t = drv.createOutputTopic(e[1], new ByteArrayDeserializer(), new ByteArrayDeserializer());
        for (TestRecord<byte[], byte[]> o : t.readRecordsToList()) {
          ObjectNode rec = outputs.addObject();
          rec.put("topic", e[0]);
          rec.put("key", hex(o.key()));
          rec.put("value", hex(o.value()));
          rec.put("ts", o.timestamp());
          rec.putArray("headers");
        }
      }
    }
    return outputs;
  }

  /**
   * "changelog:" and the store's name; the names Kafka Streams generates for aggregation stores
   * ("KSTREAM-AGGREGATE-STATE-STORE-0000000003", ...) become "agg", the name the scenarios give
   * ksml's.
   */
  static String changelogLabel(String topic) {
    String store = topic.substring("oracle-".length(), topic.length() - "-changelog".length());
    if (store.matches("(COGROUP)?K(STREAM|TABLE)-(AGGREGATE|REDUCE)-STATE-STORE-\\d+")) store = "agg";
    if (store.matches("KSTREAM-(JOIN|OUTER)THIS-\\d+-store")) store = "this_store";
    if (store.matches("KSTREAM-(JOIN|OUTER)OTHER-\\d+-store")) store = "other_store";
    if (store.matches("KSTREAM-OUTERSHARED-\\d+-store")) store = "outer-shared";
    return "changelog:" + store;
  }

  static String hex(byte[] b) {
    if (b == null) return null;
    StringBuilder sb = new StringBuilder(2 * b.length);
    for (byte x : b) sb.append(String.format("%02x", x));
    return sb.toString();
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  private static Materialized<String, String, KeyValueStore<Bytes, byte[]>> mat(String name) {
    return Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(name)
        .withKeySerde(Serdes.String()).withValueSerde(Serdes.String());
  }

  /** The value joiner of every join: left/right with "-" for a missing side. */
  static final ValueJoiner<String, String, String> JOINER = (l, r) -> (l == null ? "-" : l) + "/" + (r == null ? "-" : r);

  static String group(String v) {
    return v == null ? null : v.substring(0, 1);
  }

  static String wkey(Windowed<String> k) {
    return k.key() + "@" + k.window().start() + "/" + k.window().end();
  }

  static void aggregate(StreamsBuilder b, JsonNode p) {
    String source = p.path("source").asText("stream");
    String agg = p.path("agg").asText("count");
    String window = p.path("window").asText("none");
    boolean byValue = "value".equals(p.path("group").asText("key"));
    Materialized<String, String, ?> m = Materialized.with(Serdes.String(), Serdes.String());
    KTable<String, String> result;
    if ("table".equals(source)) {
      KTable<String, String> t = b.table("a", Consumed.with(Serdes.String(), Serdes.String()), mat("a_table"));
      var g = t.groupBy((k, v) -> KeyValue.pair(byValue ? group(v) : k, v), Grouped.with("grp", Serdes.String(), Serdes.String()));
      result = switch (agg) {
        case "count" -> g.count(Materialized.with(Serdes.String(), Serdes.Long())).mapValues(v -> v == null ? null : v.toString());
        case "reduce" -> g.reduce((a, v) -> a + "+" + v, (a, v) -> a + "-" + v, mat("agg"));
        default -> g.aggregate(() -> "", (k, v, a) -> a + "+" + v, (k, v, a) -> a + "-" + v, mat("agg"));
      };
      emitPlain(result, p);
      return;
    }
    KStream<String, String> s = b.stream("a", Consumed.with(Serdes.String(), Serdes.String()));
    KGroupedStream<String, String> g = byValue
        ? s.groupBy((k, v) -> group(v), Grouped.with("grp", Serdes.String(), Serdes.String()))
        : s.groupByKey(Grouped.with(Serdes.String(), Serdes.String()));
    long size = p.path("size").asLong(0), advance = p.path("advance").asLong(size), grace = p.path("grace").asLong(0);
    switch (window) {
      case "none" -> {
        result = switch (agg) {
          case "count" -> g.count().mapValues(v -> v == null ? null : v.toString());
          case "reduce" -> g.reduce((a, v) -> a + "+" + v, mat("agg"));
          default -> g.aggregate(() -> "", (k, v, a) -> a + "|" + v, mat("agg"));
        };
        emitPlain(result, p);
      }
      case "tumbling", "hopping", "sliding" -> {
        var w = switch (window) {
          case "sliding" -> null;
          default -> TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)).advanceBy(Duration.ofMillis(advance));
        };
        KTable<Windowed<String>, String> wt;
        if (w == null) {
          var sw = g.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)));
          wt = switch (agg) {
            case "count" -> sw.count().mapValues(v -> v == null ? null : v.toString());
            case "reduce" -> sw.reduce((a, v) -> a + "+" + v, Materialized.with(Serdes.String(), Serdes.String()));
            default -> sw.aggregate(() -> "", (k, v, a) -> a + "|" + v, Materialized.with(Serdes.String(), Serdes.String()));
          };
        } else {
          var tw = g.windowedBy(w);
          wt = switch (agg) {
            case "count" -> tw.count().mapValues(v -> v == null ? null : v.toString());
            case "reduce" -> tw.reduce((a, v) -> a + "+" + v, Materialized.with(Serdes.String(), Serdes.String()));
            default -> tw.aggregate(() -> "", (k, v, a) -> a + "|" + v, Materialized.with(Serdes.String(), Serdes.String()));
          };
        }
        emitWindowed(wt, p);
      }
      case "session" -> {
        long gap = p.path("gap").asLong(0);
        var sw = g.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(gap), Duration.ofMillis(grace)));
        KTable<Windowed<String>, String> wt = switch (agg) {
          case "count" -> sw.count().mapValues(v -> v == null ? null : v.toString());
          case "reduce" -> sw.reduce((a, v) -> a + "+" + v, Materialized.with(Serdes.String(), Serdes.String()));
          default -> sw.aggregate(() -> "", (k, v, a) -> a + "|" + v, (k, a1, a2) -> a1 + "&" + a2,
              Materialized.with(Serdes.String(), Serdes.String()));
        };
        emitWindowed(wt, p);
      }
      default -> throw new IllegalArgumentException("unknown window " + window);
    }
  }

  @SuppressWarnings("unchecked")
  private static <K> KTable<K, String> suppressed(KTable<K, String> t, JsonNode p) {
    String sup = p.path("suppress").asText("none");
    long maxRecords = p.path("maxRecords").asLong(0);
    return switch (sup) {
      case "none" -> t;
      case "untilWindowCloses" -> t.suppress((Suppressed<? super K>) (Suppressed<?>) Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()));
      case "untilTimeLimit" -> t.suppress(Suppressed.untilTimeLimit(Duration.ofMillis(p.path("limit").asLong(0)),
          maxRecords > 0 ? Suppressed.BufferConfig.maxRecords(maxRecords).emitEarlyWhenFull() : Suppressed.BufferConfig.unbounded()));
      default -> throw new IllegalArgumentException("unknown suppress " + sup);
    };
  }

  private static void emitPlain(KTable<String, String> t, JsonNode p) {
    suppressed(t, p).toStream().to(OUT, Produced.with(Serdes.String(), Serdes.String()));
  }

  private static void emitWindowed(KTable<Windowed<String>, String> t, JsonNode p) {
    suppressed(t, p).toStream().selectKey((k, v) -> wkey(k)).to(OUT, Produced.with(Serdes.String(), Serdes.String()));
  }

  static void join(StreamsBuilder b, JsonNode p) {
    String left = p.path("left").asText("stream"), right = p.path("right").asText("stream"), type = p.path("type").asText("inner");
    if ("stream".equals(left)) {
      KStream<String, String> a = b.stream("a", Consumed.with(Serdes.String(), Serdes.String()));
      KStream<String, String> r;
      if ("stream".equals(right)) {
        KStream<String, String> o = b.stream("b", Consumed.with(Serdes.String(), Serdes.String()));
        JoinWindows w = JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(p.path("diff").asLong(0)), Duration.ofMillis(p.path("grace").asLong(0)));
        StreamJoined<String, String, String> sj = StreamJoined.with(Serdes.String(), Serdes.String(), Serdes.String());
        r = switch (type) {
          case "inner" -> a.join(o, JOINER, w, sj);
          case "left" -> a.leftJoin(o, JOINER, w, sj);
          default -> a.outerJoin(o, JOINER, w, sj);
        };
      } else if ("globalTable".equals(right)) {
        GlobalKTable<String, String> g = b.globalTable("b", Consumed.with(Serdes.String(), Serdes.String()), mat("b_global"));
        r = "inner".equals(type) ? a.join(g, (k, v) -> k, JOINER) : a.leftJoin(g, (k, v) -> k, JOINER);
      } else {
        KTable<String, String> t = b.table("b", Consumed.with(Serdes.String(), Serdes.String()), mat("b_table"));
        Joined<String, String, String> j = Joined.with(Serdes.String(), Serdes.String(), Serdes.String());
        r = "inner".equals(type) ? a.join(t, JOINER, j) : a.leftJoin(t, JOINER, j);
      }
      r.to(OUT, Produced.with(Serdes.String(), Serdes.String()));
      return;
    }
    KTable<String, String> ta = b.table("a", Consumed.with(Serdes.String(), Serdes.String()), mat("a_table"));
    KTable<String, String> tb = b.table("b", Consumed.with(Serdes.String(), Serdes.String()), mat("b_table"));
    KTable<String, String> r = switch (type) {
      case "inner" -> ta.join(tb, JOINER);
      case "left" -> ta.leftJoin(tb, JOINER);
      default -> ta.outerJoin(tb, JOINER);
    };
    r.toStream().to(OUT, Produced.with(Serdes.String(), Serdes.String()));
  }

  /** The foreign key of a left value "fk:rest" is "fk"; a value without ':' has none. */
  static String foreignKey(String v) {
    int i = v.indexOf(':');
    return i < 0 ? null : v.substring(0, i);
  }

  static void fkJoin(StreamsBuilder b, JsonNode p) {
    KTable<String, String> ta = b.table("a", Consumed.with(Serdes.String(), Serdes.String()), mat("a_table"));
    KTable<String, String> tb = b.table("b", Consumed.with(Serdes.String(), Serdes.String()), mat("b_table"));
    KTable<String, String> r = "left".equals(p.path("type").asText("inner"))
        ? ta.leftJoin(tb, Oracle::foreignKey, JOINER)
        : ta.join(tb, Oracle::foreignKey, JOINER);
    r.toStream().to(OUT, Produced.with(Serdes.String(), Serdes.String()));
  }

  /** The partitioner of the repartition family: the key's length modulo the partitions. */
  static final StreamPartitioner<String, String> PARTITIONER = (topic, k, v, n) ->
      java.util.Optional.of(java.util.Set.of(k == null ? 0 : k.length() % n));

  static void repartition(StreamsBuilder b, JsonNode p) {
    KStream<String, String> s = b.stream("a", Consumed.with(Serdes.String(), Serdes.String()));
    if ("value".equals(p.path("rekey").asText("key"))) s = s.selectKey((k, v) -> group(v));
    if (p.path("repartition").asBoolean(false)) {
      Repartitioned<String, String> r = Repartitioned.with(Serdes.String(), Serdes.String());
      int n = p.path("partitions").asInt(0);
      if (n > 0) r = r.withNumberOfPartitions(n);
      if (p.path("partitioner").asBoolean(false)) r = r.withStreamPartitioner(PARTITIONER);
      s = s.repartition(r);
    }
    Produced<String, String> out = Produced.with(Serdes.String(), Serdes.String());
    switch (p.path("then").asText("none")) {
      case "none" -> s.to(OUT, out);
      case "count" -> s.groupByKey().count().mapValues(v -> v == null ? null : v.toString()).toStream().to(OUT, out);
      case "aggregate" -> s.groupByKey().aggregate(() -> "", (k, v, a) -> a + "|" + v, mat("agg")).toStream().to(OUT, out);
      case "join" -> {
        KTable<String, String> t = b.table("b", Consumed.with(Serdes.String(), Serdes.String()), mat("b_table"));
        Joined<String, String, String> j = Joined.with(Serdes.String(), Serdes.String(), Serdes.String());
        ("left".equals(p.path("type").asText("inner")) ? s.leftJoin(t, JOINER, j) : s.join(t, JOINER, j)).to(OUT, out);
      }
      default -> throw new IllegalArgumentException("unknown then " + p.path("then").asText());
    }
  }

  static void cogroup(StreamsBuilder b, JsonNode p) {
    KGroupedStream<String, String> a = b.stream("a", Consumed.with(Serdes.String(), Serdes.String())).groupByKey();
    var cg = a.<String>cogroup((k, v, agg) -> agg + "a" + v);
    long size = p.path("size").asLong(0), advance = p.path("advance").asLong(size), grace = p.path("grace").asLong(0);
    switch (p.path("window").asText("none")) {
      case "none" -> emitPlain(cg.aggregate(() -> "", mat("agg")), p);
      case "tumbling", "hopping" -> emitWindowed(cg.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace))
          .advanceBy(Duration.ofMillis(advance))).aggregate(() -> "", Materialized.with(Serdes.String(), Serdes.String())), p);
      case "sliding" -> emitWindowed(cg.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)))
          .aggregate(() -> "", Materialized.with(Serdes.String(), Serdes.String())), p);
      case "session" -> emitWindowed(cg.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(p.path("gap").asLong(0)), Duration.ofMillis(grace)))
          .aggregate(() -> "", (k, a1, a2) -> a1 + "&" + a2, Materialized.with(Serdes.String(), Serdes.String())), p);
      default -> throw new IllegalArgumentException("unknown window " + p.path("window").asText());
    }
  }
}
