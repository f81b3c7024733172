// Any Zeek log through Kafka (issue 13 item 2: every field a SigmaHQ rule reads, the same in embedded
// mode and through Kafka). dns and x509 TSV logs and http/kerberos JSON records go to a raw topic bound to
// the `zeek` format; the normalizer's events, Avro-decoded, must be the events the format gives in process
// for the same records, and SigmaHQ's Zeek rules must match them alike.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFormat } from '@sequor/formats';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec } from '@sequor/model';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import { defaultPipeline, loadSigmaPath, SequorEventFields, SigmaRuleSet } from '@sequor/sigma';
import { waitForGroupAtEnd } from '../../services/detector/test/support/e2e.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const zeekRules = path.resolve(repoRoot, '../shared/sigma/rules/network/zeek');
const T = '\t';

const lines: readonly string[] = [
  '#separator \\x09',
  `#set_separator${T},`,
  `#empty_field${T}(empty)`,
  `#unset_field${T}-`,
  `#path${T}dns`,
  `#fields${T}ts${T}uid${T}id.orig_h${T}id.orig_p${T}id.resp_h${T}id.resp_p${T}proto${T}query${T}qtype_name${T}Z${T}answers${T}rejected`,
  `#types${T}time${T}string${T}addr${T}port${T}addr${T}port${T}enum${T}string${T}string${T}count${T}vector[string]${T}bool`,
  `1709287200.500000${T}C1${T}10.0.0.23${T}53412${T}10.0.0.2${T}53${T}udp${T}seed3.nkn.org${T}A${T}0${T}104.16.1.1${T}F`,
  `1709287200.600000${T}C4${T}10.0.0.23${T}53413${T}10.0.0.2${T}53${T}udp${T}pool.supportxmr.com${T}A${T}0${T}104.16.2.1${T}F`,
  '#separator \\x09',
  `#path${T}x509`,
  `#fields${T}ts${T}fingerprint${T}certificate.serial`,
  `#types${T}time${T}string${T}string`,
  `1709287201.000000${T}a1b2c3${T}8BB00EE`,
  JSON.stringify({
    _path: 'http',
    ts: 1709287202.25,
    uid: 'C2',
    'id.orig_h': '10.0.0.23',
    'id.orig_p': 49711,
    'id.resp_h': '198.51.100.7',
    'id.resp_p': 80,
    method: 'PUT',
    host: 'files.example.top',
    uri: '/webdav/a.exe',
    user_agent: 'Microsoft-WebDAV-MiniRedir/10.0.19045',
  }),
  JSON.stringify({
    _path: 'kerberos',
    ts: 1709287203,
    uid: 'C3',
    'id.orig_h': '10.0.0.23',
    'id.orig_p': 49712,
    'id.resp_h': '10.0.0.2',
    'id.resp_p': 88,
    request_type: 'TGS',
    cipher: 'rc4-hmac',
    service: 'MSSQLSvc/db.acme.local',
  }),
];
const dataLines = lines.filter((l) => !l.startsWith('#'));

let kit: KafkaTestKit;
const running: Normalizer[] = [];

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  for (const n of running) await n.stop().catch(() => undefined);
  await kit?.close();
});

describe('normalizer: any Zeek log through Kafka with the zeek format', () => {
  it('gives the in-process events, and SigmaHQ Zeek rules match them alike', async () => {
    const raw = await kit.createTopic('raw-zeek-any', { partitions: 1 });
    const normalized = await kit.createTopic('zeek-any-events', { partitions: 2 });
    const dead = await kit.createTopic('zeek-any-dead');
    const groupId = uniqueGroup('zeek-any');
    const config = normalizerConfigFromEnv({
      KAFKA_BROKERS: kit.config.brokers.join(','),
      NORMALIZER_SOURCES: `zeek:${raw}`,
      NORMALIZED_TOPIC: normalized,
      NORMALIZED_PARTITIONS: '2',
      DEAD_LETTER_TOPIC: dead,
      NORMALIZER_GROUP_ID: groupId,
    });
    await kit.produceAll(
      raw,
      lines.map((l) => ({ key: null, value: Buffer.from(l) })),
    );
    const normalizer = createNormalizer(config, { client: kit.client, logger: kit.logger });
    running.push(normalizer);
    await normalizer.start();
    await waitForGroupAtEnd(kit.admin, groupId, raw, 60_000);
    await normalizer.stop();

    const codec = createEventCodec();
    const viaKafka = (await kit.consumeUntil(normalized, dataLines.length, { timeoutMs: 30_000 }))
      .map((r) => codec.decode(r.value as Buffer))
      .sort((a, b) => (a.origin.offset as number) - (b.origin.offset as number));
    const decoder = getFormat('zeek').createDecoder();
    const inProcess: SequorEvent[] = lines.flatMap((line, offset) =>
      decoder.decode(new TextEncoder().encode(line), { topic: raw, partition: 0, offset }),
    );
    expect(viaKafka.map((e) => e.event.dataset)).toEqual([
      'zeek.dns',
      'zeek.dns',
      'zeek.x509',
      'zeek.http',
      'zeek.kerberos',
    ]);
    expect(viaKafka.map((e) => ({ ...e, event: { ...e.event, ingested: null } }))).toEqual(
      inProcess.map((e) => ({ ...e, event: { ...e.event, ingested: null } })),
    );

    const { rules } = await loadSigmaPath(zeekRules);
    const ruleSet = new SigmaRuleSet(rules, defaultPipeline);
    const fields = new SequorEventFields();
    const titles = (events: readonly SequorEvent[]): string[][] =>
      events.map((e) =>
        ruleSet
          .match(fields.bind(e))
          .map((r) => path.basename(r.rule.file))
          .sort(),
      );
    const matched = titles(viaKafka);
    expect(matched).toEqual(titles(inProcess));
    expect(matched).toEqual([
      ['zeek_dns_nkn.yml'],
      ['zeek_dns_mining_pools.yml'],
      ['zeek_default_cobalt_strike_certificate.yml'],
      ['zeek_http_susp_file_ext_from_susp_tld.yml', 'zeek_http_webdav_put_request.yml'],
      ['zeek_susp_kerberos_rc4.yml'],
    ]);
    expect((await kit.admin.fetchTopicOffsets(dead)).reduce((n, p) => n + Number(p.high), 0)).toBe(0);
  }, 120_000);
});
