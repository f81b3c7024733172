// The Java client's answers, not ours: printed by java/Murmur2Values.java (Kafka 4.4.0's kafka-clients,
// Utils.murmur2(key.getBytes(UTF_8)) and Utils.toPositive(h) % n, the default partitioner for keyed records).
export const JAVA_MURMUR2: readonly {
  key: string | Buffer;
  murmur2: number;
  p6: number;
  p12: number;
  p1000: number;
}[] = [
  { key: '', murmur2: 275646681, p6: 3, p12: 9, p1000: 681 },
  { key: 'a', murmur2: -1563381124, p6: 4, p12: 4, p1000: 524 },
  { key: 'ab', murmur2: 316155434, p6: 2, p12: 2, p1000: 434 },
  { key: 'abc', murmur2: 479470107, p6: 3, p12: 3, p1000: 107 },
  { key: 'abcd', murmur2: -1323649548, p6: 2, p12: 8, p1000: 100 },
  { key: 'abcde', murmur2: 461995741, p6: 1, p12: 1, p1000: 741 },
  { key: 'kafka', murmur2: -798503068, p6: 4, p12: 4, p1000: 580 },
  { key: 'sequor', murmur2: 829137086, p6: 2, p12: 2, p1000: 86 },
  { key: 'host-1', murmur2: 761340765, p6: 3, p12: 9, p1000: 765 },
  { key: 'WIN-DC01', murmur2: -912626275, p6: 1, p12: 1, p1000: 373 },
  { key: 'workstation-042.corp.example', murmur2: -1979237445, p6: 5, p12: 11, p1000: 203 },
  { key: '日本語', murmur2: 1431860170, p6: 4, p12: 10, p1000: 170 },
  { key: '0', murmur2: 971027396, p6: 2, p12: 8, p1000: 396 },
  { key: 'key-9999', murmur2: -1873956848, p6: 0, p12: 0, p1000: 800 },
  { key: Buffer.from([0x00, 0xff, 0x80, 0x7f, 0x01]), murmur2: -1777108196, p6: 0, p12: 0, p1000: 452 },
];
