/**
 * Micro-benchmark of pattern matching on attacker-sized values (issue 17 item 1): time per value for
 * wildcards and Lucene regexes over 10 KB and 100 KB command lines, the linear matchers against the
 * backtracking RegExp translations they replaced. Prints numbers; asserts nothing. The old matchers are
 * skipped on patterns where they would take minutes (pass `--old-slow` to try them with a 10 s budget).
 *
 *   npx tsx --conditions=sequor-source shared/engine/test/bench/patterns.ts
 */
import { compileLuceneRegex, compileWildcard } from '../../src/index.js';
import { compileLuceneRegexAsJs, wildcardToRegExp } from '../support/regexp-reference.js';

type Test = (value: string) => boolean;

function perValue(test: Test, value: string, budgetMs = 300): string {
  let runs = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    test(value);
    runs += 1;
    elapsed = performance.now() - started;
  } while (elapsed < budgetMs);
  const ms = elapsed / runs;
  return ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}

const commandLine = (size: number): string =>
  `C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe ${'-nop -w hidden -c IEX '.repeat(size / 24)}`.slice(
    0,
    size,
  );

const cases: {
  name: string;
  pattern: string;
  kind: 'wildcard' | 'regex';
  oldIsCatastrophic: boolean;
  value: (n: number) => string;
}[] = [
  {
    name: 'wildcard *powershell*-enc* (no match)',
    pattern: '*powershell*-enc*',
    kind: 'wildcard',
    oldIsCatastrophic: false,
    value: commandLine,
  },
  {
    name: 'wildcard *powershell*-enc* (many powershell)',
    pattern: '*powershell*-enc*',
    kind: 'wildcard',
    oldIsCatastrophic: false,
    value: (n) => 'powershell '.repeat(n / 11),
  },
  {
    name: 'wildcard *a*a*a*a*a*a*a*a*a*a*b on a…a',
    pattern: '*a*a*a*a*a*a*a*a*a*a*b',
    kind: 'wildcard',
    oldIsCatastrophic: true,
    value: (n) => 'a'.repeat(n),
  },
  {
    name: 'regex .*powershell.*-enc.* (no match)',
    pattern: '.*powershell.*-enc.*',
    kind: 'regex',
    oldIsCatastrophic: false,
    value: (n) => commandLine(n).toLowerCase(),
  },
  {
    name: 'regex~ .*powershell.*-enc.* (no match)',
    pattern: '.*powershell.*-enc.*',
    kind: 'regex',
    oldIsCatastrophic: false,
    value: commandLine,
  },
  {
    name: 'regex .*powershell.*-enc.* (match early)',
    pattern: '.*powershell.*-enc.*',
    kind: 'regex',
    oldIsCatastrophic: false,
    value: (n) => `powershell -enc ${'x'.repeat(n)}`,
  },
  {
    name: 'regex (a+)+b on a…a',
    pattern: '(a+)+b',
    kind: 'regex',
    oldIsCatastrophic: true,
    value: (n) => 'a'.repeat(n),
  },
  {
    name: 'regex (.*a){20} on a…a',
    pattern: '(.*a){20}',
    kind: 'regex',
    oldIsCatastrophic: true,
    value: (n) => 'a'.repeat(n),
  },
];

function regexTest(pattern: string, fold: boolean): Test {
  const matcher = compileLuceneRegex(pattern, fold);
  return (v) => matcher.test(v);
}

const tryOld = process.argv.includes('--old-slow');
for (const c of cases) {
  const fold = c.name.startsWith('regex~');
  const linear: Test = c.kind === 'wildcard' ? compileWildcard(c.pattern) : regexTest(c.pattern, fold);
  const old = c.kind === 'wildcard' ? wildcardToRegExp(c.pattern) : compileLuceneRegexAsJs(c.pattern, fold);
  for (const size of [10_000, 100_000]) {
    const value = c.value(size);
    const before =
      c.oldIsCatastrophic && !tryOld
        ? 'skipped (exponential)'
        : perValue((v) => old.test(v), value, c.oldIsCatastrophic ? 10_000 : 300);
    const after = perValue(linear, value);
    console.log(
      `${c.name.padEnd(44)} ${String(size / 1000).padStart(4)} KB   before ${before.padStart(22)}   after ${after.padStart(10)}`,
    );
  }
}
