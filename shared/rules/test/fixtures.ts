/** A valid rule file to derive broken variants from; line numbers in tests refer to this layout. */
export const validRule = `id: 6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a11
name: Test rule
description: A rule for tests.
version: 1
severity: high
risk_score: 60
author: [Sequor]
license: Apache License 2.0
threat:
  - framework: MITRE ATT&CK
    tactic: { id: TA0005, name: Defense Evasion, reference: "https://attack.mitre.org/tactics/TA0005/" }
    technique:
      - id: T1112
        name: Modify Registry
        reference: https://attack.mitre.org/techniques/T1112/
message: Registry write on $host.name$ to $registry.path$
type: eql
query: |
  sequence by host.id with maxspan=1m
    [process where process.name == "reg.exe"]
    [registry where registry.path : "*\\\\Run\\\\*"]
`;

/** Replaces one line (1-based) of a rule text. */
export function withLine(text: string, line: number, replacement: string): string {
  const lines = text.split('\n');
  lines[line - 1] = replacement;
  return lines.join('\n');
}

/** Replaces the `query: |` block (the last lines of validRule) with another query block. */
export function withQuery(text: string, queryBlock: string): string {
  const at = text.indexOf('query: |');
  return text.slice(0, at) + queryBlock;
}
