/**
 * ATT&CK rows from Sigma tags. SigmaHQ tags a rule `attack.<tactic-name>` (`attack.execution`),
 * `attack.tNNNN[.NNN]` (technique, sub-technique) and sometimes `attack.gNNNN` / `attack.sNNNN` (group,
 * software); Sequor's alerts carry ATT&CK as `threat` rows (tactic, technique, sub-technique), as the
 * built-in rules write them. This turns the first into the second.
 */
import type { AttackRef, AttackTechnique, ThreatMapping } from './types.js';

export const ATTACK_FRAMEWORK = 'MITRE ATT&CK';

/**
 * The Enterprise tactics by the short name Sigma tags use (ATT&CK's `x_mitre_shortname`). ATT&CK v19
 * renamed Defense Evasion (TA0005) to Stealth and split Defense Impairment (TA0112) off it; SigmaHQ's
 * rules use the new names, older rules the old one, kept under its own name.
 */
const TACTICS: ReadonlyMap<string, { readonly id: string; readonly name: string }> = new Map([
  ['reconnaissance', { id: 'TA0043', name: 'Reconnaissance' }],
  ['resource-development', { id: 'TA0042', name: 'Resource Development' }],
  ['initial-access', { id: 'TA0001', name: 'Initial Access' }],
  ['execution', { id: 'TA0002', name: 'Execution' }],
  ['persistence', { id: 'TA0003', name: 'Persistence' }],
  ['privilege-escalation', { id: 'TA0004', name: 'Privilege Escalation' }],
  ['stealth', { id: 'TA0005', name: 'Stealth' }],
  ['defense-evasion', { id: 'TA0005', name: 'Defense Evasion' }],
  ['defense-impairment', { id: 'TA0112', name: 'Defense Impairment' }],
  ['credential-access', { id: 'TA0006', name: 'Credential Access' }],
  ['discovery', { id: 'TA0007', name: 'Discovery' }],
  ['lateral-movement', { id: 'TA0008', name: 'Lateral Movement' }],
  ['collection', { id: 'TA0009', name: 'Collection' }],
  ['command-and-control', { id: 'TA0011', name: 'Command and Control' }],
  ['exfiltration', { id: 'TA0010', name: 'Exfiltration' }],
  ['impact', { id: 'TA0040', name: 'Impact' }],
]);

const TECHNIQUE_TAG = /^attack\.t(\d{4})(?:\.(\d{3}))?$/i;

function tacticRef(shortName: string): AttackRef | null {
  const t = TACTICS.get(shortName);
  return t === undefined ? null : { ...t, reference: `https://attack.mitre.org/tactics/${t.id}/` };
}

/**
 * The `threat` mappings a Sigma rule's tags declare: one per tactic tag, each with every technique tag
 * (a sub-technique under its technique). Sigma tags do not say which technique serves which tactic, and
 * many ATT&CK techniques serve several, so every tactic lists every technique the rule names.
 *
 * A rule has no technique names: `name` is the id (`T1059`, `T1059.001`), a string as the alert schema
 * requires. A technique tag without any tactic tag gives no row (the schema requires a tactic, and
 * inventing one would put the alert under a tactic the rule does not claim); it stays in `rule.tags`, as
 * group, software and unknown tactic tags do. None of SigmaHQ's rules tags a technique without a tactic.
 */
export function threatFromSigmaTags(tags: readonly string[]): ThreatMapping[] {
  const tactics: AttackRef[] = [];
  const techniques = new Map<string, { id: string; subtechniques: Set<string> }>();
  for (const tag of tags) {
    const lower = tag.toLowerCase();
    const technique = TECHNIQUE_TAG.exec(lower);
    if (technique !== null) {
      const id = `T${technique[1]}`;
      let entry = techniques.get(id);
      if (entry === undefined) techniques.set(id, (entry = { id, subtechniques: new Set() }));
      if (technique[2] !== undefined) entry.subtechniques.add(technique[2]);
      continue;
    }
    if (!lower.startsWith('attack.')) continue;
    // Sigma 1's tactic tags use underscores (`attack.defense_evasion`), still common outside SigmaHQ.
    const tactic = tacticRef(lower.slice('attack.'.length).replaceAll('_', '-'));
    if (tactic !== null && !tactics.some((t) => t.id === tactic.id && t.name === tactic.name))
      tactics.push(tactic);
  }
  const techniqueRefs: AttackTechnique[] = [...techniques.values()].map(({ id, subtechniques }) => ({
    id,
    name: id,
    reference: `https://attack.mitre.org/techniques/${id}/`,
    subtechnique: [...subtechniques].map((sub) => ({
      id: `${id}.${sub}`,
      name: `${id}.${sub}`,
      reference: `https://attack.mitre.org/techniques/${id}/${sub}/`,
    })),
  }));
  return tactics.map((tactic) => ({ framework: ATTACK_FRAMEWORK, tactic, technique: techniqueRefs }));
}
