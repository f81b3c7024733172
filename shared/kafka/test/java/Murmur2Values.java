// Prints the Java client's murmur2 hash and default-partitioner choice for the keys in ../java-murmur2.ts.
// Run with the broker jars that deploy/kafka/kafka.sh fetch downloads (kafka-clients is among them):
//   java -cp "${SEQUOR_CACHE:-$HOME/.cache/sequor}/kafka-4.4.0/libs/*" shared/kafka/test/java/Murmur2Values.java
import org.apache.kafka.common.utils.Utils;
import java.nio.charset.StandardCharsets;

public class Murmur2Values {
  static void print(String label, byte[] bytes) {
    int h = Utils.murmur2(bytes);
    int positive = Utils.toPositive(h);
    System.out.println(label + " murmur2=" + h + " p6=" + positive % 6 + " p12=" + positive % 12 + " p1000=" + positive % 1000);
  }

  public static void main(String[] args) {
    String[] keys = {"", "a", "ab", "abc", "abcd", "abcde", "kafka", "sequor", "host-1", "WIN-DC01",
        "workstation-042.corp.example", "\u65e5\u672c\u8a9e", "0", "key-9999"};
    for (String key : keys) print("\"" + key + "\"", key.getBytes(StandardCharsets.UTF_8));
    print("bytes 00 ff 80 7f 01", new byte[] {0x00, (byte) 0xff, (byte) 0x80, 0x7f, 0x01});
  }
}
