package ksml.peers;

import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * What every workload app shares: its arguments (bootstrap servers, application id, input
 * topic, output topic, state directory, then optional extra key=value properties) and a run
 * loop that stops cleanly on SIGTERM. Settings not given stay at Kafka Streams' defaults.
 */
final class Common {
  private Common() {}

  static Properties props(String[] args) {
    if (args.length < 5) {
      System.err.println("usage: <app> BOOTSTRAP APP_ID INPUT OUTPUT STATE_DIR [key=value...]");
      System.exit(2);
    }
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    p.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
    p.put("auto.offset.reset", "earliest");
    for (int i = 5; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("not key=value: " + args[i]);
      }
      p.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    return p;
  }

  static void run(Topology topology, Properties props) throws InterruptedException {
    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }));
    streams.setUncaughtExceptionHandler(e -> {
      e.printStackTrace();
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    stopped.await();
  }
}
