// SigmaHQ's regression events read two ways give the same Sigma matches: through the `evtx-json` source
// format (the path of `sequor detect` and the normalizer: decode, Avro single-object round trip as through
// Kafka, then `SequorEventFields`) and through `@sequor/sigma`'s evtx adapter (the reading the SigmaHQ
// regression tests count with). Every loaded SigmaHQ Windows rule, as one rule set, over every event:
// the (rule, event) match sets are equal, and each regression rule gives the same count on its own file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { frameJsonDocuments, getFormat } from '@sequor/formats';
import { createEventCodec } from '@sequor/model';
import type { SigmaLoad } from '@sequor/sigma';
import {
  defaultPipeline,
  evtxFieldSource,
  loadSigmaPath,
  SequorEventFields,
  SigmaRuleSet,
} from '@sequor/sigma';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SIGMA = path.resolve(repoRoot, '../shared/sigma');
const REGRESSION = path.join(SIGMA, 'regression_data');

interface Case {
  readonly folder: string;
  readonly ruleId: string;
  readonly json: string;
}

function regressionCases(): Case[] {
  const out: Case[] = [];
  for (const e of readdirSync(REGRESSION, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name !== 'info.yml') continue;
    const info = parse(readFileSync(path.join(e.parentPath, e.name), 'utf8')) as {
      rule_metadata: { id: string }[];
      regression_tests_info: { path: string }[];
    };
    const file = path
      .basename((info.regression_tests_info[0] as { path: string }).path)
      .replace(/\.evtx$/, '.json');
    out.push({
      folder: path.relative(REGRESSION, e.parentPath),
      ruleId: (info.rule_metadata[0] as { id: string }).id,
      json: path.join(e.parentPath, file),
    });
  }
  return out.sort((a, b) => a.folder.localeCompare(b.folder));
}

let load: SigmaLoad;

beforeAll(async () => {
  load = await loadSigmaPath(path.join(SIGMA, 'rules/windows'));
}, 120_000);

describe('SigmaHQ regression events: the evtx-json format path and the evtx adapter', () => {
  it('give the same (rule, event) matches for every SigmaHQ Windows rule', () => {
    const set = new SigmaRuleSet(load.rules, defaultPipeline);
    const decoder = getFormat('evtx-json').createDecoder();
    const codec = createEventCodec();
    const fields = new SequorEventFields();
    const cases = regressionCases();
    expect(cases).toHaveLength(162);
    const differences: string[] = [];
    const countsByRule = new Map<string, [number, number]>();
    let events = 0;
    let pairs = 0;
    for (const c of cases) {
      for (const doc of frameJsonDocuments(readFileSync(c.json))) {
        const where = `${c.folder}:${doc.line + 1}`;
        const [decoded] = decoder.decode(doc.bytes, { topic: c.json, partition: 0, offset: doc.line });
        const viaKafka = codec.decode(codec.encodeSingleObject(decoded!));
        const ours = set
          .match(fields.bind(viaKafka))
          .map((r) => r.rule.id as string)
          .sort();
        const theirs = set
          .match(evtxFieldSource(JSON.parse(doc.bytes.toString('utf8'))))
          .map((r) => r.rule.id as string)
          .sort();
        if (ours.join() !== theirs.join())
          differences.push(`${where}: format ${ours.join(' ')} / adapter ${theirs.join(' ')}`);
        const own = countsByRule.get(c.ruleId) ?? [0, 0];
        if (ours.includes(c.ruleId)) own[0]++;
        if (theirs.includes(c.ruleId)) own[1]++;
        countsByRule.set(c.ruleId, own);
        events++;
        pairs += ours.length;
      }
    }
    console.log(
      `evtx-json vs evtx adapter: ${set.rules.length} rules over ${events} events, ${pairs} (rule, event) matches, ${differences.length} events differ`,
    );
    expect(events).toBe(189);
    expect(differences).toEqual([]);
    for (const [rule, [ours, theirs]] of countsByRule) expect(ours, rule).toBe(theirs);
  }, 120_000);
});
